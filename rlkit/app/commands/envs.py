"""List rlkit's registered environments: spaces, batched implementation, and baseline scores.

  rlkit envs                     every rlkit env, baselines scored over 10 seeded episodes
  rlkit envs --episodes 0        names only (no episodes run)

Baselines are the heuristics, exact solvers and oracles in envs.BASELINES (plus a uniform random
policy, seeded 0); episode i of each is reset with seed i. Train on any id with `rlkit train ALGO ID`.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--episodes", type=int, default=10, metavar="N", help="episodes per baseline score (0: list baseline names only)")
    parser.add_argument("--filter", default=None, metavar="TEXT", help="only ids containing TEXT (default: all)")


def describe_space(space) -> str:
    """Short, one-line description of a Gymnasium space (``Box(36,) float32``, ``Discrete(4)``, ``Dict(a: …)``)."""
    from gymnasium import spaces

    if isinstance(space, spaces.Box):
        return f"Box{tuple(space.shape)} {space.dtype}"
    if isinstance(space, spaces.Discrete):
        return f"Discrete({space.n})" if space.start == 0 else f"Discrete({space.n}, start={space.start})"
    if isinstance(space, spaces.MultiDiscrete):
        return f"MultiDiscrete{tuple(space.nvec.tolist())}"
    if isinstance(space, spaces.MultiBinary):
        return f"MultiBinary({space.n})"
    if isinstance(space, spaces.Dict):
        return "Dict(" + ", ".join(f"{k}: {describe_space(v)}" for k, v in space.spaces.items()) + ")"
    if isinstance(space, spaces.Tuple):
        return "Tuple(" + ", ".join(describe_space(s) for s in space.spaces) + ")"
    return str(space)


def run(args: argparse.Namespace) -> int:
    import gymnasium as gym
    from rich.console import Console
    from rich.table import Table

    import envs
    from envs.baselines import RandomPolicy, load_baseline, run_episodes

    if args.episodes < 0:
        raise ValueError(f"--episodes must be 0 (names only) or a positive integer, got {args.episodes}")
    ids = [i for i in envs.ENV_IDS if args.filter is None or args.filter.lower() in i.lower()]
    if not ids:
        raise ValueError(f"no rlkit env id contains {args.filter!r}; ids: {', '.join(envs.ENV_IDS)}")
    title = "rlkit environments" + (f" (baselines: mean return over {args.episodes} episodes)" if args.episodes else "")
    table = Table(title=title)
    for name in ("id", "observation space", "action space", "batched", "baselines"):
        table.add_column(name, overflow="fold")
    for env_id in ids:
        env = gym.make(env_id)
        try:
            baselines = []
            for name in ["random", *envs.BASELINES.get(env_id, {})]:
                if args.episodes:
                    # A seeded random policy, so that the table is the same every time.
                    policy = RandomPolicy(env, seed=0) if name == "random" else load_baseline(env_id, name, env)
                    returns = run_episodes(env, policy, args.episodes, seed=0)
                    baselines.append(f"{name} {returns.mean():.3g}")
                else:
                    baselines.append(name)
            batched = "yes" if gym.spec(env_id).vector_entry_point is not None else "no"
            table.add_row(env_id, describe_space(env.observation_space), describe_space(env.action_space), batched, ", ".join(baselines))
        finally:
            env.close()
    Console(width=160).print(table)
    return 0
