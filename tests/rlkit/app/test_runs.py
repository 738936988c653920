"""Training runs: exact resume, reproducible curves, signals, the NaN guard, run-directory hygiene."""

import json
import signal
import textwrap

import numpy as np
import pytest
import torch
from stable_baselines3.common.callbacks import BaseCallback

from rlkit.checkpoints import latest_checkpoint, list_checkpoints, read_checkpoint
from rlkit.app.config import load_config
from rlkit.app.run_dir import CHECKPOINT_DIR, METRICS_FILE, MODEL_FILE, read_run_config
from rlkit.app.training import resume, train
from rlkit.tb import read_scalars

USER_ENV = '''
"""A user's env package: registers Count-v0 when imported (as `module:EnvId` expects)."""
import gymnasium as gym
import numpy as np


class CountEnv(gym.Env):
    """Reward 1 when the action matches the step's parity; 10-step episodes; faults injectable by step."""

    metadata = {"render_modes": []}

    def __init__(self, length=10, nan_reward_at=None, nan_obs_at=None, crash_at=None):
        self.length, self.nan_reward_at, self.nan_obs_at, self.crash_at = length, nan_reward_at, nan_obs_at, crash_at
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.t, self.total, self.hits = 0, 0, 0

    def _obs(self):
        obs = np.array([self.t % 2, self.np_random.normal()], dtype=np.float32)
        if self.nan_obs_at is not None and self.total >= self.nan_obs_at:
            obs[1] = np.nan
        return obs

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.hits = 0, 0
        return self._obs(), {}

    def step(self, action):
        reward = float(int(action) == self.t % 2)
        self.t += 1
        self.total += 1
        self.hits += int(reward)
        if self.crash_at is not None and self.total >= self.crash_at:
            raise RuntimeError("the env broke")
        if self.nan_reward_at is not None and self.total >= self.nan_reward_at:
            reward = float("nan")
        terminated = self.t >= self.length
        info = {"episode_metrics": {"hits": float(self.hits)}} if terminated else {}
        return self._obs(), reward, terminated, False, info


gym.register("Count-v0", entry_point=CountEnv)
'''


@pytest.fixture
def user_env(tmp_path, monkeypatch):
    """`usercount:Count-v0`, an env from a module of the user's (nothing in rlkit knows it)."""
    package = tmp_path / "userpkg"
    package.mkdir()
    (package / "usercount.py").write_text(textwrap.dedent(USER_ENV))
    monkeypatch.syspath_prepend(str(package))
    return "usercount:Count-v0"


def _config(tmp_path, *overrides):
    return load_config(overrides=[
        f"logdir={tmp_path / 'runs'}", "device=cpu", "n_envs=2", "total_steps=256",
        "eval.every=128", "eval.episodes=2", "checkpoint_every=128", *overrides,
    ])  # fmt: skip


def _curves(run_dir):
    return {tag: v for tag, v in read_scalars(run_dir).items() if not tag.startswith("time/")}


RESUME_CASES = {
    # PPO through the VectorEnv adapter, with observation and reward normalization.
    "ppo-gridworld-normalized": ["algo=ppo", "env.id=rlkit/GridWorld-v0", "env.kwargs.max_steps=20",
                                 "env.normalize={obs: true, reward: true}", "algo_kwargs={n_steps: 32, batch_size: 32, n_epochs: 2}"],
    "a2c-cartpole": ["algo=a2c", "env.id=CartPole-v1", "algo_kwargs={n_steps: 8}"],
    "dqn-cartpole": ["algo=dqn", "env.id=CartPole-v1",
                     "algo_kwargs={learning_starts: 64, train_freq: 4, target_update_interval: 32, buffer_size: 1000}"],
    # SAC with 32x32 networks: the default 256x256 made these the suite's slowest cases and tests nothing more.
    "sac-pendulum": ["algo=sac", "env.id=Pendulum-v1", "policy.net_arch=[32, 32]",
                     "algo_kwargs={learning_starts: 64, batch_size: 32, buffer_size: 1000, train_freq: 4}"],
    # gSDE: SB3 draws a rollout's exploration matrices *before* on_rollout_start, where the checkpoint
    # is taken; once per rollout (-1) and also every few steps within it.
    "ppo-pendulum-sde-1": ["algo=ppo", "env.id=Pendulum-v1",
                           "algo_kwargs={n_steps: 32, batch_size: 32, n_epochs: 2, use_sde: true, sde_sample_freq: -1}"],
    "ppo-pendulum-sde4": ["algo=ppo", "env.id=Pendulum-v1",
                          "algo_kwargs={n_steps: 32, batch_size: 32, n_epochs: 2, use_sde: true, sde_sample_freq: 4}"],
    "a2c-hvac-sde4": ["algo=a2c", "env.id=rlkit/HVAC-v0", "algo_kwargs={n_steps: 8, use_sde: true, sde_sample_freq: 4}"],
    "sac-pendulum-sde": ["algo=sac", "env.id=Pendulum-v1", "policy.net_arch=[32, 32]", "algo_kwargs={learning_starts: 64, batch_size: 32, buffer_size: 1000, "
                         "train_freq: 4, use_sde: true, sde_sample_freq: 2}"],
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(RESUME_CASES))
def test_stop_and_resume_equals_training_straight(tmp_path, case, signal_at, assert_same_training):
    """N steps, Ctrl-C, resume to 2N == 2N straight: parameters exactly, and every non-time curve."""
    config = _config(tmp_path, "total_steps=512", "checkpoint_every=0", *RESUME_CASES[case])
    straight = train(config)
    assert straight.status == "finished"

    stopped = train(config, callbacks=[signal_at(256)])
    assert stopped.status == "interrupted" and stopped.exit_code == 130
    assert f"rlkit resume {stopped.run_dir}" in stopped.message
    assert 256 <= stopped.checkpoint.step < 512
    assert not (stopped.run_dir / MODEL_FILE).exists()

    resumed = resume(stopped.run_dir)
    assert resumed.status == "finished" and resumed.steps == straight.steps

    assert_same_training(straight, resumed, "resumed")
    assert json.loads((resumed.run_dir / METRICS_FILE).read_text())["mean_reward"] == straight.metrics["mean_reward"]


@pytest.mark.parametrize("case", ["ppo-gridworld-normalized", "sac-pendulum", "ppo-pendulum-sde4", "sac-pendulum-sde"])
def test_extending_a_finished_run_equals_training_straight(tmp_path, case, assert_same_training):
    """N steps to the end, then `resume(steps=2N)` == 2N straight (constant schedules): parameters exactly,
    every non-time curve on one step axis; the run's config.yaml now says 2N."""
    straight = train(_config(tmp_path, "total_steps=512", "checkpoint_every=0", *RESUME_CASES[case]))
    short = train(_config(tmp_path, "total_steps=256", "checkpoint_every=0", *RESUME_CASES[case]))
    assert straight.status == short.status == "finished" and short.steps == 256

    extended = resume(short.run_dir, steps=512)
    assert extended.status == "finished" and extended.steps == 512
    assert read_run_config(short.run_dir).total_steps == 512
    assert json.loads((short.run_dir / METRICS_FILE).read_text())["steps"] == 512

    assert_same_training(straight, extended, "extended")


def test_resume_steps_must_exceed_the_steps_done(tmp_path):
    config = _config(tmp_path, "algo=ppo", "env.id=CartPole-v1", "total_steps=128", "algo_kwargs={n_steps: 32, batch_size: 32}")
    done = train(config)
    before = (done.run_dir / "config.yaml").read_bytes()
    for steps in (128, 64, 0):
        with pytest.raises(ValueError, match=r"--steps .*128 steps.*above"):
            resume(done.run_dir, steps=steps)
    assert (done.run_dir / "config.yaml").read_bytes() == before  # refused: nothing rewritten


def test_same_config_and_seed_give_the_same_curves(tmp_path):
    config = _config(tmp_path, "algo=ppo", "env.id=CartPole-v1", "algo_kwargs={n_steps: 32, batch_size: 32}")
    first, second = train(config), train(config)
    assert first.run_dir != second.run_dir
    curves_a, curves_b = _curves(first.run_dir), _curves(second.run_dir)
    assert {"rollout/ep_rew_mean", "train/loss", "eval/mean_reward"} <= curves_a.keys()
    assert curves_a.keys() == curves_b.keys()
    for tag in curves_a:
        np.testing.assert_array_equal(curves_a[tag][1], curves_b[tag][1], err_msg=tag)
    other = train(config.model_copy(update={"seed": 1}))
    assert not np.array_equal(_curves(other.run_dir)["train/loss"][1], curves_a["train/loss"][1])


def test_user_env_by_module_prefix_with_metrics_and_hparams(tmp_path, user_env):
    result = train(_config(tmp_path, "algo=ppo", f"env.id={user_env}", "algo_kwargs={n_steps: 16, batch_size: 32}"))
    assert result.status == "finished"
    run = result.run_dir
    assert run.name.startswith("usercount-Count-v0__ppo__default__s0__")
    assert read_run_config(run) == _config(tmp_path, "algo=ppo", f"env.id={user_env}", "algo_kwargs={n_steps: 16, batch_size: 32}")
    assert {p.name for p in run.iterdir()} >= {"config.yaml", MODEL_FILE, METRICS_FILE, CHECKPOINT_DIR}
    curves = read_scalars(run)
    steps, hits = curves["env/hits"]
    assert np.all((hits >= 0) & (hits <= 10)) and steps[-1] <= result.steps
    assert "eval/hits" in curves and "env/hits" in result.metrics
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(run))
    accumulator.Reload()
    assert "_hparams_/experiment" in accumulator.summary_metadata
    experiment = accumulator.summary_metadata["_hparams_/experiment"].plugin_data.content
    assert b"algo_kwargs.n_steps" in experiment and b"eval/mean_reward" in experiment


def test_nan_observation_at_reset_stops_before_acting(tmp_path, user_env):
    config = _config(tmp_path, "algo=ppo", f"env.id={user_env}", "env.kwargs.nan_obs_at=0", "algo_kwargs={n_steps: 16, batch_size: 32}")
    result = train(config)
    assert result.status == "diverged" and "non-finite observation" in result.message and "at reset" in result.message


@pytest.mark.parametrize("fault, source", [("nan_reward_at", "reward"), ("nan_obs_at", "observation")])
def test_nan_from_env_stops_with_step_and_source(tmp_path, user_env, fault, source):
    config = _config(tmp_path, "algo=ppo", f"env.id={user_env}", f"env.kwargs.{fault}=100", "checkpoint_every=32",
                     "algo_kwargs={n_steps: 16, batch_size: 32}")  # fmt: skip
    result = train(config)
    assert result.status == "diverged" and result.exit_code == 1
    # Copy-step 100 of 2 copies = vec step 100 = env step 200.
    assert f"non-finite {source}" in result.message and "at step 200" in result.message
    last = latest_checkpoint(result.run_dir / CHECKPOINT_DIR)
    assert last is not None and last.step < 200
    assert not (result.run_dir / MODEL_FILE).exists() and not (result.run_dir / METRICS_FILE).exists()
    read_checkpoint(last)  # intact


class PoisonWeights(BaseCallback):
    """Put a NaN into the policy after the rollout ending at `step`, before the update."""

    def __init__(self, step):
        super().__init__()
        self.step = step

    def _on_rollout_end(self):
        if self.model.num_timesteps >= self.step:
            with torch.no_grad():
                next(self.model.policy.parameters()).view(-1)[0] = float("nan")
            self.step = float("inf")

    def _on_step(self):
        return True


def test_nan_weights_never_overwrite_the_last_good_checkpoint(tmp_path):
    config = _config(tmp_path, "algo=ppo", "env.id=CartPole-v1", "checkpoint_every=64", "algo_kwargs={n_steps: 32, batch_size: 32}")
    result = train(config, callbacks=[PoisonWeights(128)])
    assert result.status == "diverged"
    assert "non-finite" in result.message and "step 128" in result.message
    checkpoints = list_checkpoints(result.run_dir / CHECKPOINT_DIR)
    # The checkpoint due at 128 would be written after the poisoned update: it is not written.
    assert [c.step for c in checkpoints] == [64]
    from stable_baselines3 import PPO

    weights = PPO.load(checkpoints[-1].model_path, device="cpu").policy.parameters()
    assert all(torch.isfinite(p).all() for p in weights)


def test_sigterm_checkpoints_and_exits_143(tmp_path, signal_at):
    config = _config(tmp_path, "algo=ppo", "env.id=CartPole-v1", "checkpoint_every=0", "algo_kwargs={n_steps: 32, batch_size: 32}")
    result = train(config, callbacks=[signal_at(40, signal.SIGTERM)])
    assert result.status == "interrupted" and result.exit_code == 143
    assert result.checkpoint.step == 64  # the next rollout boundary
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handler restored


def test_second_signal_stops_at_once_and_leaves_no_run_without_checkpoint(tmp_path, signal_at):
    config = _config(tmp_path, "algo=ppo", "env.id=CartPole-v1", "checkpoint_every=0", "algo_kwargs={n_steps: 64, batch_size: 32}")
    result = train(config, callbacks=[signal_at(8, times=2)])
    assert result.status == "interrupted" and result.exit_code == 130
    assert "no checkpoint" in result.message
    assert not result.run_dir.exists()


def test_failure_before_first_checkpoint_removes_run_dir(tmp_path, user_env):
    config = _config(tmp_path, "algo=ppo", f"env.id={user_env}", "env.kwargs.crash_at=40", "algo_kwargs={n_steps: 16, batch_size: 32}")
    with pytest.raises(RuntimeError, match="the env broke"):
        train(config)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_on_eval_can_stop_training(tmp_path):
    seen = []

    def on_eval(step, metrics):
        seen.append((step, metrics["mean_reward"]))
        return False

    config = _config(tmp_path, "algo=ppo", "env.id=CartPole-v1", "algo_kwargs={n_steps: 32, batch_size: 32}")
    result = train(config, on_eval=on_eval)
    assert result.status == "stopped" and result.exit_code == 0
    assert len(seen) == 1 and seen[0][0] == 128 and result.metrics["mean_reward"] == seen[0][1]


def test_resume_of_finished_run_does_nothing(tmp_path):
    config = _config(tmp_path, "algo=ppo", "env.id=CartPole-v1", "algo_kwargs={n_steps: 32, batch_size: 32}")
    done = train(config)
    again = resume(done.run_dir)
    assert again.status == "finished" and again.message.startswith("already finished") and again.steps == done.steps
