"""Re-train the 2nd and 3rd best trials of an HVAC sweep over 5 seeds (10 evaluation weeks), as in README.md.

  python experiments/sweeps/recheck_top.py SWEEP_DIR OUT_DIR
"""

import sys

import optuna

from rlkit.app.config import load_config
from rlkit.app.sweeps import STUDY_FILE, apply_params, run_seeds, sqlite_url

if __name__ == "__main__":  # the seed runs are spawned processes, which import this module
    sweep_dir, out = sys.argv[1], sys.argv[2]
    study = optuna.load_study(study_name=sweep_dir.rstrip("/").rsplit("/", 1)[-1], storage=sqlite_url(f"{sweep_dir}/{STUDY_FILE}"))
    base = load_config("experiments/sweeps/ppo_hvac.yaml", ["eval.episodes=10"])
    top = sorted((t for t in study.trials if t.state.name == "COMPLETE"), key=lambda t: -t.value)[:3]
    for t in top[1:]:
        group = run_seeds(apply_params(base, t.params), [0, 1, 2, 3, 4], workers=2, directory=f"{out}/trial_{t.number}")
        finals = [r["metrics"]["mean_reward"] if r["metrics"] else None for r in group.runs]
        print(f"trial {t.number} (sweep value {t.value:.4g}): {finals}; mean ± std {group.mean_std()}", flush=True)
