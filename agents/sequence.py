"""Registers ``ppo-seq``, ``sac-seq`` and ``dqn-seq`` (agents.sequence_ppo, sequence_sac, sequence_dqn) without importing them.

The algorithm module imports torch and SB3; registering from here keeps ``rlkit --help`` (which
lists every algorithm) free of both. Each entry of the spec imports the module when first used.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from agents import AlgoSpec, register_algo
from agents.sb3 import activation_class, algo_kwargs, saved_spaces


# Every space rlkit's sequence encoders read (rlkit.nn.spaces), a Dict or Tuple one level deep.
OBSERVATION_SPACES = ("Box", "Discrete", "MultiDiscrete", "MultiBinary", "Dict", "Tuple")


RESERVED_KWARGS = {"self", "policy", "env", "seed", "device", "verbose", "policy_kwargs", "tensorboard_log", "_init_setup_model"}
DEFAULT_ENCODER = "lstm"


def _algorithm_class() -> Any:
    return importlib.import_module("agents.sequence_ppo").SequencePPO


def valid_kwargs() -> list[str]:
    """Names ``algo_kwargs`` may set: `SequencePPO`'s constructor arguments less those rlkit sets itself."""
    return [name for name in inspect.signature(_algorithm_class().__init__).parameters if name not in RESERVED_KWARGS]


def policy_kwargs_from(policy_config: Any) -> dict[str, Any]:
    """`SequenceActorCriticPolicy` arguments from an `rlkit.app.config.PolicyConfig` (encoder default: lstm)."""
    kwargs: dict[str, Any] = dict(policy_config.kwargs)
    kwargs["encoder"] = policy_config.encoder or DEFAULT_ENCODER
    kwargs["encoder_kwargs"] = dict(policy_config.encoder_kwargs)
    if policy_config.freeze_encoder:  # saved with the agent, so a resumed run stays frozen (as agents.sb3 does)
        kwargs["freeze_encoder"] = True
    for key in ("prev_action", "prev_reward"):
        if getattr(policy_config, key, False):
            kwargs[key] = True
    if policy_config.net_arch is not None:
        kwargs["net_arch"] = policy_config.net_arch
    if policy_config.activation_fn is not None:
        kwargs["activation_fn"] = activation_class(policy_config.activation_fn)
    return kwargs


def build(config: Any, env: Any) -> Any:
    """A fresh `SequencePPO` for an `rlkit.app.config.ExperimentConfig` on the vec env `env`."""
    valid = valid_kwargs()
    unknown = [key for key in config.algo_kwargs if key not in valid]
    if unknown:
        raise ValueError(f"ppo-seq does not take algo_kwargs.{unknown[0]}; valid: {', '.join(valid)}")
    try:
        return _algorithm_class()(
            "SequencePolicy", env, seed=config.seed, device=config.device, verbose=0,
            policy_kwargs=policy_kwargs_from(config.policy), **algo_kwargs(config.algo_kwargs, env.action_space),
        )  # fmt: skip
    except TypeError as exc:
        raise ValueError(f"ppo-seq rejected the config: {str(exc).splitlines()[0]}") from exc


def load(path: Any, env: Any = None, device: str = "auto") -> Any:
    """A saved agent; with `env`, ready to continue training where it stopped (no env reset)."""
    return _algorithm_class().load(path, env=env, device=device, force_reset=False)


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
