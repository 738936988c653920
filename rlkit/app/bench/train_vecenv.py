"""The vecenv suite of ``rlkit bench train``: PPO with the VectorEnv adapter vs DummyVecEnv (see
``rlkit.app.bench.train``), and the vec envs alone."""

from __future__ import annotations

import argparse
import time

import numpy as np

from agents import get_algo
from rlkit.app.bench import best_time, print_table
from rlkit.app.config import load_config, preset
from rlkit.app.env_factory import make_vec_env, resolve_env_id
from rlkit.vec_env import VectorEnvAdapter

SETUPS = [
    ("DummyVecEnv + SB3 buffer", "dummy", False),
    ("DummyVecEnv + Numba buffer", "dummy", True),
    ("adapter + Numba buffer", "vector", True),
]
REFERENCE = "DummyVecEnv + Numba buffer"


def _model(env_id: str, n_envs: int, seed: int, vectorization: str, numba_buffer: bool):
    config = load_config(base=preset("ppo", env_id))
    config = config.model_copy(update={"n_envs": n_envs, "seed": seed, "device": "cpu"})
    config = config.model_copy(update={"env": config.env.model_copy(update={"vectorization": vectorization})})
    env = make_vec_env(config)
    return get_algo("ppo").build(config, env, rollout_buffer_class="numba" if numba_buffer else None)


def run_vecenv(args: argparse.Namespace) -> int:
    """The vecenv suite: PPO training with each setup, then the vec envs alone (``--steps``/``--repeat`` resolved)."""
    args.env = args.env or "rlkit/GridWorld-v0"
    args.n_envs = args.n_envs or [16, 64]
    steps, repeat = args.steps, args.repeat
    if steps < 1 or repeat < 1 or min(args.n_envs) < 1:
        raise ValueError(f"bench train: --steps={steps}, --repeat={repeat} and --n-envs={args.n_envs} must all be >= 1")
    if resolve_env_id(args.env).vector_entry_point is None:
        raise ValueError(f"bench train: {args.env} has no vector_entry_point to compare with DummyVecEnv; try rlkit/GridWorld-v0")

    models = {}
    for n_envs in args.n_envs:
        for label, vectorization, numba_buffer in SETUPS:
            model = _model(args.env, n_envs, args.seed, vectorization, numba_buffer)
            assert isinstance(model.get_env().unwrapped, VectorEnvAdapter) == (vectorization == "vector")
            model.learn(steps, reset_num_timesteps=False)  # warm-up: Numba compilation, torch's first calls
            models[n_envs, label] = model
    best = {key: float("inf") for key in models}
    for _ in range(repeat):  # rows interleaved, so that load from other processes hits them alike
        for key, model in models.items():
            start = time.perf_counter()
            model.learn(steps, reset_num_timesteps=False)
            best[key] = min(best[key], time.perf_counter() - start)
    rows = []
    for (n_envs, label), seconds in best.items():
        rows.append([label, n_envs, steps / seconds, best[n_envs, REFERENCE] / seconds])
        models[n_envs, label].get_env().close()
    print_table(
        f"PPO training on {args.env}: {steps:,} steps per run, best of {repeat}",
        ["setup", "envs", "steps/s", f"× {REFERENCE}"],
        rows,
    )
    print_table(
        f"The vec envs alone: {args.env}, random actions, best of {repeat}",
        ["vec env", "envs", "env steps/s", "× DummyVecEnv"],
        _env_rows(args.env, args.n_envs, steps, repeat, args.seed),
    )
    return 0


def _env_rows(env_id: str, n_envs_list: list[int], steps: int, repeat: int, seed: int) -> list[list]:
    rows = []
    for n_envs in n_envs_list:
        times = {}
        for label, vectorization in (("DummyVecEnv", "dummy"), ("adapter", "vector")):
            config = load_config(overrides=[f"env.id={env_id}", f"n_envs={n_envs}", f"env.vectorization={vectorization}"])
            env = make_vec_env(config)
            env.seed(seed)
            env.reset()
            env.action_space.seed(seed)
            actions = [np.array([env.action_space.sample() for _ in range(n_envs)]) for _ in range(64)]
            n_steps = max(1, steps // n_envs)

            def step_all(env=env, actions=actions, n_steps=n_steps) -> None:
                for i in range(n_steps):
                    env.step(actions[i % len(actions)])

            times[label] = best_time(step_all, repeat=repeat) / (n_steps * n_envs)
            env.close()
        for label, seconds in times.items():
            rows.append([label, n_envs, 1.0 / seconds, times["DummyVecEnv"] / seconds])
    return rows
