"""`rlkit curves`: final/best per run from event files, and mean ± std over seeds for the plot."""

import numpy as np
import pytest
import yaml
from torch.utils.tensorboard import SummaryWriter

from rlkit.app.cli import main
from rlkit.app.curves import group_curves
from rlkit.tb import read_scalars


def _fake_run(root, name, seed, steps, values, algo="ppo", tag="eval/mean_reward"):
    run = root / f"CartPole-v1__{algo}__default__s{seed}__{name}"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text(yaml.safe_dump({"env": {"id": "CartPole-v1"}, "algo": algo, "seed": seed, "logdir": str(root)}))
    writer = SummaryWriter(str(run))
    for step, value in zip(steps, values):
        writer.add_scalar(tag, value, step)
    writer.close()
    return run


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "runs"
    return [
        _fake_run(root, "a", 0, [100, 200, 300], [1.0, 5.0, 4.0]),
        _fake_run(root, "b", 1, [100, 250, 400], [3.0, 6.0, 8.0]),
        _fake_run(root, "c", 0, [100, 200], [0.0, 2.0], algo="a2c", tag="rollout/ep_rew_mean"),
    ]


def test_table_has_final_and_best_per_run(runs, capsys):
    assert main(["curves", str(runs[0].parent)]) == 0
    out = capsys.readouterr().out
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]] for line in out.splitlines() if line.startswith("│")}
    assert rows[runs[0].name] == ["eval/mean_reward", "300", "4.00", "5.00", "200"]
    assert rows[runs[1].name] == ["eval/mean_reward", "400", "8.00", "8.00", "400"]
    assert rows[runs[2].name] == ["rollout/ep_rew_mean", "200", "2.00", "2.00", "200"]  # falls back to the rollout tag


def test_groups_average_seeds_on_common_steps(runs):
    curves = {run: ("eval/mean_reward", *read_scalars(run)["eval/mean_reward"]) for run in runs[:2]}
    curves[runs[2]] = ("rollout/ep_rew_mean", *read_scalars(runs[2])["rollout/ep_rew_mean"])
    groups = {g["label"]: g for g in group_curves(curves)}
    ppo = groups["CartPole-v1 ppo default"]
    assert ppo["runs"] == 2
    np.testing.assert_array_equal(ppo["steps"], [100, 200, 250, 300])  # up to 300, the shorter run's end
    a = np.interp([100, 200, 250, 300], [100, 200, 300], [1.0, 5.0, 4.0])
    b = np.interp([100, 200, 250, 300], [100, 250, 400], [3.0, 6.0, 8.0])
    np.testing.assert_allclose(ppo["mean"], (a + b) / 2)
    np.testing.assert_allclose(ppo["std"], np.abs(a - b) / 2)
    assert groups["CartPole-v1 a2c default"]["runs"] == 1


def test_png_is_written(runs, tmp_path, capsys):
    png = tmp_path / "curves.png"
    assert main(["curves", *map(str, runs), "--png", str(png), "--tag", "eval/mean_reward"]) == 2  # run c lacks the tag
    assert "has no scalar eval/mean_reward" in capsys.readouterr().err
    assert main(["curves", *map(str, runs[:2]), "--png", str(png)]) == 0
    assert png.read_bytes().startswith(b"\x89PNG")


def test_curves_bad_input(tmp_path, capsys):
    assert main(["curves", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["curves", str(tmp_path)]) == 2
    assert "no TensorBoard event files" in capsys.readouterr().err
