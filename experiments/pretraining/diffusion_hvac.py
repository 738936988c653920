"""A continuous task: diffusion policy vs Gaussian BC cloned from ``schedule_thermostat`` on ``rlkit/HVAC-v0``.

    python experiments/pretraining/diffusion_hvac.py --out runs/diffusion_hvac [--weeks 20] [--seeds 0,1,2]

Per seed: ``rlkit pretrain bc`` and ``rlkit pretrain diffusion`` on ``--weeks`` weeks of the thermostat's actions,
each evaluated deterministically over ``--episodes`` weeks (seeds 1000…) with its wall-clock cost per action
(one observation at a time, as the env is stepped, on this machine's CPU). Prints a markdown table and writes it to
``OUT/diffusion_hvac.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import envs  # noqa: F401  (registers rlkit/…)
from envs.baselines import load_baseline
from rlkit.app.cli import main as rlkit
from rlkit.app.pretrained import load_policy_file
from rlkit.pretrain import collect, save_dataset

ENV_ID = "rlkit/HVAC-v0"
WEEK = 672  # 15-minute steps


def evaluate(policy_file: Path, episodes: int) -> tuple[float, float]:
    """(mean return, milliseconds per action) over seeded weeks."""
    model, _, _, _ = load_policy_file(policy_file, device="cpu")
    env = gym.make(ENV_ID)
    returns, seconds, actions = [], 0.0, 0
    try:
        for i in range(episodes):
            obs, _ = env.reset(seed=1000 + i)
            done, total = False, 0.0
            while not done:
                start = time.perf_counter()
                action, _ = model.predict(obs, deterministic=True)
                seconds += time.perf_counter() - start
                actions += 1
                obs, reward, terminated, truncated, _ = env.step(action)
                total += float(reward)
                done = terminated or truncated
            returns.append(total)
    finally:
        env.close()
    return float(np.mean(returns)), 1000.0 * seconds / actions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/diffusion_hvac")
    parser.add_argument("--weeks", type=int, default=20)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--epochs", type=int, default=100, help="diffusion epochs (bc stops early on its own)")
    parser.add_argument("--episodes", type=int, default=10)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = out / "thermostat.npz"
    if not data.exists():
        env = gym.make(ENV_ID)
        save_dataset(collect(env, load_baseline(ENV_ID, "schedule_thermostat", env), args.weeks * WEEK, 0, ENV_ID, {}, "schedule_thermostat"), data)
        env.close()
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        for task, extra in (("bc", []), ("diffusion", ["--epochs", str(args.epochs), "--lr", "3e-3"])):
            logdir = out / f"{task}_s{seed}"
            if not logdir.exists():
                assert rlkit(["pretrain", task, str(data), "--seed", str(seed), "--logdir", str(logdir), *extra]) == 0
            (run,) = logdir.iterdir()
            mean, ms = evaluate(run / "policy.pt", args.episodes)
            rows.append(f"| {task} | {seed} | {mean:.3f} | {ms:.2f} |")
            print(rows[-1], flush=True)
    table = ["| policy | seed | mean return | ms per action |", "|---|---|---|---|", *rows]
    (out / "diffusion_hvac.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()
