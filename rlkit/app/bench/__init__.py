"""Benchmark modules behind `rlkit bench …`; shared timing helpers live here."""

from __future__ import annotations

import time
from typing import Callable


def best_time(fn: Callable[[], object], repeat: int = 5, number: int = 1, min_time: float = 0.0) -> float:
    """Best-of-`repeat` wall time in seconds of one call of `fn`.

    The minimum, not the mean, because on a shared machine noise only ever adds time.
    `number` calls are timed together per repeat (for very fast functions); with `min_time`,
    `number` grows until one repeat takes at least that long.
    """
    fn()  # warm-up: JIT compilation, caches, allocator
    if min_time > 0:
        while True:
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            if time.perf_counter() - t0 >= min_time or number >= 1 << 20:
                break
            number *= 2
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def print_table(title: str, header: list[str], rows: list[list[object]]) -> None:
    """Print a table with rich (`rlkit.app.curves.print_table`: aligned, readable in a terminal and when piped)."""
    # Here, not at the top: `rlkit --help` imports this package (through the benchmarks' options).
    from rlkit.app.curves import print_table as print_rich_table

    print_rich_table(title, header, rows)
