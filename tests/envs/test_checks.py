"""envs._checks: the one rule for Discrete (and MultiDiscrete) actions is Gymnasium's contains without bools."""

import re

import numpy as np
import pytest
from gymnasium import spaces

from envs._checks import in_discrete_space, in_multi_discrete_space
from envs.trading import TradingEnv

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


def test_multi_discrete_rule_is_contains_without_bool_arrays():
    space = spaces.MultiDiscrete([3, 3])
    for action in ([0, 2], np.array([1, 1]), np.array([1, 1], dtype=np.uint8), [0, 3], np.array([0.0, 1.0]), "ab", None):
        assert in_multi_discrete_space(action, space) is bool(space.contains(action)), action
    for action in (np.array([True, False]), [True, False]):
        assert space.contains(action) and not in_multi_discrete_space(action, space)


def test_multi_asset_discrete_trading_refuses_bool_arrays():
    env = TradingEnv(action_type="discrete", n_assets=2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=re.escape(str(env.action_space))):
        env.step(np.array([True, False]))
    env.step(np.array([1, 2]))
