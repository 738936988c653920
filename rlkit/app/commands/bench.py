"""Benchmarks. Each prints its timings next to the reference it replaces, measured in the same run.

  rlkit bench returns   Numba GAE vs stable-baselines3's compute_returns_and_advantage
  rlkit bench envs      single-env and batched steps/s of rlkit's envs vs MiniGrid and CartPole
  rlkit bench train     full training steps/s (collection + update) of rlkit's agents vs SB3's
  rlkit bench nn        encoder one-step (cached) and chunked forward passes vs recomputing them
"""

from __future__ import annotations

import argparse
import importlib

# name -> module under rlkit.app.bench; each defines add_arguments(parser) and run(args) -> int.
BENCHMARKS = {
    "returns": "rlkit.app.bench.returns",
    "envs": "rlkit.app.bench.envs",
    "train": "rlkit.app.bench.train",
    "nn": "rlkit.app.bench.nn",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from rlkit.app.cli import _HelpFormatter

    sub = parser.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    for name, module_name in BENCHMARKS.items():
        module = importlib.import_module(module_name)
        p = sub.add_parser(
            name,
            help=(module.__doc__ or name).strip().splitlines()[0],
            description=(module.__doc__ or name).strip(),
            formatter_class=_HelpFormatter,
        )
        module.add_arguments(p)
        p.set_defaults(_bench=module)


def run(args: argparse.Namespace) -> int:
    return int(args._bench.run(args) or 0)
