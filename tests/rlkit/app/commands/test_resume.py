"""Ctrl-C during `rlkit train` in a real process: checkpoint, the exact resume command, exit 130; then `rlkit resume`."""

import json
import re
import signal
import subprocess
import sys
import time

import numpy as np

from rlkit.checkpoints import latest_checkpoint
from rlkit.app.cli import main
from rlkit.tb import read_scalars


def test_sigint_saves_checkpoint_prints_resume_command_and_resume_finishes(tmp_path, capsys):
    logdir = tmp_path / "runs"
    argv = [sys.executable, "-m", "rlkit.app.cli", "train", "ppo", "CartPole-v1", "--steps", "4096", "--n-envs", "2",
            "--eval-every", "0", "--eval-episodes", "2", "--checkpoint-every", "0", "--algo-kwargs", "n_steps=32", "batch_size=32",
            "n_epochs=1", "--logdir", str(logdir), "--device", "cpu", "--no-progress"]  # fmt: skip
    # n_epochs=1: the test is about the signal and the checkpoint; ten epochs only made it 4x slower.
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r"run directory: (\S+)", line)
        assert match, line + proc.stderr.read()
        run_dir = match.group(1)
        deadline = time.time() + 60
        while not list((logdir / run_dir.split("/")[-1]).glob("events.out.tfevents.*")) and time.time() < deadline:
            time.sleep(0.05)  # the logger exists: training is starting
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert f"continue with: rlkit resume {run_dir}" in err
    assert "Traceback" not in err
    ckpt = latest_checkpoint(f"{run_dir}/checkpoints")
    assert ckpt is not None and 0 < ckpt.step < 4096 and ckpt.step % 64 == 0  # a rollout boundary

    code = main(["resume", run_dir, "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"from step {ckpt.step:,} to 4,096" in out and "final evaluation: mean return" in out
    assert json.loads(open(f"{run_dir}/metrics.json").read())["steps"] == 4096
    steps = read_scalars(run_dir)["rollout/ep_rew_mean"][0]
    assert steps[-1] == 4096 and (steps[1:] > steps[:-1]).all()  # one axis, no duplicates

    assert main(["resume", run_dir]) == 0
    assert "already finished" in capsys.readouterr().out


def test_bad_resume_input(tmp_path, capsys):
    (tmp_path / "norun").mkdir()
    (tmp_path / "nockpt").mkdir()
    (tmp_path / "nockpt" / "config.yaml").write_text("env: CartPole-v1\nalgo: ppo\nn_envs: 1\nseed: 0\ntotal_steps: 64\n")
    cases = {
        str(tmp_path / "missing"): f"run directory '{tmp_path / 'missing'}' does not exist",
        str(tmp_path / "norun"): "is not an rlkit run directory (no config.yaml)",
        str(tmp_path / "nockpt"): "holds no checkpoint to resume from",
    }
    for run_dir, expected in cases.items():
        assert main(["resume", run_dir]) == 2
        err = capsys.readouterr().err
        assert err.startswith("rlkit resume: error: ") and expected in err and err.count("\n") == 1


def test_resume_steps_extends_a_finished_run(tmp_path, capsys):
    logdir = tmp_path / "runs"
    assert main(["train", "ppo", "CartPole-v1", "--steps", "128", "--n-envs", "2", "--eval-every", "0", "--eval-episodes", "2",
                 "--algo-kwargs", "n_steps=32", "batch_size=32", "--logdir", str(logdir), "--device", "cpu", "--no-progress"]) == 0  # fmt: skip
    capsys.readouterr()
    (run_dir,) = logdir.iterdir()

    assert main(["resume", str(run_dir), "--steps", "100"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--steps 100" in err and "128" in err and "Traceback" not in err
    assert "total_steps: 128" in (run_dir / "config.yaml").read_text()

    assert main(["resume", str(run_dir), "--steps", "256", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "from step 128 to 256" in out and "final evaluation: mean return" in out
    assert "total_steps: 256" in (run_dir / "config.yaml").read_text()
    assert json.loads((run_dir / "metrics.json").read_text())["steps"] == 256
    steps = read_scalars(run_dir)["rollout/ep_rew_mean"][0]
    assert steps[-1] == 256 and (steps[1:] > steps[:-1]).all() and np.all(np.diff(steps) == 64)  # no gap, no duplicate
