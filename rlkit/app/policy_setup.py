"""A policy that starts from pretraining: encoder/policy checkpoints (``policy.init_encoder`` / ``init_policy``),
a critic warm-up, and the behaviour-cloning term (``policy.bc_data`` / ``bc_weight``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agents.pretrained import critic_parameters, deterministic_action, initialize
from rlkit.app.config import ExperimentConfig
from rlkit.app.run_dir import CONFIG_FILE
from rlkit.callbacks import BCRegularizer, CriticWarmup
from rlkit.pretrain.init import resolve_policy_config
from rlkit.pretrain.regularize import load_bc_data
from rlkit.pretrain.warmup import check_warmup_config


def with_pretrained_encoder(config: ExperimentConfig, algo: Any) -> ExperimentConfig:
    """``policy.init_encoder``/``init_policy``: the policy's encoder and kwargs come from the checkpoint
    (stored in the run's config, so that ``resume`` and ``eval`` rebuild the same network)."""
    if config.policy.critic_warmup_steps:
        check_warmup_config(config.policy)
    if config.policy.init_encoder is None and config.policy.init_policy is None and not config.policy.freeze_encoder:
        return config
    sequence = algo.name == "ppo-seq"
    return config.model_copy(update={"policy": resolve_policy_config(config.policy, sequence)})


def load_pretrained(model: Any, config: ExperimentConfig) -> None:
    if config.policy.init_encoder is None and config.policy.init_policy is None:
        return
    initialize(model, config.policy)
    if config.policy.critic_warmup_steps:
        critic_parameters(model.policy)  # refuses a policy without a value function before the run directory exists


def bc_regularizer(model: Any, config: ExperimentConfig, resuming: Path | None = None) -> Any:
    """``policy.bc_data``/``bc_weight``: the callback adding the BC term, its dataset read (again, on resume) and
    checked against the agent's spaces before anything is written; None without a BC term."""
    if not config.policy.bc_weight:
        return None
    path = config.policy.bc_data
    if resuming is not None and not Path(path).is_file():
        raise ValueError(
            f"{resuming} trains with policy.bc_data {path!r}, which does not exist (any more); the BC term reads it again "
            f"on resume: put the dataset back, or point policy.bc_data in {resuming / CONFIG_FILE} at a copy (and delete its "
            "checksum line)"
        )
    dataset = load_bc_data(path, model.observation_space, model.action_space)
    return BCRegularizer(dataset, config.policy.bc_weight, deterministic_action)


def critic_warmup(config: ExperimentConfig) -> Any:
    """``policy.critic_warmup_steps``: the callback that trains only the critic first; None without a warm-up."""
    if not config.policy.critic_warmup_steps:
        return None
    return CriticWarmup(config.policy.critic_warmup_steps, critic_parameters)
