"""envs._checks: the one rule for Discrete actions is Gymnasium's Discrete.contains without bools."""

import numpy as np
from gymnasium import spaces

from envs._checks import in_discrete_space

CANDIDATES = [
    0, 3, 4, -1, 2**70, 1.0, np.float32(1), "1", None, [1],
    np.int64(2), np.int8(3), np.uint8(1), np.uint64(1), np.array(1), np.array([1]), np.array(1.0),
    True, False, np.bool_(True), np.array(True),
]  # fmt: skip


def test_the_rule_is_contains_without_bools():
    for space in (spaces.Discrete(4), spaces.Discrete(3, start=-1)):
        for action in CANDIDATES:
            is_bool = isinstance(action, (bool, np.bool_)) or (isinstance(action, np.ndarray) and action.dtype == bool)
            expected = False if is_bool else bool(space.contains(action))
            assert in_discrete_space(action, space) is expected, (space, action)
    # Gymnasium's contains itself lets Python bools through (bool subclasses int) and refuses np.bool_.
    assert spaces.Discrete(4).contains(True) and not spaces.Discrete(4).contains(np.bool_(True))
