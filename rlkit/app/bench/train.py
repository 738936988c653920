"""Full PPO training steps/s (collection + update) with rlkit's VectorEnv adapter vs SB3's DummyVecEnv.

The same env, network, hyperparameters and seed in every row; only how the ``--n-envs`` copies are
stepped (and, in the first row, which rollout buffer) differs:

* ``DummyVecEnv + SB3 buffer``: plain SB3 (one Python env per copy, SB3's ``RolloutBuffer``);
* ``DummyVecEnv + Numba buffer``: the reference for the adapter — SB3's ``DummyVecEnv`` with rlkit's
  ``NumbaRolloutBuffer``, i.e. what ``rlkit train --set env.vectorization=dummy`` runs;
* ``adapter + Numba buffer``: ``rlkit.vec_env.VectorEnvAdapter`` over the env's batched
  ``vector_entry_point``, what ``rlkit train`` runs by default.

Each figure is ``model.learn(--steps)`` wall time, best of ``--repeat`` (rows interleaved), after
one untimed warm-up ``learn`` of the same length (Numba compilation, torch's first calls). Ratios are
against the ``DummyVecEnv + Numba buffer`` row measured in the same run. A second table times the
vec envs alone (random actions, no policy, the same wrappers as in training), which shows how much
of a training step is env stepping at all: PPO's forward passes and updates dominate on a fast env.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--suite", choices=["vecenv", "memory", "offpolicy"], default="vecenv",
                        help="vecenv: PPO with the VectorEnv adapter vs DummyVecEnv; memory: sequence PPO per encoder vs "
                        "sb3-contrib's RecurrentPPO (rlkit.app.bench.train_memory); offpolicy: sac-seq vs SB3's MLP SAC "
                        "(rlkit.app.bench.train_offpolicy)")  # fmt: skip
    parser.add_argument("--env", default=None, help="an env id with a batched vector_entry_point; none given: rlkit/GridWorld-v0, or CartPole-v1 with --suite memory")
    parser.add_argument("--n-envs", type=int, nargs="+", default=None, metavar="N", help="env copies stepped together, one table row per setup and N; none given: 16 64, or 8 with --suite memory")
    # None: the value --quick picks, else the full one; a value given wins over --quick.
    parser.add_argument("--steps", type=int, default=None, metavar="N", help="env steps per timed learn() (default: 16384; --quick: 4096)")
    parser.add_argument("--repeat", type=int, default=None, metavar="N",
                        help="timed runs per row, interleaved across rows; the best is shown (default: 3; --quick: 1)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="few steps and one repeat: a smoke run, noisy figures")
    parser.add_argument("--seed", type=int, default=0, help="seed of the agent and the envs")
    from rlkit.app.bench.train_memory import add_arguments as add_memory_arguments

    add_memory_arguments(parser)
    from rlkit.app.bench.train_offpolicy import add_arguments as add_offpolicy_arguments

    add_offpolicy_arguments(parser)


SETUPS = [
    ("DummyVecEnv + SB3 buffer", "dummy", False),
    ("DummyVecEnv + Numba buffer", "dummy", True),
    ("adapter + Numba buffer", "vector", True),
]
REFERENCE = "DummyVecEnv + Numba buffer"


def _model(env_id: str, n_envs: int, seed: int, vectorization: str, numba_buffer: bool):
    from agents import get_algo
    from rlkit.app.config import load_config, preset
    from rlkit.app.runs import make_vec_env

    config = load_config(base=preset("ppo", env_id))
    config = config.model_copy(update={"n_envs": n_envs, "seed": seed, "device": "cpu"})
    config = config.model_copy(update={"env": config.env.model_copy(update={"vectorization": vectorization})})
    env = make_vec_env(config)
    return get_algo("ppo").build(config, env, rollout_buffer_class="numba" if numba_buffer else None)


def run(args: argparse.Namespace) -> int:
    import time

    from rlkit.app.bench import print_table
    from rlkit.app.runs import resolve_env_id
    from rlkit.vec_env import VectorEnvAdapter

    from rlkit.app.bench.train_memory import given_memory_options
    from rlkit.app.bench.train_memory import run as run_memory
    from rlkit.app.bench.train_offpolicy import given_offpolicy_options
    from rlkit.app.bench.train_offpolicy import run as run_offpolicy

    if args.suite == "offpolicy":  # before the shared defaults below: its own step counts
        return run_offpolicy(args)
    offpolicy_options = given_offpolicy_options(args)
    if offpolicy_options:
        raise ValueError(f"bench train: {', '.join(offpolicy_options)} apply to --suite offpolicy only; add --suite offpolicy or drop them")
    # Both suites: a value given wins over --quick's.
    args.steps = args.steps if args.steps is not None else 4096 if args.quick else 16_384
    args.repeat = args.repeat if args.repeat is not None else 1 if args.quick else 3
    if args.suite == "memory":
        return run_memory(args)
    memory_options = given_memory_options(args)
    if memory_options:
        raise ValueError(f"bench train: {', '.join(memory_options)} apply to --suite memory only; add --suite memory or drop them")
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
    import numpy as np

    from rlkit.app.bench import best_time
    from rlkit.app.config import load_config
    from rlkit.app.runs import make_vec_env

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
