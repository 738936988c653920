"""`rlkit enjoy RUN`: ansi frames in the terminal, a GIF from rgb_array."""

import imageio.v3 as iio
import numpy as np
import pytest

from rlkit.app.cli import main
from rlkit.app.config import load_config
from rlkit.app.training import train


def test_enjoy_prints_ansi_frames(gridworld_run, capsys):
    assert main(["enjoy", str(gridworld_run), "--no-delay", "--episodes", "2"]) == 0
    out = capsys.readouterr().out
    # max_steps=6: an episode shows its first frame and one per step until it ends (at most 6 steps).
    frames = out.count("episode 1/2, step ")
    assert 2 <= frames <= 7 and "episode 2/2, step 0" in out
    assert "#" in out and out.strip().splitlines()[-1].startswith("ppo on rlkit/GridWorld-v0: returns ")


def test_enjoy_records_a_gif(gridworld_run, tmp_path, capsys):
    path = tmp_path / "play.gif"
    assert main(["enjoy", str(gridworld_run), "--record", str(path), "--fps", "20"]) == 0
    assert f"to {path}" in capsys.readouterr().out
    frames = iio.imread(path, index=None)
    assert frames.ndim == 4 and frames.shape[-1] == 3 and frames.shape[0] >= 1
    assert frames.dtype == np.uint8 and frames.max() > 0


def test_enjoy_bad_input(gridworld_run, tmp_path, capsys):
    assert main(["enjoy", str(gridworld_run), "--record", str(tmp_path / "x.mp4")]) == 2
    assert "expected a file name ending in .gif" in capsys.readouterr().err
    cartpole = load_config(overrides=[
        f"logdir={tmp_path}", "env.id=CartPole-v1", "n_envs=2", "total_steps=64", "eval.every=0",
        "eval.episodes=1", "device=cpu", "algo_kwargs={n_steps: 32, batch_size: 32}",
    ])  # fmt: skip
    run = train(cartpole).run_dir
    assert main(["enjoy", str(run)]) == 2
    err = capsys.readouterr().err
    assert "CartPole-v1 does not render 'ansi'" in err and "--record" in err and err.count("\n") == 1
