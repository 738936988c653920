"""Pretraining experiments: collect → pretrain → train from the checkpoint vs from scratch, 3 seeds each.

    python experiments/pretraining/run.py --out runs/pretraining [--workers 2] [--scale 1.0]

Everything goes through the `rlkit` command line (collect, pretrain, train), so the experiment is
what a user would type. One pretraining run per experiment (seed 0) starts all three RL seeds, so
that `rlkit curves` groups the seeds of each condition; the seeds vary the RL (weights, envs).
``--scale`` multiplies every RL budget (the budgets below are small: a 2-core shared machine).
Then ``python experiments/pretraining/report.py runs/pretraining`` writes the tables and plots.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEEDS = (0, 1, 2)


def rlkit(*args: str, log: Path) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as handle:
        handle.write(f"$ rlkit {' '.join(args)}\n")
        handle.flush()
        start = time.time()
        code = subprocess.call([sys.executable, "-m", "rlkit.app.cli", *args], stdout=handle, stderr=subprocess.STDOUT, env=env)
        handle.write(f"[exit {code}, {time.time() - start:.0f} s]\n")
    if code != 0:
        print(f"FAILED: rlkit {' '.join(args)} (see {log})", flush=True)


def newest(pattern: str, root: Path) -> Path:
    matches = sorted(root.glob(pattern), key=lambda p: p.stat().st_mtime)
    if not matches:
        raise FileNotFoundError(f"nothing matches {pattern} under {root}")
    return matches[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/pretraining")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--only", nargs="*", default=["hvac", "grid", "groundhog"])
    args = parser.parse_args()
    out = Path(args.out)
    log = out / "log.txt"
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)  # `rlkit collect --out` writes into an existing directory
    steps = lambda n: str(int(n * args.scale))  # noqa: E731

    # --- 1. datasets and pretraining (small, sequential) ---------------------------------------
    jobs: list[tuple[str, ...]] = []
    if "hvac" in args.only:
        rlkit("collect", "rlkit/HVAC-v0", "--policy", "schedule_thermostat", "--steps", "13440", "--out", str(data / "hvac.npz"), log=log)
        # A small exploration std: PPO improves the noisy policy it samples, and at 0.1 the optimum of
        # that one sits visibly away from the deterministic teacher's (see README.md).
        rlkit("pretrain", "bc", str(data / "hvac.npz"), "--epochs", "60", "--exploration-std", "0.03", "--logdir", str(out / "pretrain"), log=log)
        bc = newest("pretrain-bc__rlkit-HVAC-v0*/policy.pt", out / "pretrain")
        for seed in SEEDS:
            common = ("--seed", str(seed), "--steps", steps(150_000), "--logdir", str(out / "hvac"))
            jobs.append(("train", "--config", str(HERE / "hvac_ppo.yaml"), *common))
            # hvac_ppo_bc.yaml: critic warm-up, then a lower lr and clip range
            jobs.append(("train", "--config", str(HERE / "hvac_ppo_bc.yaml"), *common, "--init-policy", str(bc)))
    if "grid" in args.only:
        rlkit("collect", "rlkit/GridWorld-Image-v0", "--policy", "random", "--steps", "10000", "--out", str(data / "grid.npz"), log=log)
        rlkit("pretrain", "vae", str(data / "grid.npz"), "--encoder", "cnn", "--latent", "16", "--beta", "1", "--epochs", "8",
              "--logdir", str(out / "pretrain"), log=log)  # fmt: skip
        vae = newest("pretrain-vae__rlkit-GridWorld-Image-v0*/encoder.pt", out / "pretrain")
        for seed in SEEDS:
            common = ("--config", str(HERE / "gridworld_image_ppo.yaml"), "--seed", str(seed), "--steps", steps(30_000), "--logdir", str(out / "grid"))
            jobs.append(("train", *common))
            jobs.append(("train", *common, "--init-encoder", str(vae), "--freeze-encoder"))
            jobs.append(("train", *common, "--init-encoder", str(vae)))
    if "groundhog" in args.only:
        rlkit("collect", "rlkit/GroundhogDay-Easy-v0", "--policy", "random", "--steps", "15000", "--env-kwargs", "new_task_on_reset=true",
              "--out", str(data / "groundhog.npz"), log=log)  # fmt: skip
        rlkit("pretrain", "seq", str(data / "groundhog.npz"), "--encoder", "gru", "--chunk-len", "30", "--epochs", "20",
              "--logdir", str(out / "pretrain"), log=log)  # fmt: skip
        seq = newest("pretrain-seq__rlkit-GroundhogDay-Easy-v0*/encoder.pt", out / "pretrain")
        for seed in SEEDS:
            common = ("--config", str(HERE / "groundhog_ppo_seq.yaml"), "--seed", str(seed), "--steps", steps(40_000), "--logdir", str(out / "groundhog"))
            jobs.append(("train", *common))
            jobs.append(("train", *common, "--init-encoder", str(seq)))

    # --- 2. RL runs, in parallel ---------------------------------------------------------------
    print(f"{len(jobs)} training runs, {args.workers} at a time", flush=True)
    with ThreadPoolExecutor(args.workers) as pool:
        list(pool.map(lambda job: rlkit(*job, log=out / "logs" / f"{abs(hash(job))}.txt"), jobs))
    print("done", flush=True)


if __name__ == "__main__":
    main()
