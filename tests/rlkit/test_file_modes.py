"""Written files respect the umask (issue 21 item 7): config.yaml, metrics.json, model.zip, checkpoints, GIFs and
encoder checkpoints were mode 0600 whatever the umask (mkstemp's mode survived the rename)."""

import os
import stat
from contextlib import contextmanager

import gymnasium as gym
import pytest

from rlkit.atomic_io import atomic_write, current_umask
from rlkit.nn import make_encoder
from rlkit.nn.checkpoint import save_encoder


@contextmanager
def umask(mask):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_atomic_writes_get_0666_less_the_umask(tmp_path, mask):
    with umask(mask):
        assert current_umask() == mask
        atomic_write(tmp_path / "a.json", b"{}")
        save_encoder(make_encoder("mlp", gym.spaces.Box(-1, 1, (3,)), hidden_sizes=[4]), tmp_path / "encoder.pt")
    assert _mode(tmp_path / "a.json") == 0o666 & ~mask
    assert _mode(tmp_path / "encoder.pt") == 0o666 & ~mask


def test_a_run_directory_and_a_gif_are_readable_by_the_group_and_others(tmp_path, capsys):
    from rlkit.app.cli import main

    with umask(0o022):
        assert main(["train", "ppo", "rlkit/GridWorld-v0", "--steps", "64", "--n-envs", "2", "--eval-every", "0", "--eval-episodes", "1",
                     "--checkpoint-every", "32", "--env-kwargs", "max_steps=6", "--algo-kwargs", "n_steps=32", "batch_size=32",
                     "--logdir", str(tmp_path), "--device", "cpu", "--no-progress"]) == 0  # fmt: skip
        (run,) = tmp_path.iterdir()
        assert main(["enjoy", str(run), "--record", str(tmp_path / "x.gif"), "--max-steps", "3"]) == 0
    written = [p for p in run.rglob("*") if p.is_file()] + [tmp_path / "x.gif"]
    names = {p.name for p in written}
    assert {"config.yaml", "metrics.json", "model.zip", "x.gif"} <= names
    assert any(p.parent.name == "checkpoints" for p in written)
    assert {p.name: oct(_mode(p)) for p in written} == {p.name: oct(0o644) for p in written}
