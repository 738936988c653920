"""List rlkit's registered environments: spaces, batched implementation, and baseline scores.

  rlkit envs                          every rlkit env with its published baseline scores (envs/baselines.json)
  rlkit envs --episodes 0             names only (no scores)
  rlkit envs --episodes 10            score the baselines now, over 10 seeded episodes each
  rlkit envs --rescore                recompute the published scores (100 episodes each) and rewrite the file
  rlkit envs --rescore --markdown experiments/results/env_baselines.md   ... and the docs' table of them

Baselines are the heuristics, exact solvers and oracles in envs.BASELINES plus a uniform random
policy (seeded 0); episode i of each is reset with seed i. The published scores are the one source
of the figures in the docs; a test recomputes some of them. Train on any id with `rlkit train ALGO ID`.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--episodes", type=int, default=None, metavar="N",
        help="score the baselines now over N episodes each (0: list their names only); default: the published scores",
    )  # fmt: skip
    parser.add_argument("--filter", default=None, metavar="TEXT", help="only ids containing TEXT (default: all)")
    parser.add_argument(
        "--rescore", action="store_true",
        help="recompute the published scores (--episodes, default 100) of the listed ids and rewrite envs/baselines.json",
    )  # fmt: skip
    parser.add_argument("--markdown", default=None, metavar="PATH", help="with --rescore: also write the scores as a Markdown table")


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


def baselines_markdown(published: dict) -> str:
    """The published scores as Markdown: one table per env family, each between snippet section markers
    (``--8<-- [start:gridworld]`` …) so that a docs page can include its own env's table."""
    parts = []
    families: dict[str, list[str]] = {}
    for env_id in published["scores"]:
        families.setdefault(env_id.split("/")[-1].split("-")[0].lower(), []).append(env_id)
    for family, ids in families.items():
        lines = [f"<!-- --8<-- [start:{family}] -->", "| id | baseline: mean return |", "|---|---|"]
        for env_id in ids:
            scores = ", ".join(f"{name} {score:.3g}" for name, score in published["scores"][env_id].items())
            lines.append(f"| `{env_id}` | {scores} |")
        lines += ["", _caption(published), f"<!-- --8<-- [end:{family}] -->"]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def _caption(published: dict) -> str:
    n, seed = published["episodes"], published["seed"]
    return (
        f"Mean return over {n} episodes (seeds {seed}-{seed + n - 1}); `random` is uniform over the action space "
        f"(over the possible actions where the env gives an action mask; seed {seed}). Written by `rlkit envs "
        "--rescore` into `envs/baselines.json`."
    )


def _rescore(ids: list[str], episodes: int, markdown: str | None) -> dict:
    """Recompute the scores of `ids`, merge them into the published file and write it (and the Markdown)."""
    import json
    from pathlib import Path

    import envs
    import envs.baselines
    from envs.baselines import published_baselines, score_baselines
    from rlkit.atomic_io import atomic_write

    if markdown is not None and not Path(markdown).parent.is_dir():
        raise ValueError(f"--markdown {markdown}: the folder {Path(markdown).parent} does not exist; create it or pick another path")
    published = {"episodes": episodes, "seed": 0, "scores": {}}
    path = envs.baselines.PUBLISHED_PATH  # looked up now, so that tests can point it elsewhere
    if path.is_file():
        published = published_baselines(path)
        if published["episodes"] != episodes and set(ids) != set(envs.ENV_IDS):
            raise ValueError(
                f"--episodes {episodes} differs from the {published['episodes']} episodes of {path}; "
                f"rescore these ids with --episodes {published['episodes']}, or every id (no --filter) with {episodes}"
            )
    scores = {env_id: published["scores"].get(env_id) for env_id in envs.ENV_IDS}
    for env_id in ids:
        scores[env_id] = score_baselines(env_id, episodes, seed=published["seed"])
    published = {"episodes": episodes, "seed": published["seed"], "scores": {k: v for k, v in scores.items() if v}}
    atomic_write(path, (json.dumps(published, indent=1) + "\n").encode())
    if markdown is not None:
        atomic_write(markdown, baselines_markdown(published).encode())
    return published


def run(args: argparse.Namespace) -> int:
    import gymnasium as gym
    from rich.console import Console
    from rich.table import Table

    import envs
    import envs.baselines
    from envs.baselines import PUBLISHED_EPISODES, published_baselines, score_baselines

    if args.episodes is not None and args.episodes < 0:
        raise ValueError(f"--episodes must be 0 (names only) or a positive integer, got {args.episodes}")
    if args.markdown is not None and not args.rescore:
        raise ValueError("--markdown only goes with --rescore (it writes the table of the recomputed scores)")
    if args.rescore and args.episodes == 0:
        raise ValueError("--rescore needs --episodes > 0 (the episodes per published score; default 100)")
    ids = [i for i in envs.ENV_IDS if args.filter is None or args.filter.lower() in i.lower()]
    if not ids:
        raise ValueError(f"no rlkit env id contains {args.filter!r}; ids: {', '.join(envs.ENV_IDS)}")
    if args.rescore:
        published = _rescore(ids, args.episodes or PUBLISHED_EPISODES, args.markdown)
        title = f"rlkit environments (baselines rescored: mean return over {published['episodes']} episodes, written to {envs.baselines.PUBLISHED_PATH})"
    elif args.episodes is None:
        published = published_baselines()
        title = f"rlkit environments (published baselines: mean return over {published['episodes']} episodes)"
    else:
        published = None
        title = "rlkit environments" + (f" (baselines: mean return over {args.episodes} episodes)" if args.episodes else "")
    table = Table(title=title)
    for name in ("id", "observation space", "action space", "batched", "baselines"):
        table.add_column(name, overflow="fold")
    for env_id in ids:
        names = ["random", *envs.BASELINES.get(env_id, {})]
        if published is not None:
            scores = published["scores"].get(env_id)
            scores = scores or {}
            baselines = [f"{n} {scores[n]:.3g}" if n in scores else f"{n} (not scored: rlkit envs --rescore)" for n in names]
        elif args.episodes:
            baselines = [f"{n} {s:.3g}" for n, s in score_baselines(env_id, args.episodes).items()]
        else:
            baselines = names
        env = gym.make(env_id)
        batched = "yes" if gym.spec(env_id).vector_entry_point is not None else "no"
        table.add_row(env_id, describe_space(env.observation_space), describe_space(env.action_space), batched, ", ".join(baselines))
        env.close()
    Console(width=160).print(table)
    return 0
