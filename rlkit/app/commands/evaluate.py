"""Evaluate a trained run: mean ± std return over N seeded episodes, and the env's episode metrics.

  rlkit eval runs/rlkit-GridWorld-v0__ppo__default__s0__20250101-120000 --episodes 50
  rlkit eval RUN --env-kwargs slip_prob=0.2      the same agent on a variant of its env
  rlkit eval PRETRAIN_RUN/policy.pt --env rlkit/GridWorld-v0   a policy of `rlkit pretrain bc|diffusion`

Uses the run's newest agent: its final model.zip, or its newest checkpoint if the run (or an extension
of it, `rlkit resume --steps`) has not finished. Episode i is reset with seed SEED + i, so the same run
and seed give the same numbers.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN", help="a run directory written by rlkit train, or a policy.pt of `rlkit pretrain bc|diffusion`")
    parser.add_argument("--env", default=None, metavar="ID", help="with a policy.pt: the env to run it on (default: the env of its dataset)")
    parser.add_argument("--episodes", type=int, default=None, metavar="N", help="episodes to run (default: the run's eval.episodes)")
    parser.add_argument("--seed", type=int, default=None, metavar="N", help="seed of the first episode (default: the run's eval.seed)")
    parser.add_argument("--stochastic", action="store_true", help="sample actions instead of taking the most likely one (default: deterministic)")
    parser.add_argument("--env-kwargs", nargs="+", action="extend", default=[], metavar="KEY=VALUE",
                        help="override the run's env kwargs (default: none)")  # fmt: skip
    parser.add_argument("--device", default="auto", help="torch device")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON instead of a sentence (default: off)")


def load_any_agent(args: argparse.Namespace, env_kwargs: dict | None = None):
    """``load_agent`` of a run directory, or (a file) `rlkit.app.pretrained.load_policy_file` with ``--env``."""
    from pathlib import Path

    if Path(args.run_dir).is_file():
        from rlkit.app.pretrained import load_policy_file

        return load_policy_file(args.run_dir, args.env, env_kwargs, args.device)
    if args.env is not None:
        raise ValueError("--env applies to a policy.pt; a run directory evaluates on its own env (override kwargs with --env-kwargs)")
    from rlkit.app.run_dir import load_agent

    return load_agent(args.run_dir, args.device, env_kwargs) if env_kwargs is not None else load_agent(args.run_dir, args.device)


def run(args: argparse.Namespace) -> int:
    import json

    from rlkit.app.config import parse_assignment
    from rlkit.app.evaluation import Evaluator, format_metrics

    if args.episodes is not None and args.episodes <= 0:
        raise ValueError(f"--episodes must be a positive integer, got {args.episodes}")
    if args.seed is not None and args.seed < 0:
        raise ValueError(f"--seed must be a non-negative integer (Gymnasium's reset seeds are), got {args.seed}")
    env_kwargs = {}
    for item in args.env_kwargs:
        keys, value = parse_assignment(item, "--env-kwargs")
        env_kwargs[".".join(keys)] = value
    model, config, path, normalize = load_any_agent(args, env_kwargs)
    evaluator = Evaluator(config, args.episodes, args.seed, not args.stochastic, normalize_from=normalize)
    try:
        metrics = evaluator(model)
    finally:
        evaluator.close()
    if args.json:
        print(json.dumps({**metrics, "model": str(path), "env": config.env.id, "env_kwargs": config.env.kwargs}, indent=2))
    else:
        print(f"{config.algo} on {config.env.id} ({path}): {format_metrics(metrics)}")
    return 0
