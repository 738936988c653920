"""experiments/run_all.baselines_for scores on the evaluation's episodes, with the config's env kwargs."""

import gymnasium as gym

import envs
from envs.baselines import RandomPolicy, load_baseline, run_episodes
from experiments import run_all
from rlkit.app.config import config_from_dict


def _reference(env_id, kwargs, episodes, seed):
    # Plain loop: a new env per baseline, random seeded 0, episode i reset with seed + i.
    out = {}
    for name in ["random", *envs.BASELINES.get(env_id, {})]:
        env = gym.make(env_id, **kwargs)
        policy = RandomPolicy(env, seed=0) if name == "random" else load_baseline(env_id, name, env)
        out[name] = float(run_episodes(env, policy, episodes, seed).mean())
        env.close()
    return out


def test_baselines_for_matches_a_plain_loop_on_the_eval_seeds():
    kwargs = {"size": 5, "slip_prob": 0.3}
    config = config_from_dict({"env": {"id": "rlkit/GridWorld-v0", "kwargs": kwargs}, "eval": {"episodes": 4, "seed": 7}})
    got = run_all.baselines_for(config)
    assert set(got) >= {"random"} and len(got) > 1
    assert got == _reference("rlkit/GridWorld-v0", kwargs, 4, 7)
    # The seeds matter: another eval.seed scores the random policy differently.
    assert got != _reference("rlkit/GridWorld-v0", kwargs, 4, 1007)
