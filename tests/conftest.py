"""Shared fixtures. Tests mirror the package: tests/rlkit, tests/envs, tests/agents."""

import os

# Two test processes on a 2-core machine must not each start two BLAS/torch threads.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
