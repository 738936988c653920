"""Shared fixtures. Tests mirror the package: tests/rlkit, tests/envs, tests/agents."""

import os

import pytest

# The suite runs in parallel (pytest-xdist, addopts in pyproject.toml): one BLAS/OpenMP/torch thread per test
# process, else two processes on a 2-core machine each start a thread per core and slow each other down.
# Set before torch is imported (tests import it after this file); subprocesses inherit the variables.
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
os.environ["NUMBA_NUM_THREADS"] = "1"

import torch  # noqa: E402  (after the thread variables)

torch.set_num_threads(1)


@pytest.fixture
def signal_at():
    """``signal_at(step, signum=SIGINT, times=1)``: an SB3 callback that sends `signum` to this process
    (`times` times) once training reaches `step`, as a user's Ctrl-C (or a second one) would."""
    import signal

    from stable_baselines3.common.callbacks import BaseCallback

    class SignalAt(BaseCallback):
        def __init__(self, step, signum=signal.SIGINT, times=1):
            super().__init__()
            self.step, self.signum, self.times = step, signum, times

        def _on_step(self):
            if self.times and self.model.num_timesteps >= self.step:
                for _ in range(self.times):
                    os.kill(os.getpid(), self.signum)
                self.times = 0
            return True

    return SignalAt


@pytest.fixture
def assert_same_training():
    """``assert_same_training(straight, other, what, required=("eval/mean_reward",))``: `other` (a resumed or
    extended run) ends with `straight`'s parameters exactly and wrote every non-time curve at the same steps with
    the same values, each step once; `required` are tags that must be among the curves (so the check has some)."""
    import numpy as np
    import torch

    from rlkit.tb import read_scalars

    def curves(run_dir):
        return {tag: v for tag, v in read_scalars(run_dir).items() if not tag.startswith("time/")}

    def check(straight, other, what, required=("eval/mean_reward",)):
        a, b = straight.model.policy.state_dict(), other.model.policy.state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), f"{what} parameters differ"
        curves_a, curves_b = curves(straight.run_dir), curves(other.run_dir)
        assert curves_a.keys() == curves_b.keys() and set(required) <= curves_a.keys()
        for tag, (steps, values) in curves_a.items():
            np.testing.assert_array_equal(curves_b[tag][0], steps, err_msg=f"{tag}: steps differ (gap or duplicate)")
            np.testing.assert_array_equal(curves_b[tag][1], values, err_msg=f"{tag}: values differ")
            assert np.all(np.diff(steps) > 0), f"{tag}: duplicate steps"

    return check


@pytest.fixture
def train_refuses(tmp_path, capsys):
    """``train_refuses(argv, expected)``: ``rlkit train ARGV`` exits 2 with one line ``rlkit train: error: …``
    holding `expected`, and writes no run directory; returns the line."""
    from rlkit.app.cli import main

    def check(argv, expected):
        logdir = tmp_path / "runs"
        code = main(["train", *argv, "--logdir", str(logdir), "--no-progress"])
        err = capsys.readouterr().err
        assert code == 2
        assert err.startswith("rlkit train: error: ") and err.count("\n") == 1, err
        assert expected in err
        assert not logdir.exists() or not any(logdir.iterdir())
        return err

    return check
