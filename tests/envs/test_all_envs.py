"""The contract every registered rlkit env keeps (parametrized over ``envs.ENV_IDS``, so a new env is tested
the moment it is registered): Gymnasium's and SB3's checkers pass with no warnings, the same seed gives the
same trajectory, an action outside the space is a ``ValueError`` naming the space, every declared render
mode returns its type, ``info["episode_metrics"]`` closes every episode, baselines run, and a batched
``vector_entry_point`` (where an env has one) matches Gymnasium's ``SyncVectorEnv`` exactly."""

import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env, data_equivalence
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs
from envs.baselines import load_baseline, run_episodes

ENV_IDS = list(envs.ENV_IDS)
MAX_EPISODE_STEPS = 100_000  # a random policy must end an episode within this many steps


def _random_actions(space: spaces.Space, n: int, seed: int = 0) -> list:
    space.seed(seed)
    return [space.sample() for _ in range(n)]


def _out_of_space_action(space: spaces.Space):
    if isinstance(space, spaces.Discrete):
        return space.start + space.n
    if isinstance(space, spaces.MultiDiscrete):
        return (space.start + space.nvec).astype(space.dtype)
    if isinstance(space, spaces.MultiBinary):
        return np.full(space.shape, 2, dtype=space.dtype)
    if isinstance(space, spaces.Box):
        if np.all(np.isfinite(space.high)):
            return (space.high + 1).astype(space.dtype)
        return np.zeros((*space.shape, 2), dtype=space.dtype)  # the wrong shape
    pytest.fail(f"no out-of-space action known for {space}; extend _out_of_space_action")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_gymnasium_check_env_passes_without_warnings(env_id):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(gym.make(env_id).unwrapped)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_sb3_check_env_passes_without_warnings(env_id):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb3_check_env(gym.make(env_id), warn=True)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_seed_same_trajectory(env_id):
    def rollout():
        env = gym.make(env_id)
        trajectory = [env.reset(seed=123)]
        for action in _random_actions(env.action_space, 200):
            step = env.step(action)
            trajectory.append(step)
            if step[2] or step[3]:
                trajectory.append(env.reset())
        return trajectory

    first, second = rollout(), rollout()
    for t, (a, b) in enumerate(zip(first, second, strict=True)):
        assert data_equivalence(a, b, exact=True), f"{env_id}: trajectories differ at item {t}: {a} vs {b}"


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_action_outside_the_space_raises_value_error_naming_the_space(env_id):
    env = gym.make(env_id)
    env.reset(seed=0)
    with pytest.raises(ValueError) as excinfo:
        env.step(_out_of_space_action(env.action_space))
    assert str(env.action_space) in str(excinfo.value), f"the message does not name {env.action_space}: {excinfo.value}"


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_declared_render_mode_returns_its_type(env_id):
    render_modes = gym.spec(env_id).make().metadata.get("render_modes", [])
    assert render_modes, f"{env_id} declares no render modes"
    for mode in render_modes:
        env = gym.make(env_id, render_mode=mode)
        env.reset(seed=0)
        env.step(_random_actions(env.action_space, 1)[0])
        frame = env.render()
        if mode == "ansi":
            assert isinstance(frame, str) and frame.strip(), f"{env_id}: ansi render gave {type(frame)}"
        elif mode == "rgb_array":
            assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8, f"{env_id}: rgb_array gave {type(frame)}"
            assert frame.ndim == 3 and frame.shape[2] == 3 and min(frame.shape[:2]) > 0, frame.shape
        else:
            pytest.fail(f"{env_id}: render mode {mode!r} has no check here; extend this test")
        env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_episode_metrics_close_every_episode(env_id):
    env = gym.make(env_id)
    env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(MAX_EPISODE_STEPS):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        if terminated or truncated:
            break
    else:
        pytest.fail(f"{env_id}: a random policy did not end an episode in {MAX_EPISODE_STEPS} steps")
    metrics = info.get("episode_metrics")
    assert isinstance(metrics, dict) and metrics, f"{env_id}: final info lacks episode_metrics: {info}"
    for name, value in metrics.items():
        assert isinstance(name, str) and isinstance(value, float) and math.isfinite(value), (name, value)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_baselines_run(env_id):
    env = gym.make(env_id)
    for name in ["random", *envs.BASELINES.get(env_id, {})]:
        returns = run_episodes(env, load_baseline(env_id, name, env), n_episodes=1, seed=0)
        assert np.isfinite(returns).all(), (env_id, name, returns)


@pytest.mark.parametrize("env_id", [i for i in ENV_IDS if gym.spec(i).vector_entry_point is not None])
def test_vector_entry_point_equals_sync_vector_env(env_id):
    num_envs = 4
    sync = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync")
    batched = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")
    assert batched.metadata["autoreset_mode"] == sync.metadata["autoreset_mode"]
    assert data_equivalence(sync.reset(seed=5), batched.reset(seed=5), exact=True)
    for t, actions in enumerate(_random_actions(sync.action_space, 300, seed=1)):
        a, b = sync.step(actions), batched.step(actions)
        assert data_equivalence(a, b, exact=True), f"{env_id}: step {t} differs: {a} vs {b}"


@pytest.mark.parametrize("env_id", ENV_IDS[:1])
def test_random_baseline_is_seeded(env_id):
    def returns(seed):
        env = gym.make(env_id)
        return run_episodes(env, load_baseline(env_id, "random", env, seed=seed), n_episodes=3, seed=0)

    np.testing.assert_array_equal(returns(1), returns(1))
    assert not np.array_equal(returns(1), returns(2))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_discrete_actions_follow_one_rule_bools_refused(env_id):
    """Every Discrete env takes what ``Discrete.contains`` takes (ints, NumPy integer scalars, 0-d integer
    arrays), except bools: ``True`` is refused like ``np.bool_(True)`` (``envs._checks.in_discrete_space``)."""
    env = gym.make(env_id)
    if not isinstance(env.action_space, spaces.Discrete):
        pytest.skip(f"{env_id} has a {type(env.action_space).__name__} action space")
    env.reset(seed=0)
    for bad in (True, False, np.bool_(True), np.array(True)):
        with pytest.raises(ValueError) as excinfo:
            env.step(bad)
        assert str(env.action_space) in str(excinfo.value), excinfo.value
    for good in (0, np.int64(0), np.int32(0), np.uint8(0), np.array(0)):
        assert env.action_space.contains(good)
        _, _, terminated, truncated, _ = env.step(good)
        if terminated or truncated:
            env.reset()
