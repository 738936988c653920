"""Argument checks shared by the envs: one-line errors that name the argument and what would be right."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def short(value: Any) -> str:
    """A one-line description of a value for error messages (array reprs span lines)."""
    if isinstance(value, np.ndarray) and value.ndim > 0:
        if value.size <= 8:
            return f"array({value.tolist()}, dtype={value.dtype})"
        return f"<array shape={value.shape} dtype={value.dtype}>"
    text = repr(value).replace("\n", " ")
    return text if len(text) <= 80 else text[:77] + "..."


def check_int(env: str, name: str, value: Any, low: int, what: str) -> None:
    """Refuse `value` unless it is an int (not a bool) ``>= low``; `what` says what the argument is."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{env}: {name}={value!r} is not an integer >= {low}; it is {what}")


def check_float(env: str, name: str, value: Any, what: str) -> float:
    """`value` as a float if it is a finite real number (not a bool)."""
    number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not number or not math.isfinite(value):
        raise ValueError(f"{env}: {name}={value!r} is not a finite number; it is {what}")
    return float(value)
