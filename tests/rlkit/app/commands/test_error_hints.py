"""Errors that name what would be right (issue 21 item 11): a sequence encoder with a feed-forward agent points at
the sequence agent, an encoder argument of the wrong type names the argument and its type, and a user's env module
that Python cannot find hints at PYTHONPATH=. (each said less before: "cannot read observation space",
"invalid literal for int()", "No module named ...")."""

import gymnasium as gym
import numpy as np
import pytest

from rlkit.app.cli import main
from rlkit.nn import make_encoder


def _error(capsys, tmp_path, *argv):
    code = main(["train", *argv, "--logdir", str(tmp_path / "runs"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("rlkit train: error: ") and err.count("\n") == 1, err
    assert not (tmp_path / "runs").exists()
    return err


@pytest.mark.parametrize("encoder", ["lstm", "gru", "transformer"])
def test_sequence_encoder_with_ppo_suggests_ppo_seq(capsys, tmp_path, encoder):
    err = _error(capsys, tmp_path, "ppo", "CartPole-v1", "--encoder", encoder)
    assert f"for a memory over the episode use the sequence agent: rlkit train ppo-seq CartPole-v1 --encoder {encoder}" in err


def test_sequence_encoder_with_a_window_is_left_to_ppo(capsys, tmp_path):
    """A flat frame stack (window=T) is a valid use of lstm with ppo: no hint, the encoder's own check decides."""
    err = _error(capsys, tmp_path, "ppo", "CartPole-v1", "--encoder", "lstm", "--encoder-kwargs", "window=3")
    assert "ppo-seq" not in err and "multiple of window=3" in err


@pytest.mark.parametrize(
    "encoder, kwarg, fragment",
    [("mlp", "hidden_sizes=abc", "encoder 'mlp': hidden_sizes='abc' is not Sequence[int]"),
     ("mlp", "hidden_sizes=[64,x]", "hidden_sizes=[64, 'x'] is not Sequence[int] (item 1: Input should be a valid integer)"),
     ("mlp", "dropout=true", "dropout=True is not float"),
     ("mlp", "layer_norm=1", "layer_norm=1 is not bool")],
)  # fmt: skip
def test_encoder_kwarg_of_the_wrong_type_names_it_and_its_type(capsys, tmp_path, encoder, kwarg, fragment):
    err = _error(capsys, tmp_path, "ppo", "CartPole-v1", "--encoder", encoder, "--encoder-kwargs", kwarg)
    assert fragment in err and "invalid literal" not in err
    assert f"e.g. --encoder-kwargs {kwarg.split('=')[0]}=" in err


def test_sequence_agent_encoder_kwarg_type(capsys, tmp_path):
    err = _error(capsys, tmp_path, "ppo-seq", "CartPole-v1", "--encoder", "lstm", "--encoder-kwargs", "hidden_size=abc")
    assert "encoder 'lstm': hidden_size='abc' is not int" in err


def test_numpy_values_are_still_accepted():
    space = gym.spaces.Box(-1, 1, (4,))
    assert make_encoder("mlp", space, hidden_sizes=np.array([8, 8]), dropout=np.float32(0.0)).output_dim == 8


def test_env_module_in_the_current_directory_hints_at_pythonpath(capsys, tmp_path, monkeypatch):
    (tmp_path / "my_envs_front21.py").write_text("import gymnasium\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.path", [p for p in __import__("sys").path if p not in ("", str(tmp_path))])
    err = _error(capsys, tmp_path, "ppo", "my_envs_front21:MyEnv-v0")
    assert "cannot import module 'my_envs_front21'" in err
    assert "'my_envs_front21' is in the current directory, which Python does not search here: run with PYTHONPATH=." in err


def test_missing_env_module_elsewhere_hints_at_installing_or_pythonpath(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    err = _error(capsys, tmp_path, "ppo", "no_such_pkg_front21.envs:MyEnv-v0")
    assert "is it installed, or on PYTHONPATH? (PYTHONPATH=. for a module in the current directory)" in err


def test_env_module_that_raises_on_import_is_one_line(capsys, tmp_path, monkeypatch):
    (tmp_path / "broken_envs_front21.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    err = _error(capsys, tmp_path, "ppo", "broken_envs_front21:MyEnv-v0")
    assert "importing module 'broken_envs_front21' failed: RuntimeError: boom" in err
