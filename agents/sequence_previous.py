"""The previous action and previous reward as inputs of a sequence policy (``prev_action``, ``prev_reward``), as
POPGym's and RL²'s agents read them.

With either on, the encoder reads ``Dict(obs=<the env's space>, prev_action=Box(A), prev_reward=Box(1))`` per
step: the action taken just before this observation (one-hots for Discrete/MultiDiscrete, the values for
MultiBinary/Box; see `agents.sequence_heads.action_features`) and the reward it earned. Both are zero at an
episode's first step.

Where they come from:

* **one step** (rollouts, ``predict``): the policy's memory carries them, as two more state tensors after the
  encoders' (``state_shapes``), so they are stored with the memory, reset with it at episode starts, and saved
  with the agent. The agent writes them after each env step (`remember`).
* **a training chunk** ``(B, T)``: step 0 reads them from the chunk's stored memory, step t > 0 from the
  chunk's own action and reward at t - 1 (a chunk never spans two episodes), so that training reads exactly
  what the rollout read.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from agents.sequence_heads import action_feature_dim, action_features


class PreviousInputs:
    """Which previous-step inputs a policy reads, and the maths of feeding them; see the module docstring."""

    def __init__(self, action_space: spaces.Space, prev_action: bool, prev_reward: bool) -> None:
        self.action_space = action_space
        self.prev_action = bool(prev_action)
        self.prev_reward = bool(prev_reward)
        self.action_dim = action_feature_dim(action_space)

    @property
    def active(self) -> bool:
        return self.prev_action or self.prev_reward

    @property
    def state_shapes(self) -> tuple[tuple[int, ...], ...]:
        return ((self.action_dim,),) * self.prev_action + ((1,),) * self.prev_reward

    def encoder_space(self, observation_space: spaces.Space) -> spaces.Space:
        """The per-step space the encoders read: the env's, or the Dict of it and the previous-step inputs."""
        if not self.active:
            return observation_space
        extra: dict[str, spaces.Space] = {"obs": observation_space}
        if self.prev_action:
            extra["prev_action"] = spaces.Box(-np.inf, np.inf, (self.action_dim,), np.float32)
        if self.prev_reward:
            extra["prev_reward"] = spaces.Box(-np.inf, np.inf, (1,), np.float32)
        return spaces.Dict(extra)

    def augment(
        self, obs: Any, episode_starts: torch.Tensor, memory: tuple[torch.Tensor, ...], chunk: tuple[Any, Any] | None
    ) -> tuple[Any, tuple[torch.Tensor, ...]]:
        """``obs (B, T, …)`` with the previous-step inputs, and the memory after the last step.

        :param memory: this class's state tensors (``state_shapes``, batch first): the inputs of step 0.
        :param chunk: ``(actions, rewards)`` of the T steps (actions as `ActionHead.from_buffer` gives them,
            rewards ``(B, T)``), which steps 1…T-1 read; None for T = 1.
        """
        steps = episode_starts.shape[1]
        if chunk is None and steps != 1:
            raise ValueError(f"previous-step inputs over {steps} steps need the chunk's actions and rewards")
        keep = ~torch.as_tensor(episode_starts, device=memory[0].device).bool().unsqueeze(-1)  # (B, T, 1)
        out, last, i = {"obs": obs}, [], 0
        if self.prev_action:
            value = memory[i].unsqueeze(1)  # (B, 1, A)
            if chunk is not None:
                taken = action_features(chunk[0], self.action_space)  # (B, T, A)
                value = torch.cat([value, taken[:, :-1]], dim=1)
                last.append(taken[:, -1])
            out["prev_action"], i = value * keep, i + 1
        if self.prev_reward:
            value = memory[i].unsqueeze(1)  # (B, 1, 1)
            if chunk is not None:
                earned = chunk[1].float().unsqueeze(-1)  # (B, T, 1)
                value = torch.cat([value, earned[:, :-1]], dim=1)
                last.append(earned[:, -1])
            out["prev_reward"] = value * keep
        return out, tuple(last) if chunk is not None else tuple(memory)

    def remember(self, memory: tuple[torch.Tensor, ...], actions: torch.Tensor, rewards: Any) -> tuple[torch.Tensor, ...]:
        """The memory after acting: ``actions`` ``(n, …)`` as sampled, ``rewards (n,)`` (None: zero, not yet known)."""
        out = []
        if self.prev_action:
            out.append(action_features(actions, self.action_space).to(memory[0].dtype))
        if self.prev_reward:
            n = memory[0].shape[0]
            value = torch.zeros(n, 1, device=memory[0].device) if rewards is None else torch.as_tensor(
                np.asarray(rewards, dtype=np.float32).reshape(n, 1), device=memory[0].device
            )
            out.append(value)
        return tuple(out)

    def with_reward(self, memory: tuple[torch.Tensor, ...], rewards: Any) -> tuple[torch.Tensor, ...]:
        """The memory with its previous reward set to ``rewards (n,)`` (``predict``'s ``reward=``)."""
        if not self.prev_reward:
            return memory
        n = memory[-1].shape[0]
        value = torch.as_tensor(np.asarray(rewards, dtype=np.float32).reshape(n, 1), device=memory[-1].device)
        return (*memory[:-1], value)
