"""`rlkit envs`: every registered rlkit env with its spaces and baseline scores."""

import gymnasium as gym

import envs
from envs.baselines import RandomPolicy, load_baseline, run_episodes
from rlkit.app.cli import main
from rlkit.app.commands.envs import describe_space


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
