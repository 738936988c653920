"""Sequence encoders: rollout steps with state/caches and training chunks vs the references they replace.

  rollout rows   one step (T = 1) for a batch of envs at the end of a full context, with the
                 state/KV cache, vs recomputing the whole context from the episode start (what a
                 policy without a cache must do); both give the same features.
  chunk rows     a training chunk with episode starts inside it: LSTM vs sb3-contrib's
                 RecurrentPPO ``_process_sequence`` (loops per step when a chunk holds a start);
                 TCN and Transformer vs calling them one step at a time; TCN's conv1d fast path
                 vs its masked-taps path on a chunk without starts.

Every row prints the max |difference| between the two outputs next to the timings, so a speedup
can never come from computing something else. Run as ``rlkit bench nn``.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--batch", type=int, default=16, help="envs (rollout) / sequences (chunks)")
    parser.add_argument("--chunk", type=int, default=64, help="training chunk length T")
    parser.add_argument("--context", type=int, default=64, help="transformer context_len")
    parser.add_argument("--dim", type=int, default=32, help="per-step input size")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: steadier on a shared machine)")
    parser.add_argument("--repeat", type=int, default=5, help="best-of repeats per timing")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random inputs and the encoders' weights")


def run(args: argparse.Namespace) -> int:
    sizes = {"--batch": args.batch, "--chunk": args.chunk, "--context": args.context, "--dim": args.dim,
             "--threads": args.threads, "--repeat": args.repeat}  # fmt: skip
    if min(sizes.values()) < 1:
        raise ValueError(f"bench nn: {', '.join(f'{k}={v}' for k, v in sizes.items())} must all be >= 1")
    # Here, not at the top: `rlkit --help` imports this module for its options and must not import torch.
    from rlkit.app.bench.nn_rows import run_rows

    return run_rows(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rlkit.app.bench.nn", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
