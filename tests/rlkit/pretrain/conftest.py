"""Small datasets collected from rlkit's envs, shared by the pretraining tests (collected once per session)."""

import gymnasium as gym
import pytest

import envs  # noqa: F401  (registers rlkit/…)
from envs.baselines import RandomPolicy, load_baseline
from rlkit.pretrain import collect


def collect_from(env_id: str, policy: str, steps: int, seed: int = 0, **kwargs):
    env = gym.make(env_id, **kwargs)
    try:
        chosen = RandomPolicy(env, seed) if policy == "random" else load_baseline(env_id, policy, env)
        return collect(env, chosen, steps, seed, env_id, kwargs, policy)
    finally:
        env.close()


@pytest.fixture(name="collect_from")
def _collect_from():
    """``collect_from(env_id, policy, steps, seed=0, **env_kwargs)``: a Dataset."""
    return collect_from


@pytest.fixture(scope="session")
def grid_optimal():
    """GridWorld-v0 (one-hot observations) under the optimal (deterministic) policy."""
    return collect_from("rlkit/GridWorld-v0", "optimal", 3000)


@pytest.fixture(scope="session")
def image_random():
    """GridWorld-Image-v0 frames under a random policy."""
    return collect_from("rlkit/GridWorld-Image-v0", "random", 1200)


@pytest.fixture(scope="session")
def hvac_schedule():
    """Four weeks of HVAC under the schedule-aware thermostat (continuous actions)."""
    return collect_from("rlkit/HVAC-v0", "schedule_thermostat", 2688)


@pytest.fixture(scope="session")
def groundhog_random():
    return collect_from("rlkit/GroundhogDay-Easy-v0", "random", 1500, new_task_on_reset=True)
