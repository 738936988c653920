"""Critic warm-up for runs started from a pretrained policy (``policy.critic_warmup_steps`` with ``policy.init_policy``).

A behaviour-cloned actor starts near its teacher, but the critic beside it starts random, so the first
PPO updates follow advantages that are mostly the critic's error and move a good actor away from its
teacher. For the first ``policy.critic_warmup_steps`` env steps only the value function trains
(`rlkit.callbacks.CriticWarmup` with ``agents.pretrained.critic_parameters``, added to the run's callbacks on
resume too), then PPO as usual.

The same holds for the off-policy actor-critics started by a squashed BC head (sac, tqc, td3, ddpg): their
Q-function starts random, and the actor's first gradient steps climb its noise; there the warm-up trains
only ``critic`` (the env steps are collected by the cloned actor as usual, so ``learning_starts`` decides
whether the first ones are uniform random actions, see SB3's ``_sample_action``). This module checks the config.
"""

from __future__ import annotations



def check_warmup_config(policy_config) -> None:
    """A warm-up needs a pretrained start (``init_policy`` or ``init_encoder``): one line saying so otherwise."""
    steps = policy_config.critic_warmup_steps
    if steps and policy_config.init_policy is None and policy_config.init_encoder is None:
        raise ValueError(
            f"got `policy.critic_warmup_steps` {steps} without `policy.init_policy` or `policy.init_encoder`; "
            "the warm-up fits the critic to a pretrained policy: add one, or set it to 0"
        )
