"""Registers ``ppo-seq`` (`agents.sequence_ppo.SequencePPO`) without importing it.

The algorithm module imports torch and SB3; registering from here keeps ``rlkit --help`` (which
lists every algorithm) free of both. Each entry of the spec imports the module when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

from agents import AlgoSpec, register_algo
from agents.sb3 import saved_spaces


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
        action_spaces=("Discrete", "Box"),
        build=build,
        load=load,
        saved_spaces=saved_spaces,
        valid_kwargs=valid_kwargs,
        extra={"class_path": "agents.sequence_ppo:SequencePPO"},
    ),
    replace=True,
)
