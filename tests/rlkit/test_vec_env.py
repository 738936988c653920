"""The Gymnasium VectorEnv → SB3 VecEnv adapter, checked against SB3's DummyVecEnv of the single env."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env import DummyVecEnv

import envs
from rlkit.vec_env import VectorEnvAdapter, make_vector_env, unbatch_info

VECTOR_IDS = [i for i in envs.ENV_IDS if gym.spec(i).vector_entry_point is not None]


def _assert_same_step(a, b, t):
    for x, y in zip(a[:3], b[:3]):
        np.testing.assert_array_equal(x, y, err_msg=f"step {t}")
    for info_a, info_b in zip(a[3], b[3]):
        assert set(info_a) == set(info_b), (t, info_a, info_b)
        for key in info_a:
            np.testing.assert_equal(info_a[key], info_b[key], err_msg=f"step {t} info[{key!r}]")


def _compare(adapter, reference, n_steps, seed=3):
    adapter.seed(seed)
    reference.seed(seed)
    np.testing.assert_array_equal(adapter.reset(), reference.reset())
    rng = np.random.default_rng(0)
    dones = 0
    for t in range(n_steps):
        actions = np.array([adapter.action_space.sample() for _ in range(adapter.num_envs)])
        actions = rng.permutation(actions)
        a, b = adapter.step(actions), reference.step(actions)
        _assert_same_step(a, b, t)
        dones += int(a[2].sum())
    assert dones > 0, "the comparison must cover episode ends"


@pytest.mark.parametrize("mode", [AutoresetMode.SAME_STEP, AutoresetMode.NEXT_STEP])
def test_sync_vector_env_matches_dummy_vec_env(mode):
    def make():
        return gym.make("CartPole-v1", max_episode_steps=20)

    adapter = VectorEnvAdapter(gym.vector.SyncVectorEnv([make] * 4, autoreset_mode=mode))
    _compare(adapter, DummyVecEnv([make] * 4), 120)


@pytest.mark.parametrize("env_id", VECTOR_IDS)
@pytest.mark.parametrize("mode", [AutoresetMode.SAME_STEP, AutoresetMode.NEXT_STEP])
def test_rlkit_vector_envs_match_dummy_vec_env(env_id, mode):
    """Every observation, reward, done and info (episode_metrics, terminal_observation, TimeLimit.truncated)."""
    n = 8
    vector_env = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point", autoreset_mode=mode, max_steps=15)
    reference = DummyVecEnv([lambda: gym.make(env_id, max_steps=15)] * n)
    _compare(VectorEnvAdapter(vector_env), reference, 60)


def test_make_vector_env_prefers_same_step_and_skips_envs_without_partial_reset():
    env = make_vector_env("rlkit/GridWorld-v0", 4, require_same_step=True)
    assert env.unwrapped.autoreset_mode == AutoresetMode.SAME_STEP
    # Gymnasium's CartPoleVectorEnv takes no autoreset_mode and resets every copy on reset(): not usable.
    assert make_vector_env("CartPole-v1", 4, require_same_step=True) is None


def test_unbatch_info_nested_with_masks():
    info = {
        "a": np.array([1, 0, 3]),
        "_a": np.array([True, False, True]),
        "m": {"x": np.array([0.5, 0.0, 0.0]), "_x": np.array([True, False, False])},
        "_m": np.array([True, False, False]),
        "nomask": np.array([7, 8, 9]),
    }
    assert unbatch_info(info, 3) == [{"a": 1, "m": {"x": 0.5}, "nomask": 7}, {"nomask": 8}, {"a": 3, "nomask": 9}]


def test_ppo_through_adapter_equals_ppo_through_dummy_vec_env():
    """Same seeds, same agent: the adapter changes how copies are stepped, not what they do."""
    import torch

    from agents import get_algo
    from rlkit.app.config import load_config
    from rlkit.app.env_factory import make_vec_env

    params = []
    for vectorization in ("vector", "dummy"):
        config = load_config(overrides=[
            "env.id=rlkit/GridWorld-v0", "env.kwargs.max_steps=12", f"env.vectorization={vectorization}",
            "n_envs=4", "algo_kwargs={n_steps: 16, batch_size: 32, n_epochs: 2}", "device=cpu",
        ])  # fmt: skip
        env = make_vec_env(config)
        assert isinstance(env.unwrapped, VectorEnvAdapter) == (vectorization == "vector")
        model = get_algo("ppo").build(config, env)
        model.learn(256)
        assert len(model.ep_info_buffer) > 0
        params.append(model.policy.state_dict())
        env.close()
    assert all(torch.equal(params[0][k], params[1][k]) for k in params[0])
