"""``python -m envs.trading [PATH]``: write the baseline table (default ``experiments/results/trading_baselines.md``)."""

from __future__ import annotations

import sys
from pathlib import Path

from envs.trading.baselines import TABLE_CAPTION, baseline_table, format_baseline_table

if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "experiments/results/trading_baselines.md")
    if not path.parent.is_dir():
        sys.exit(f"{path.parent}: no such directory; run from the repository root or give a path")
    path.write_text(format_baseline_table(baseline_table()) + "\n\n" + TABLE_CAPTION + "\n")
    print(f"wrote {path}")
