"""Multimodal demonstrations: a teacher that goes round an obstacle on the left or on the right, half the time each.

    python experiments/pretraining/multimodal.py --out runs/multimodal [--seeds 0,1,2] [--epochs 100]

The layout (``LAYOUT``, passed to ``rlkit/GridWorld-v0`` as ``layout=``) has two equally short routes (8 steps)
from ``S`` to ``G``. The teacher picks one per episode (seeded) and follows it. Then per seed:
``rlkit pretrain bc`` (categorical head) and ``rlkit pretrain diffusion`` on the same demos, each evaluated over
``--episodes`` seeded episodes, deterministic and stochastic: the goal rate, the share of episodes that took the
left route, and the mean steps. Prints a markdown table (and writes it to ``OUT/multimodal.md``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import envs  # noqa: F401  (registers rlkit/…)
from rlkit.app.cli import main as rlkit
from rlkit.app.pretrained import load_policy_file
from rlkit.pretrain import collect, save_dataset

LAYOUT = "..S..\n.###.\n.###.\n.###.\n..G.."
ENV_ID = "rlkit/GridWorld-v0"
WIDTH = 5
LEFT = [3, 3, 2, 2, 2, 2, 1, 1]  # left, left, down x4, right, right (0 up, 1 right, 2 down, 3 left)
RIGHT = [1, 1, 2, 2, 2, 2, 3, 3]


class TwoRouteTeacher:
    """Follows the left or the right route, drawn per episode from its own seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.route: list[int] = []
        self.t = 0

    def reset(self, env: gym.Env, observation: np.ndarray, info: dict) -> None:
        self.route, self.t = (LEFT if self.rng.random() < 0.5 else RIGHT), 0

    def act(self, observation: np.ndarray, info: dict) -> int:
        action = self.route[min(self.t, len(self.route) - 1)]
        self.t += 1
        return action


def evaluate(policy_file: Path, episodes: int, deterministic: bool) -> dict[str, float]:
    """Goal rate, left-route share and mean steps of a policy.pt over seeded episodes (seeds 1000…)."""
    model, config, _, _ = load_policy_file(policy_file, device="cpu")
    env = gym.make(ENV_ID, **config.env.kwargs)
    goals, lefts, steps = 0, 0, []
    try:
        for i in range(episodes):
            obs, _ = env.reset(seed=1000 + i)
            start_col = int(np.argmax(obs)) % WIDTH
            first_col, done, n, total = None, False, 0, 0.0
            while not done:
                action, _ = model.predict(obs, deterministic=deterministic)
                obs, reward, terminated, truncated, _ = env.step(action)
                total += float(reward)
                n += 1
                if first_col is None:
                    first_col = int(np.argmax(obs)) % WIDTH
                done = terminated or truncated
            goals += int(terminated and total > 0)
            lefts += int(first_col is not None and first_col < start_col)
            steps.append(n)
    finally:
        env.close()
    return {"goal": goals / episodes, "left": lefts / episodes, "steps": float(np.mean(steps))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/multimodal")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--demo-steps", type=int, default=1600, help="env steps of teacher demonstrations (8 per episode)")
    parser.add_argument("--epochs", type=int, default=100, help="diffusion epochs (bc stops early on its own)")
    parser.add_argument("--episodes", type=int, default=50)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    env = gym.make(ENV_ID, layout=LAYOUT, max_steps=30)
    data = save_dataset(collect(env, TwoRouteTeacher(0), args.demo_steps, 0, ENV_ID, {"layout": LAYOUT, "max_steps": 30}, "two_routes"),
                        out / "two_routes.npz")  # fmt: skip
    env.close()
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        for task, extra in (("bc", []), ("diffusion", ["--epochs", str(args.epochs), "--lr", "3e-3"])):
            logdir = out / f"{task}_s{seed}"
            start = time.time()
            assert rlkit(["pretrain", task, str(data), "--seed", str(seed), "--logdir", str(logdir), *extra]) == 0
            seconds = time.time() - start
            (run,) = logdir.iterdir()
            for deterministic in (True, False):
                r = evaluate(run / "policy.pt", args.episodes, deterministic)
                rows.append(f"| {task} | {seed} | {'deterministic' if deterministic else 'stochastic'} | {r['goal']:.2f} | "
                            f"{r['left']:.2f} | {r['steps']:.1f} | {seconds:.0f} |")  # fmt: skip
                print(rows[-1], flush=True)
    table = ["| policy | seed | acting | goal rate | left route | mean steps | pretrain s |", "|---|---|---|---|---|---|---|", *rows]
    (out / "multimodal.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()
