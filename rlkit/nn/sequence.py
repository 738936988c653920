"""What every sequence encoder (LSTM, GRU, TCN, Transformer) shares: the interface and episode maths.

The interface, used by sequence PPO and ``rlkit.buffers.SequenceRolloutBuffer``::

    encoder.is_sequence                 # True
    encoder.state_shapes                # per-tensor shapes without the batch dim
    encoder.initial_state(B, device)    # tuple of float32 tensors, each (B, *shape)
    features, new_state = encoder(x, episode_starts, state)
        # x (B, T, D), episode_starts (B, T) bool, features (B, T, output_dim)

``episode_starts[b, t]`` says ``x[b, t]`` is the first observation of an episode: nothing from
before t may influence outputs at >= t. The same call serves rollouts (T = 1, state carried
between calls) and training (T = a chunk, state = the one stored at the chunk's start); calling
step by step and calling once over the whole chunk give the same features (float tolerance).
All state tensors are float32 so a buffer can store them in one dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn


class SequenceModule(nn.Module):
    """Base class of the sequence encoders; subclasses set ``input_dim``, ``output_dim``, ``state_shapes``."""

    is_sequence: bool = True
    input_dim: int
    output_dim: int

    @property
    def state_shapes(self) -> tuple[tuple[int, ...], ...]:
        raise NotImplementedError

    def _device(self) -> torch.device:
        p = next(self.parameters(), None)
        return p.device if p is not None else torch.device("cpu")

    def initial_state(self, batch_size: int, device: torch.device | str | None = None) -> tuple[torch.Tensor, ...]:
        """The state before any observation: zeros (an empty memory), each ``(B, *shape)``."""
        device = self._device() if device is None else device
        return tuple(torch.zeros(batch_size, *shape, device=device) for shape in self.state_shapes)

    def check_inputs(
        self, x: torch.Tensor, episode_starts: Any, state: tuple[torch.Tensor, ...] | None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """Validate shapes; returns ``episode_starts`` as a bool tensor and the state (initial if None)."""
        if x.dim() != 3 or x.shape[-1] != self.input_dim:
            raise ValueError(
                f"{type(self).__name__}: got input of shape {tuple(x.shape)}; expected (B, T, {self.input_dim})"
            )
        batch, steps = x.shape[:2]
        starts = as_episode_starts(episode_starts, batch, steps, x.device)
        if state is None:
            state = self.initial_state(batch, x.device)
        state = tuple(state)
        expected = tuple((batch, *s) for s in self.state_shapes)
        got = tuple(tuple(s.shape) for s in state)
        if got != expected:
            raise ValueError(
                f"{type(self).__name__}: got state shapes {got}; expected {expected}; "
                "use encoder.initial_state(batch_size) for a fresh state"
            )
        return starts, state


def as_episode_starts(episode_starts: Any, batch: int, steps: int, device: torch.device) -> torch.Tensor:
    if not isinstance(episode_starts, torch.Tensor):
        episode_starts = np.asarray(episode_starts)
    starts = torch.as_tensor(episode_starts)
    if tuple(starts.shape) != (batch, steps):
        raise ValueError(f"got episode_starts of shape {tuple(starts.shape)}; expected (B, T) = ({batch}, {steps})")
    return starts.to(device=device, dtype=torch.bool)


def segment_start(starts: torch.Tensor) -> torch.Tensor:
    """``(B, T)`` index of the last episode start at or before t, or -1 where none in the chunk."""
    steps = starts.shape[1]
    idx = torch.arange(steps, device=starts.device).expand_as(starts)  # (B, T)
    marked = torch.where(starts, idx, torch.full_like(idx, -1))  # (B, T)
    return torch.cummax(marked, dim=1).values  # (B, T)


def reset_rows(state: tuple[torch.Tensor, ...], reset: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Zero the state of the batch rows where ``reset`` (B,) is true."""
    if not bool(reset.any()):
        return state
    keep = (~reset).to(state[0].dtype)
    return tuple(s * keep.view(-1, *([1] * (s.dim() - 1))) for s in state)
