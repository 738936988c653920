"""experiments/pretraining/hvac_shaping.py: the shaping is potential-based (it telescopes), and it leaves the
env's own rewards, which Monitor records, untouched."""

import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "experiments" / "pretraining"))
from hvac_shaping import StoredHeatShaping  # noqa: E402

import envs  # noqa: E402,F401  (registers rlkit/HVAC-v0)


@pytest.mark.parametrize("start_day", [10, 120, 200])  # winter (heating), spring (mode flips), summer (cooling)
def test_shaped_rewards_telescope_to_the_env_return_plus_the_potentials(start_day):
    env = StoredHeatShaping(gym.make("rlkit/HVAC-v0", episode_days=2), k=0.07, gamma=1.0)
    obs, _ = env.reset(seed=0, options={"start_day": start_day})
    phi_start, rng = env.potential(obs), np.random.default_rng(0)
    shaped = own = 0.0
    while True:
        obs, reward, terminated, truncated, info = env.step(rng.uniform(-1, 1, size=1).astype(np.float32))
        shaped += reward
        own -= info["cost"] + 0.1 * info["discomfort_degree_hours"]
        if terminated or truncated:
            break
    # With gamma 1 the shaping terms cancel but for the potentials at the ends (no terminal state: truncated).
    assert shaped == pytest.approx(own + env.potential(obs) - phi_start, abs=1e-9)
    assert shaped != pytest.approx(own, abs=1e-3)  # the shaping did something


def test_potential_values_heat_as_an_asset_in_winter_and_a_liability_in_summer():
    env = StoredHeatShaping(gym.make("rlkit/HVAC-v0"), k=0.07)
    warm_winter = np.zeros(24, dtype=np.float32)
    warm_winter[0], warm_winter[2] = 0.3, -1.0  # 23 °C inside, 10 °C outside
    warm_summer = warm_winter.copy()
    warm_summer[2] = 1.0  # 30 °C outside
    assert env.potential(warm_winter) > 0 > env.potential(warm_summer)
