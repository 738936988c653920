"""``python -m envs.hvac [PATH]``: write the baseline table (default ``experiments/results/hvac_baselines.md``)."""

from __future__ import annotations

import sys
from pathlib import Path

from envs.hvac.baselines import baseline_numbers, baseline_table

if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "experiments/results/hvac_baselines.md")
    if not path.parent.is_dir():
        sys.exit(f"{path.parent}: no such directory; run from the repository root or give a path")
    path.write_text(baseline_table(baseline_numbers()))
    print(f"wrote {path}")
