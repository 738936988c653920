"""``python -m envs.trading [DIR]``: write the baseline tables into DIR (default ``experiments/results``):
``trading_baselines.md`` (the fixed synthetic market's train and test splits) and
``trading_markets.md`` (FinRL's metrics on 100 held-out per-episode markets)."""

from __future__ import annotations

import sys
from pathlib import Path

from envs.trading.baselines import TABLE_CAPTION, baseline_table, format_baseline_table, held_out_markets_table

if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "experiments/results")
    if not folder.is_dir():
        sys.exit(f"{folder}: no such directory; run from the repository root or give a directory")
    (folder / "trading_baselines.md").write_text(format_baseline_table(baseline_table()) + "\n\n" + TABLE_CAPTION + "\n")
    (folder / "trading_markets.md").write_text(held_out_markets_table())
    print(f"wrote {folder / 'trading_baselines.md'} and {folder / 'trading_markets.md'}")
