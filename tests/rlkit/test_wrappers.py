"""rlkit.wrappers.PartialObservation: hidden features are gone, noise is seeded and of the asked size, bad input."""

import gymnasium as gym
import numpy as np
import pytest

from rlkit.wrappers import PartialObservation


def _env(**kwargs):
    return PartialObservation(gym.make("Pendulum-v1"), **kwargs)  # obs: cos, sin, angular velocity


def test_hidden_features_are_dropped_and_the_rest_unchanged():
    plain, partial = gym.make("Pendulum-v1"), _env(hide=[2])
    a, _ = plain.reset(seed=3)
    b, _ = partial.reset(seed=3)
    assert partial.observation_space.shape == (2,) and b.shape == (2,)
    np.testing.assert_array_equal(b, a[:2])
    assert partial.observation_space.contains(b)


def test_noise_is_seeded_and_has_the_asked_size():
    plain, noisy = gym.make("Pendulum-v1"), _env(hide=[2], noise_std={0: 0.1})
    diffs = []
    for seed in range(300):
        a, _ = plain.reset(seed=seed)
        b, _ = noisy.reset(seed=seed)
        diffs.append(b - a[:2])
    diffs = np.array(diffs)
    assert (diffs[:, 1] == 0).all() and 0.08 < diffs[:, 0].std() < 0.12
    again, _ = _env(hide=[2], noise_std={0: 0.1}).reset(seed=5)
    first, _ = _env(hide=[2], noise_std={0: 0.1}).reset(seed=5)
    np.testing.assert_array_equal(again, first)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"hide": [3]}, "feature index 3 is outside"), ({"noise_std": {0: -1.0}}, "noise_std\\[0\\]=-1.0"),
     ({"hide": [0, 1, 2]}, "every feature is hidden"), ({"hide": [0], "noise_std": {0: 0.1}}, "both hidden and noisy")],
)
def test_bad_arguments_are_one_line_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _env(**kwargs)
