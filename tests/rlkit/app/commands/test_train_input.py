"""`rlkit train` refuses input it used to accept silently (issue 21 item 5): one line, exit 2, nothing written."""

import pytest

from rlkit.app.cli import main


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


CASES = {
    "bool-steps": (lambda d: ["--config", _write(d, "b.yaml", "env: CartPole-v1\ntotal_steps: true\n")],
                   "total_steps: Input should be a valid integer (got True)"),
    "duplicate-key": (lambda d: ["--config", _write(d, "d.yaml", "env: CartPole-v1\nseed: 1\nseed: 2\n")],
                      "duplicate key 'seed' (first at line 2)"),
    "huge-steps": (lambda d: ["ppo", "CartPole-v1", "--steps", str(10**25)],
                   "total_steps: Input should be less than or equal to 1000000000000"),
    "empty-config": (lambda d: ["--config", _write(d, "empty.yaml", "")], "is empty; write at least its algo and env"),
    "zero-workers": (lambda d: ["ppo", "CartPole-v1", "--seeds", "0-1", "--workers", "0"],
                     "--workers must be a positive number of runs at a time, got 0"),
    "negative-workers": (lambda d: ["ppo", "CartPole-v1", "--seeds", "0-1", "--workers", "-2"],
                         "--workers must be a positive number of runs at a time, got -2"),
}


@pytest.mark.parametrize("case", CASES)
def test_refused_in_one_line_with_nothing_written(tmp_path, capsys, case):
    make_argv, expected = CASES[case]
    logdir = tmp_path / "runs"
    code = main(["train", *make_argv(tmp_path), "--logdir", str(logdir), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("rlkit train: error: ") and err.count("\n") == 1, err
    assert expected in err
    assert not logdir.exists()


def test_run_seeds_refuses_zero_workers(tmp_path):
    from rlkit.app.config import load_config
    from rlkit.app.sweeps import run_seeds

    with pytest.raises(ValueError, match="--workers must be a positive integer, got 0"):
        run_seeds(load_config(overrides=[f"logdir={tmp_path}"]), [0, 1], workers=0)
    assert not any(tmp_path.iterdir())
