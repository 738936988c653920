"""Shared fixtures. Tests mirror the package: tests/rlkit, tests/envs, tests/agents."""

import os

import pytest

# Two test processes on a 2-core machine must not each start two BLAS/torch threads.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")


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
