"""Ctrl-C during `rlkit train` in a real process: checkpoint, the exact resume command, exit 130; then `rlkit resume`."""

import json
import re
import signal
import subprocess
import sys
import time

from rlkit.checkpoints import latest_checkpoint
from rlkit.cli import main
from rlkit.tb import read_scalars


def test_sigint_saves_checkpoint_prints_resume_command_and_resume_finishes(tmp_path, capsys):
    logdir = tmp_path / "runs"
    argv = [sys.executable, "-m", "rlkit.cli", "train", "ppo", "CartPole-v1", "--steps", "4096", "--n-envs", "2",
            "--eval-every", "0", "--eval-episodes", "2", "--checkpoint-every", "0", "--algo-kwargs", "n_steps=32", "batch_size=32",
            "--logdir", str(logdir), "--device", "cpu", "--no-progress"]  # fmt: skip
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
    (tmp_path / "nockpt" / "config.yaml").write_text("env: CartPole-v1\n")
    cases = {
        str(tmp_path / "missing"): f"run directory '{tmp_path / 'missing'}' does not exist",
        str(tmp_path / "norun"): "is not an rlkit run directory (no config.yaml)",
        str(tmp_path / "nockpt"): "holds no checkpoint to resume from",
    }
    for run_dir, expected in cases.items():
        assert main(["resume", run_dir]) == 2
        err = capsys.readouterr().err
        assert err.startswith("rlkit resume: error: ") and expected in err and err.count("\n") == 1
