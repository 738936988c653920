"""The Lagrangian cost constraint: the learner's reward is exactly reward - λ·cost, λ follows projected dual ascent,
Monitor and evaluations keep the env's own reward, bad input is one line, and a resumed run keeps λ."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from rlkit.app.config import load_config
from rlkit.app.training import resume, train
from stable_baselines3.common.vec_env import unwrap_vec_wrapper

from rlkit.constraints import LagrangianPenalty
from rlkit.tb import read_scalars

ENV_ID = "rlkit-test/Costly-v0"
LENGTH = 4


class CostlyEnv(gym.Env):
    """Reward 1 every step whatever the action; action 1 costs ``1.5`` (in ``info["cost"]``), action 0 costs 0.25."""

    observation_space = spaces.Box(0.0, 1.0, (1,), np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.t += 1
        cost = 1.5 if int(action) == 1 else 0.25
        obs = np.array([self.t / LENGTH], np.float32)
        return obs, 1.0, False, self.t >= LENGTH, {"cost": cost, "other": 0.0}


if ENV_ID not in gym.registry:
    gym.register(ENV_ID, entry_point=CostlyEnv)


def _vec(n=3):
    return DummyVecEnv([lambda: Monitor(CostlyEnv())] * n)


def test_learner_reward_is_env_reward_minus_multiplier_times_cost_and_monitor_keeps_the_env_reward():
    penalty = LagrangianPenalty(_vec(), "cost", limit=0.0, lr=0.1, multiplier_init=0.7)
    reference = _vec()  # the same env without the wrapper
    penalty.reset(), reference.reset()
    rng = np.random.default_rng(0)
    for _ in range(3 * LENGTH):
        actions = rng.integers(0, 2, size=3)
        _, got, got_dones, got_infos = penalty.step(actions)
        _, rewards, dones, infos = reference.step(actions)
        expected = [np.float32(float(r) - 0.7 * info["cost"]) for r, info in zip(rewards, infos)]
        assert got.dtype == np.float32 and list(got) == expected
        assert list(got_dones) == list(dones)
        for info in got_infos:
            if "episode" in info:
                assert info["episode"]["r"] == LENGTH  # Monitor: the env's own return, not the penalized one


def test_multiplier_follows_projected_dual_ascent_on_finished_episodes():
    penalty = LagrangianPenalty(_vec(2), "cost", limit=2.0, lr=0.5, multiplier_init=0.0, kp=0.0)
    penalty.reset()
    for _ in range(LENGTH - 1):
        penalty.step(np.array([1, 0]))
    assert penalty.update() is None and penalty.multiplier == 0.0  # no episode finished yet: unchanged
    penalty.step(np.array([1, 0]))  # episodes of cost 4 * 1.5 = 6 and 4 * 0.25 = 1 finish
    assert penalty.update() == 3.5 and penalty.multiplier == 0.5 * (3.5 - 2.0)
    assert penalty.update() is None and penalty.multiplier == 0.75  # they count once
    for _ in range(LENGTH):
        penalty.step(np.array([0, 0]))  # both cost 1 < limit: λ falls, and stops at 0
    assert penalty.update() == 1.0 and penalty.multiplier == 0.75 - 0.5
    for _ in range(LENGTH):
        penalty.step(np.array([0, 0]))
    assert penalty.update() == 1.0 and penalty.multiplier == 0.0


def test_pi_form_adds_the_proportional_term_to_the_projected_integral():
    penalty = LagrangianPenalty(_vec(1), "cost", limit=2.0, lr=0.5, multiplier_init=1.0, kp=2.0)
    penalty.reset()
    integral, lam = 1.0, 1.0
    for action in (1, 0, 0, 0, 1):  # episode costs 6, 1, 1, 1, 6
        for _ in range(LENGTH):
            penalty.step(np.array([action]))
        cost = LENGTH * (1.5 if action else 0.25)
        integral = max(0.0, integral + 0.5 * (cost - 2.0))
        lam = max(0.0, integral + 2.0 * (cost - 2.0))
        assert penalty.update() == cost and penalty.integral == integral and penalty.multiplier == lam


def test_a_cost_key_missing_from_info_is_one_line_naming_the_keys_there():
    penalty = LagrangianPenalty(_vec(1), "discomfort", limit=0.0, lr=0.1)
    penalty.reset()
    with pytest.raises(ValueError, match=r"constraint.cost 'discomfort': the env's step info has no such key \(its keys: cost, other\)"):
        penalty.step(np.array([0]))


def test_config_section_refuses_unknown_keys_and_bad_values():
    ok = load_config(overrides=["constraint={cost: cost, limit: 0, lr: 0.5}"])
    assert (ok.constraint.cost, ok.constraint.limit, ok.constraint.lr, ok.constraint.multiplier_init, ok.constraint.kp) == ("cost", 0.0, 0.5, 0.0, 0.0)
    for value, message in (
        ("{cost: cost, limit: 0, lr: 0.5, lambda: 1}", "unknown config key 'constraint.lambda'"),
        ("{cost: cost, limit: -1, lr: 0.5}", "constraint.limit"),
        ("{cost: cost, limit: 0, lr: 0}", "constraint.lr"),
        ("{cost: cost, lr: 0.5}", "constraint.limit"),
    ):
        with pytest.raises(ValueError, match=message.replace(".", r"\.")):
            load_config(overrides=[f"constraint={value}"])


def _config(tmp_path, *overrides):
    return load_config(overrides=[
        f"env.id={ENV_ID}", "algo=ppo", "n_envs=2", "total_steps=256", "algo_kwargs={n_steps: 16, batch_size: 32, n_epochs: 2}",
        "eval={every: 64, episodes: 2}", "checkpoint_every=0", f"logdir={tmp_path / 'runs'}", "env.normalize.reward=true",
        "constraint={cost: cost, limit: 0.0, lr: 0.2}", *overrides,
    ])  # fmt: skip


def test_train_logs_the_constraint_and_reports_the_envs_own_return(tmp_path):
    result = train(_config(tmp_path))
    assert result.status == "finished"
    curves = read_scalars(result.run_dir)
    steps, multipliers = curves["constraint/multiplier"]
    assert len(steps) == 256 // 32 and multipliers[-1] > 0 and np.all(np.diff(multipliers) > 0)  # cost > 0 = limit always
    env = result.model.get_env()
    assert isinstance(env, VecNormalize) and isinstance(env.venv, LagrangianPenalty)  # normalization sees the penalty
    assert unwrap_vec_wrapper(env, LagrangianPenalty).multiplier == pytest.approx(multipliers[-1])
    assert np.all(curves["constraint/episode_cost"][1] >= LENGTH * 0.25)
    # Every episode's own return is LENGTH whatever the policy; a penalty leaking into them would lower it.
    assert np.all(curves["rollout/ep_rew_mean"][1] == LENGTH) and np.all(curves["eval/mean_reward"][1] == LENGTH)


def test_resume_keeps_the_multiplier(tmp_path, signal_at, assert_same_training):
    config = _config(tmp_path)
    straight = train(config)
    stopped = train(config, callbacks=[signal_at(96)])
    assert stopped.status == "interrupted"
    resumed = resume(stopped.run_dir)
    assert resumed.status == "finished"
    assert_same_training(straight, resumed, "resumed", required=("constraint/multiplier", "constraint/episode_cost"))
    a, b = (unwrap_vec_wrapper(r.model.get_env(), LagrangianPenalty) for r in (straight, resumed))
    assert a.multiplier > 0 and (a.multiplier, a.integral) == (b.multiplier, b.integral)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["ppo", "--set", "constraint={cost: discomfort, limit: 0, lr: 0.1}"], "constraint.cost 'discomfort': the env's step info has no such key"),
        (["dqn", "--set", "constraint={cost: cost, limit: 0, lr: 0.1}"], "constraint: dqn replays rewards penalized by old multipliers"),
        (["ppo", "--set", "constraint={cost: cost, limit: 0, lr: 0.1}", "--set", "env.vectorization=subproc"], "env.vectorization=subproc does not checkpoint"),
    ],
)
def test_cli_refuses_in_one_line(train_refuses, overrides, message):
    algo, *rest = overrides
    train_refuses([algo, ENV_ID, "--steps", "64", "--n-envs", "2", "--eval-every", "0", *rest], message)
