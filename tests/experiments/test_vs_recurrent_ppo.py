"""experiments/memory/vs_recurrent_ppo.py: the env hides exactly CartPole's velocities, and the table reads the curves."""

import importlib.util
from pathlib import Path

import gymnasium as gym
import numpy as np

_SPEC = importlib.util.spec_from_file_location(
    "vs_recurrent_ppo", Path(__file__).resolve().parents[2] / "experiments" / "memory" / "vs_recurrent_ppo.py"
)
vs = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(vs)


def test_hide_velocities_zeroes_the_velocities_and_keeps_position_and_angle():
    plain, hidden = gym.make("CartPole-v1"), vs.hide_velocities(gym.make("CartPole-v1"))
    obs, _ = plain.reset(seed=3)
    masked, _ = hidden.reset(seed=3)
    for _ in range(5):  # velocities are non-zero after a few pushes
        obs, *_ = plain.step(1)
        masked, *_ = hidden.step(1)
    assert np.all(obs[[1, 3]] != 0)
    np.testing.assert_array_equal(masked, [obs[0], 0.0, obs[2], 0.0])
    assert hidden.observation_space == plain.observation_space and hidden.observation_space.contains(masked)


def test_table_reports_the_first_crossing_and_the_seeds_that_never_crossed():
    record = {"agent": "lstm", "seed": 0, "steps": [10, 20, 30], "train_return": [50.0, 160.0, 140.0], "eval_mean": 200.0,
              "eval_std": 0.0, "seconds": 1.0}  # fmt: skip
    never = {**record, "seed": 1, "train_return": [50.0, 60.0, 70.0], "eval_mean": 100.0}
    assert vs.steps_to(record, 150) == 20 and vs.steps_to(never, 150) is None
    assert "| 20 |" in vs.table([record], 30, 150)
    row = vs.table([record, never], 30, 150).splitlines()[-1]
    assert "1 of 2 seeds reached it" in row and "| 150 ± 50 |" in row and "200 (s0), 100 (s1)" in row
