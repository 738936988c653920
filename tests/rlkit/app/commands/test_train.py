"""`rlkit train`: option layering, a whole run from the command line, and bad input (one line, exit 2, nothing written)."""

import json
import subprocess
import sys

import pytest
import yaml

from rlkit.app.cli import build_parser, main
from rlkit.app.commands.train import build_config
from rlkit.app.config import config_from_dict, preset

TINY = ["--steps", "128", "--n-envs", "2", "--eval-every", "64", "--eval-episodes", "2", "--device", "cpu", "--no-progress"]


def _config(*argv):
    return build_config(build_parser().parse_args(["train", *argv]))


def test_bare_train_is_the_gridworld_preset():
    assert _config() == config_from_dict(preset("ppo", "rlkit/GridWorld-v0"))
    assert _config().env.id == "rlkit/GridWorld-v0" and _config().algo == "ppo"


def test_options_override_preset_then_set_overrides_options():
    config = _config("PPO", "CartPole-v1", "--steps", "5000", "--algo-kwargs", "n_epochs=3", "gamma=0.9",
                     "--set", "algo_kwargs.gamma=0.95", "--env-kwargs", "max_episode_steps=100", "--wrapper", "TimeAwareObservation")  # fmt: skip
    expected = preset("ppo", "CartPole-v1")
    assert config.algo == "ppo" and config.total_steps == 5000
    assert config.algo_kwargs == {**expected["algo_kwargs"], "n_epochs": 3, "gamma": 0.95}
    assert config.env.kwargs == {"max_episode_steps": 100}
    assert [w.name for w in config.env.wrappers] == ["TimeAwareObservation"]
    assert config.n_envs == expected["n_envs"]  # untouched preset field


def test_config_file_then_options(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text("env: {id: CartPole-v1, wrappers: [FlattenObservation]}\nalgo: a2c\nseed: 4\nn_envs: 3\n")
    config = _config("--config", str(path), "--seed", "9", "--wrapper", "TimeAwareObservation", "--encoder", "mlp",
                     "--encoder-kwargs", "features_dim=32")  # fmt: skip
    assert (config.algo, config.seed, config.n_envs) == ("a2c", 9, 3)
    assert [w.name for w in config.env.wrappers] == ["FlattenObservation", "TimeAwareObservation"]
    assert config.policy.encoder == "mlp" and config.policy.encoder_kwargs == {"features_dim": 32}


def test_train_from_the_command_line_writes_a_complete_run(tmp_path, capsys):
    logdir = tmp_path / "runs"
    code = main(["train", "ppo", "CartPole-v1", *TINY, "--logdir", str(logdir), "--algo-kwargs", "n_steps=32", "batch_size=32"])
    out = capsys.readouterr().out
    assert code == 0, out
    (run,) = logdir.iterdir()
    metrics = json.loads((run / "metrics.json").read_text())
    assert f"run directory: {run}" in out
    assert f"final evaluation: mean return {metrics['mean_reward']:.4g}" in out
    assert f"tensorboard --logdir {logdir}" in out
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["total_steps"] == 128 and saved["algo_kwargs"]["n_steps"] == 32
    assert (run / "model.zip").is_file() and any(run.glob("events.out.tfevents.*"))
    assert metrics["steps"] >= 128 and metrics["episodes"] == 2


def _bad_yaml(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("env: {id: CartPole-v1\n")
    return ["--config", str(path)], f"{path}: malformed YAML at line"


def _unknown_key(tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text("env: CartPole-v1\ntotal_step: 5\n")
    return ["--config", str(path)], f"{path}: unknown config key 'total_step'; did you mean 'total_steps'"


BAD_TRAIN = {
    "unknown-env": (["ppo", "CartPol-v1"], "unknown env id 'CartPol-v1'; did you mean 'CartPole-v1'"),
    "unknown-module": (["ppo", "no_such_module:Env-v0"], "cannot import module 'no_such_module'"),
    "unknown-algo": (["foo", "CartPole-v1"], "unknown algorithm 'foo'; choose one of: ppo, a2c, dqn, sac"),
    "misfit-algo": (["dqn", "Pendulum-v1"], "dqn cannot act in Pendulum-v1's action space"),
    "misfit-algo-sac": (["sac", "CartPole-v1"], "sac cannot act in CartPole-v1's action space Discrete(2)"),
    "zero-steps": (["ppo", "CartPole-v1", "--steps", "0"], "--steps must be a positive integer, got 0"),
    "negative-steps": (["ppo", "CartPole-v1", "--steps", "-5"], "--steps must be a positive integer, got -5"),
    "set-negative-steps": (["ppo", "CartPole-v1", "--set", "total_steps=-1"], "total_steps: Input should be greater than 0"),
    "bad-algo-kwarg": (["ppo", "CartPole-v1", "--algo-kwargs", "n_step=3"], "ppo does not take algo_kwargs.n_step; did you mean 'n_steps'"),
    "bad-env-kwarg": (["ppo", "CartPole-v1", "--env-kwargs", "bogus=1"], "CartPole-v1 rejected env kwargs {'bogus': 1}"),
    "bad-wrapper": (["ppo", "CartPole-v1", "--wrapper", "NoSuchWrapper"], "'NoSuchWrapper' is not in gymnasium.wrappers"),
    "bad-set": (["ppo", "CartPole-v1", "--set", "novalue"], "expected KEY=VALUE"),
    "missing-config": (["--config", "no/such.yaml"], "config file 'no/such.yaml' does not exist"),
    "bad-device": (["ppo", "CartPole-v1", "--device", "gpu0"], "device 'gpu0' is not a torch device"),
    "rejected-by-sb3": (["ppo", "CartPole-v1", "--algo-kwargs", "batch_size=1"], "PPO rejected the config"),
    "negative-critic-warmup": (["ppo", "CartPole-v1", "--critic-warmup-steps", "-1"],
                               "--critic-warmup-steps must be 0 (never) or a positive number of steps, got -1"),
    "set-negative-critic-warmup": (["ppo", "CartPole-v1", "--set", "policy.critic_warmup_steps=-1"],
                                   "policy.critic_warmup_steps: Input should be greater than or equal to 0 (got -1)"),
    "critic-warmup-without-init": (["ppo", "CartPole-v1", "--critic-warmup-steps", "1000"],
                                   "got --critic-warmup-steps 1000 without --init-policy or --init-encoder"),
}


@pytest.mark.parametrize("case", [*BAD_TRAIN, "malformed-yaml", "unknown-key", "unknown-encoder"])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, train_refuses, case):
    if case == "malformed-yaml":
        argv, expected = _bad_yaml(tmp_path)
    elif case == "unknown-key":
        argv, expected = _unknown_key(tmp_path)
    elif case == "unknown-encoder":
        from rlkit.nn import encoder_names

        argv, expected = ["ppo", "CartPole-v1", "--encoder", "nosuch"], f"unknown encoder 'nosuch'; choose one of: {', '.join(encoder_names())}"
    else:
        argv, expected = BAD_TRAIN[case]
    train_refuses(argv, expected)


def test_bad_input_in_a_real_process_has_no_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "rlkit.app.cli", "train", "ppo", "NoSuchEnv-v0", "--logdir", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.startswith("rlkit train: error: unknown env id 'NoSuchEnv-v0'") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not any(tmp_path.iterdir())


def test_usage_error_is_one_line(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--steps", "abc"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1
    assert err.startswith("rlkit train: error: argument --steps: invalid int value: 'abc'")
