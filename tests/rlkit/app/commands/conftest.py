"""Fixtures shared by the command tests."""

import pytest

from rlkit.app.config import load_config
from rlkit.app.training import train


@pytest.fixture(scope="session")
def gridworld_run(tmp_path_factory):
    """A finished tiny PPO run on GridWorld (64 steps, 6-step episodes): for commands that read a run directory."""
    logdir = tmp_path_factory.mktemp("gridworld_runs")
    config = load_config(overrides=[
        f"logdir={logdir}", "env.id=rlkit/GridWorld-v0", "env.kwargs.max_steps=6", "n_envs=2", "total_steps=64",
        "eval.every=0", "eval.episodes=1", "device=cpu", "algo_kwargs={n_steps: 32, batch_size: 32}",
    ])  # fmt: skip
    return train(config).run_dir
