"""Actor regularisation toward demonstrations (`--bc-data`, `--bc-weight`, TD3+BC): weight 0 is plain SB3 bit for
bit; a large weight pulls a random actor onto a deterministic teacher's actions (SAC and TD3); no term during a
critic warm-up; a stopped-and-resumed run equals a straight one; bad input is one line."""

import os

import gymnasium as gym
import numpy as np
import pytest
import torch

from agents.pretrained import critic_parameters, deterministic_action
from rlkit.app.cli import main
from rlkit.app.config import ExperimentConfig, load_config, read_yaml
from rlkit.pretrain import collect
from rlkit.pretrain.dataset import save_dataset
from rlkit.callbacks import BCRegularizer, CriticWarmup
from rlkit.app.env_factory import make_vec_env
from rlkit.app.policy_setup import bc_regularizer
from rlkit.app.training import resume, train
from rlkit.app.validation import validate


class PendulumTeacher:
    """A deterministic PD controller on Pendulum-v1 (the dataset's demonstrator)."""

    def reset(self, env, observation, info):
        pass

    def act(self, observation, info):
        cos, sin, speed = observation
        return np.clip([-2.0 * np.arctan2(sin, cos) - 0.5 * speed], -2.0, 2.0).astype(np.float32)


@pytest.fixture(scope="module")
def pendulum_data(tmp_path_factory):
    env = gym.make("Pendulum-v1")
    try:
        dataset = collect(env, PendulumTeacher(), 400, seed=0, env_id="Pendulum-v1", policy_name="pd")
    finally:
        env.close()
    return dataset, save_dataset(dataset, tmp_path_factory.mktemp("bc") / "pendulum.npz")


ALGO_KWARGS = {
    "sac": {"learning_starts": 0, "batch_size": 32, "buffer_size": 2000},
    "td3": {"learning_starts": 0, "batch_size": 32, "buffer_size": 2000, "policy_delay": 1},
}


def build(algo, bc_data=None, bc_weight=0.0):
    config = ExperimentConfig.model_validate({
        "env": {"id": "Pendulum-v1"}, "algo": algo, "n_envs": 1, "device": "cpu", "seed": 0,
        "algo_kwargs": ALGO_KWARGS[algo], "policy": {"net_arch": [32, 32], "bc_data": bc_data, "bc_weight": bc_weight},
    })  # fmt: skip
    spec = validate(config)
    model = spec.build(config, make_vec_env(config))
    return model, bc_regularizer(model, config)


def _params(model):
    return {k: v.detach().clone() for k, v in model.policy.state_dict().items()}


def _mse_to_teacher(model, dataset):
    with torch.no_grad():
        obs = torch.as_tensor(dataset.observations)
        actions = model.actor(obs, deterministic=True) if hasattr(model.actor, "action_dist") else model.actor(obs)
    return float(((actions.numpy() - model.policy.scale_action(dataset.actions)) ** 2).mean())


@pytest.mark.parametrize("algo", ["sac", "td3"])
def test_weight_zero_is_plain_sb3_bit_for_bit(pendulum_data, algo):
    dataset, path = pendulum_data
    plain, none = build(algo)
    assert none is None  # unset: no callback at all
    plain.learn(64)
    zero, _ = build(algo)
    zero.learn(64, callback=BCRegularizer(dataset, 0.0, deterministic_action))  # a weight of 0 draws nothing and adds nothing
    weighted, regularizer = build(algo, str(path), 1.0)
    weighted.learn(64, callback=regularizer)
    a, b, c = _params(plain), _params(zero), _params(weighted)
    assert all(torch.equal(a[k], b[k]) for k in a), "weight 0 changed the run"
    assert any(not torch.equal(a[k], c[k]) for k in a if k.startswith("actor.")), "weight 1 changed nothing (the oracle is blind)"


@pytest.mark.slow  # training to a known effect (300 updates, 5-7 s each); the default suite keeps the bit-for-bit and wiring cases
@pytest.mark.parametrize("algo", ["sac", "td3"])
def test_a_large_weight_pulls_the_actor_onto_the_data(pendulum_data, algo):
    dataset, path = pendulum_data
    free, _ = build(algo)
    free.learn(300)
    anchored, regularizer = build(algo, str(path), 10.0)
    before = _mse_to_teacher(anchored, dataset)
    anchored.learn(300, callback=regularizer)
    free_mse, anchored_mse = _mse_to_teacher(free, dataset), _mse_to_teacher(anchored, dataset)
    assert anchored_mse < 0.3 * free_mse and anchored_mse < 0.3 * before, (before, free_mse, anchored_mse)
    logged = anchored.logger.name_to_value["train/bc_loss"]  # the last update's minibatch MSE
    assert 0 < logged < 0.3 * free_mse
    assert "step" not in vars(anchored.actor.optimizer)  # the wrapper is removed when learn() ends


def test_no_bc_term_during_a_critic_warmup(pendulum_data):
    dataset, _ = pendulum_data
    model, _ = build("sac")
    start = _params(model)
    model.learn(32, callback=[CriticWarmup(32, critic_parameters), BCRegularizer(dataset, 10.0, deterministic_action)])
    after = _params(model)
    assert all(torch.equal(start[k], after[k]) for k in start if k.startswith("actor."))
    assert "train/bc_loss" not in model.logger.name_to_value
    model.learn(32, callback=[CriticWarmup(32, critic_parameters), BCRegularizer(dataset, 10.0, deterministic_action)], reset_num_timesteps=False)
    assert model.logger.name_to_value["train/bc_loss"] > 0  # after the warm-up the term is on


def test_resume_equals_training_straight(pendulum_data, tmp_path, signal_at, assert_same_training):
    _, path = pendulum_data
    overrides = [
        f"logdir={tmp_path}", "device=cpu", "algo=sac", "env.id=Pendulum-v1", "n_envs=1", "total_steps=192",
        "eval.every=0", "eval.episodes=1", "checkpoint_every=0", f"policy.bc_data={path}", "policy.bc_weight=2.5",
        "policy.net_arch=[32, 32]", "algo_kwargs={learning_starts: 32, batch_size: 32, buffer_size: 1000, train_freq: 8}",
    ]  # fmt: skip
    config = load_config(overrides=overrides)
    straight = train(config)
    stopped = train(config, callbacks=[signal_at(96)])
    assert stopped.status == "interrupted" and 96 <= stopped.checkpoint.step < 192
    resumed = resume(stopped.run_dir)
    assert resumed.status == "finished" and resumed.steps == 192

    assert_same_training(straight, resumed, "resumed", required=("train/bc_loss",))

    # A relative path is saved absolute, so that a resume from another working directory finds the dataset.
    relative = load_config(overrides=[*overrides, f"logdir={tmp_path / 'rel'}", "total_steps=32", f"policy.bc_data={os.path.relpath(path)}"])
    saved = read_yaml(train(relative).run_dir / "config.yaml")["policy"]["bc_data"]
    assert saved == str(path.resolve())

    # The dataset is read again on resume: a missing one is one line naming it.
    path.rename(path.with_suffix(".moved"))
    try:
        with pytest.raises(ValueError, match=r"policy.bc_data .* does not exist"):
            resume(stopped.run_dir, steps=256)
    finally:
        path.with_suffix(".moved").rename(path)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["algo=sac", "policy.bc_weight=1"], "without `policy.bc_data`"),
        (["algo=sac", "policy.bc_data={data}"], "with `policy.bc_weight` 0"),
        (["algo=ppo", "policy.bc_data={data}", "policy.bc_weight=1"], "got algo 'ppo'"),
        (["algo=sac", "env.id=MountainCarContinuous-v0", "policy.bc_data={data}", "policy.bc_weight=1"], "has observation space"),
        (["algo=sac", "policy.bc_data={missing}", "policy.bc_weight=1"], "does not exist"),
    ],
)
def test_bad_input_is_one_line(pendulum_data, tmp_path, overrides, message):
    _, path = pendulum_data
    values = {"data": path, "missing": tmp_path / "missing.npz"}
    base = [f"logdir={tmp_path / 'runs'}", "device=cpu", "env.id=Pendulum-v1", "total_steps=64"]
    config = load_config(overrides=base + [o.format(**values) for o in overrides])
    with pytest.raises((ValueError, FileNotFoundError), match=message) as info:
        train(config)
    assert len(str(info.value).splitlines()) == 1
    assert not (tmp_path / "runs").exists()  # refused before anything is written


def test_cli_refusals_exit_2(pendulum_data, tmp_path, capsys):
    _, path = pendulum_data
    argv = ["train", "ppo", "Pendulum-v1", "--logdir", str(tmp_path), "--bc-data", str(path), "--bc-weight", "1"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "got algo 'ppo'" in err and len(err.strip().splitlines()) == 1
    assert main(["train", "sac", "Pendulum-v1", "--logdir", str(tmp_path), "--bc-weight", "-1"]) == 2
    assert "--bc-weight must be a weight >= 0" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"policy.bc_weight: Input should be greater than or equal to 0"):
        load_config(overrides=["policy.bc_weight=-1"])
    assert not list(tmp_path.iterdir())
