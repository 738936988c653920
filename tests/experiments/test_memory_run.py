"""experiments/memory/run.py --collect --add: seeds found under DIR join the seeds results.json already has for
a config, whose run directories may be gone (their curves then come from the stored copies)."""

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from experiments.memory import run as memory_run

STEM = "groundhog-easy-long_transformer"  # any config of the benchmark: nothing is trained


def _fake_run(root: Path, seed: int, steps: list[int], values: list[float], mean_reward: float) -> Path:
    from torch.utils.tensorboard import SummaryWriter

    run_dir = root / STEM / f"rlkit-GroundhogDay-Easy-v0__ppo-seq__transformer__s{seed}__20261202-000000"
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_text(yaml.safe_dump({"seed": seed}))
    (run_dir / "metrics.json").write_text(json.dumps({"mean_reward": mean_reward, "std_reward": 1.0}))
    with SummaryWriter(str(run_dir)) as writer:
        for step, value in zip(steps, values):
            writer.add_scalar("eval/mean_reward", value, step)
    return run_dir


@pytest.fixture
def no_baselines(monkeypatch):
    # The merge is under test, not GroundhogDay's planners (seconds per config).
    monkeypatch.setattr(memory_run.run_all, "baselines_for", lambda config, split=None: {"random": 0.0})


def test_add_keeps_the_stored_seed_and_averages_its_stored_curve_with_the_new_run(tmp_path, no_baselines):
    out = tmp_path / "results"
    out.mkdir()
    # Written before runs stored their curves: seed 0's curve only in its one-seed row, its run dir gone.
    legacy = {"experiment": STEM, "seed": 0, "status": "finished", "run_dir": str(tmp_path / "gone"), "mean_reward": 28.0,
              "std_reward": 1.0, "seconds": 0.0}  # fmt: skip
    row = {"experiment": STEM, "seeds": [0], "curve": {"steps": [0, 100, 200], "mean": [1.0, 3.0, 5.0], "std": [0, 0, 0]}}
    other = {"experiment": "groundhog-easy_lstm", "seed": 0, "status": "finished", "run_dir": None, "mean_reward": 12.0, "seconds": 0.0}
    (out / "results.json").write_text(json.dumps({"note": "n", "experiments": [row], "runs": [legacy, other]}))
    _fake_run(tmp_path / "new", 1, [0, 50, 150], [2.0, 4.0, 8.0], mean_reward=20.0)

    assert memory_run.main(["--collect", str(tmp_path / "new"), "--add", "--only", STEM, "--out", str(out)]) == 0

    data = json.loads((out / "results.json").read_text())
    (merged,) = [r for r in data["experiments"] if r["experiment"] == STEM]
    assert merged["seeds"] == [0, 1] and merged["scores"] == [28.0, 20.0] and merged["mean"] == pytest.approx(24.0)
    grid = np.array([0, 50, 100, 150])  # both runs' steps up to 150, the last step both reached
    seed0, seed1 = np.interp(grid, [0, 100, 200], [1, 3, 5]), np.interp(grid, [0, 50, 150], [2, 4, 8])
    assert merged["curve"]["steps"] == grid.tolist()
    np.testing.assert_allclose(merged["curve"]["mean"], (seed0 + seed1) / 2)
    np.testing.assert_allclose(merged["curve"]["std"], np.abs(seed0 - seed1) / 2)
    runs = {(r["experiment"], r["seed"]): r for r in data["runs"]}
    assert runs[(STEM, 0)]["curve"] == {"steps": [0, 100, 200], "values": [1.0, 3.0, 5.0]}  # kept for the next --add
    assert runs[(STEM, 1)]["curve"] == {"steps": [0, 50, 150], "values": [2.0, 4.0, 8.0]}
    assert ("groundhog-easy_lstm", 0) in runs  # other configs untouched


def test_without_add_the_collected_seeds_replace_the_row(tmp_path, no_baselines):
    out = tmp_path / "results"
    out.mkdir()
    legacy = {"experiment": STEM, "seed": 0, "status": "finished", "run_dir": None, "mean_reward": 28.0, "seconds": 0.0}
    (out / "results.json").write_text(json.dumps({"note": "", "experiments": [], "runs": [legacy]}))
    _fake_run(tmp_path / "new", 1, [0, 50], [2.0, 4.0], mean_reward=20.0)

    assert memory_run.main(["--collect", str(tmp_path / "new"), "--only", STEM, "--out", str(out)]) == 0

    (merged,) = json.loads((out / "results.json").read_text())["experiments"]
    assert merged["seeds"] == [1] and merged["scores"] == [20.0]


def test_add_without_collect_is_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        memory_run.parse_args(["--add"])
    assert exc.value.code == 2
    assert "--add" in capsys.readouterr().err


def test_add_refuses_a_kept_seed_whose_curve_is_lost(tmp_path, no_baselines):
    out = tmp_path / "results"
    out.mkdir()
    # Two seeds in the old row: its curve is their mean, not seed 0's, so seed 0's curve is lost with its run dir.
    lost = {"experiment": STEM, "seed": 0, "status": "finished", "run_dir": str(tmp_path / "gone"), "mean_reward": 28.0, "seconds": 0.0}
    row = {"experiment": STEM, "seeds": [0, 2], "curve": {"steps": [0, 100], "mean": [1.0, 3.0], "std": [0, 0]}}
    (out / "results.json").write_text(json.dumps({"note": "", "experiments": [row], "runs": [lost, {**lost, "seed": 2}]}))
    before = (out / "results.json").read_text()
    _fake_run(tmp_path / "new", 1, [0, 50], [2.0, 4.0], mean_reward=20.0)

    with pytest.raises(ValueError, match="seed 0 has no stored curve"):
        memory_run.main(["--collect", str(tmp_path / "new"), "--add", "--only", STEM, "--out", str(out)])
    assert (out / "results.json").read_text() == before  # nothing half-merged


def test_the_table_names_the_evaluation_episodes_the_runs_used(tmp_path, no_baselines):
    """A --set eval.episodes=100 run is reported as 100 episodes, not as the benchmark row's default."""
    _fake_run(tmp_path / "runs", 0, [1000], [1.0], 1.0)
    out = tmp_path / "results"
    assert memory_run.main(["--collect", str(tmp_path / "runs"), "--only", STEM, "--out", str(out),
                            "--set", "eval.episodes=100"]) == 0  # fmt: skip
    table = (out / "table.md").read_text()
    assert "Final evaluation over 100 seeded episodes" in table
