"""`rlkit collect` and `rlkit pretrain` from the command line: files written, bad input is one line and exit code 2."""

import json

import pytest

from rlkit.app.cli import main
from rlkit.pretrain import load_dataset


def test_collect_then_pretrain_bc(tmp_path, capsys):
    data = tmp_path / "grid.npz"
    assert main(["collect", "rlkit/GridWorld-v0", "--policy", "heuristic", "--steps", "500", "--out", str(data), "--seed", "2"]) == 0
    dataset = load_dataset(data)
    assert dataset.manifest["policy"] == "optimal" and dataset.manifest["seed"] == 2 and len(dataset) == 500
    assert main(["pretrain", "bc", str(data), "--epochs", "3", "--logdir", str(tmp_path / "runs")]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    assert {"policy.pt", "encoder.pt", "metrics.json", "config.json"} <= {p.name for p in run.iterdir()}
    assert "val_accuracy" in json.loads((run / "metrics.json").read_text())


@pytest.mark.parametrize(
    "argv, message",
    [
        (["collect", "rlkit/GridWorld-v0", "--policy", "nope", "--out", "x.npz"], "unknown --policy 'nope'"),
        (["collect", "rlkit/GridWorld-v0", "--steps", "0", "--out", "x.npz"], "--steps must be a positive"),
        (["collect", "rlkit/GridWorld-v0", "--out", "x.csv"], "expected a .npz"),
        (["pretrain", "vae", "missing.npz"], "does not exist"),
    ],
)
def test_bad_input_is_one_line(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())  # nothing left behind


def test_pretrain_refusal_leaves_no_run(tmp_path, capsys, collect_from):
    from rlkit.pretrain import save_dataset

    save_dataset(collect_from("rlkit/GridWorld-v0", "random", 50), tmp_path / "d.npz")
    assert main(["pretrain", "vae", str(tmp_path / "d.npz"), "--encoder", "cnn", "--logdir", str(tmp_path / "runs")]) == 2
    assert "--encoder cnn" in capsys.readouterr().err
    assert not list((tmp_path / "runs").iterdir())


def test_squashed_bc_head_needs_a_bounded_box(tmp_path, capsys, collect_from):
    from rlkit.pretrain import save_dataset

    save_dataset(collect_from("rlkit/GridWorld-v0", "random", 50), tmp_path / "d.npz")
    assert main(["pretrain", "bc", str(tmp_path / "d.npz"), "--head", "squashed", "--logdir", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert "squashed head for Discrete" in err and "gaussian head" in err and len(err.strip().splitlines()) == 1
    assert not list((tmp_path / "runs").iterdir())
