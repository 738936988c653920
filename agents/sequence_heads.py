"""The actor heads of sequence PPO, one per action space: parameters ``(B, T, p)`` -> a distribution over ``(B, T)``.

=================  ==================================  ===========================  =====================
action space       distribution                        actions ``(B, T, …)``         action mask
=================  ==================================  ===========================  =====================
``Discrete(n)``    ``rlkit.distributions.MaskedCategorical``  index ``(B, T)``       ``(n,)``
``MultiDiscrete``  SB3's ``MultiCategoricalDistribution``      indices ``(B, T, k)``  ``(sum(nvec),)``, one block per sub-action
``MultiBinary(n)`` SB3's ``BernoulliDistribution``             0/1 ``(B, T, n)``      none
``Box((d,))``      ``rlkit.distributions.DiagGaussian``        ``(B, T, d)``          none
=================  ==================================  ===========================  =====================

``Discrete`` and ``Box`` keep rlkit's own distributions, which take any leading shape and cost little per
rollout step. The two others are SB3's (``make_proba_distribution``), which read ``(N, p)``: `LeadingDims`
flattens ``(B, T)`` into ``N`` around them. A ``MultiDiscrete`` mask sets the logits of forbidden
sub-actions to -1e8 (finite, as sb3-contrib's masked distributions: ``torch.distributions`` refuses
``-inf`` logits); a block that allows nothing is read as allowing everything, as `sanitize_mask` does.
Sampled indices are 0-based; `to_env` adds a space's ``start``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.distributions import make_proba_distribution

from rlkit.distributions import DiagGaussian, MaskedCategorical, sanitize_mask

SUPPORTED_ACTION_SPACES = (spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary, spaces.Box)
MASK_FILL = -1e8


def check_action_space(action_space: spaces.Space) -> None:
    """Refuse an action space sequence PPO cannot act in, in one line naming what would read it."""
    if not isinstance(action_space, SUPPORTED_ACTION_SPACES):
        raise ValueError(
            f"sequence PPO got action space {action_space}; it acts in Discrete, MultiDiscrete, MultiBinary "
            "and flat Box spaces (flatten a Dict or Tuple action space with a Gymnasium action wrapper)"
        )
    if isinstance(action_space, spaces.Box) and len(action_space.shape) != 1:
        raise ValueError(f"sequence PPO got Box actions of shape {action_space.shape}; expected a flat (d,) Box")
    if isinstance(action_space, spaces.MultiDiscrete) and action_space.nvec.ndim != 1:
        raise ValueError(f"sequence PPO got {action_space} with a {action_space.nvec.ndim}-D nvec; expected a 1-D MultiDiscrete")
    if isinstance(action_space, spaces.MultiBinary) and not isinstance(action_space.n, (int, np.integer)):
        raise ValueError(f"sequence PPO got MultiBinary({action_space.n}); expected a flat MultiBinary(n)")


def n_params(action_space: spaces.Space) -> int:
    """Width of the actor's output layer."""
    if isinstance(action_space, spaces.Discrete):
        return int(action_space.n)
    if isinstance(action_space, spaces.MultiDiscrete):
        return int(action_space.nvec.sum())
    if isinstance(action_space, spaces.MultiBinary):
        return int(action_space.n)
    return int(action_space.shape[0])


def mask_width(action_space: spaces.Space) -> int | None:
    """Length of one env's action mask (``info["action_mask"]``), or None where the space takes no mask."""
    if isinstance(action_space, (spaces.Discrete, spaces.MultiDiscrete)):
        return n_params(action_space)
    return None


class LeadingDims:
    """An SB3 distribution over parameters ``(*batch, p)``: SB3's classes take ``(N, p)``, so flatten around them."""

    def __init__(self, action_space: spaces.Space, params: torch.Tensor) -> None:
        self.batch = params.shape[:-1]
        # A fresh SB3 object per call: theirs keep the last parameters as state.
        self.dist = make_proba_distribution(action_space).proba_distribution(params.reshape(-1, params.shape[-1]))

    def _lead(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(*self.batch, *x.shape[1:])

    def sample(self) -> torch.Tensor:
        return self._lead(self.dist.sample())  # (*batch, k)

    def mode(self) -> torch.Tensor:
        return self._lead(self.dist.mode())

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        return self._lead(self.dist.log_prob(actions.reshape(-1, actions.shape[-1])))  # (*batch)

    def entropy(self) -> torch.Tensor:
        return self._lead(self.dist.entropy())  # (*batch)


def mask_blocks(mask: torch.Tensor, nvec: list[int]) -> torch.Tensor:
    """A ``MultiDiscrete`` mask ``(*batch, sum(nvec))`` with every block that allows nothing made all-allowed."""
    return torch.cat([sanitize_mask(block) for block in torch.split(mask.bool(), nvec, dim=-1)], dim=-1)


class ActionHead:
    """What the actor's output means in one action space (see the module docstring); no parameters of its
    own: the policy keeps ``action_net`` (``Linear(…, n_params(space))``) and, for a Box, ``log_std``."""

    def __init__(self, action_space: spaces.Space) -> None:
        check_action_space(action_space)
        self.action_space = action_space
        self.nvec = [int(n) for n in action_space.nvec] if isinstance(action_space, spaces.MultiDiscrete) else None

    def distribution(self, out: torch.Tensor, log_std: torch.Tensor | None, action_masks: torch.Tensor | None) -> Any:
        """The distribution of the actor's output ``out (B, T, p)``, masked where ``action_masks (B, T, p)``."""
        space = self.action_space
        if isinstance(space, spaces.Discrete):
            return MaskedCategorical(out, None if action_masks is None else sanitize_mask(action_masks))
        if isinstance(space, spaces.Box):
            return DiagGaussian(out, log_std)
        if action_masks is not None and self.nvec is not None:
            out = out.masked_fill(~mask_blocks(action_masks, self.nvec), MASK_FILL)
        return LeadingDims(space, out)

    def from_buffer(self, actions: torch.Tensor) -> torch.Tensor:
        """Stored actions ``(B, T, action_dim)`` float as the distribution scores them."""
        if isinstance(self.action_space, spaces.Discrete):
            return actions[..., 0].long()  # (B, T)
        if isinstance(self.action_space, spaces.MultiDiscrete):
            return actions.long()  # (B, T, k)
        return actions  # (B, T, n) | (B, T, d)

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        """Sampled actions ``(n, …)`` as the env takes them: shifted by ``start``, cast, or clipped to the Box."""
        space = self.action_space
        if isinstance(space, spaces.Box):
            return np.clip(actions, space.low, space.high)
        if isinstance(space, (spaces.Discrete, spaces.MultiDiscrete)) and np.any(space.start != 0):
            actions = actions + space.start
        return actions.astype(space.dtype, copy=False)


def action_feature_dim(action_space: spaces.Space) -> int:
    """Width of `action_features`: one-hots for Discrete/MultiDiscrete, the values for MultiBinary/Box."""
    return n_params(action_space)


def action_features(actions: torch.Tensor, action_space: spaces.Space) -> torch.Tensor:
    """Actions as the distribution scores them (``(*batch)`` Discrete indices, else ``(*batch, k)``; see
    `ActionHead.from_buffer`) -> ``(*batch, action_feature_dim)`` float: the input a policy reads as its
    previous action."""
    if isinstance(action_space, spaces.Discrete):
        return torch.nn.functional.one_hot(actions.long(), int(action_space.n)).float()
    if isinstance(action_space, spaces.MultiDiscrete):
        index = actions.long()
        return torch.cat(
            [torch.nn.functional.one_hot(index[..., i], int(n)) for i, n in enumerate(action_space.nvec)], dim=-1
        ).float()
    return actions.float()
