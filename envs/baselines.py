"""The interface of baseline policies (heuristics, exact solvers, oracles) and a runner for them.

A baseline is anything with ``reset(env, observation, info)`` and ``act(observation, info)``.
``reset`` receives the *unwrapped* env at the start of every episode, so an oracle may read the
env's hidden state (that is what makes it an oracle) and a solver may read the known model;
a fair heuristic reads only ``observation`` and ``info``. Baselines use NumPy only, so envs stay
free of torch.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

import gymnasium as gym
import numpy as np


class Policy(Protocol):
    def reset(self, env: gym.Env, observation: Any, info: dict) -> None: ...

    def act(self, observation: Any, info: dict) -> Any: ...


class RandomPolicy:
    """Uniform over the action space (over ``info["action_mask"]``'s valid actions where given)."""

    def __init__(self, env: gym.Env, seed: int | None = None):
        self.action_space = env.action_space
        self.rng = np.random.default_rng(seed)

    def reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        pass

    def act(self, observation: Any, info: dict) -> Any:
        mask = info.get("action_mask")
        if mask is not None and isinstance(self.action_space, gym.spaces.Discrete):
            valid = np.flatnonzero(mask)
            return int(self.action_space.start + self.rng.choice(valid))
        if isinstance(self.action_space, gym.spaces.Discrete):
            return int(self.action_space.start + self.rng.integers(self.action_space.n))
        if isinstance(self.action_space, gym.spaces.Box):
            low = np.where(np.isfinite(self.action_space.low), self.action_space.low, -1.0)
            high = np.where(np.isfinite(self.action_space.high), self.action_space.high, 1.0)
            return self.rng.uniform(low, high).astype(self.action_space.dtype)
        raise ValueError(f"RandomPolicy supports Discrete and Box action spaces, got {self.action_space}")


def load_baseline(env_id: str, name: str, env: gym.Env, seed: int = 0) -> Policy:
    """Build baseline `name` of `env_id` (see ``envs.BASELINES``) for `env`; ``random`` uses `seed`."""
    import envs

    if name == "random":
        return RandomPolicy(env, seed=seed)
    known = envs.BASELINES.get(env_id, {})
    if name not in known:
        choices = ", ".join(["random", *known]) or "random"
        raise ValueError(f"unknown baseline {name!r} for {env_id}; choose one of: {choices}")
    module_name, factory = known[name].split(":")
    return getattr(importlib.import_module(module_name), factory)(env.unwrapped)


def run_episodes(env: gym.Env, policy: Policy, n_episodes: int, seed: int = 0) -> np.ndarray:
    """Returns of `n_episodes` episodes of `policy` on `env`, episode i reset with seed ``seed + i``."""
    returns = np.zeros(n_episodes)
    for i in range(n_episodes):
        obs, info = env.reset(seed=seed + i)
        policy.reset(env.unwrapped, obs, info)
        done = False
        while not done:
            obs, reward, terminated, truncated, info = env.step(policy.act(obs, info))
            returns[i] += float(reward)
            done = terminated or truncated
    return returns
