"""The agents rlkit can train, by name: a registry that ``rlkit train ALGO`` and ``rlkit.app.training`` read.

An entry (`AlgoSpec`) says how to build an agent from a config and a vec env, how to load a saved one,
which action spaces it fits and which constructor arguments it takes. SB3's algorithms are registered
by ``agents.sb3``; any other agent registers itself the same way with `register_algo` from a module
listed in ``AGENT_MODULES``, and must offer the surface of an SB3 model that rlkit uses:

* ``learn(total_timesteps, callback=None, reset_num_timesteps=True, progress_bar=False)``, calling the
  SB3 callback hooks (``on_training_start``, ``on_rollout_start`` at rollout boundaries, ``on_step``
  after every vec-env step with ``new_obs``, ``rewards``, ``dones``, ``infos`` in its locals, …);
* ``save(path_or_file)`` and a ``load(path, env, device)`` in its spec, restoring the step counter
  (``num_timesteps``), schedule progress and the last observation, so that a checkpoint resumes exactly;
* ``predict(observation, state=None, episode_start=None, deterministic=False) -> (action, state)``;
* ``num_timesteps``, ``observation_space``, ``action_space``, ``policy`` (a torch module),
  ``set_logger(logger)``, ``logger``, ``get_env()``.

Subclassing SB3's ``OnPolicyAlgorithm`` (as sb3-contrib's ``RecurrentPPO`` does) gives all of it.

This module imports neither torch nor SB3 (``rlkit --help`` lists the names from here); the specs
resolve their classes when used.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
from dataclasses import dataclass, field
from typing import Any, Callable

# Modules that register agents when imported; a listed module that is not installed is skipped.
AGENT_MODULES: tuple[str, ...] = ("agents.sb3", "agents.sequence")

ON_POLICY_SPACES = ("Box", "Discrete", "MultiDiscrete", "MultiBinary")
# What SB3's policies read (its preprocess_obs); a Dict holds these, one level deep.
OBSERVATION_SPACES = ("Box", "Discrete", "MultiDiscrete", "MultiBinary", "Dict")
COMPOSITE_SPACES = ("Dict", "Tuple")


def _class_names(space: Any) -> set[str]:
    return {cls.__name__ for cls in type(space).__mro__}


def observation_misfit(space: Any, readable: tuple[str, ...]) -> str | None:
    """Why an agent that reads the space classes `readable` cannot read `space`, or None if it can.

    A ``Dict`` or ``Tuple`` in `readable` holds the other classes of `readable`, one level deep (SB3's vec
    envs and buffers store one level)."""
    names = _class_names(space)
    leaves = set(readable) - set(COMPOSITE_SPACES)
    if names & set(COMPOSITE_SPACES):
        if not names & set(readable):
            return f"it reads {', '.join(readable)}, not {type(space).__name__}"
        subspaces = space.spaces.values() if isinstance(space.spaces, dict) else space.spaces
        for sub in subspaces:
            if _class_names(sub) & set(COMPOSITE_SPACES):
                return f"it holds {sub} inside {type(space).__name__}; it reads one level"
            if not _class_names(sub) & leaves:
                return f"it holds {sub}; it reads {', '.join(sorted(leaves))} inside {type(space).__name__}"
        return None
    if names & leaves:
        return None
    return f"it reads {', '.join(readable)}, not {type(space).__name__}"


@dataclass(frozen=True)
class AlgoSpec:
    """How rlkit builds, loads and checks one kind of agent."""

    name: str
    """Registry key, lowercase (``ppo``); ``rlkit train PPO`` matches case-insensitively."""
    summary: str
    """One line for ``rlkit train --help``."""
    action_spaces: tuple[str, ...]
    """Names of the Gymnasium action-space classes the agent can act in (``Box``, ``Discrete``, …)."""
    build: Callable[[Any, Any], Any]
    """``build(config, vec_env) -> agent``: a fresh agent for an `rlkit.app.config.ExperimentConfig`."""
    load: Callable[[Any, Any, str], Any]
    """``load(path, vec_env_or_None, device) -> agent`` (``vec_env`` given to continue training)."""
    saved_spaces: Callable[[Any], tuple[Any, Any]]
    """``saved_spaces(path) -> (observation_space, action_space)`` of a saved agent, without loading weights."""
    valid_kwargs: Callable[[], list[str]]
    """Names accepted in ``algo_kwargs``."""
    observation_spaces: tuple[str, ...] = OBSERVATION_SPACES
    """Names of the Gymnasium observation-space classes the agent reads (a ``Dict``/``Tuple`` one level deep)."""
    off_policy: bool = False
    """Whether the agent has a replay buffer (saved with every checkpoint)."""
    extra: dict[str, Any] = field(default_factory=dict)

    def fits(self, action_space: Any) -> bool:
        """Whether the agent can act in `action_space` (a Gymnasium space)."""
        names = {cls.__name__ for cls in type(action_space).__mro__}
        return bool(names & set(self.action_spaces))

    def observation_misfit(self, observation_space: Any) -> str | None:
        """Why the agent cannot read `observation_space`, or None if it can (see `observation_misfit`)."""
        return observation_misfit(observation_space, self.observation_spaces)


ALGOS: dict[str, AlgoSpec] = {}
_loaded = False


def register_algo(spec: AlgoSpec, replace: bool = False) -> None:
    """Add `spec` to the registry (``replace=True`` to override an entry of the same name)."""
    if spec.name != spec.name.lower():
        raise ValueError(f"algorithm names are lowercase, got {spec.name!r}")
    if spec.name in ALGOS and not replace:
        raise ValueError(f"algorithm {spec.name!r} is already registered; pass replace=True to override it")
    ALGOS[spec.name] = spec


def _load_modules() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in AGENT_MODULES:
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)


def algo_names() -> list[str]:
    """Registered algorithm names, in registration order."""
    _load_modules()
    return list(ALGOS)


def get_algo(name: str) -> AlgoSpec:
    """The spec registered as `name` (case-insensitive); unknown names list the valid ones."""
    _load_modules()
    key = name.strip().lower()
    if key not in ALGOS:
        close = difflib.get_close_matches(key, ALGOS, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(f"unknown algorithm {name!r}; {hint}choose one of: {', '.join(ALGOS)}")
    return ALGOS[key]


def algos_for(action_space: Any, observation_space: Any = None) -> list[str]:
    """Names of the registered algorithms that fit `action_space` (and read `observation_space` if given)."""
    _load_modules()
    return [
        name for name, spec in ALGOS.items()
        if spec.fits(action_space) and (observation_space is None or spec.observation_misfit(observation_space) is None)
    ]  # fmt: skip
