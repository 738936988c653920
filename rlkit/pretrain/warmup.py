"""Critic warm-up for runs started from a pretrained policy: ``rlkit train … --init-policy CKPT --critic-warmup-steps N``.

A behaviour-cloned actor starts near its teacher, but the critic beside it starts random, so the first
PPO updates follow advantages that are mostly the critic's error and move a good actor away from its
teacher. For the first ``policy.critic_warmup_steps`` env steps only the value function trains
(`rlkit.callbacks.CriticWarmup` with `critic_parameters`, added to the run's callbacks on resume too), then PPO as usual.

The same holds for the off-policy actor-critics started by a squashed BC head (sac, tqc, td3, ddpg): their
Q-function starts random, and the actor's first gradient steps climb its noise; there the warm-up trains
only ``critic`` (the env steps are collected by the cloned actor as usual, so ``learning_starts`` decides
whether the first ones are uniform random actions, see SB3's ``_sample_action``).

Works on torch modules only (no import of ``agents``): SB3's ``ActorCriticPolicy`` is recognised by its
``mlp_extractor`` / ``value_net``, sequence PPO's policy by its ``vf_net`` / ``value_net``, SAC's / TD3's
policy by its ``actor`` / ``critic``.
"""

from __future__ import annotations

import torch


def check_warmup_config(policy_config) -> None:
    """A warm-up needs a pretrained start (``init_policy`` or ``init_encoder``): one line saying so otherwise."""
    steps = policy_config.critic_warmup_steps
    if steps and policy_config.init_policy is None and policy_config.init_encoder is None:
        raise ValueError(
            f"got --critic-warmup-steps {steps} (policy.critic_warmup_steps) without --init-policy or --init-encoder; "
            "the warm-up fits the critic to a pretrained policy: add one, or set it to 0"
        )


def critic_parameters(policy: torch.nn.Module) -> list[torch.nn.Parameter]:
    """The parameters only the value function uses: its head, and its own encoder where it has one.

    SB3's ``ActorCriticPolicy`` (ppo, a2c): ``mlp_extractor.value_net``, ``value_net`` and, with
    ``share_features_extractor=False``, ``vf_features_extractor``; sequence PPO's policy: ``vf_net``,
    ``value_net`` and ``critic_encoder``; SAC's / TD3's policy (sac, tqc, td3, ddpg): ``critic`` and ``critic_target``
    (the target moves by Polyak averaging only), without the encoder a ``share_features_extractor=True`` critic
    reads from the actor (SB3's critic optimizer leaves it out too). Any other policy (dqn, …) is a
    ``ValueError``: it has no critic beside an actor."""
    excluded: set[int] = set()  # parameters the critic reads but does not own
    if hasattr(policy, "mlp_extractor") and hasattr(policy, "value_net"):
        modules = [policy.mlp_extractor.value_net, policy.value_net]
        if not getattr(policy, "share_features_extractor", True):
            modules.append(policy.vf_features_extractor)
    elif hasattr(policy, "vf_net") and hasattr(policy, "value_net"):
        modules = [policy.vf_net, policy.value_net]
        if getattr(policy, "critic_encoder", None) is not None:
            modules.append(policy.critic_encoder)
    elif hasattr(policy, "actor") and hasattr(policy, "critic"):
        modules = [policy.critic] + ([policy.critic_target] if getattr(policy, "critic_target", None) is not None else [])
        if getattr(policy, "share_features_extractor", False):
            excluded = {id(p) for p in policy.actor.parameters()}
    else:
        raise ValueError(
            f"--critic-warmup-steps trains the critic of an actor-critic policy (ppo, a2c, ppo-seq, sac, tqc, td3, ddpg); "
            f"got a {type(policy).__name__}, which has none: set it to 0"
        )
    seen: dict[int, torch.nn.Parameter] = {}
    for module in modules:
        for param in module.parameters():
            if id(param) not in excluded:
                seen.setdefault(id(param), param)
    return list(seen.values())
