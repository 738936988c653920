"""The algorithm registry and the SB3 wiring: every registered algorithm builds and learns on an env it fits."""

import gymnasium as gym
import numpy as np
import pytest
import torch

import agents
from agents import AlgoSpec, algo_names, algos_for, get_algo, register_algo
from agents.sb3 import ON_POLICY, algo_kwargs, policy_kwargs
from rlkit.app.config import PolicyConfig, load_config
from rlkit.app.env_factory import make_vec_env

DISCRETE_ENV, BOX_ENV = "CartPole-v1", "Pendulum-v1"
TINY_KWARGS = {
    "ppo": "{n_steps: 16, batch_size: 16, n_epochs: 1}",
    "a2c": "{n_steps: 4}",
    "trpo": "{n_steps: 32, batch_size: 16, n_critic_updates: 1}",
    "dqn": "{learning_starts: 16, batch_size: 8, buffer_size: 500}",
    "qrdqn": "{learning_starts: 16, batch_size: 8, buffer_size: 500}",
    "sac": "{learning_starts: 16, batch_size: 8, buffer_size: 500}",
    "td3": "{learning_starts: 16, batch_size: 8, buffer_size: 500}",
    "ddpg": "{learning_starts: 16, batch_size: 8, buffer_size: 500}",
    "tqc": "{learning_starts: 16, batch_size: 8, buffer_size: 500}",
    "ppo-seq": "{n_steps: 16, batch_size: 16, n_epochs: 1}",
}


def _build(algo, env_id, *overrides):
    config = load_config(overrides=[f"algo={algo}", f"env.id={env_id}", "n_envs=2", "device=cpu",
                                    f"algo_kwargs={TINY_KWARGS.get(algo, '{}')}", *overrides])  # fmt: skip
    spec = get_algo(config.algo)
    env = make_vec_env(config)
    return spec, spec.build(config, env), config


def test_registry_has_the_issue_algorithms():
    assert {"ppo", "a2c", "dqn", "sac"} <= set(algo_names())
    assert get_algo("PPO") is get_algo("ppo")


def test_unknown_algorithm_lists_valid_ones():
    with pytest.raises(ValueError, match=r"unknown algorithm 'ppo2'; did you mean 'ppo'\? choose one of: ppo, a2c"):
        get_algo("ppo2")


def test_action_space_fit():
    discrete, box = gym.spaces.Discrete(3), gym.spaces.Box(-1, 1, (2,))
    assert {"ppo", "a2c", "dqn"} <= set(algos_for(discrete)) and "sac" not in algos_for(discrete)
    assert {"ppo", "a2c", "sac"} <= set(algos_for(box)) and "dqn" not in algos_for(box)
    assert get_algo("ppo").fits(gym.spaces.MultiDiscrete([2, 3]))


@pytest.mark.parametrize("algo", algo_names())
def test_every_algorithm_learns_a_few_steps_on_an_env_it_fits(algo, tmp_path):
    spec = get_algo(algo)
    env_id = DISCRETE_ENV if spec.fits(gym.make(DISCRETE_ENV).action_space) else BOX_ENV
    spec, model, config = _build(algo, env_id)
    assert spec.fits(model.action_space)
    model.learn(48)
    assert model.num_timesteps >= 48
    if algo in ON_POLICY:  # SB3's on-policy algorithms get rlkit's Numba GAE buffer
        from rlkit.buffers import NumbaRolloutBuffer

        assert isinstance(model.rollout_buffer, NumbaRolloutBuffer)
    assert spec.off_policy == (getattr(model, "replay_buffer", None) is not None)
    path = tmp_path / "m.zip"
    model.save(path)
    obs_space, act_space = spec.saved_spaces(path)
    assert obs_space == model.observation_space and act_space == model.action_space
    loaded = spec.load(path, None, "cpu")
    obs = model.get_env().reset()
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0])


def test_dict_observations_get_the_dict_buffer_and_multi_input_policy():
    from stable_baselines3.common.vec_env import DummyVecEnv

    from rlkit.buffers import NumbaDictRolloutBuffer

    def make():
        env = gym.make("CartPole-v1")
        return gym.wrappers.TransformObservation(env, lambda o: {"x": o}, gym.spaces.Dict({"x": env.observation_space}))

    config = load_config(overrides=["algo=ppo", "n_envs=2", "device=cpu", f"algo_kwargs={TINY_KWARGS['ppo']}"])
    model = get_algo("ppo").build(config, DummyVecEnv([make, make]))
    assert isinstance(model.rollout_buffer, NumbaDictRolloutBuffer)
    assert type(model.policy).__name__ == "MultiInputActorCriticPolicy"
    model.learn(32)


def test_zoo_style_values():
    from stable_baselines3.common.noise import NormalActionNoise
    from stable_baselines3.common.utils import LinearSchedule

    box = gym.spaces.Box(-1, 1, (3,))
    converted = algo_kwargs({"learning_rate": "lin_0.001", "train_freq": [4, "step"], "action_noise": {"type": "normal", "sigma": 0.2}}, box)
    assert isinstance(converted["learning_rate"], LinearSchedule)
    assert converted["learning_rate"](1.0) == pytest.approx(0.001) and converted["learning_rate"](0.0) == 0.0
    assert converted["train_freq"] == (4, "step")
    assert isinstance(converted["action_noise"], NormalActionNoise) and converted["action_noise"]().shape == (3,)
    with pytest.raises(ValueError, match="lin_<number>"):
        algo_kwargs({"learning_rate": "lin_fast"}, box)
    for key in ("learning_rate", "clip_range", "clip_range_vf"):  # a word where a number or schedule goes
        with pytest.raises(ValueError, match=f"algo_kwargs.{key}: 'fast' is neither a number nor a schedule; expected e.g. 0.001 or lin_0.001"):
            algo_kwargs({key: "fast"}, box)
    with pytest.raises(ValueError, match="action_noise"):
        algo_kwargs({"action_noise": {"type": "pink"}}, box)


def test_policy_kwargs():
    kwargs = policy_kwargs(PolicyConfig(net_arch=[32], activation_fn="ReLU", kwargs={"ortho_init": False}))
    assert kwargs == {"net_arch": [32], "activation_fn": torch.nn.ReLU, "ortho_init": False}
    with pytest.raises(ValueError, match="not a torch.nn module"):
        policy_kwargs(PolicyConfig(activation_fn="relu_please"))
    with pytest.raises(ValueError, match="policy.encoder is not"):
        policy_kwargs(PolicyConfig(encoder_kwargs={"features_dim": 8}))


def _encoder_names():
    from rlkit.nn import encoder_names

    return list(encoder_names())


# Envs to try each encoder on, first fit wins: vectors, images, and (T, D) windows for sequence encoders.
ENCODER_ENVS = [
    ("rlkit/GridWorld-v0", []),
    ("rlkit/GridWorld-Image-v0", []),
    ("rlkit/GridWorld-v0", ["env.wrappers=[{name: FrameStackObservation, kwargs: {stack_size: 4}}]"]),
]


@pytest.mark.parametrize("encoder", _encoder_names())
def test_encoder_is_the_features_extractor(encoder):
    from rlkit.nn import fitting_encoders
    from rlkit.nn.sb3 import EncoderExtractor
    from rlkit.app.env_factory import env_spaces

    for env_id, extra in ENCODER_ENVS:
        config = load_config(overrides=[f"env.id={env_id}", *extra])
        if encoder in fitting_encoders(env_spaces(config)[0]):
            break
    else:
        pytest.fail(f"no test env fits encoder {encoder!r}")
    _, model, _ = _build("ppo", env_id, f"policy.encoder={encoder}", *extra)
    assert isinstance(model.policy.features_extractor, EncoderExtractor)
    model.learn(32)


def test_encoder_that_cannot_read_the_space_is_one_line():
    with pytest.raises(ValueError) as info:
        _build("ppo", "rlkit/GridWorld-v0", "policy.encoder=cnn")
    assert "\n" not in str(info.value) and "cnn" in str(info.value)


def test_non_sb3_agents_register_the_same_way():
    spec = AlgoSpec(
        name="test-random", summary="uniform random (test)", action_spaces=("Discrete",),
        build=lambda config, env: None, load=lambda path, env, device: None,
        saved_spaces=lambda path: (None, None), valid_kwargs=lambda: ["temperature"],
    )  # fmt: skip
    try:
        register_algo(spec)
        assert get_algo("TEST-RANDOM") is spec and "test-random" in algos_for(gym.spaces.Discrete(2))
        with pytest.raises(ValueError, match="already registered"):
            register_algo(spec)
        with pytest.raises(ValueError, match="lowercase"):
            register_algo(AlgoSpec(**{**spec.__dict__, "name": "Upper"}))
    finally:
        agents.ALGOS.pop("test-random", None)
