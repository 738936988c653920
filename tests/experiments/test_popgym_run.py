"""experiments/popgym: every (task, agent) config of axes.yaml passes rlkit train's checks, and ``results``
reads MMER (the best per-batch mean return) and the final evaluation back from a real run."""

import json

import pytest

pytest.importorskip("popgym")

from experiments.popgym import run as popgym_run  # noqa: E402
from rlkit.app.config import config_from_dict  # noqa: E402
from rlkit.app.validation import validate  # noqa: E402
from rlkit.tb import read_scalars  # noqa: E402

AXES = popgym_run.load_axes()


@pytest.mark.parametrize("task", AXES["tasks"])
def test_every_agent_config_of_every_task_is_valid(task, tmp_path):
    for agent in AXES["agents"]:
        config = config_from_dict(popgym_run.task_config(task, agent, AXES, {"logdir": str(tmp_path)}))
        validate(config)
        assert config.env.id == f"popgym.envs:popgym-{task}-v0"
        assert (config.algo == "ppo") == (agent == "mlp")


@pytest.mark.slow  # a real 4k-step run and a 20-episode evaluation: about a minute on a shared core
def test_results_reads_mmer_and_eval_from_the_runs(tmp_path):
    argv = ["--tasks", "RepeatPreviousEasy", "--agents", "gru", "--seeds", "0", "--steps", "2048", "--workers", "1", "--out", str(tmp_path)]
    assert popgym_run.main(["train", *argv]) == 0
    assert popgym_run.main(["results", "--out", str(tmp_path)]) == 0
    (metrics,) = tmp_path.glob("RepeatPreviousEasy/gru/**/metrics.json")
    _, batch_means = read_scalars(metrics.parent, [popgym_run.TAG])[popgym_run.TAG]
    assert len(batch_means) >= 1
    row = next(line for line in (tmp_path / "table.md").read_text().splitlines() if "| gru |" in line)
    cells = [c.strip() for c in row.split("|")]
    assert float(cells[5]) == pytest.approx(batch_means.max(), abs=5e-4)
    assert float(cells[6]) == pytest.approx(json.loads(metrics.read_text())["mean_reward"], abs=5e-4)
