"""Multimodal demonstrations: a teacher that goes round an obstacle on the left or on the right, half the time each.

    python experiments/pretraining/multimodal.py --out runs/multimodal [--seeds 0,1,2] [--epochs 100]

The layout (``LAYOUT``, passed to ``rlkit/GridWorld-v0`` as ``layout=``) has two equally short routes (8 steps)
from ``S`` to ``G``. The teacher picks one per episode (seeded) and follows it. Then per seed:
``rlkit pretrain bc`` (categorical head) and ``rlkit pretrain diffusion`` on the same demos, each evaluated over
``--episodes`` seeded episodes, deterministic and stochastic: the goal rate, the share of episodes that took the
left route, and the mean steps. Prints a markdown table (and writes it to ``OUT/multimodal.md``).

``--actions direction`` asks the same of continuous actions, where a Gaussian clone averages the two routes: the
env is ``DIRECTION_ENV_ID`` (GridWorld under `DirectionAction`, a 2-D direction in ``[-1, 1]^2`` taken as the move
it points to most), the teacher acts with the unit vector of each move, BC fits a Gaussian head.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
from gymnasium import spaces

import envs  # noqa: F401  (registers rlkit/…)
from rlkit.app.cli import main as rlkit
from rlkit.app.pretrained import load_policy_file
from rlkit.pretrain import collect, save_dataset

LAYOUT = "..S..\n.###.\n.###.\n.###.\n..G.."
ENV_ID = "rlkit/GridWorld-v0"
WIDTH = 5
LEFT = [3, 3, 2, 2, 2, 2, 1, 1]  # left, left, down x4, right, right (0 up, 1 right, 2 down, 3 left)
RIGHT = [1, 1, 2, 2, 2, 2, 3, 3]
# (column, row) change of GridWorld's moves 0 up, 1 right, 2 down, 3 left.
DIRECTIONS = np.array([[0, -1], [1, 0], [0, 1], [-1, 0]], dtype=np.float32)
DIRECTION_ENV_ID = "rlkit-experiments/GridWorld-Direction-v0"


class DirectionAction(gym.ActionWrapper):
    """GridWorld's four moves as a continuous direction ``Box(-1, 1, (2,))``: the move whose unit vector has the
    largest dot product with the action (ties: the lowest move index)."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)

    def action(self, action: np.ndarray) -> int:
        return int(np.argmax(DIRECTIONS @ np.asarray(action, dtype=np.float32).reshape(2)))


def make_direction_env(**kwargs) -> gym.Env:
    return DirectionAction(gym.make(ENV_ID, **kwargs))


# Registered here (not in envs/): an experiment's variant, made by the rlkit commands this script runs in-process.
if DIRECTION_ENV_ID not in gym.registry:
    gym.register(DIRECTION_ENV_ID, entry_point=make_direction_env)


class TwoRouteTeacher:
    """Follows the left or the right route, drawn per episode from its own seeded generator."""

    def __init__(self, seed: int, continuous: bool = False) -> None:
        self.rng = np.random.default_rng(seed)
        self.continuous = continuous
        self.route: list[int] = []
        self.t = 0

    def reset(self, env: gym.Env, observation: np.ndarray, info: dict) -> None:
        self.route, self.t = (LEFT if self.rng.random() < 0.5 else RIGHT), 0

    def act(self, observation: np.ndarray, info: dict) -> int | np.ndarray:
        action = self.route[min(self.t, len(self.route) - 1)]
        self.t += 1
        return DIRECTIONS[action].copy() if self.continuous else action


def on_mode_at_fork(model, env: gym.Env, samples: int = 200) -> float:
    """The share of ``samples`` stochastic actions at the start (the fork) that are one of the teacher's two first
    actions (continuous: within 0.25 of either unit vector), where an averaging clone puts its mass between them."""
    obs, _ = env.reset(seed=1000)
    actions = [model.predict(obs, deterministic=False)[0] for _ in range(samples)]
    first = DIRECTIONS[[LEFT[0], RIGHT[0]]]
    if isinstance(env.action_space, spaces.Box):
        hits = [np.linalg.norm(first - np.asarray(a).reshape(1, 2), axis=1).min() <= 0.25 for a in actions]
    else:
        hits = [int(a) in (LEFT[0], RIGHT[0]) for a in actions]
    return float(np.mean(hits))


def evaluate(policy_file: Path, episodes: int, deterministic: bool) -> dict[str, float]:
    """Goal rate, left-route share and mean steps of a policy.pt over seeded episodes (seeds 1000…)."""
    model, config, _, _ = load_policy_file(policy_file, device="cpu")
    env = gym.make(config.env.id, **config.env.kwargs)
    goals, lefts, steps = 0, 0, []
    try:
        fork = on_mode_at_fork(model, env)
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
    return {"goal": goals / episodes, "left": lefts / episodes, "steps": float(np.mean(steps)), "fork": fork}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/multimodal")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--demo-steps", type=int, default=1600, help="env steps of teacher demonstrations (8 per episode)")
    parser.add_argument("--epochs", type=int, default=100, help="diffusion epochs (bc stops early on its own)")
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--actions", choices=("discrete", "direction"), default="discrete",
                        help="GridWorld's own moves, or a continuous 2-D direction (DirectionAction)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    continuous = args.actions == "direction"
    env_id = DIRECTION_ENV_ID if continuous else ENV_ID
    env = gym.make(env_id, layout=LAYOUT, max_steps=30)
    teacher = TwoRouteTeacher(0, continuous)
    data = save_dataset(collect(env, teacher, args.demo_steps, 0, env_id, {"layout": LAYOUT, "max_steps": 30}, "two_routes"),
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
                            f"{r['left']:.2f} | {r['steps']:.1f} | {r['fork']:.2f} | {seconds:.0f} |")  # fmt: skip
                print(rows[-1], flush=True)
    table = ["| policy | seed | acting | goal rate | left route | mean steps | teacher's action at the fork | pretrain s |",
             "|---|---|---|---|---|---|---|---|", *rows]
    (out / "multimodal.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()
