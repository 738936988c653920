"""Checks shared by the envs: one-line errors that name the argument (or action) and what would be right."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from gymnasium import spaces


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


def in_discrete_space(action: Any, space: spaces.Discrete) -> bool:
    """Whether `action` is an action of the ``Discrete`` `space`: the one rule of every rlkit env.

    The rule is Gymnasium's ``space.contains(action)`` (a Python int, a NumPy integer scalar or a 0-d
    integer array, inside the space) with bools refused: ``contains`` refuses ``np.bool_`` and bool
    arrays (their dtype is not an integer) but lets Python's ``True``/``False`` through only because
    ``bool`` subclasses ``int``, so both kinds of bool are refused here alike. The plain-int case is
    checked first without ``contains`` (it is what SB3's wrappers and most loops pass).
    """
    if type(action) is int:  # not a bool: type(True) is bool
        return bool(space.start <= action < space.start + space.n)
    return not isinstance(action, (bool, np.bool_)) and bool(space.contains(action))


def in_multi_discrete_space(action: Any, space: spaces.MultiDiscrete) -> bool:
    """Whether `action` is an action of the ``MultiDiscrete`` `space`: ``space.contains(action)`` with bool
    arrays refused, as :func:`in_discrete_space` refuses bools (``contains`` casts them to 0/1)."""
    try:
        is_bool = np.asarray(action).dtype == np.bool_
    except (TypeError, ValueError):
        return False
    return not is_bool and bool(space.contains(action))


def discrete_action(env: str, action: Any, space: spaces.Discrete, expected: str) -> int:
    """`action` as an int if :func:`in_discrete_space`, else a ``ValueError`` naming the space and `expected`."""
    if not in_discrete_space(action, space):
        raise ValueError(f"{env}: action {short(action)} is not in the action space {space}; expected {expected}")
    return int(action)
