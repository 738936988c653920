"""Roll out a policy on an env and write a dataset (observations, actions, rewards, episode starts, info) for pretraining.

  rlkit collect rlkit/HVAC-v0 --policy schedule_thermostat --steps 20000 --out data/hvac.npz
  rlkit collect rlkit/GridWorld-Image-v0 --policy random --steps 10000 --out data/grid.npz
  rlkit collect rlkit/GroundhogDay-v0 --policy heuristic --steps 5000 --out data/gh.npz
  rlkit collect CartPole-v1 --policy runs/CartPole-v1__ppo__default__s0__20260101-120000 --out data/cp.npz

--policy: random (uniform over the action space, or the valid actions of info["action_mask"]),
heuristic (the env's first baseline in `rlkit envs`), a baseline's name (e.g. schedule_thermostat),
or a run directory of `rlkit train` (its deterministic policy). Episode i is reset with seed SEED + i.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("env", metavar="ENV", help="Gymnasium env id (rlkit/HVAC-v0, CartPole-v1, or module:EnvId)")
    parser.add_argument("--policy", default="random", help="random, heuristic, a baseline name, or a run directory")
    parser.add_argument("--steps", type=int, default=10_000, metavar="N", help="env steps to record")
    parser.add_argument("--out", required=True, metavar="FILE", help="dataset file to write (.npz)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode (and of the random policy)")
    parser.add_argument("--env-kwargs", nargs="+", action="extend", default=[], metavar="KEY=VALUE", help="env constructor arguments")
    parser.add_argument("--stochastic", action="store_true", help="with a run directory: sample actions instead of the mode")


class RunPolicy:
    """A trained run as an ``envs.baselines`` policy: its model's ``predict``, with frozen normalization and memory."""

    def __init__(self, model: Any, normalize: Any, deterministic: bool):
        self.model, self.normalize, self.deterministic = model, normalize, deterministic
        self.state = None
        self.episode_start = True

    def reset(self, env: Any, observation: Any, info: dict) -> None:
        self.state, self.episode_start = None, True

    def act(self, observation: Any, info: dict) -> Any:
        import numpy as np

        obs = observation
        if self.normalize is not None and getattr(self.normalize, "norm_obs", False):
            obs = self.normalize.normalize_obs(np.asarray(observation)[None])[0]
        action, self.state = self.model.predict(
            obs, state=self.state, episode_start=np.array([self.episode_start]), deterministic=self.deterministic
        )
        self.episode_start = False
        return action


def resolve_policy(name: str, env_id: str, env: Any, env_kwargs: dict, seed: int, deterministic: bool) -> tuple[Any, str]:
    """``(policy, description)`` for ``--policy``; a run whose spaces differ from the env is refused."""
    import envs
    from envs.baselines import RandomPolicy, load_baseline

    if name == "random":
        return RandomPolicy(env, seed), "random"
    if Path(name).is_dir():
        from rlkit.checkpoints import check_spaces
        from rlkit.app.run_dir import load_agent

        model, config, path, normalize = load_agent(name, device="cpu")
        check_spaces(path, model.observation_space, model.action_space, env.observation_space, env.action_space, env_id)
        return RunPolicy(model, normalize, deterministic), f"run:{Path(name).name}"
    spec_id = env_id.rpartition(":")[2]
    known = envs.BASELINES.get(spec_id, {})
    if name == "heuristic":
        if not known:
            raise ValueError(f"{spec_id} has no heuristic baseline; use --policy random or a run directory")
        name = next(iter(known))
    if name not in known:
        choices = ", ".join(["random", "heuristic", *known])
        if Path(name).is_file():
            raise ValueError(f"--policy {name!r} is a file, not a run directory; choose one of: {choices}, or a run directory")
        raise ValueError(f"unknown --policy {name!r} for {spec_id}; choose one of: {choices}, or a run directory")
    return load_baseline(spec_id, name, env), name


def run(args: argparse.Namespace) -> int:
    from rlkit.app.config import EnvConfig, parse_assignment, set_path
    from rlkit.pretrain.dataset import collect, save_dataset
    from rlkit.app.env_factory import make_env

    if args.steps <= 0:
        raise ValueError(f"--steps must be a positive integer, got {args.steps}")
    if args.seed < 0:
        raise ValueError(f"--seed must be a non-negative integer (Gymnasium's reset seeds are), got {args.seed}")
    if args.stochastic and not Path(args.policy).is_dir():
        raise ValueError(f"--stochastic applies to a run directory's policy, not --policy {args.policy!r}; drop --stochastic")
    if not args.out.endswith(".npz"):
        raise ValueError(f"--out {args.out!r}: expected a .npz file name, e.g. data/hvac.npz")
    from rlkit.atomic_io import check_output_path

    check_output_path(args.out, "--out")  # before the rollouts, not after them
    kwargs: dict[str, Any] = {}
    for item in args.env_kwargs:
        keys, value = parse_assignment(item, "--env-kwargs")
        set_path(kwargs, keys, value)
    env = make_env(EnvConfig(id=args.env, kwargs=kwargs))
    try:
        policy, description = resolve_policy(args.policy, args.env, env, kwargs, args.seed, not args.stochastic)
        dataset = collect(env, policy, args.steps, args.seed, args.env, kwargs, description)
    finally:
        env.close()
    path = save_dataset(dataset, args.out)
    m = dataset.manifest
    mean = m["mean_episode_return"]
    print(f"wrote {path}: {m['steps']:,} steps, {m['episodes_finished']} finished episodes"
          f"{'' if mean is None else f' (mean return {mean:.4g})'} of {description} on {m['env_id']}")  # fmt: skip
    return 0
