"""Registers ``ppo-seq``, ``sac-seq`` and ``dqn-seq`` (agents.sequence_ppo, sequence_sac, sequence_dqn) without importing them.

The algorithm module imports torch and SB3; registering from here keeps ``rlkit --help`` (which
lists every algorithm) free of both. Each entry of the spec imports the module when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

from agents import AlgoSpec, register_algo
from agents.sb3 import saved_spaces


# Every space rlkit's sequence encoders read (rlkit.nn.spaces), a Dict or Tuple one level deep.
OBSERVATION_SPACES = ("Box", "Discrete", "MultiDiscrete", "MultiBinary", "Dict", "Tuple")


def _algorithm_module() -> Any:
    return importlib.import_module("agents.sequence_ppo")


def build(config: Any, env: Any) -> Any:
    return _algorithm_module().build(config, env)


def load(path: Any, env: Any = None, device: str = "auto") -> Any:
    return _algorithm_module().load(path, env, device)


def valid_kwargs() -> list[str]:
    return _algorithm_module().valid_kwargs()


register_algo(
    AlgoSpec(
        name="ppo-seq",
        summary="PPO with a memory: any rlkit sequence encoder (--encoder lstm|gru|tcn|transformer; default lstm)",
        action_spaces=("Discrete", "MultiDiscrete", "MultiBinary", "Box"),
        observation_spaces=OBSERVATION_SPACES,
        build=build,
        load=load,
        saved_spaces=saved_spaces,
        valid_kwargs=valid_kwargs,
        extra={"class_path": "agents.sequence_ppo:SequencePPO"},
    ),
    replace=True,
)


def _lazy(module: str, name: str) -> Any:
    """``module.name`` called with the arguments given, the module imported at the first call."""

    def call(*args: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args)

    return call


for _name, _module, _summary, _spaces in (
    ("sac-seq", "agents.sequence_sac", "SAC with a memory: actor and critics over any rlkit sequence encoder "
     "(--encoder lstm|gru|tcn|transformer; default gru), R2D2-style sequence replay", ("Box",)),
    ("dqn-seq", "agents.sequence_dqn", "Double DQN with a memory: any rlkit sequence encoder "
     "(--encoder lstm|gru|tcn|transformer; default gru), R2D2-style sequence replay", ("Discrete",)),
):  # fmt: skip
    register_algo(
        AlgoSpec(
            name=_name,
            summary=_summary,
            action_spaces=_spaces,
            build=_lazy(_module, "build"),
            load=_lazy(_module, "load"),
            saved_spaces=saved_spaces,
            valid_kwargs=_lazy(_module, "kwargs"),
            off_policy=True,
            extra={"class_path": f"{_module}:Sequence{'SAC' if _name == 'sac-seq' else 'DQN'}"},
        ),
        replace=True,
    )
