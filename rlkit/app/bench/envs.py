"""Single-env and batched steps/s of rlkit's envs vs MiniGrid-Empty-8x8 and CartPole, measured in one run.

Every env is made with ``gymnasium.make`` (so with Gymnasium's default wrappers, as a user gets it)
and stepped with random actions sampled before the timed loop, resetting when an episode ends;
the figure is the best of ``--repeat`` runs. The first table lists the base id of every registered
rlkit env (``rlkit/<Name>-v0``; ``--all`` adds the variants) next to ``CartPole-v1`` and
``MiniGrid-Empty-8x8-v0`` (``pip install 'rlkit[bench]'`` for MiniGrid). The second steps every
env with a batched ``vector_entry_point`` (GridWorld) at num_envs 1, 64 and 1024, steps/s =
num_envs × steps / time, next to Gymnasium's ``SyncVectorEnv`` of the same env. The Numba kernels
are single-threaded, so the batched figures are for one core.

Targets: the single GridWorld at least 10× MiniGrid-Empty-8x8; the batched GridWorld at 1024 envs
at least 2,000,000 steps/s.
"""

from __future__ import annotations

import argparse
import re

import numpy as np

from rlkit.app.bench import best_time, print_table

MINIGRID_ID = "MiniGrid-Empty-8x8-v0"
CARTPOLE_ID = "CartPole-v1"
VECTOR_SIZES = (1, 64, 1024)
SINGLE_TARGET = 10.0  # × MiniGrid
VECTOR_TARGET = 2_000_000.0  # steps/s at 1024 envs
_BASE_ID = re.compile(r"rlkit/[A-Za-z0-9]+-v\d+")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="few steps and one repeat: a smoke run, noisy figures")
    # None: the value --quick picks, else the full one; a value given wins over --quick.
    parser.add_argument("--steps", type=int, default=None, help="single-env steps per timed run (default: 20000; --quick: 2000)")
    parser.add_argument("--repeat", type=int, default=None, help="timed runs per figure; the best is shown (default: 3; --quick: 1)")
    parser.add_argument("--all", action="store_true", help="bench every registered rlkit id, not only the base -v0 ids")
    parser.add_argument("--seed", type=int, default=0, help="seed of the envs and of the pre-sampled actions")


def run(args: argparse.Namespace) -> int:
    # Here, not at the top: `rlkit --help` imports this module for its options.
    import gymnasium as gym

    import envs

    steps = args.steps if args.steps is not None else 2000 if args.quick else 20_000
    repeat = args.repeat if args.repeat is not None else 1 if args.quick else 3
    if steps < 1 or repeat < 1:
        raise ValueError(f"bench envs: --steps={steps} and --repeat={repeat} must both be >= 1")
    env_ids = list(envs.ENV_IDS) if args.all else [i for i in envs.ENV_IDS if _BASE_ID.fullmatch(i)]

    try:
        import minigrid  # noqa: F401  (registers MiniGrid's ids)

        references = [MINIGRID_ID, CARTPOLE_ID]
        minigrid_note = None
    except ImportError:
        references = [CARTPOLE_ID]
        minigrid_note = f"{MINIGRID_ID} skipped: minigrid is not installed (pip install 'rlkit[bench]'); no × MiniGrid ratios"

    rates: dict[str, float] = {}
    failures: dict[str, str] = {}
    for env_id in references + env_ids:
        try:
            rates[env_id] = _single_env_rate(gym.make(env_id), steps, repeat, args.seed)
        except Exception as exc:  # one broken env must not hide the others' figures
            failures[env_id] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"

    minigrid = rates.get(MINIGRID_ID)
    rows = []
    for env_id in references + env_ids:
        if env_id in failures:
            rows.append([env_id, "failed", "-", "-", failures[env_id]])
            continue
        rate = rates[env_id]
        ratio = rate / minigrid if minigrid else "n/a"
        rows.append([env_id, 1e6 / rate, rate, ratio, "reference" if env_id in references else ""])
    print_table(
        f"Single env: gym.make(id), random actions, best of {repeat} × {steps} steps",
        ["env", "µs/step", "steps/s", "× MiniGrid", "note"],
        rows,
    )
    if minigrid_note:
        print(minigrid_note)

    vector_ids = [i for i in env_ids if i not in failures and gym.spec(i).vector_entry_point is not None]
    vector_rates: dict[tuple[str, int], float] = {}
    for env_id in vector_ids:
        rows = []
        for num_envs in VECTOR_SIZES:
            n_steps = max(20, steps // {1: 1, 64: 4}.get(num_envs, 10))
            batched = _vector_rate(gym.make_vec(env_id, num_envs, vectorization_mode="vector_entry_point"), n_steps, repeat, args.seed)
            sync_steps = max(10, steps // num_envs)
            sync = _vector_rate(gym.make_vec(env_id, num_envs, vectorization_mode="sync"), sync_steps, repeat, args.seed)
            vector_rates[(env_id, num_envs)] = batched
            ratio = batched / minigrid if minigrid else "n/a"
            rows.append([num_envs, batched, batched / rates[env_id], ratio, sync, batched / sync])
        print_table(
            f"Batched {env_id}: make_vec(vectorization_mode='vector_entry_point'), steps/s = num_envs × steps / time",
            ["num_envs", "steps/s", "× single env", "× MiniGrid", "SyncVectorEnv steps/s", "× Sync"],
            rows,
        )

    _print_targets(rates, vector_rates, minigrid)
    if failures:
        print(f"bench envs: {len(failures)} env(s) failed: {', '.join(failures)}")
        return 1
    return 0


def _single_env_rate(env, steps: int, repeat: int, seed: int) -> float:
    """Steps/s of `env` under `steps` pre-sampled random actions, resetting at episode ends."""
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(steps)]
    env.reset(seed=seed)

    def loop():
        step, reset = env.step, env.reset
        for action in actions:
            _, _, terminated, truncated, _ = step(action)
            if terminated or truncated:
                reset()

    seconds = best_time(loop, repeat=repeat)
    env.close()
    return steps / seconds


def _vector_rate(vec_env, n_steps: int, repeat: int, seed: int) -> float:
    """Env-steps/s (num_envs × steps / time) of a Gymnasium vector env under pre-sampled random actions."""
    vec_env.action_space.seed(seed)
    actions = [vec_env.action_space.sample() for _ in range(n_steps)]  # (n_steps, num_envs)
    vec_env.reset(seed=seed)

    def loop():
        step = vec_env.step
        for action in actions:
            step(action)

    seconds = best_time(loop, repeat=repeat)
    num_envs = vec_env.num_envs
    vec_env.close()
    return num_envs * n_steps / seconds


def _print_targets(rates: dict[str, float], vector_rates: dict[tuple[str, int], float], minigrid: float | None) -> None:
    grid_id = "rlkit/GridWorld-v0"
    if grid_id in rates and minigrid:
        ratio = rates[grid_id] / minigrid
        verdict = "met" if ratio >= SINGLE_TARGET else "NOT met"
        print(f"target: single {grid_id} >= {SINGLE_TARGET:g}× {MINIGRID_ID}: {ratio:.1f}× ({verdict})")
    if (grid_id, 1024) in vector_rates:
        rate = vector_rates[(grid_id, 1024)]
        verdict = "met" if rate >= VECTOR_TARGET else "NOT met"
        print(f"target: batched {grid_id} at 1024 envs >= {VECTOR_TARGET:,.0f} steps/s: {rate:,.0f} ({verdict})")
