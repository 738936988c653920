"""The steps a run trains are said before it runs, and kept where a rollout length can keep them; the torch
thread count is the config's; each periodic evaluation prints a line.

Oracles: divisibility by hand; SB3's own step counter after `learn`; torch's thread count read inside training."""

import pytest
import torch
from stable_baselines3.common.callbacks import BaseCallback

from rlkit.app.budget import fit_n_steps
from rlkit.app.cli import main
from rlkit.app.config import load_config
from rlkit.app.learning import hparams
from rlkit.app.run_dir import read_run_config
from rlkit.app.training import train


@pytest.mark.parametrize("default, n_envs, total, batch, expected", [
    (2048, 8, 16384, 64, 2048),  # whole rollouts already
    (2048, 8, 20000, 64, 1250),  # the issue's --steps 20000: 2 rollouts of 1250 x 8
    (2048, 2, 3000, 64, 1500),  # a budget below one default rollout: one rollout of the whole budget
    (128, 4, 4000, 64, 125),  # 1000 per env: 125 and 100 divide it; 125 is the largest
    (128, 4, 4096, 256, 128),
    (100, 2, 240, 40, 60),  # 120 per env: 60 (rollout 120, 3 minibatches) preferred over whole-minibatch-less ones
    (64, 16, 50000, 256, None),  # 3125 per env has no divisor in [32, 64]
    (2048, 8, 20001, 64, None),  # not a multiple of n_envs
])  # fmt: skip
def test_fit_n_steps(default, n_envs, total, batch, expected):
    chosen = fit_n_steps(default, n_envs, total, batch)
    assert chosen == expected
    if chosen is not None:
        assert total % (chosen * n_envs) == 0 and (min(default, total // n_envs) + 1) // 2 <= chosen <= default


def _config(tmp_path, *overrides):
    return load_config(overrides=[
        f"logdir={tmp_path}", "env.id=CartPole-v1", "n_envs=2", "eval.every=0", "eval.episodes=1", "device=cpu", *overrides,
    ])  # fmt: skip


class _Threads(BaseCallback):
    def _on_training_start(self) -> None:
        self.seen = torch.get_num_threads()

    def _on_step(self) -> bool:
        return True


def test_default_n_steps_keeps_the_budget_and_threads_apply(tmp_path):
    before = torch.get_num_threads()
    probe = _Threads()
    result = train(_config(tmp_path, "total_steps=300", "threads=2", "algo_kwargs={n_epochs: 1}"), callbacks=[probe])
    assert result.status == "finished" and result.steps == 300 and result.model.num_timesteps == 300  # SB3's default 2048 x 2 ran 4096
    assert read_run_config(result.run_dir).algo_kwargs["n_steps"] == 150  # written, so resume and eval rebuild the same agent
    assert probe.seen == 2 and torch.get_num_threads() == before
    assert hparams(read_run_config(result.run_dir))["threads"] == 2


def test_the_header_says_the_steps_that_will_run(tmp_path, capsys):
    argv = ["train", "ppo", "CartPole-v1", "--steps", "100", "--n-envs", "2", "--eval-every", "64", "--eval-episodes", "2",
            "--device", "cpu", "--no-progress", "--threads", "3", "--logdir", str(tmp_path), "--algo-kwargs", "n_steps=32", "batch_size=32"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0]
    assert "for 128 steps (100 asked: SB3 trains whole rollouts of 32 steps × 2 envs)" in header, header
    assert "3 torch threads" in header
    evals = [line for line in out.splitlines() if line.startswith("step ")]
    assert [line.split(":")[0] for line in evals] == ["step 64", "step 128"]
    assert all("eval return " in line and " ± " in line and "over 2 episodes" in line and "steps/s" in line for line in evals)
    assert main([*argv, "--threads", "-1"]) == 2
    assert "--threads must be" in capsys.readouterr().err
