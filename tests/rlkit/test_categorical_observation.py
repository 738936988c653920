"""rlkit.wrappers.CategoricalObservation: an index grid (as MiniGrid's image) read as categories by every encoder.

Without it a uint8 ``Box(0, 255)`` of indices is scaled as pixels (/255); with it each entry is one-hot encoded.
"""

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.preprocessing import preprocess_obs

from rlkit.app.benchmark import load_benchmark
from rlkit.app.config import config_from_dict
from rlkit.app.training import train
from rlkit.nn import make_encoder
from rlkit.nn.spaces import preprocess
from rlkit.wrappers import CategoricalObservation

BENCHMARK = Path(__file__).resolve().parents[2] / "experiments" / "memory" / "benchmark.yaml"
NVEC = [11, 6, 3]  # MiniGrid: objects, colours, states
GRID = np.array([[[5, 5, 0], [2, 5, 0]], [[1, 0, 0], [4, 4, 2]]], dtype=np.uint8)  # (2, 2, 3): key, wall, empty, locked door


class IndexGrid(gym.Env):
    """Shows one fixed grid of indices in a uint8 Box(0, 255), as MiniGrid's ImgObsWrapper does."""

    observation_space = spaces.Box(0, 255, GRID.shape, np.uint8)
    action_space = spaces.Discrete(2)

    def __init__(self, grid=GRID):
        self.grid = grid

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self.grid.copy(), {}

    def step(self, action):
        return self.grid.copy(), 0.0, True, False, {}


def _one_hot_reference(grid, nvec):
    """Plain Python: for every cell in row-major order, each channel's value as a one-hot of its count."""
    out = []
    for cell in grid.reshape(-1, len(nvec)).tolist():
        for value, n in zip(cell, nvec):
            out += [1.0 if i == value else 0.0 for i in range(n)]
    return out


def _wrapped(grid=GRID, nvec=NVEC):
    env = CategoricalObservation(IndexGrid(grid), nvec=nvec)
    obs, _ = env.reset(seed=0)
    return env, obs


def test_an_index_grid_is_one_hot_encoded_where_the_plain_box_is_scaled_as_pixels():
    env, obs = _wrapped()
    assert env.observation_space == spaces.MultiDiscrete(np.tile(NVEC, 4))
    assert env.observation_space.contains(obs)
    x = preprocess(obs[None], env.observation_space)  # (1, 4 cells x 20 values)
    assert x[0].tolist() == _one_hot_reference(GRID, NVEC)
    sb3 = preprocess_obs(torch.as_tensor(obs[None]), env.observation_space)  # SB3's policies read the same
    torch.testing.assert_close(sb3, x)
    # The problem it replaces: the raw space is an image to rlkit and SB3, every index divided by 255.
    raw = preprocess(GRID[None], IndexGrid.observation_space)
    assert float(raw.max()) == pytest.approx(5 / 255)


def test_a_key_and_a_ball_differ_by_whole_units_at_the_sequence_encoder_input():
    ball = GRID.copy()
    ball[0, 0, 0] = 6
    (env, key_obs), (_, ball_obs) = _wrapped(), _wrapped(ball)
    encoder = make_encoder("gru", env.observation_space, sequence=True, hidden_size=8, seed=0)
    steps = encoder.encode_steps(np.stack([key_obs, ball_obs])[:, None])  # (2, 1, 80)
    assert steps.shape == (2, 1, 80)
    assert (steps[0] - steps[1]).abs().sum().item() == 2.0  # one index moved: a 1 and a 0 swap places
    features, _ = encoder(np.stack([key_obs, ball_obs])[:, None], np.ones((2, 1), bool))
    assert features.shape == (2, 1, 8) and not torch.allclose(features[0], features[1])


def test_the_mlp_encoder_reads_it():
    env, obs = _wrapped()
    encoder = make_encoder("mlp", env.observation_space, seed=0)
    assert encoder(obs[None]).shape == (1, encoder.output_dim)


def test_the_multidiscrete_one_hot_equals_sb3s_per_entry_loop_with_leading_dims_and_starts():
    space = spaces.MultiDiscrete(np.tile([4, 2, 7], 5), start=np.tile([-1, 3, 0], 5), seed=0)
    obs = np.stack([space.sample() for _ in range(6)]).reshape(2, 3, 15)  # (B, T, K)
    ours = preprocess(obs, space)  # (2, 3, 65)
    shifted = torch.as_tensor(obs - space.start).reshape(6, 15)  # SB3 ignores start
    torch.testing.assert_close(ours.reshape(6, 65), preprocess_obs(shifted, spaces.MultiDiscrete(space.nvec)), rtol=0, atol=0)
    bad = obs[0, 0].copy()
    bad[4] = 5  # a channel of 2 values from 3
    with pytest.raises(ValueError, match="got index 5 at position 4 .* expected 3..4"):
        preprocess(bad, space)


def test_counts_are_read_from_the_bounds_of_a_narrow_box():
    class Narrow(IndexGrid):
        observation_space = spaces.Box(1, 3, (2,), np.int64)

    env = CategoricalObservation(Narrow(np.array([1, 3])))
    assert env.observation_space == spaces.MultiDiscrete([3, 3], start=[1, 1])
    obs, _ = env.reset(seed=0)
    assert preprocess(obs[None], env.observation_space)[0].tolist() == [1, 0, 0, 0, 0, 1]


@pytest.mark.parametrize(
    "nvec, grid, message",
    [(None, GRID, "a uint8 image's \\[0, 255\\].*pass nvec"), ([11, 6], GRID, "one count >= 1 per channel, 3"),
     ([11, 6, 0], GRID, "one count >= 1 per channel"), ([11, 6, 2], GRID, "entry 11 .* is 2; its channel has 2 values")],
)
def test_bad_input_is_a_one_line_value_error(nvec, grid, message):
    with pytest.raises(ValueError, match=message):
        CategoricalObservation(IndexGrid(grid), nvec=nvec).reset(seed=0)


def test_a_float_box_is_refused():
    class Floats(IndexGrid):
        observation_space = spaces.Box(0.0, 1.0, (2,), np.float32)

    with pytest.raises(ValueError, match="needs an integer-dtype Box"):
        CategoricalObservation(Floats(np.zeros(2, np.float32)))


@pytest.mark.parametrize("agent", ["gru", "mlp"])
def test_the_minigrid_benchmark_rows_train_with_it(tmp_path, agent):
    pytest.importorskip("minigrid")
    row = dict(load_benchmark(BENCHMARK)[f"minigrid_{agent}"])
    row.update(logdir=str(tmp_path), device="cpu", n_envs=2, total_steps=128, eval={"every": 0, "episodes": 2})
    row["algo_kwargs"] = {**row["algo_kwargs"], "n_steps": 64, "batch_size": 64, "n_epochs": 1}
    result = train(config_from_dict(row))
    assert result.steps >= 128 and len(result.metrics["returns"]) == 2
