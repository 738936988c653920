"""Full PPO training steps/s (collection + update) with rlkit's VectorEnv adapter vs SB3's DummyVecEnv.

The same env, network, hyperparameters and seed in every row; only how the ``--n-envs`` copies are
stepped (and, in the first row, which rollout buffer) differs:

* ``DummyVecEnv + SB3 buffer``: plain SB3 (one Python env per copy, SB3's ``RolloutBuffer``);
* ``DummyVecEnv + Numba buffer``: the reference for the adapter — SB3's ``DummyVecEnv`` with rlkit's
  ``NumbaRolloutBuffer``, i.e. what ``rlkit train --set env.vectorization=dummy`` runs;
* ``adapter + Numba buffer``: ``rlkit.vec_env.VectorEnvAdapter`` over the env's batched
  ``vector_entry_point``, what ``rlkit train`` runs by default.

Each figure is ``model.learn(--steps)`` wall time, best of ``--repeat``, after one untimed warm-up
``learn`` of the same length (Numba compilation, torch's first calls). Ratios are against the
``DummyVecEnv + Numba buffer`` row measured in the same run.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default="rlkit/GridWorld-v0", help="an env id with a batched vector_entry_point")
    parser.add_argument("--n-envs", type=int, default=16, metavar="N", help="env copies stepped together")
    parser.add_argument("--steps", type=int, default=16_384, metavar="N", help="env steps per timed learn() (--quick: 2048)")
    parser.add_argument("--repeat", type=int, default=3, metavar="N", help="timed runs per row; the best is shown (--quick: 1)")
    parser.add_argument("--quick", action="store_true", help="few steps and one repeat: a smoke run, noisy figures")
    parser.add_argument("--seed", type=int, default=0, help="seed of the agent and the envs")


def _model(env_id: str, n_envs: int, seed: int, vectorization: str, numba_buffer: bool):
    from agents import get_algo
    from rlkit.config import load_config, preset
    from rlkit.runs import make_vec_env

    config = load_config(base=preset("ppo", env_id))
    config = config.model_copy(update={"n_envs": n_envs, "seed": seed, "device": "cpu"})
    config = config.model_copy(update={"env": config.env.model_copy(update={"vectorization": vectorization})})
    env = make_vec_env(config)
    return get_algo("ppo").build(config, env, rollout_buffer_class="numba" if numba_buffer else None)


def run(args: argparse.Namespace) -> int:
    from rlkit.bench import best_time, print_table
    from rlkit.runs import resolve_env_id
    from rlkit.vec_env import VectorEnvAdapter

    steps = 2048 if args.quick else args.steps
    repeat = 1 if args.quick else args.repeat
    if steps < 1 or repeat < 1 or args.n_envs < 1:
        raise ValueError(f"bench train: --steps={steps}, --repeat={repeat} and --n-envs={args.n_envs} must all be >= 1")
    if resolve_env_id(args.env).vector_entry_point is None:
        raise ValueError(f"bench train: {args.env} has no vector_entry_point to compare with DummyVecEnv; try rlkit/GridWorld-v0")

    rows_spec = [
        ("DummyVecEnv + SB3 buffer", "dummy", False),
        ("DummyVecEnv + Numba buffer", "dummy", True),
        ("adapter + Numba buffer", "vector", True),
    ]
    timings = {}
    for label, vectorization, numba_buffer in rows_spec:
        model = _model(args.env, args.n_envs, args.seed, vectorization, numba_buffer)
        if vectorization == "vector":
            assert isinstance(model.get_env().unwrapped, VectorEnvAdapter), "the adapter row must step the vector env"
        timings[label] = best_time(lambda: model.learn(steps, reset_num_timesteps=False), repeat=repeat)
        model.get_env().close()
    reference = timings["DummyVecEnv + Numba buffer"]
    rows = [[label, steps / seconds, reference / seconds] for label, seconds in timings.items()]
    print_table(
        f"PPO training on {args.env}, {args.n_envs} envs, {steps:,} steps per run (best of {repeat}); ratio vs DummyVecEnv + Numba buffer",
        ["setup", "steps/s", "× DummyVecEnv"],
        rows,
    )
    return 0
