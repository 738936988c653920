"""The interface of baseline policies (heuristics, exact solvers, oracles) and a runner for them.

A baseline is anything with ``reset(env, observation, info)`` and ``act(observation, info)``.
``reset`` receives the *unwrapped* env at the start of every episode, so an oracle may read the
env's hidden state (that is what makes it an oracle) and a solver may read the known model;
a fair heuristic reads only ``observation`` and ``info``. Baselines use NumPy only, so envs stay
free of torch.

The published scores of every registered id live in ``envs/baselines.json`` (read by ``rlkit envs``,
rewritten by ``rlkit envs --rescore``, checked by a test that recomputes some of them).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol, Sequence

import gymnasium as gym
import numpy as np

PUBLISHED_PATH = Path(__file__).with_name("baselines.json")
PUBLISHED_EPISODES = 100  # episodes per published score


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


def run_episode(env: gym.Env, policy: Policy, seed: int, options: dict | None = None) -> tuple[float, dict]:
    """Return of one episode of `policy` on `env` reset with `seed` (and `options`), and the ``info`` of its last step."""
    obs, info = env.reset(seed=seed, options=options)
    policy.reset(env.unwrapped, obs, info)
    total, done = 0.0, False
    while not done:
        obs, reward, terminated, truncated, info = env.step(policy.act(obs, info))
        total += float(reward)
        done = terminated or truncated
    return total, info


def run_episodes(env: gym.Env, policy: Policy, n_episodes: int, seed: int = 0) -> np.ndarray:
    """Returns of `n_episodes` episodes of `policy` on `env`, episode i reset with seed ``seed + i``."""
    return np.array([run_episode(env, policy, seed + i)[0] for i in range(n_episodes)], dtype=float)


def score_baselines(
    env_id: str,
    n_episodes: int,
    seed: int = 0,
    make_env: Callable[[], gym.Env] | None = None,
    random_seed: int | None = None,
) -> dict[str, float]:
    """Mean return of ``random`` and every baseline of `env_id` over `n_episodes` episodes, episode i
    reset with seed ``seed + i`` (what ``envs/baselines.json`` publishes), each baseline on a new env
    from `make_env` (default ``gymnasium.make(env_id)``); ``random`` is seeded `random_seed` (default `seed`)."""
    import envs

    make_env = make_env or (lambda: gym.make(env_id))
    scores = {}
    for name in ["random", *envs.BASELINES.get(env_id, {})]:
        env = make_env()
        try:
            policy = load_baseline(env_id, name, env, seed=seed if random_seed is None else random_seed)
            scores[name] = float(run_episodes(env, policy, n_episodes, seed=seed).mean())
        finally:
            env.close()
    return scores


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A Markdown table of the envs' results files: the header, its rule and one line per row of cells."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def published_baselines(path: str | Path | None = None) -> dict[str, Any]:
    """The published scores (default file ``PUBLISHED_PATH``): ``{"episodes": N, "seed": s, "scores":
    {env_id: {baseline: mean return}}}``."""
    path = Path(PUBLISHED_PATH if path is None else path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no published baseline scores; write them with `rlkit envs --rescore`")
    published = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(published, dict) or set(published) != {"episodes", "seed", "scores"}:
        raise ValueError(f"{path}: not a baseline file (expected the keys episodes, seed, scores); rewrite it with `rlkit envs --rescore`")
    return published
