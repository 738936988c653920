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
from typing import Any

# The offpolicy suite's options and their check import nothing heavy (its run imports torch and SB3).
from rlkit.app.bench.train_offpolicy import add_arguments as add_offpolicy_arguments
from rlkit.app.bench.train_offpolicy import given_offpolicy_options

ENCODERS = ("lstm", "gru", "tcn", "transformer")


# dest -> default of the memory suite's own options. They default to None on the command line, so that
# `--suite vecenv` can refuse one that was given instead of ignoring it.
MEMORY_DEFAULTS: dict[str, Any] = {"width": 64, "threads": 1, "transformer_layers": 1, "transformer_ff": 0, "bptt_len": 32,
                                   "encoders": list(ENCODERS), "compiled": ["transformer"]}


def add_memory_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the memory suite (``--env``, ``--n-envs``, ``--steps``, ``--repeat``, ``--seed`` are shared)."""
    d = MEMORY_DEFAULTS
    parser.add_argument("--width", type=int, default=None, metavar="N", help=f"memory suite: hidden width of every network (default: {d['width']})")
    parser.add_argument("--threads", type=int, default=None, metavar="N", help=f"memory suite: torch CPU threads (default: {d['threads']})")
    parser.add_argument("--transformer-layers", type=int, default=None, metavar="N",
                        help=f"memory suite: Transformer blocks (default: {d['transformer_layers']})")  # fmt: skip
    parser.add_argument("--transformer-ff", type=int, default=None, metavar="N",
                        help="memory suite: the Transformer blocks' feed-forward width; 0: 4 x --width, the Transformer's usual "
                             f"(default: {d['transformer_ff']})")  # fmt: skip
    parser.add_argument("--bptt-len", type=int, default=None, metavar="N",
                        help=f"memory suite: sequence PPO's truncated-BPTT length (default: {d['bptt_len']})")  # fmt: skip
    parser.add_argument("--encoders", nargs="+", default=None, choices=ENCODERS, metavar="NAME",
                        help=f"memory suite: sequence PPO encoders to time (default: {' '.join(d['encoders'])})")  # fmt: skip
    parser.add_argument("--compiled", nargs="*", default=None, choices=ENCODERS, metavar="NAME",
                        help="memory suite: encoders also timed with the policy under torch.compile (policy kwarg torch_compile; "
                             f"its compilation is in the untimed warm-up; none: --compiled alone) (default: {' '.join(d['compiled'])})")  # fmt: skip


def given_memory_options(args: argparse.Namespace) -> list[str]:
    """The memory suite's options that the command line set (``--width``, …)."""
    return ["--" + dest.replace("_", "-") for dest in MEMORY_DEFAULTS if getattr(args, dest, None) is not None]


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
    add_memory_arguments(parser)
    add_offpolicy_arguments(parser)


def run(args: argparse.Namespace) -> int:
    # The suites import torch, SB3 and the agents, each in its branch: `rlkit --help` imports this module
    # for its options.
    if args.suite == "offpolicy":  # before the shared defaults below: its own step counts
        from rlkit.app.bench.train_offpolicy import run as run_offpolicy

        return run_offpolicy(args)
    offpolicy_options = given_offpolicy_options(args)
    if offpolicy_options:
        raise ValueError(f"bench train: {', '.join(offpolicy_options)} apply to --suite offpolicy only; add --suite offpolicy or drop them")
    # Both suites: a value given wins over --quick's.
    args.steps = args.steps if args.steps is not None else 4096 if args.quick else 16_384
    args.repeat = args.repeat if args.repeat is not None else 1 if args.quick else 3
    if args.suite == "memory":
        from rlkit.app.bench.train_memory import run as run_memory

        return run_memory(args)
    memory_options = given_memory_options(args)
    if memory_options:
        raise ValueError(f"bench train: {', '.join(memory_options)} apply to --suite memory only; add --suite memory or drop them")
    from rlkit.app.bench.train_vecenv import run_vecenv

    return run_vecenv(args)
