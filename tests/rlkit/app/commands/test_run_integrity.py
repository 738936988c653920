"""A run directory's files are checked before use: its config (checksum line, completeness), its final model
(SHA-256 in metrics.json), its checkpoints (a damaged newest one names the older valid ones, `resume --from`)."""

import shutil

import pytest

from rlkit.app.cli import main
from rlkit.app.config import load_config
from rlkit.app.run_dir import CHECKPOINT_DIR, CONFIG_FILE, MODEL_FILE
from rlkit.app.training import train
from rlkit.checkpoints import list_checkpoints


@pytest.fixture(scope="module")
def checkpointed_run(tmp_path_factory):
    """A finished tiny PPO run on GridWorld, 128 steps with checkpoints at steps 64, 96 and 128."""
    config = load_config(overrides=[
        f"logdir={tmp_path_factory.mktemp('runs')}", "env.id=rlkit/GridWorld-v0", "env.kwargs.max_steps=6", "n_envs=2",
        "total_steps=128", "eval.every=0", "eval.episodes=1", "device=cpu", "algo_kwargs={n_steps: 16, batch_size: 32}",
        "checkpoint_every=32", "keep_checkpoints=3",
    ])  # fmt: skip
    return train(config).run_dir


@pytest.fixture
def run(checkpointed_run, tmp_path):
    """A private copy of the finished run, to damage."""
    return shutil.copytree(checkpointed_run, tmp_path / "run")


def _refused(argv, capsys, *expected):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and all(text in err for text in expected), err
    return err


@pytest.mark.parametrize("command", [["eval", "--episodes", "1"], ["enjoy", "--no-delay"], ["resume"]])
def test_an_empty_or_edited_run_config_is_refused(run, command, capsys):
    path = run / CONFIG_FILE
    text = path.read_text()
    assert text.startswith("# sha256: ")
    assert "total_steps: 128" in text
    path.write_text(text.replace("total_steps: 128", "total_steps: 100000"))
    _refused([command[0], str(run), *command[1:]], capsys, str(path), "changed since the run wrote it", "first line")
    path.write_text("")
    _refused([command[0], str(run), *command[1:]], capsys, str(path), "incomplete run config", "total_steps")


def test_an_edited_config_without_its_checksum_line_is_used(run, capsys):
    path = run / CONFIG_FILE
    lines = path.read_text().splitlines(keepends=True)
    edited = "".join(lines[1:]).replace("episodes: 1,", "episodes: 2,")
    assert edited != "".join(lines[1:])
    path.write_text(edited)
    assert main(["eval", str(run)]) == 0
    assert "over 2 episodes" in capsys.readouterr().out


def test_a_replaced_model_zip_is_refused(run, capsys):
    (oldest, *_) = list_checkpoints(run / CHECKPOINT_DIR)
    assert oldest.step == 64
    shutil.copyfile(oldest.model_path, run / MODEL_FILE)
    _refused(["eval", str(run), "--episodes", "1"], capsys, str(run / MODEL_FILE), "not the file this run finished with")


def test_a_damaged_newest_checkpoint_names_the_older_ones_and_resume_from_continues(run, capsys):
    ckpts = list_checkpoints(run / CHECKPOINT_DIR)
    assert [c.step for c in ckpts] == [64, 96, 128]
    ckpts[-1].state_path.write_bytes(ckpts[-1].state_path.read_bytes()[:-10])  # truncated
    killed = run / CHECKPOINT_DIR / ".ckpt_000000000160.zip.abcd1234.tmp"  # what a killed write leaves
    killed.write_bytes(b"half")
    err = _refused(["resume", str(run), "--steps", "160"], capsys, "truncated checkpoint", "step 96, step 64",
                   f"--from {ckpts[1].model_path}")  # fmt: skip
    assert "Traceback" not in err
    assert main(["resume", str(run), "--steps", "160", "--from", str(ckpts[1].model_path), "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "from step 96 to 160 steps" in captured.out and "set-aside" in captured.err
    assert [c.step for c in list_checkpoints(run / CHECKPOINT_DIR)][-1] == 160
    assert (run / CHECKPOINT_DIR / (ckpts[-1].state_path.name + ".set-aside")).is_file()
    assert not killed.exists()
    _refused(["resume", str(run), "--from", "12345"], capsys, "not a checkpoint of", "give a ckpt_*.zip path or a step")


def test_enjoy_prints_no_terminal_codes_when_piped(gridworld_run, capsys):
    assert main(["enjoy", str(gridworld_run), "--no-delay"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "#" in out
