"""Disjoint training and evaluation weeks of HVACEnv (``split="train" | "test" | "all"``).

Days are numbered from the start of the weather: the generator's day of year (0-364, wrapping), or
days since the first midnight of a weather CSV. Every fourth week is an evaluation week: day ``d``
belongs to the test split when ``(d // 7) % 4 == 3`` (days 21-27, 49-55, …: 13 weeks of the
generator's year, one in each season's month). A test episode lies inside evaluation days; a
training episode reads no evaluation day, its forecast horizon included. So nothing an agent sees
in training is part of an evaluation episode, and a baseline run with the same split and seeds
meets exactly the agent's evaluation weeks.
"""

from __future__ import annotations

from typing import Sequence

SPLITS = ("all", "train", "test")
WEEKS_PER_BLOCK = 4  # of every four weeks, the last is for evaluation


def is_test_day(day: int) -> bool:
    """Whether day number `day` belongs to the evaluation weeks."""
    return (day // 7) % WEEKS_PER_BLOCK == WEEKS_PER_BLOCK - 1


def allowed_starts(split: str, days: Sequence[int], episode_days: int, read_days: int, wrap: int | None) -> list[int]:
    """Indices into `days` (the day numbers of the candidate start midnights) that `split` allows.

    `read_days` is the number of days an episode reads (its own and the forecast's); `wrap` the
    length of a wrapping calendar (365 for the generator) or None for a file's dates.
    """
    if split == "all":
        return list(range(len(days)))

    def number(day: int) -> int:
        return day % wrap if wrap else day

    if split == "train":
        return [i for i, d in enumerate(days) if not any(is_test_day(number(d + k)) for k in range(read_days))]
    return [i for i, d in enumerate(days) if all(is_test_day(number(d + k)) for k in range(episode_days))]
