"""``python -m envs.hvac [DIR]``: write the baseline tables into DIR (default ``experiments/results``):
``hvac_baselines.md`` (weeks and a year of ``rlkit/HVAC-v0``) and ``hvac_eval_weeks.md`` (the
evaluation weeks, power and setpoint control)."""

from __future__ import annotations

import sys
from pathlib import Path

from envs.hvac.baselines import baseline_numbers, baseline_table, split_numbers, split_table

if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "experiments/results")
    if not folder.is_dir():
        sys.exit(f"{folder}: no such directory; run from the repository root or give a directory")
    (folder / "hvac_baselines.md").write_text(baseline_table(baseline_numbers()))
    by_control = {control: split_numbers("test", control=control) for control in ("power", "setpoint")}
    (folder / "hvac_eval_weeks.md").write_text(split_table(by_control))
    print(f"wrote {folder / 'hvac_baselines.md'} and {folder / 'hvac_eval_weeks.md'}")
