"""Auxiliary reward prediction for sequence PPO (``aux_reward_coef``).

A small head predicts each step's reward from the actor's memory features at that step and the action taken
there; its squared error, weighted by ``aux_reward_coef``, is added to PPO's loss, so the actor's encoder is also
trained to hold what predicts reward. On a task whose reward depends on hidden, episode-specific facts (whom
GroundhogDay's person likes, which cue was shown), that is exactly what the memory must keep, and the policy
gradient alone is a weak, noisy teacher of it. This is UNREAL's reward prediction (Jaderberg et al. 2017) in its
simplest form: the same step's reward, not a future one; Memory Gym (Pleines et al. 2023) found such
reconstruction losses necessary for its Transformer-XL agent.

The prediction reads the actor's features, not the critic's (the critic has its own encoder by default), and
padding steps of a chunk are excluded, as from every PPO term.
"""

from __future__ import annotations

import torch
from gymnasium import spaces
from torch import nn

from agents.sequence_heads import action_feature_dim, action_features


class RewardPredictor(nn.Module):
    """``r̂_t = MLP([features_t, action_features(a_t)])``, one hidden layer of ``hidden`` tanh units.

    :param feature_dim: width of the actor encoder's features.
    :param action_space: the env's action space (actions enter as `agents.sequence_heads.action_features`).
    :param hidden: hidden width.
    """

    def __init__(self, feature_dim: int, action_space: spaces.Space, hidden: int = 64) -> None:
        super().__init__()
        self.action_space = action_space
        self.net = nn.Sequential(nn.Linear(feature_dim + action_feature_dim(action_space), hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, features: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """``features (B, T, F)``, ``actions`` as `ActionHead.from_buffer` gives them -> predicted rewards ``(B, T)``."""
        inputs = torch.cat([features, action_features(actions, self.action_space).to(features.dtype)], dim=-1)
        return self.net(inputs).squeeze(-1)

    def loss(self, features: torch.Tensor, actions: torch.Tensor, rewards: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Mean squared error of the predictions over the ``valid (B, T)`` steps."""
        error = (self(features, actions) - rewards.to(features.dtype)) ** 2
        return torch.where(valid, error, torch.zeros_like(error)).sum() / valid.sum().clamp(min=1)
