"""`rlkit envs`: every registered rlkit env with its spaces and baseline scores."""

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import envs
import envs.baselines
from envs.baselines import RandomPolicy, load_baseline, published_baselines, run_episodes, score_baselines
from rlkit.app.cli import main
from rlkit.app.commands.envs import baselines_markdown, describe_space

ROOT = Path(__file__).resolve().parents[4]


def test_lists_every_registered_env_with_baselines(capsys):
    assert main(["envs", "--episodes", "0"]) == 0
    out = capsys.readouterr().out
    for env_id in envs.ENV_IDS:
        assert env_id in out
        for name in envs.BASELINES.get(env_id, {}):
            assert name in out


def test_baseline_scores_are_run_episodes_means(capsys):
    env_id = envs.ENV_IDS[0]
    assert main(["envs", "--episodes", "3", "--filter", env_id]) == 0
    out = capsys.readouterr().out
    env = gym.make(env_id)
    for name in ["random", *envs.BASELINES.get(env_id, {})]:
        policy = RandomPolicy(env, seed=0) if name == "random" else load_baseline(env_id, name, env)
        score = run_episodes(env, policy, 3, seed=0).mean()
        assert f"{name} {score:.3g}" in out
    assert describe_space(env.observation_space) in out and describe_space(env.action_space) in out


def test_describe_space():
    assert describe_space(gym.spaces.Box(0, 1, (3, 4))) == "Box(3, 4) float32"
    assert describe_space(gym.spaces.Discrete(5, start=1)) == "Discrete(5, start=1)"
    assert describe_space(gym.spaces.Dict({"a": gym.spaces.Discrete(2)})) == "Dict(a: Discrete(2))"


def test_bad_filter(capsys):
    assert main(["envs", "--filter", "nothing-like-this"]) == 2
    assert "no rlkit env id contains" in capsys.readouterr().err


def test_default_lists_the_published_scores_without_running_an_episode(capsys, monkeypatch):
    def no_episodes(*args, **kwargs):
        raise AssertionError("rlkit envs ran episodes instead of reading envs/baselines.json")

    monkeypatch.setattr(envs.baselines, "run_episodes", no_episodes)
    assert main(["envs"]) == 0
    out = capsys.readouterr().out
    published = published_baselines()
    assert f"mean return over {published['episodes']} episodes" in out
    for env_id in envs.ENV_IDS:
        for name in ["random", *envs.BASELINES.get(env_id, {})]:
            assert f"{name} {published['scores'][env_id][name]:.3g}" in out, (env_id, name)


@pytest.mark.parametrize("env_id", ["rlkit/GridWorld-v0", "rlkit/GridWorld-Cliff-v0", "rlkit/Trading-v0"])
def test_published_scores_are_what_the_baselines_score_now(env_id):
    """A cheap subset of envs/baselines.json (written by `rlkit envs --rescore`), recomputed."""
    published = published_baselines()
    assert published["episodes"] == envs.baselines.PUBLISHED_EPISODES and published["seed"] == 0
    assert set(published["scores"]) == set(envs.ENV_IDS)
    now = score_baselines(env_id, published["episodes"], seed=published["seed"])
    assert list(now) == list(published["scores"][env_id])
    np.testing.assert_allclose(list(now.values()), list(published["scores"][env_id].values()), rtol=1e-9, atol=1e-12)


def test_the_docs_table_is_rendered_from_the_published_file():
    published_md = (ROOT / "experiments" / "results" / "env_baselines.md").read_text()
    assert published_md == baselines_markdown(published_baselines())


def test_rescore_writes_the_file_that_the_listing_reads(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(envs.baselines, "PUBLISHED_PATH", tmp_path / "baselines.json")
    markdown = tmp_path / "table.md"
    args = ["envs", "--rescore", "--episodes", "3", "--filter", "GridWorld-Maze", "--markdown", str(markdown)]
    assert main(args) == 0
    written = json.loads((tmp_path / "baselines.json").read_text())
    expected = score_baselines("rlkit/GridWorld-Maze-v0", 3)
    assert written == {"episodes": 3, "seed": 0, "scores": {"rlkit/GridWorld-Maze-v0": expected}}
    assert markdown.read_text() == baselines_markdown(written)
    capsys.readouterr()
    assert main(["envs", "--filter", "GridWorld"]) == 0
    out = capsys.readouterr().out
    assert f"optimal {expected['optimal']:.3g}" in out and "not scored" in out  # the other GridWorld ids
    # A partial rescore with another episode count would mix counts in one file: refused.
    assert main(["envs", "--rescore", "--episodes", "4", "--filter", "GridWorld-Maze"]) == 2
    assert "differs from the 3 episodes" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--markdown", "x.md"], "--markdown only goes with --rescore"),
        (["--rescore", "--episodes", "0"], "--rescore needs --episodes > 0"),
        (["--episodes", "-1"], "--episodes must be 0"),
    ],
)
def test_bad_options(args, message, capsys):
    assert main(["envs", *args]) == 2
    assert message in capsys.readouterr().err
