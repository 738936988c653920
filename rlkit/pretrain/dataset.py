"""Datasets of transitions for pretraining: collect them from any Gymnasium env, write, read, validate.

A dataset is one ``np.savez_compressed`` file (written atomically) holding, for N steps in the
order they were taken::

    observations    (N, *obs_shape)   what the policy saw before acting
    actions         (N, *act_shape)   what it did
    rewards         (N,)              float32
    episode_starts  (N,)              bool, True at the first step of every episode
    terminated      (N,)              bool, the step ended its episode in a terminal state
    truncated       (N,)              bool, the step ended its episode by a time limit
    info/<key>      (N,)              numeric scalar ``info`` entries present at every step
    episode/<key>   (E,)              ``info["episode_metrics"]`` of every finished episode
    manifest        ()                JSON: env id and kwargs, spaces, seed, policy, counts

The manifest is stored inside the npz as a JSON string (read with ``allow_pickle=False``), so a
dataset is one file that cannot drift from its description. ``check_spaces`` refuses a dataset
whose spaces differ from the env (or policy) it is used with.

Only array-valued spaces (Box, Discrete, MultiDiscrete, MultiBinary) are stored; Dict
observations are refused with a clear message.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rlkit.atomic_io import atomic_open
from rlkit.nn.spaces import describe_space, space_from_dict, space_to_dict

FORMAT = "rlkit.pretrain.dataset/1"
ARRAYS = ("observations", "actions", "rewards", "episode_starts", "terminated", "truncated")


class Policy(Protocol):
    """What ``collect`` rolls out (the interface of ``envs.baselines``)."""

    def reset(self, env: gym.Env, observation: Any, info: dict) -> None: ...

    def act(self, observation: Any, info: dict) -> Any: ...


@dataclass
class Dataset:
    """Transitions in the order they were taken; see the module docstring for the arrays."""

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    episode_starts: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    manifest: dict[str, Any]
    infos: dict[str, np.ndarray] = field(default_factory=dict)
    episode_metrics: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.rewards.shape[0])

    @property
    def observation_space(self) -> gym.Space:
        return space_from_dict(self.manifest["observation_space"])

    @property
    def action_space(self) -> gym.Space:
        return space_from_dict(self.manifest["action_space"])

    def episode_ids(self) -> np.ndarray:
        """``(N,)`` index of the episode each step belongs to (0 for steps before the first start)."""
        return np.maximum(np.cumsum(self.episode_starts) - 1, 0)

    def split(self, holdout: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """``(train_steps, holdout_steps)`` index arrays; whole episodes are held out (never half of one).

        With fewer than two episodes the last ``holdout`` fraction of the steps is held out instead."""
        if not 0.0 < holdout < 1.0:
            raise ValueError(f"got holdout={holdout}; expected a fraction in (0, 1), e.g. 0.1")
        ids = self.episode_ids()
        n_episodes = int(ids.max()) + 1 if len(ids) else 0
        if n_episodes < 2:
            cut = int(round(len(self) * (1.0 - holdout)))
            steps = np.arange(len(self))
            return steps[:cut], steps[cut:]
        rng = np.random.default_rng(seed)
        n_hold = max(1, int(round(n_episodes * holdout)))
        held = rng.choice(n_episodes, size=n_hold, replace=False)
        mask = np.isin(ids, held)
        return np.flatnonzero(~mask), np.flatnonzero(mask)


def _check_storable(space: gym.Space, what: str) -> None:
    if not isinstance(space, (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)):
        raise ValueError(
            f"got {what} space {describe_space(space)}; datasets store Box, Discrete, MultiDiscrete or MultiBinary "
            "spaces (flatten a Dict space with gymnasium.wrappers.FlattenObservation first)"
        )


def _scalar(value: Any) -> float | None:
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, np.ndarray) and value.shape == ():
        return float(value)
    return None


def collect(
    env: gym.Env,
    policy: Policy,
    steps: int,
    seed: int = 0,
    env_id: str | None = None,
    env_kwargs: dict[str, Any] | None = None,
    policy_name: str = "unknown",
) -> Dataset:
    """Roll out ``policy`` on ``env`` for ``steps`` steps; episode i is reset with seed ``seed + i``.

    The last episode may be cut short by ``steps`` (its last step is then neither terminated nor
    truncated). ``env_id``/``env_kwargs``/``policy_name`` go into the manifest.
    """
    if steps < 1:
        raise ValueError(f"got steps={steps}; expected a positive number of steps to collect")
    _check_storable(env.observation_space, "observation")
    _check_storable(env.action_space, "action")
    obs_space, act_space = env.observation_space, env.action_space
    observations = np.empty((steps, *obs_space.shape), dtype=obs_space.dtype)
    actions = np.empty((steps, *act_space.shape), dtype=act_space.dtype)
    rewards = np.zeros(steps, dtype=np.float32)
    starts = np.zeros(steps, dtype=bool)
    terminated = np.zeros(steps, dtype=bool)
    truncated = np.zeros(steps, dtype=bool)
    info_columns: dict[str, np.ndarray] = {}
    info_missing: set[str] = set()
    episode_metrics: dict[str, list[float]] = {}

    episode = 0
    obs, info = env.reset(seed=seed)
    policy.reset(env.unwrapped, obs, info)
    starts[0] = True
    for t in range(steps):
        observations[t] = obs
        action = _as_action(policy.act(obs, info), act_space)
        if not act_space.contains(action):
            raise ValueError(f"policy {policy_name!r} returned action {action!r} outside the action space {describe_space(act_space)}")
        actions[t] = action
        obs, reward, term, trunc, info = env.step(action)
        rewards[t], terminated[t], truncated[t] = reward, term, trunc
        _record_info(info, t, steps, info_columns, info_missing)
        if term or trunc:
            for key, value in (info.get("episode_metrics") or {}).items():
                number = _scalar(value)
                if number is not None:
                    episode_metrics.setdefault(key, []).append(number)
            episode += 1
            if t + 1 < steps:
                obs, info = env.reset(seed=seed + episode)
                policy.reset(env.unwrapped, obs, info)
                starts[t + 1] = True
    manifest = _manifest(env, env_id, env_kwargs, seed, policy_name, rewards, starts, terminated | truncated)
    n_finished = manifest["episodes_finished"]
    metrics = {k: np.asarray(v, dtype=np.float64) for k, v in episode_metrics.items() if len(v) == n_finished}
    return Dataset(observations, actions, rewards, starts, terminated, truncated, manifest, info_columns, metrics)


def _record_info(info: dict, t: int, steps: int, columns: dict[str, np.ndarray], missing: set[str]) -> None:
    """Store step `t`'s scalar ``info`` entries in `columns`; a key that is absent or not a scalar at
    some step is no per-step metric: it goes to `missing` and its column is dropped."""
    for key, value in info.items():
        number = _scalar(value)
        if number is None or key in missing:
            continue
        if key not in columns:
            if t > 0:  # absent earlier: not a per-step metric
                missing.add(key)
                continue
            columns[key] = np.zeros(steps, dtype=np.float32)
        columns[key][t] = number
    for key in list(columns):
        if _scalar(info.get(key)) is None:
            missing.add(key)
            del columns[key]


def _manifest(
    env: gym.Env,
    env_id: str | None,
    env_kwargs: dict[str, Any] | None,
    seed: int,
    policy_name: str,
    rewards: np.ndarray,
    starts: np.ndarray,
    done: np.ndarray,
) -> dict[str, Any]:
    """What `collect` writes beside the arrays: where the data came from and its episode counts."""
    obs_space, act_space = env.observation_space, env.action_space
    return {
        "format": FORMAT,
        "env_id": env_id or (env.spec.id if env.spec is not None else type(env.unwrapped).__name__),
        "env_kwargs": dict(env_kwargs or {}),
        "observation_space": space_to_dict(obs_space),
        "action_space": space_to_dict(act_space),
        "seed": int(seed),
        "policy": policy_name,
        "steps": len(rewards),
        "episodes_started": int(starts.sum()),
        "episodes_finished": int(done.sum()),
        "mean_episode_return": _mean_return(rewards, starts, done),
    }


def _as_action(action: Any, space: gym.Space) -> Any:
    if isinstance(space, spaces.Discrete):
        return np.int64(np.asarray(action).reshape(()))
    return np.asarray(action, dtype=space.dtype).reshape(space.shape)


def _mean_return(rewards: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> float | None:
    returns, total, open_ = [], 0.0, False
    for r, s, e in zip(rewards, starts, ends):
        if s:
            total, open_ = 0.0, True
        total += float(r)
        if e and open_:
            returns.append(total)
            open_ = False
    return float(np.mean(returns)) if returns else None


def save_dataset(dataset: Dataset, path: str | os.PathLike) -> Path:
    """Write ``dataset`` to ``path`` (``.npz``) atomically: a crash never leaves half a file."""
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"got dataset path {str(path)!r}; expected a .npz file name, e.g. data/hvac.npz")
    arrays = {name: getattr(dataset, name) for name in ARRAYS}
    arrays.update({f"info/{k}": v for k, v in dataset.infos.items()})
    arrays.update({f"episode/{k}": v for k, v in dataset.episode_metrics.items()})
    arrays["manifest"] = np.array(json.dumps(dataset.manifest, sort_keys=True))
    with atomic_open(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)
    return path


def load_dataset(path: str | os.PathLike) -> Dataset:
    """Read a dataset written by ``save_dataset``; a missing array or a foreign file is a ``ValueError``."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"dataset {str(path)!r} is a directory; expected the .npz file written by `rlkit collect`")
    if not path.is_file():
        raise FileNotFoundError(f"dataset {str(path)!r} does not exist (write one with `rlkit collect`)")
    try:
        with np.load(path, allow_pickle=False) as data:
            contents = {k: data[k] for k in data.files}
    except Exception as exc:  # not a zip, truncated, or pickled objects
        raise ValueError(f"got {str(path)!r}, which is not an rlkit dataset ({type(exc).__name__}); write one with `rlkit collect`") from None
    if "manifest" not in contents:
        raise ValueError(f"got {str(path)!r} without a manifest; expected a dataset written by `rlkit collect`")
    manifest = json.loads(str(contents.pop("manifest")))
    if manifest.get("format") != FORMAT:
        raise ValueError(f"got {str(path)!r} with format {manifest.get('format')!r}; expected {FORMAT!r}")
    missing = [name for name in ARRAYS if name not in contents]
    if missing:
        raise ValueError(f"dataset {str(path)!r} lacks arrays {missing}; it is truncated or not written by `rlkit collect`")
    lengths = {name: contents[name].shape[0] for name in ARRAYS}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"dataset {str(path)!r} has arrays of different lengths {lengths}")
    infos = {k[5:]: v for k, v in contents.items() if k.startswith("info/")}
    episode = {k[8:]: v for k, v in contents.items() if k.startswith("episode/")}
    dataset = Dataset(**{name: contents[name] for name in ARRAYS}, manifest=manifest, infos=infos, episode_metrics=episode)
    obs_space = dataset.observation_space
    if tuple(dataset.observations.shape[1:]) != tuple(obs_space.shape):
        raise ValueError(
            f"dataset {str(path)!r} holds observations of shape {dataset.observations.shape[1:]}; "
            f"its manifest says {describe_space(obs_space)}"
        )
    return dataset


def check_spaces(dataset: Dataset, observation_space: gym.Space, action_space: gym.Space | None = None, target: str = "the env") -> None:
    """Refuse (``ValueError``) a dataset collected in other spaces than ``target``'s."""
    source = f"dataset of {dataset.manifest.get('env_id')!r}"
    if space_to_dict(dataset.observation_space) != space_to_dict(observation_space):
        raise ValueError(
            f"{source} has observation space {describe_space(dataset.observation_space)}; {target} has "
            f"{describe_space(observation_space)}; collect a dataset from the same env (and kwargs) with `rlkit collect`"
        )
    if action_space is not None and space_to_dict(dataset.action_space) != space_to_dict(action_space):
        raise ValueError(
            f"{source} has action space {describe_space(dataset.action_space)}; {target} has "
            f"{describe_space(action_space)}; collect a dataset from the same env (and kwargs) with `rlkit collect`"
        )
