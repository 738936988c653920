"""The training vec env stack in a checkpoint: each SB3 ``VecEnvWrapper`` layer stored as
(class, attributes) around the layer below, since the wrappers cannot be pickled as they are (they
cache their class's members, ABC data included) and ``VecNormalize`` pickles without its env."""

from __future__ import annotations

import inspect
import pickle
from typing import Any

import cloudpickle
from stable_baselines3.common.vec_env import SubprocVecEnv, VecEnvWrapper, VecNormalize

from rlkit.checkpoints.bundle import CheckpointError


def freeze_env(vec_env: Any) -> bytes | None:
    """`vec_env` pickled layer by layer; None for a ``SubprocVecEnv`` (its envs live in other processes)."""
    if isinstance(vec_env.unwrapped, SubprocVecEnv):
        return None
    return cloudpickle.dumps(_freeze(vec_env))


def _freeze(env: Any) -> tuple:
    if isinstance(env, VecEnvWrapper):
        attributes = {k: v for k, v in vars(env).items() if k not in ("venv", "class_attributes")}
        return ("wrapper", type(env), attributes, _freeze(env.venv))
    return ("base", env)


def _thaw(frozen: tuple) -> Any:
    if frozen[0] == "base":
        return frozen[1]
    _, cls, attributes, inner = frozen
    wrapper = cls.__new__(cls)
    wrapper.__dict__.update(attributes)
    wrapper.venv = _thaw(inner)
    wrapper.class_attributes = dict(inspect.getmembers(cls))
    return wrapper


def restore_env(state: dict[str, Any], fallback: Any = None) -> Any:
    """The training vec env stack from a checkpoint payload (`fallback` where it was not picklable)."""
    if state["env"] is None:
        if fallback is None:
            raise CheckpointError("the checkpoint holds no env state and no fresh env was given")
        return fallback
    return _thaw(pickle.loads(state["env"]))


def normalization_of(state: dict[str, Any]) -> Any:
    """The ``VecNormalize`` layer of a checkpoint's env stack (its statistics), or None."""
    if state["env"] is None:
        return None
    frozen = pickle.loads(state["env"])
    while frozen[0] == "wrapper":
        _, cls, attributes, inner = frozen
        if issubclass(cls, VecNormalize):
            return _thaw(frozen)
        frozen = inner
    return None
