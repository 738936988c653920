"""Numba GAE vs stable-baselines3's RolloutBuffer.compute_returns_and_advantage, with the copy floor.

For each rollout size (n_steps x n_envs), on the same seeded rewards, values and episode starts:

  SB3           RolloutBuffer.compute_returns_and_advantage(last_values, dones), buffer to buffer
  rlkit buffer  NumbaRolloutBuffer.compute_returns_and_advantage, called the same way
  speedup       SB3 / rlkit buffer
  kernel        the bare @njit GAE kernel (no validation, no tensor conversion)
  copy floor    np.copyto of every array the kernel reads and writes (the memory-bound floor)
  kernel/floor  how far the kernel is from merely moving its data
  max|dA|       largest difference of the advantages from SB3's (0 = bit-identical)

Times are best-of-N on this machine in this run; compare ratios, not absolute numbers.
"""

from __future__ import annotations

import argparse

DEFAULT_SIZES = "2048x1,2048x8,2048x64,128x1024,16384x64"
GAMMA, GAE_LAMBDA = 0.99, 0.95
EPISODE_START_PROB = 1 / 200  # episodes of ~200 steps


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sizes", default=DEFAULT_SIZES, help="comma-separated rollout sizes N_STEPSxN_ENVS to time"
    )
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run; noisier numbers)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random rollout data")


def _parse_sizes(text: str) -> list[tuple[int, int]]:
    sizes = []
    for item in text.split(","):
        parts = item.strip().lower().split("x")
        if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
            raise ValueError(
                f"--sizes: got {item.strip()!r}; expected N_STEPSxN_ENVS with positive integers, e.g. 2048x8,128x1024."
            )
        sizes.append((int(parts[0]), int(parts[1])))
    return sizes


def run(args: argparse.Namespace) -> int:
    # Here, not at the top: `rlkit bench --help` imports this module for its options.
    import numpy as np

    from rlkit.app.bench import print_table
    from rlkit.app.bench.returns_rows import time_size

    sizes = _parse_sizes(args.sizes)
    repeat = 2 if args.quick else 7
    min_time = 0.002 if args.quick else 0.05
    rng = np.random.default_rng(args.seed)
    rows, summary = [], {}
    for n_steps, n_envs in sizes:
        row = time_size(n_steps, n_envs, rng, repeat, min_time)
        rows.append(row)
        summary[(n_steps, n_envs)] = (row[3], row[6])  # speedup x, kernel/floor

    print_table(
        f"GAE(λ={GAE_LAMBDA}, γ={GAMMA}): Numba vs SB3's compute_returns_and_advantage"
        + (" [quick]" if args.quick else ""),
        ["n_steps x n_envs", "SB3 ms", "rlkit buffer µs", "speedup x"]
        + ["kernel µs", "copy floor µs", "kernel/floor", "max|dA|"],
        rows,
    )
    if (2048, 8) in summary:
        speedup, floor_ratio = summary[(2048, 8)]
        print(
            f"targets at 2048x8: speedup >= 200x: {'met' if speedup >= 200 else 'NOT met'} ({speedup:.0f}x); "
            f"kernel within 5x of copy floor: {'met' if floor_ratio <= 5 else 'NOT met'} ({floor_ratio:.2f}x)"
        )
    return 0
