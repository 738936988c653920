"""experiments/pretraining/multimodal.py: the continuous-direction variant decodes every vector to the move it points
to most, and the teacher's unit vectors replay its two routes to the goal exactly as its discrete moves do."""

import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "experiments" / "pretraining"))
from multimodal import DIRECTION_ENV_ID, DIRECTIONS, ENV_ID, LAYOUT, LEFT, RIGHT, DirectionAction  # noqa: E402

import envs  # noqa: E402,F401  (registers rlkit/GridWorld-v0)


@pytest.mark.parametrize(
    ("vector", "move"),
    [((0.0, -1.0), 0), ((1.0, 0.0), 1), ((0.0, 1.0), 2), ((-1.0, 0.0), 3), ((0.3, -0.9), 0), ((-0.6, 0.5), 3), ((0.1, 0.0), 1)],
)
def test_direction_action_takes_the_move_it_points_to_most(vector, move):
    env = DirectionAction(gym.make(ENV_ID, layout=LAYOUT, max_steps=30))
    assert env.action(np.array(vector, dtype=np.float32)) == move


@pytest.mark.parametrize("route", [LEFT, RIGHT])
def test_unit_vectors_replay_each_route_as_the_discrete_moves_do(route):
    discrete = gym.make(ENV_ID, layout=LAYOUT, max_steps=30)
    continuous = gym.make(DIRECTION_ENV_ID, layout=LAYOUT, max_steps=30)
    assert continuous.action_space == gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    obs_d, _ = discrete.reset(seed=0)
    obs_c, _ = continuous.reset(seed=0)
    for move in route:
        obs_d, reward_d, term_d, trunc_d, _ = discrete.step(move)
        obs_c, reward_c, term_c, trunc_c, _ = continuous.step(DIRECTIONS[move])
        np.testing.assert_array_equal(obs_c, obs_d)
        assert (reward_c, term_c, trunc_c) == (reward_d, term_d, trunc_d)
    assert term_d  # the route ends at the goal
