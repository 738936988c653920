"""Critic warm-up for runs started from a pretrained policy: ``rlkit train … --init-policy CKPT --critic-warmup-steps N``.

A behaviour-cloned actor starts near its teacher, but the critic beside it starts random, so the first
PPO updates follow advantages that are mostly the critic's error and move a good actor away from its
teacher. For the first ``policy.critic_warmup_steps`` env steps only the value function trains
(`CriticWarmup`, added to the run's callbacks by ``rlkit.app.runs``, on resume too), then PPO as usual.

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
from stable_baselines3.common.callbacks import BaseCallback


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


class CriticWarmup(BaseCallback):
    """Train only the value function in the updates of the rollouts that start before env step `steps`.

    At each rollout boundary the actor's parameters (everything the policy trains except
    `critic_parameters`: actor head, ``log_std``, a shared encoder) get ``requires_grad`` off while warming
    up and back on after it. The PPO/A2C loss is unchanged, but its policy and entropy terms then reach no
    trainable parameter, and ``Adam`` skips parameters whose ``.grad`` is None (``zero_grad`` sets it so),
    so the actor stays bit-identical while the critic learns. The decision depends only on
    ``model.num_timesteps``, so a run resumed from a checkpoint (taken at a rollout boundary) warms up
    exactly as an uninterrupted one. Parameters that were not trainable when training started (a
    ``--freeze-encoder`` encoder) are left alone.

    SAC / TD3: the critic's own loss and step are unchanged; the actor loss still reaches the critic's
    parameters through ``Q(s, actor(s))``, so its ``backward`` works, and those gradients are discarded by the
    critic's ``zero_grad`` before its next step, as in SB3 without a warm-up. A learned entropy coefficient
    (SAC's ``ent_coef='auto'``) keeps adapting to the fixed actor's entropy meanwhile: with a BC actor far
    below ``target_entropy`` it grows, so a fixed ``ent_coef`` suits a warm-up.

    Logs ``train/critic_warmup`` (1 or 0) beside the ``train/`` losses of the update it describes.
    """

    def __init__(self, steps: int):
        super().__init__()
        if steps < 0:
            raise ValueError(f"critic warm-up steps must be >= 0, got {steps}")
        self.steps = int(steps)
        self._actor: list[torch.nn.Parameter] = []
        self._warm = False

    def _last_update_warm(self, step: int) -> bool:
        n_steps = getattr(self.model, "n_steps", None)
        if n_steps is not None:  # on-policy: the last update followed the rollout of n_steps * n_envs before this one
            return step - int(n_steps) * int(self.model.n_envs) < self.steps
        # Off-policy: updates follow every short rollout (train_freq, in steps or episodes) under the flags last set.
        return self._warm

    def _on_training_start(self) -> None:
        policy = self.model.policy
        critic = {id(p) for p in critic_parameters(policy)}
        self._actor = [p for p in policy.parameters() if p.requires_grad and id(p) not in critic]
        self._set(self.model.num_timesteps)

    def _set(self, rollout_start: int) -> None:
        warm = self._warm = rollout_start < self.steps
        for param in self._actor:
            param.requires_grad_(not warm)

    def _record_last_update(self) -> None:
        # SB3 records an update's train/ scalars after the logs were dumped; they are written with the next
        # rollout's (or by rlkit's final evaluation), so the flag describes the update before now too.
        step = int(self.model.num_timesteps)
        if step > 0:
            self.logger.record("train/critic_warmup", int(self._last_update_warm(step)))

    def _on_rollout_start(self) -> None:
        self._record_last_update()
        self._set(int(self.model.num_timesteps))

    def _on_step(self) -> bool:
        return True

    def _on_training_end(self) -> None:
        self._record_last_update()
        for param in self._actor:
            param.requires_grad_(True)
