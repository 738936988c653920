"""Presets (rlkit/app/presets.yaml): every registered rlkit env has one for PPO and one for its off-policy
algorithm (DQN for discrete actions, SAC for continuous), each says how it was chosen, and each validates, builds
its agent exactly as written and trains (issue 21 item 17: before, two (algo, env) pairs had presets)."""

from pathlib import Path

import gymnasium as gym
import pytest

import envs  # noqa: F401  (registers rlkit/…)
from rlkit.app.config import PRESET_INFO, PRESETS, config_from_dict, load_config, preset
from rlkit.app.env_factory import make_vec_env
from rlkit.app.training import train
from rlkit.app.validation import validate

EXPERIMENTS = Path(__file__).resolve().parents[3] / "experiments"
# Short episodes for the few-step training below (the final evaluation plays one whole episode).
SHORT_EPISODES = {"rlkit/GridWorld": "max_steps=16", "rlkit/HVAC": "episode_days=1", "rlkit/Trading": "episode_length=32"}
RLKIT_ENVS = sorted(env_id for env_id in gym.registry if env_id.startswith("rlkit/"))


def _off_policy_algo(env_id: str) -> str:
    env = gym.make(env_id)
    try:
        return "dqn" if isinstance(env.action_space, gym.spaces.Discrete) else "sac"
    finally:
        env.close()


@pytest.mark.parametrize("env_id", RLKIT_ENVS)
def test_every_rlkit_env_has_a_ppo_and_an_off_policy_preset(env_id):
    assert ("ppo", env_id) in PRESETS
    assert (_off_policy_algo(env_id), env_id) in PRESETS


@pytest.mark.parametrize("key", sorted(PRESETS), ids=lambda k: f"{k[0]}-{k[1]}")
def test_every_preset_says_how_it_was_chosen(key):
    info = PRESET_INFO[key]
    assert info.chosen in ("experiment", "derived") and len(info.source) > 5
    if info.chosen == "experiment":
        assert (EXPERIMENTS / info.source).is_file(), f"{key}: experiments/{info.source} does not exist"
    else:  # derived: the source starts with the (algo, env) of the preset it adapts
        algo, env_id = info.source.split()[:2]
        env_id = env_id.rstrip(",").removesuffix("'s")
        assert (algo, env_id) in PRESETS and (algo, env_id) != key, f"{key}: source {info.source!r} names no other preset"


@pytest.mark.parametrize("key", sorted(PRESETS), ids=lambda k: f"{k[0]}-{k[1]}")
def test_every_preset_validates_builds_and_trains(key, tmp_path):
    algo_name, env_id = key
    config = config_from_dict({**preset(algo_name, env_id), "device": "cpu"})
    algo = validate(config)
    vec_env = make_vec_env(config)
    if "buffer_size" in config.algo_kwargs:  # allocating a replay buffer of 100,000 steps costs seconds, proves nothing
        config = config.model_copy(update={"algo_kwargs": {**config.algo_kwargs, "buffer_size": 1000}})
    try:
        algo.build(config, vec_env)  # SB3 accepts the preset as written
    finally:
        vec_env.close()
    # A few steps of training with a small rollout and replay buffer and short episodes: that the rest of the
    # preset (policy, normalization, schedules, env kwargs) runs through training, evaluation and saving.
    small = {"n_steps": 16, "batch_size": 32} if algo_name == "ppo" else {"learning_starts": 16, "train_freq": 16, "gradient_steps": 1, "buffer_size": 256}
    overrides = [f"logdir={tmp_path}", "n_envs=2", "total_steps=64", "eval.every=0", "eval.episodes=1", "checkpoint_every=0",
                 *(f"env.kwargs.{kw}" for prefix, kw in SHORT_EPISODES.items() if env_id.startswith(prefix)), "device=cpu",
                 *(f"algo_kwargs.{k}={v}" for k, v in small.items())]  # fmt: skip
    result = train(load_config(base=preset(algo_name, env_id), overrides=overrides))
    assert result.status == "finished", result.message
    assert result.metrics["steps"] >= 64
