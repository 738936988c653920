"""GroundhogDayParams: the constructor arguments of a GroundhogDay, checked in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from envs.groundhog.world import BEHAVIOURS, FIRST_HOUR, LAST_HOUR, PLACES

RENDER_MODES = ("ansi", "rgb_array")


def _check_int(name: str, value: Any, low: int | None, high: int | None) -> None:
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    ok = ok and (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        if high is not None:
            bounds = f"an int in [{low}, {high}]"
        else:
            bounds = f"an int >= {low}" if low is not None else "an int"
        raise ValueError(f"GroundhogDay: {name}={value!r} is invalid; expected {bounds}")


@dataclass(frozen=True)
class GroundhogDayParams:
    """Every argument of ``GroundhogDayEnv`` (see ``envs.groundhog.env``), validated; a ``None``
    ``good_day_affection`` is resolved to ``3 * n_slots // 4``. Bad values raise a one-line
    ``ValueError`` naming the argument and the values that would be right."""

    n_places: int = 5
    n_behaviours: int = 4
    n_slots: int = 8
    n_loops: int = 8
    noise: float = 0.1
    day_bonus: float = 4.0
    good_day_affection: int | None = None
    new_task_on_reset: bool = False
    render_mode: str | None = None

    def __post_init__(self) -> None:
        _check_int("n_places", self.n_places, 2, len(PLACES))
        _check_int("n_behaviours", self.n_behaviours, 2, len(BEHAVIOURS))
        _check_int("n_slots", self.n_slots, 2, LAST_HOUR - FIRST_HOUR)
        _check_int("n_loops", self.n_loops, 1, None)
        noise, bonus = self.noise, self.day_bonus
        if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0.0 <= noise < 1.0:
            raise ValueError(
                f"GroundhogDay: noise={noise!r} is not a probability in [0, 1); it is the chance that a "
                "reaction is random (e.g. 0.1), 0 for none"
            )
        if isinstance(bonus, bool) or not isinstance(bonus, (int, float)) or not 0.0 <= bonus < np.inf:
            raise ValueError(f"GroundhogDay: day_bonus={bonus!r} must be a finite number >= 0 (e.g. 4.0)")
        good = (3 * self.n_slots) // 4 if self.good_day_affection is None else self.good_day_affection
        _check_int("good_day_affection", good, None, None)
        if not isinstance(self.new_task_on_reset, bool):
            raise ValueError(f"GroundhogDay: new_task_on_reset={self.new_task_on_reset!r} must be True or False")
        if self.render_mode is not None and self.render_mode not in RENDER_MODES:
            raise ValueError(
                f"GroundhogDay: render_mode={self.render_mode!r} is not supported; "
                f"use one of {list(RENDER_MODES)} or None"
            )
        for name, value in (("noise", float(noise)), ("day_bonus", float(bonus)), ("good_day_affection", int(good))):
            object.__setattr__(self, name, value)
