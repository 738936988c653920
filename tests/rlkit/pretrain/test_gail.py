"""GAIL: the discriminator separates datasets, the reward wrapper returns its value exactly, resume is exact, bad input is one line."""

from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from gymnasium import spaces
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from rlkit.app.cli import main
from rlkit.app.config import load_config
from rlkit.app.training import resume, train
from rlkit.nn.spaces import space_to_dict
from rlkit.pretrain import save_dataset
from rlkit.pretrain.dataset import Dataset
from rlkit.pretrain.gail import Gail, GailReward
import rlkit.pretrain.gail.reward as reward_module
from stable_baselines3.common.vec_env import unwrap_vec_wrapper

from rlkit.pretrain.gail.reward import GailReward


def synthetic(obs, actions, obs_space, act_space):
    n = len(actions)
    starts = np.zeros(n, dtype=bool)
    starts[::20] = True
    manifest = {"env_id": "synthetic", "observation_space": space_to_dict(obs_space), "action_space": space_to_dict(act_space)}
    return Dataset(obs, actions, np.zeros(n, np.float32), starts, np.roll(starts, -1), np.zeros(n, dtype=bool), manifest)


def test_discriminator_separates_clearly_different_datasets():
    rng = np.random.default_rng(0)
    obs_space, act_space = spaces.Box(-5, 5, (2,), np.float32), spaces.Discrete(3)
    expert_obs = rng.normal(1.0, 0.5, (1000, 2)).astype(np.float32)
    demos = synthetic(expert_obs, np.zeros(1000, np.int64), obs_space, act_space)  # the expert always takes action 0
    gail = Gail(demos, hidden=(32,), learning_rate=3e-3, batch_size=128, epochs=1, seed=0)
    agent_obs = rng.normal(-1.0, 0.5, (1000, 2)).astype(np.float32)
    agent_actions = rng.integers(1, 3, 1000)
    first = gail.update(agent_obs, agent_actions, demos)
    for _ in range(10):
        last = gail.update(agent_obs, agent_actions, demos)
    assert last["disc_loss"] < first["disc_loss"] and last["expert_acc"] > 0.95 and last["agent_acc"] > 0.95
    fresh_expert = rng.normal(1.0, 0.5, (200, 2)).astype(np.float32)
    fresh_agent = rng.normal(-1.0, 0.5, (200, 2)).astype(np.float32)
    # Higher reward for expert-like pairs than for the agent's.
    assert gail.reward(fresh_expert, np.zeros(200, np.int64)).min() > gail.reward(fresh_agent, rng.integers(1, 3, 200)).max()


@pytest.mark.parametrize("kind", ["gail", "logit"])
def test_reward_wrapper_returns_the_discriminators_value_exactly(collect_from, kind):
    demos = collect_from("CartPole-v1", "random", 200)
    gail = Gail(demos, reward=kind, seed=1)
    env = GailReward(DummyVecEnv([lambda: gym.make("CartPole-v1")] * 3), gail)
    env.seed(0)
    obs = env.reset()
    rng = np.random.default_rng(0)
    ended = 0
    for _ in range(40):  # random actions: episodes end (and reset) within this
        actions = rng.integers(0, 2, 3)
        with torch.no_grad():
            logits = gail.discriminator(obs, actions)
        expected = (F.softplus(logits) if kind == "gail" else logits).numpy()
        new_obs, rewards, dones, _ = env.step(actions)
        assert np.array_equal(rewards, expected.astype(np.float32))
        obs = new_obs
        ended += int(dones.sum())
    assert ended > 0
    pairs_obs, pairs_actions = env.take_transitions()
    assert pairs_obs.shape == (120, 4) and pairs_actions.shape == (120,)
    assert env.agent_obs == [] and env.agent_actions == []  # taken once


@pytest.mark.parametrize("kind", ["gail", "logit"])
def test_absorbing_state_adds_its_discounted_reward_at_terminal_steps_only(collect_from, kind):
    demos = collect_from("CartPole-v1", "random", 200)
    gail = Gail(demos, reward=kind, seed=1, absorbing=True)
    with torch.no_grad():
        gail.discriminator.absorbing_logit.fill_(-0.7)
    logit = torch.tensor(-0.7)  # as float32, as the parameter holds it
    r_abs = (F.softplus(logit) if kind == "gail" else logit).item()
    plain = Gail(demos, reward=kind, seed=1)  # the same network without the absorbing state
    # A 20-step time limit: random CartPole episodes end either way.
    env = GailReward(DummyVecEnv([lambda: gym.make("CartPole-v1", max_episode_steps=20)] * 3), gail, gamma=0.9)
    env.seed(0)
    obs = env.reset()
    rng = np.random.default_rng(0)
    terminal = truncated = 0
    for _ in range(60):
        actions = rng.integers(0, 2, 3)
        expected = plain.reward(obs, actions)
        obs, rewards, dones, infos = env.step(actions)
        ends = np.array([d and not i.get("TimeLimit.truncated", False) for d, i in zip(dones, infos)])
        expected[ends] += np.float32(0.9 / (1 - 0.9) * r_abs)
        assert np.array_equal(rewards, expected)
        terminal, truncated = terminal + int(ends.sum()), truncated + int((dones & ~ends).sum())
    assert terminal > 0 and truncated > 0
    assert env.take_absorbing() == terminal and env.take_absorbing() == 0


@pytest.mark.parametrize("expert_ends", [False, True])
def test_absorbing_state_learns_whether_the_expert_ends_episodes(expert_ends):
    rng = np.random.default_rng(0)
    obs_space, act_space = spaces.Box(-5, 5, (2,), np.float32), spaces.Discrete(2)
    obs = rng.normal(0, 1, (1000, 2)).astype(np.float32)
    actions = rng.integers(0, 2, 1000)
    demos = synthetic(obs, actions, obs_space, act_space)  # 50 episodes of 20 steps, each ending terminated
    if not expert_ends:
        demos.truncated, demos.terminated = demos.terminated, np.zeros(1000, dtype=bool)
    gail = Gail(demos, hidden=(16,), learning_rate=1e-2, batch_size=100, seed=0, absorbing=True)
    # The agent's pairs are the expert's (indistinguishable); only their ends differ: 50 terminal episodes, or none.
    for _ in range(30):
        gail.update(obs, actions, demos, agent_absorbing=0 if expert_ends else 50)
    logit = gail.discriminator.absorbing_logit.item()
    assert (logit > 1.0) if expert_ends else (logit < -1.0), logit
    with pytest.raises(ValueError, match="without an absorbing state"):
        Gail(demos).update(obs, actions, demos, agent_absorbing=3)


def test_gail_and_wrapper_pickled_before_the_absorbing_state_existed_load_without_it(collect_from):
    import pickle

    demos = collect_from("CartPole-v1", "random", 100)
    gail = Gail(demos, hidden=(8,), seed=0)
    del gail.__dict__["absorbing"]  # as a checkpoint written before gail.absorbing pickled it
    assert pickle.loads(pickle.dumps(gail)).absorbing is False
    env = GailReward(DummyVecEnv([lambda: gym.make("CartPole-v1")]), gail)
    state = {k: v for k, v in vars(env).items() if k not in ("gamma", "agent_absorbing")}
    old = GailReward.__new__(GailReward)
    old.__setstate__(state)  # what unpickling the env stack does
    assert old.gamma is None and old.take_absorbing() == 0


def _config(tmp_path, demos, *overrides):
    return load_config(overrides=[
        f"logdir={tmp_path / 'runs'}", "device=cpu", "n_envs=2", "total_steps=512", "checkpoint_every=0",
        "eval.every=128", "eval.episodes=2", f"gail={{demos: {demos}, batch_size: 32, hidden: [16]}}", *overrides,
    ])  # fmt: skip


CASES = {
    "ppo": ("CartPole-v1", ["algo=ppo", "env.id=CartPole-v1", "algo_kwargs={n_steps: 32, batch_size: 32, n_epochs: 2}"]),
    "ppo-absorbing": ("CartPole-v1", ["algo=ppo", "env.id=CartPole-v1", "algo_kwargs={n_steps: 32, batch_size: 32, n_epochs: 2}",
                                      "gail.absorbing=true", "gail.reward=logit"]),
    "sac": ("Pendulum-v1", ["algo=sac", "env.id=Pendulum-v1", "algo_kwargs={learning_starts: 64, batch_size: 32, buffer_size: 1000, train_freq: 16}"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_stop_and_resume_equals_training_straight(tmp_path, collect_from, case, signal_at, assert_same_training):
    env_id, overrides = CASES[case]
    demos = save_dataset(collect_from(env_id, "random", 300), tmp_path / "demos.npz")
    config = _config(tmp_path, demos, *overrides)
    straight = train(config)
    assert straight.status == "finished" and "gail-" in straight.run_dir.name
    stopped = train(config, callbacks=[signal_at(256)])
    assert stopped.status == "interrupted" and 256 <= stopped.checkpoint.step < 512
    resumed = resume(stopped.run_dir)
    assert resumed.status == "finished"
    assert_same_training(straight, resumed, "resumed", required=("eval/mean_reward", "gail/disc_loss", "gail/expert_acc", "gail/agent_acc"))
    a, b = (unwrap_vec_wrapper(r.model.get_env(), GailReward).gail for r in (straight, resumed))
    da, db = a.discriminator.state_dict(), b.discriminator.state_dict()
    assert all(torch.equal(da[k], db[k]) for k in da), "discriminator weights differ"
    oa, ob = a.optimizer.state_dict()["state"], b.optimizer.state_dict()["state"]
    assert oa.keys() == ob.keys() and all(torch.equal(oa[k]["exp_avg"], ob[k]["exp_avg"]) for k in oa), "optimizer state differs"


def test_cli_refuses_demos_of_other_spaces(tmp_path, collect_from, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    save_dataset(collect_from("rlkit/GridWorld-v0", "random", 50), tmp_path / "grid.npz")
    argv = ["train", "gail", "CartPole-v1", "--demos", "grid.npz", "--steps", "64", "--logdir", "runs"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "dataset of 'rlkit/GridWorld-v0' has observation space" in err and "the env (--demos) has" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())
    for argv, message in (
        (["train", "gail", "CartPole-v1"], "needs the expert's dataset"),
        (["train", "ppo", "CartPole-v1", "--algo", "sac"], "--algo sac applies to `rlkit train gail`"),
        (["train", "gail", "CartPole-v1", "--demos", "grid.npz", "--algo", "dqn"], "GAIL feeds its reward to"),
        (["train", "gail", "CartPole-v1", "--demos", "missing.npz"], "does not exist"),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err


def test_cli_trains_gail_and_logs_the_discriminator(tmp_path, collect_from, capsys):
    from rlkit.tb import read_scalars

    save_dataset(collect_from("CartPole-v1", "random", 100), tmp_path / "cp.npz")
    argv = ["train", "gail", "CartPole-v1", "--demos", str(tmp_path / "cp.npz"), "--steps", "64", "--n-envs", "2",
            "--set", "algo_kwargs.n_steps=32", "--set", "algo_kwargs.batch_size=64", "--eval-every", "0",
            "--eval-episodes", "1", "--logdir", str(tmp_path / "runs")]  # fmt: skip
    assert main(argv) == 0
    assert "training ppo on a GAIL reward on CartPole-v1" in capsys.readouterr().out
    (run,) = (tmp_path / "runs").iterdir()
    assert "__gail-ppo__" in run.name
    assert {"gail/disc_loss", "gail/expert_acc", "gail/agent_acc"} <= set(read_scalars(run))


def test_the_wrapper_goes_under_vecnormalize_and_sees_raw_observations(collect_from, monkeypatch):
    demos = collect_from("CartPole-v1", "random", 100)
    monkeypatch.setattr(reward_module, "load_demos", lambda path, env: demos)
    raw = DummyVecEnv([lambda: gym.make("CartPole-v1")] * 2)
    norm = VecNormalize(raw, norm_obs=True, norm_reward=True)
    config = SimpleNamespace(demos="in memory", encoder="mlp", encoder_kwargs={}, hidden=[8], learning_rate=1e-3, batch_size=8, epochs=1, reward="gail", absorbing=False)
    env, callbacks = reward_module.attach_gail(norm, config, seed=0)
    assert env is norm and isinstance(norm.venv, GailReward) and norm.venv.venv is raw and len(callbacks) == 1
    env.seed(0)
    normalized = env.reset()
    env.step(np.array([0, 1]))
    seen = env.venv.agent_obs[0]  # what the discriminator was given: the raw observation, not the normalized one
    assert not np.allclose(seen, normalized) and np.allclose(env.get_original_obs(), env.venv._last_obs)
