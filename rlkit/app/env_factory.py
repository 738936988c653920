"""Building the envs of a run: one env as its config describes it, the vectorised training stack, and its spaces.

Env ids are Gymnasium's; rlkit's envs are registered by importing ``envs``, and ``module:EnvId``
imports ``module`` first. Bad ids, kwargs and wrappers are one-line ``ValueError``s that name what
would be right.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import signal
from functools import partial
from pathlib import Path
from typing import Any

import gymnasium as gym
import gymnasium.wrappers
from gymnasium.envs.registration import load_env_creator
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecNormalize

import envs  # noqa: F401  (registers rlkit/…)
from rlkit.app.config import ExperimentConfig
from rlkit.constraints import LagrangianPenalty
from rlkit.vec_env import make_vector_env


def _import_hint(module: str, exc: ImportError) -> str:
    """What to try when `module` itself (not something it imports) is not found."""
    top = module.split(".")[0]
    if not isinstance(exc, ModuleNotFoundError) or exc.name is None or not module.startswith(exc.name):
        return ""
    if Path(f"{top}.py").is_file() or Path(top).is_dir():
        return f"; {top!r} is in the current directory, which Python does not search here: run with PYTHONPATH=. (e.g. PYTHONPATH=. rlkit train …)"
    return "; is it installed, or on PYTHONPATH? (PYTHONPATH=. for a module in the current directory)"


def resolve_env_id(env_id: str) -> Any:
    """The Gymnasium `EnvSpec` of `env_id` (rlkit's envs registered; ``module:EnvId`` imports `module`).

    Unknown ids raise a `ValueError` with the closest registered ids."""
    module, _, name = env_id.rpartition(":")
    if module:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ValueError(f"env id {env_id!r}: cannot import module {module!r} ({exc}){_import_hint(module, exc)}") from None
        except Exception as exc:  # the module exists but raised while importing
            raise ValueError(f"env id {env_id!r}: importing module {module!r} failed: {type(exc).__name__}: {exc}") from None
    try:
        return gym.spec(name)
    except gym.error.Error:
        close = difflib.get_close_matches(name, list(gym.registry), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"unknown env id {name!r}{hint} (`rlkit envs` lists rlkit's envs; `module:EnvId` imports your module first)"
        ) from None


def _resolve_wrapper(name: str) -> type:
    if ":" in name or "." in name:
        module, _, attr = name.rpartition(":") if ":" in name else name.rpartition(".")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"env.wrappers: cannot import {name!r} ({exc})") from None
    wrapper = getattr(gymnasium.wrappers, name, None)
    if wrapper is None:
        close = difflib.get_close_matches(name, gymnasium.wrappers.__all__, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"env.wrappers: {name!r} is not in gymnasium.wrappers{hint} (or give module:Class)")
    return wrapper


def rejected_kwargs(env_id: str, kwargs: dict[str, Any], exc: TypeError) -> ValueError:
    """The one line for env kwargs the constructor refused: its error, and the keywords it does take."""
    # Gymnasium appends "was raised from the environment creator for ID with kwargs (...)": said already.
    reason = str(exc).split(" was raised from the environment creator")[0].strip()
    entry = resolve_env_id(env_id).entry_point
    try:
        params = inspect.signature(load_env_creator(entry) if isinstance(entry, str) else entry).parameters
    except (TypeError, ValueError, ImportError, AttributeError):  # a creator without a readable signature
        return ValueError(f"{env_id} rejected env kwargs {kwargs}: {reason}")
    if any(p.kind == inspect.Parameter.VAR_KEYWORD for p in params.values()):  # **kwargs: its names are not listed
        return ValueError(f"{env_id} rejected env kwargs {kwargs}: {reason}")
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    accepted = [name for name, p in params.items() if p.kind in keyword and name not in ("self", "render_mode")]
    hint = ""
    unknown = [key for key in kwargs if key not in accepted]
    close = difflib.get_close_matches(unknown[0], accepted, n=1) if unknown and accepted else []
    if close:
        hint = f"; did you mean {close[0]!r}?"
    takes = f" ({env_id} takes: {', '.join(accepted)})" if accepted else f" ({env_id} takes no keyword arguments)"
    return ValueError(f"{env_id} rejected env kwargs {kwargs}: {reason}{hint}{takes}")


def make_env(env_config: Any, render_mode: str | None = None, monitor: bool = False) -> Any:
    """One env as the config describes it: ``gymnasium.make(id, **kwargs)`` then the wrappers in order.

    `monitor` puts SB3's ``Monitor`` right after ``make`` (before the wrappers), so episode returns
    are the env's own rewards whatever the wrappers do to them."""

    resolve_env_id(env_config.id)
    kwargs = dict(env_config.kwargs)
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    try:
        env = gym.make(env_config.id, **kwargs)
    except TypeError as exc:
        raise rejected_kwargs(env_config.id, dict(env_config.kwargs), exc) from None
    if monitor:
        env = Monitor(env)
    for wrapper in env_config.wrappers:
        try:
            env = _resolve_wrapper(wrapper.name)(env, **wrapper.kwargs)
        except TypeError as exc:
            raise ValueError(f"env.wrappers: {wrapper.name}({wrapper.kwargs}) failed: {exc}") from None
    return env


def _make_env_in_worker(env_config: Any) -> Any:
    # Ctrl-C reaches the whole process group; a SubprocVecEnv worker that died of it would take the
    # run down before the main process could checkpoint. The main process decides when to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    return make_env(env_config, None, True)


def make_vec_env(config: ExperimentConfig) -> Any:
    """The training env stack: ``n_envs`` copies as an SB3 ``VecEnv``, then the ``constraint``'s
    `rlkit.constraints.LagrangianPenalty` and ``VecNormalize`` on top when configured. Not yet seeded: building the agent seeds copy i with ``seed + i``.

    ``env.vectorization``: ``vector`` steps the env's batched ``vector_entry_point`` through
    `rlkit.vec_env.VectorEnvAdapter`; ``auto`` does so where the env has one that autoresets in the same
    step (rlkit's envs) and no wrappers are configured, else uses SB3's ``DummyVecEnv``."""
    spec = resolve_env_id(config.env.id)
    mode = config.env.vectorization
    if mode == "vector" and spec.vector_entry_point is None:
        raise ValueError(f"env.vectorization=vector but {config.env.id} has no vector_entry_point; use auto, dummy or subproc")
    if mode == "vector" and config.env.wrappers:
        raise ValueError("env.vectorization=vector cannot apply env.wrappers (they wrap single envs); use dummy")
    env = None
    if mode in ("auto", "vector") and spec.vector_entry_point is not None and not config.env.wrappers:
        try:
            env = make_vector_env(config.env.id, config.n_envs, config.env.kwargs, require_same_step=mode == "auto")
        except TypeError as exc:
            raise rejected_kwargs(config.env.id, dict(config.env.kwargs), exc) from None
    if env is None:
        make_env(config.env).close()  # fail here, in this process, on bad kwargs or wrappers
        if mode == "subproc":
            env = SubprocVecEnv([partial(_make_env_in_worker, config.env)] * config.n_envs)
        else:
            env = DummyVecEnv([partial(make_env, config.env, None, True)] * config.n_envs)
    constraint = config.constraint
    if constraint is not None:  # under VecNormalize: the penalty applies to the env's reward, normalized after
        env = LagrangianPenalty(env, constraint.cost, constraint.limit, constraint.lr, constraint.multiplier_init, constraint.kp)
    norm = config.env.normalize
    if norm.obs or norm.reward:
        gamma = float(config.algo_kwargs.get("gamma", 0.99))
        env = VecNormalize(
            env, norm_obs=norm.obs, norm_reward=norm.reward, clip_obs=norm.clip_obs, clip_reward=norm.clip_reward, gamma=gamma
        )
    return env


def env_spaces(config: ExperimentConfig) -> tuple[Any, Any]:
    """(observation, action) space of the config's env as an SB3 agent sees them (images channel-first)."""
    venv = BaseAlgorithm._wrap_env(DummyVecEnv([partial(make_env, config.env)]))
    try:
        return venv.observation_space, venv.action_space
    finally:
        venv.close()
