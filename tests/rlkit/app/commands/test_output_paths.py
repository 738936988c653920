"""An output file (enjoy --record, collect --out, curves --png) goes into an existing directory: a missing
parent is refused in one line, before any work, and nothing is created (issue 21 item 6: enjoy --record
and collect --out created the directory)."""

import pytest

from rlkit.app.cli import main

CASES = {
    "enjoy-record": (["enjoy", "{run}", "--record", "{missing}/x.gif"], "--record"),
    "collect-out": (["collect", "rlkit/GridWorld-v0", "--steps", "10", "--out", "{missing}/d.npz"], "--out"),
    "curves-png": (["curves", "{run}", "--png", "{missing}/c.png"], "--png"),
}


@pytest.mark.parametrize("case", CASES)
def test_missing_parent_directory_is_refused_and_not_created(gridworld_run, tmp_path, capsys, case):
    argv, option = CASES[case]
    missing = tmp_path / "no_such_dir" / "deeper"
    code = main([a.format(run=gridworld_run, missing=missing) for a in argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{option} '{missing}/" in err and f"directory '{missing}' does not exist; create it first" in err
    assert not (tmp_path / "no_such_dir").exists()


def test_an_existing_directory_is_written(gridworld_run, tmp_path, capsys):
    path = tmp_path / "x.gif"
    assert main(["enjoy", str(gridworld_run), "--record", str(path), "--max-steps", "3"]) == 0
    assert path.stat().st_size > 0
