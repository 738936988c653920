"""Checks of a config that need imports (torch, the agents, the env), made before anything is written."""

from __future__ import annotations

import difflib
from typing import Any

import torch

from agents import algo_names, algos_for, get_algo
from rlkit.app.config import ExperimentConfig
from rlkit.app.env_factory import make_env, resolve_env_id
from rlkit.nn import encoder_names, fitting_encoders, sequence_encoder_names
from rlkit.pretrain.gail.reward import check_gail_config
from rlkit.pretrain.regularize import check_bc_config


def check_device(device: str) -> None:
    """A one-line ``ValueError`` for a device torch cannot parse or this machine lacks (``auto`` passes)."""
    if device == "auto":
        return
    try:
        parsed = torch.device(device)
    except RuntimeError:
        raise ValueError(f"device {device!r} is not a torch device; expected auto, cpu, cuda or cuda:N") from None
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r}: CUDA is not available on this machine; use cpu or auto")
    if parsed.type == "cuda" and parsed.index is not None and parsed.index >= torch.cuda.device_count():
        raise ValueError(f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")


def _sequence_agent_hint(config: ExperimentConfig, algo: Any, observation_space: Any, action_space: Any) -> None:
    """Refuse a sequence encoder (lstm, gru, …) that a feed-forward agent could only use as a window encoder
    on a space without windows, pointing at the sequence agent that gives it a memory over the episode."""
    encoder, kwargs = config.policy.encoder, config.policy.encoder_kwargs
    if algo.name.endswith("-seq") or encoder not in sequence_encoder_names() or "window" in kwargs or kwargs.get("sequence"):
        return
    try:
        if encoder in fitting_encoders(observation_space):
            return
    except ValueError:
        return  # an unsupported space: the encoder reports it
    agents = [name for name in algos_for(action_space) if name.endswith("-seq")]
    if not agents:
        return
    agent = f"{algo.name}-seq" if f"{algo.name}-seq" in agents else agents[0]
    raise ValueError(
        f"encoder {encoder!r} with {algo.name} reads a window of observations (T, D), which {config.env.id}'s "
        f"observations are not; for a memory over the episode use the sequence agent: rlkit train {agent} "
        f"{config.env.id} --encoder {encoder} (or keep {algo.name} and stack frames: --encoder-kwargs window=T)"
    )


def validate(config: ExperimentConfig) -> Any:
    """Everything about `config` that needs imports, checked before anything is written.

    Returns the algorithm's `agents.AlgoSpec`. Raises `ValueError` (one line) for an unknown env id,
    algorithm, encoder, wrapper or ``algo_kwargs`` key, env kwargs the env rejects, or an algorithm
    that cannot read the env's observation space or act in its action space."""
    check_device(config.device)
    resolve_env_id(config.env.id)
    algo = get_algo(config.algo)
    env = make_env(config.env)
    try:
        action_space, observation_space = env.action_space, env.observation_space
    finally:
        env.close()
    misfit = algo.observation_misfit(observation_space)
    if misfit is not None:
        readers = algos_for(action_space, observation_space)
        raise ValueError(
            f"{config.algo} cannot read {config.env.id}'s observation space {observation_space} ({misfit}); "
            + (f"algorithms that read it: {', '.join(readers)}; or " if readers else "")
            + "flatten it with --wrapper FlattenObservation"
        )
    if not algo.fits(action_space):
        fit = ", ".join(algos_for(action_space)) or "none (flatten it with a Gymnasium action wrapper)"
        raise ValueError(
            f"{config.algo} cannot act in {config.env.id}'s action space {action_space} "
            f"(it needs {' or '.join(algo.action_spaces)}); algorithms that fit: {fit}"
        )
    valid = algo.valid_kwargs()
    for key in config.algo_kwargs:
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(f"{config.algo} does not take algo_kwargs.{key}; {hint}valid: {', '.join(valid)}")
    if config.policy.encoder is not None:
        names = list(encoder_names())
        if config.policy.encoder not in names:
            close = difflib.get_close_matches(config.policy.encoder, names, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(f"unknown encoder {config.policy.encoder!r}; {hint}choose one of: {', '.join(names)}")
        _sequence_agent_hint(config, algo, observation_space, action_space)
    if config.policy.bc_data is not None or config.policy.bc_weight:
        check_bc_config(config.policy, config.algo)
    if config.gail is not None:
        check_gail_config(config.gail, config.algo, config.env.vectorization)
    if config.constraint is not None:
        _check_constraint(config, algo)
    return algo


def _check_constraint(config: ExperimentConfig, algo: Any) -> None:
    """One line for what a Lagrangian constraint cannot do (its cost key is checked at the first step)."""
    if algo.off_policy:
        on_policy = ", ".join(name for name in algo_names() if not get_algo(name).off_policy)
        raise ValueError(f"constraint: {config.algo} replays rewards penalized by old multipliers; use an on-policy agent ({on_policy})")
    if config.gail is not None:
        raise ValueError("constraint: GAIL replaces the env's reward that the constraint penalizes; drop one of gail and constraint")
    if config.env.vectorization == "subproc":
        raise ValueError("constraint: its multiplier lives in the env stack, which env.vectorization=subproc does not checkpoint; use auto or dummy")
