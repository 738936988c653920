"""`rlkit pretrain diffusion`, then `rlkit eval`/`rlkit enjoy` of its policy.pt and `--init-encoder` of its encoder.pt."""

import json

import pytest

from rlkit.app.cli import main


@pytest.fixture(scope="module")
def diffusion_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("diffusion")
    data = tmp / "grid.npz"
    assert main(["collect", "rlkit/GridWorld-v0", "--policy", "heuristic", "--steps", "400", "--out", str(data)]) == 0
    argv = ["pretrain", "diffusion", str(data), "--epochs", "2", "--steps-denoise", "4", "--diffusion-steps", "20",
            "--hidden", "32", "--logdir", str(tmp / "runs")]  # fmt: skip
    assert main(argv) == 0
    (run,) = (tmp / "runs").iterdir()
    return tmp, run


def test_pretrain_writes_policy_encoder_and_denoise_loss(diffusion_run):
    from rlkit.tb import read_scalars

    tmp, run = diffusion_run
    assert {"policy.pt", "encoder.pt", "metrics.json", "config.json"} <= {p.name for p in run.iterdir()}
    assert len(json.loads((run / "metrics.json").read_text())["history"]) == 2
    tags = read_scalars(run)
    assert list(tags["pretrain/denoise_loss"][0]) == [1, 2] and "pretrain/val_denoise_loss" in tags


def test_eval_and_enjoy_run_the_policy(diffusion_run, capsys):
    tmp, run = diffusion_run
    capsys.readouterr()
    assert main(["eval", str(run / "policy.pt"), "--episodes", "2", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["env"] == "rlkit/GridWorld-v0" and metrics["episodes"] == 2
    assert main(["eval", str(run / "policy.pt"), "--env", "rlkit/GridWorld-v0", "--episodes", "1"]) == 0
    assert main(["enjoy", str(run / "policy.pt"), "--no-delay", "--max-steps", "5"]) == 0
    assert "diffusion on rlkit/GridWorld-v0" in capsys.readouterr().out


def test_init_encoder_loads_its_encoder(diffusion_run):
    tmp, run = diffusion_run
    argv = ["train", "ppo", "rlkit/GridWorld-v0", "--init-encoder", str(run / "encoder.pt"), "--steps", "64", "--n-envs", "2",
            "--set", "algo_kwargs.n_steps=32", "--set", "algo_kwargs.batch_size=64", "--eval-every", "0", "--eval-episodes", "1", "--logdir", str(tmp / "train")]  # fmt: skip
    assert main(argv) == 0


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--env", "CartPole-v1"], "does not fit CartPole-v1"),
        (["--env", "rlkit/GridWorld-v0", "--episodes", "0"], "--episodes must be a positive"),
    ],
)
def test_eval_bad_input_is_one_line(diffusion_run, capsys, extra, message):
    tmp, run = diffusion_run
    capsys.readouterr()
    assert main(["eval", str(run / "policy.pt"), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_pretrain_bad_input_leaves_no_run(diffusion_run, capsys):
    tmp, run = diffusion_run
    argv = ["pretrain", "diffusion", str(tmp / "grid.npz"), "--steps-denoise", "30", "--diffusion-steps", "20", "--logdir", str(tmp / "bad")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--steps-denoise 30" in err and len(err.strip().splitlines()) == 1
    assert not list((tmp / "bad").iterdir())
    assert main(["eval", str(tmp / "grid.npz")]) == 2
    assert "not a policy.pt" in capsys.readouterr().err
