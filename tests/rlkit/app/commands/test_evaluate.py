"""`rlkit eval RUN`: the evaluator against a plain one-episode-at-a-time loop, checkpoints, refused models."""

import json

import gymnasium as gym
import numpy as np
import pytest

from rlkit.app.cli import main
from rlkit.app.config import load_config
from rlkit.app.run_dir import load_agent
from rlkit.app.training import train


@pytest.fixture(scope="module")
def cartpole_run(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("runs")
    config = load_config(overrides=[
        f"logdir={logdir}", "env.id=CartPole-v1", "algo=ppo", "n_envs=2", "total_steps=256", "eval.every=0",
        "eval.episodes=3", "device=cpu", "algo_kwargs={n_steps: 32, batch_size: 32}",
    ])  # fmt: skip
    return train(config).run_dir


def test_eval_equals_a_plain_seeded_episode_loop(cartpole_run, capsys):
    assert main(["eval", str(cartpole_run), "--episodes", "4", "--seed", "7", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    model, _, _, _ = load_agent(cartpole_run, "cpu")
    env = gym.make("CartPole-v1")
    returns = []
    for i in range(4):  # the oracle: one episode at a time, episode i reset with seed 7 + i
        obs, _ = env.reset(seed=7 + i)
        total, done = 0.0, False
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(action)
            total, done = total + reward, terminated or truncated
        returns.append(total)
    assert metrics["returns"] == returns
    assert metrics["mean_reward"] == pytest.approx(np.mean(returns)) and metrics["std_reward"] == pytest.approx(np.std(returns))
    assert metrics["episodes"] == 4 and metrics["eval_seed"] == 7


def test_eval_defaults_reproduce_the_final_evaluation(cartpole_run, capsys):
    assert main(["eval", str(cartpole_run)]) == 0
    out = capsys.readouterr().out
    final = json.loads((cartpole_run / "metrics.json").read_text())
    assert f"mean return {final['mean_reward']:.4g}" in out and "over 3 episodes" in out


def test_eval_uses_latest_checkpoint_without_model(cartpole_run, tmp_path, capsys):
    import shutil

    copy = tmp_path / cartpole_run.name
    shutil.copytree(cartpole_run, copy)
    (copy / "model.zip").unlink()
    assert main(["eval", str(copy)]) == 0
    assert "checkpoints/ckpt_" in capsys.readouterr().out
    for path in (copy / "checkpoints").iterdir():
        path.unlink()
    assert main(["eval", str(copy)]) == 2
    assert "holds no model (model.zip) and no checkpoint" in capsys.readouterr().err


def test_eval_uses_an_interrupted_extensions_checkpoint_over_the_older_model(cartpole_run, tmp_path, capsys, signal_at):
    """`rlkit resume --steps` stopped midway leaves model.zip of the shorter run next to newer checkpoints:
    eval takes the newest agent, and model.zip again once the extension finishes."""
    import shutil

    from rlkit.app.training import resume

    copy = tmp_path / cartpole_run.name
    shutil.copytree(cartpole_run, copy)
    stopped = resume(copy, steps=1024, callbacks=[signal_at(512)])
    assert stopped.status == "interrupted" and stopped.checkpoint.step > 256
    assert main(["eval", str(copy), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == str(stopped.checkpoint.model_path)
    assert resume(copy).status == "finished"
    assert main(["eval", str(copy), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == str(copy / "model.zip")


def test_eval_refuses_other_spaces_and_corrupted_models(tmp_path, capsys):
    config = load_config(overrides=[
        f"logdir={tmp_path}", "env.id=rlkit/GridWorld-v0", "n_envs=2", "total_steps=64", "eval.every=0",
        "eval.episodes=1", "device=cpu", "algo_kwargs={n_steps: 32, batch_size: 32}",
    ])  # fmt: skip
    run = train(config).run_dir
    assert main(["eval", str(run), "--env-kwargs", "size=8"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "model.zip does not fit rlkit/GridWorld-v0: observation space" in err
    assert "(36,)" in err and "(64,)" in err  # both sides
    model = run / "model.zip"
    model.write_bytes(model.read_bytes()[:-100])
    assert main(["eval", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rlkit eval: error: {model}: not a readable model zip") and err.count("\n") == 1
    assert main(["eval", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_episodes_that_never_end_are_an_error_not_a_hang(cartpole_run, capsys, monkeypatch):
    from rlkit.app.evaluation import Evaluator

    monkeypatch.setattr(Evaluator, "MAX_STEPS", 5)
    assert main(["eval", str(cartpole_run)]) == 2
    assert "did not end within 5 steps; give the env a time limit" in capsys.readouterr().err
