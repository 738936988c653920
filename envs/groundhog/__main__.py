"""``python -m envs.groundhog [PATH]``: write the baseline tables (default ``experiments/results/groundhog_baselines.md``)."""

from __future__ import annotations

import sys
from pathlib import Path

from envs.groundhog.baselines import published_tables

if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "experiments/results/groundhog_baselines.md")
    if not path.parent.is_dir():
        sys.exit(f"{path.parent}: no such directory; run from the repository root or give a path")
    path.write_text(published_tables())
    print(f"wrote {path}")
