"""Action distributions over batches of any leading shape: a masked categorical and a diagonal Gaussian.

Why not ``torch.distributions`` or SB3's ``Distribution`` classes: sequence agents evaluate
``(B, T, …)`` batches with padding and action masks, and call the distribution once per env step
during rollouts; ``torch.distributions`` validates arguments and builds broadcast shapes on every
call (a large share of a small policy's step time), and SB3's classes assume ``(B, …)`` and no
masks. These two are the few lines of maths each, over tensors of shape ``(*batch, n)``.

Masks (``MaskedCategorical``): ``mask (*batch, n)`` bool, True = the action is allowed. Masked
logits are ``-inf``, so masked actions have probability 0 and log-probability ``-inf``; the
entropy sums over allowed actions only (``0 * log 0`` taken as 0, never NaN), and gradients stay
finite. A row with no allowed action is an error in the caller's data: `sanitize_mask` turns such
rows (e.g. the padding of a training chunk) into all-allowed.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["DiagGaussian", "MaskedCategorical", "sanitize_mask"]


def sanitize_mask(mask: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
    """``mask (*batch, n)`` with every row that allows nothing, or lies where ``valid (*batch)`` is False, all True."""
    mask = mask.bool()
    empty = ~mask.any(dim=-1)  # (*batch)
    if valid is not None:
        empty = empty | ~valid.bool()
    return mask | empty.unsqueeze(-1)


class MaskedCategorical:
    """Categorical over the last axis of ``logits (*batch, n)``, optionally masked; actions are indices ``(*batch)``."""

    def __init__(self, logits: torch.Tensor, mask: torch.Tensor | None = None) -> None:
        if mask is not None:
            logits = logits.masked_fill(~mask, float("-inf"))
        self.mask = mask
        self.log_p = F.log_softmax(logits, dim=-1)  # (*batch, n)

    @property
    def probs(self) -> torch.Tensor:
        return self.log_p.exp()

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        # Inverse CDF: three cheap ops where torch.multinomial costs several times more per call,
        # which matters at one call per env step. A masked action has zero width, so is never drawn.
        cdf = self.probs.cumsum(dim=-1)  # (*batch, n)
        u = torch.rand(cdf.shape[:-1] + (1,), generator=generator, device=cdf.device, dtype=cdf.dtype)
        u = u * cdf[..., -1:]  # the cdf's last entry is 1 up to rounding
        return (cdf <= u).sum(dim=-1).clamp(max=cdf.shape[-1] - 1)  # (*batch)

    def mode(self) -> torch.Tensor:
        return self.log_p.argmax(dim=-1)  # (*batch)

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        return self.log_p.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)  # (*batch)

    def entropy(self) -> torch.Tensor:
        log_p = self.log_p
        if self.mask is not None:
            # Zero the -inf *before* multiplying: 0 * -inf is NaN in the forward pass, and a torch.where
            # after the product would still send NaN gradients (0 * inf) back through it.
            log_p = torch.where(self.mask, log_p, torch.zeros_like(log_p))
        return -(self.probs * log_p).sum(dim=-1)  # (*batch)


class DiagGaussian:
    """Independent normals over the last axis: ``mean (*batch, d)``, ``log_std (d,)`` or broadcastable."""

    def __init__(self, mean: torch.Tensor, log_std: torch.Tensor) -> None:
        self.mean = mean
        self.log_std = log_std.expand_as(mean)
        self.std = self.log_std.exp()

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        noise = torch.randn(self.mean.shape, generator=generator, device=self.mean.device, dtype=self.mean.dtype)
        return self.mean + self.std * noise  # (*batch, d)

    def mode(self) -> torch.Tensor:
        return self.mean

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        z = (actions - self.mean) / self.std
        return (-0.5 * z.pow(2) - self.log_std - 0.5 * math.log(2 * math.pi)).sum(dim=-1)  # (*batch)

    def entropy(self) -> torch.Tensor:
        return (0.5 + 0.5 * math.log(2 * math.pi) + self.log_std).sum(dim=-1)  # (*batch)
