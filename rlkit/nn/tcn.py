"""Temporal convolutional network (Bai, Kolter & Koltun 2018): dilated causal 1-D convs in residual blocks.

Each residual block is conv(dilation d) -> act -> conv(dilation d) -> act, added to the block's
input (through a 1x1 conv when the width changes) and activated; block i has dilation
``dilation_base ** i``. Output at t depends on inputs t - receptive_field + 1 .. t only.

State (see ``rlkit.nn.sequence``): for every conv, the last ``(kernel_size - 1) * dilation``
inputs it saw, ``(B, window, channels_in)``. A chunk is convolved together with that past, so a
one-step rollout call costs one kernel per layer, not a pass over the receptive field.

Episode starts: a tap that would read an input from before the current episode reads zero
instead, at every layer, so each episode is computed as if it were the only one (left zero
padding). Where no episode starts after t = 0 of the chunk (always in rollouts, most chunks in
training) this is a plain dilated ``conv1d`` over ``[past, chunk]`` with the starting rows' past
zeroed. Otherwise the masked path gathers the ``kernel_size`` taps of every output step
(``(B, C, T, k)``), zeroes the taps that cross a start and contracts them with the weights in one
matrix product: exact, and only ``kernel_size`` times the memory of the input. A single step
(T = 1, rollouts) uses that matrix product too, which on CPU beats oneDNN's conv1d several times
for one output column (``rlkit bench nn`` shows both).
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from rlkit.nn.mlp import make_activation
from rlkit.nn.sequence import SequenceModule, reset_rows, segment_start


class CausalConv1d(nn.Conv1d):
    """A dilated conv with no padding, fed ``[past, chunk]``; ``past_len = (k - 1) * dilation``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, dilation: int) -> None:
        super().__init__(in_channels, out_channels, kernel_size, dilation=dilation)
        self.past_len = (kernel_size - 1) * dilation

    def forward_taps(self, xp: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
        """``xp (B, C_in, past_len + T)`` -> ``(B, C_out, T)``; ``valid (B, T, k)`` masks taps."""
        batch, channels, length = xp.shape
        steps = length - self.past_len
        d, k = self.dilation[0], self.kernel_size[0]
        if valid is None and steps > 1:
            return F.conv1d(xp, self.weight, self.bias, dilation=d)  # (B, C_out, T)
        # Taps as one matrix product: for a single step (rollouts) this is several times faster
        # than oneDNN's conv1d on CPU, and it is how masked taps are zeroed.
        if steps == 1:
            taps = xp[:, :, ::d].unsqueeze(2)  # (B, C, 1, k): positions 0, d, .., past_len
        else:
            taps = torch.stack([xp[:, :, j * d : j * d + steps] for j in range(k)], dim=-1)  # (B, C, T, k)
        if valid is not None:
            taps = taps * valid.unsqueeze(1).to(taps.dtype)  # (B, C, T, k)
        flat = taps.permute(0, 2, 1, 3).reshape(batch * steps, channels * k)  # (B * T, C * k)
        out = F.linear(flat, self.weight.reshape(self.out_channels, channels * k), self.bias)  # (B * T, C_out)
        return out.view(batch, steps, -1).transpose(1, 2)  # (B, C_out, T)


class TCN(SequenceModule):
    """Stack of residual blocks of dilated causal convs; see the module docstring.

    Input ``x (B, T, input_dim)``, ``episode_starts (B, T)``, ``state``; output
    ``(B, T, channels[-1])`` and the new state (one ``(B, past_len, C_in)`` tensor per conv).

    :param input_dim: per-step input size.
    :param channels: width of each block (an int repeats it ``num_blocks`` times).
    :param num_blocks: number of blocks when ``channels`` is an int.
    :param kernel_size: taps per conv (>= 2).
    :param dilation_base: block i dilates by ``dilation_base ** i``.
    :param dropout: after each conv's activation.
    :param layer_norm: LayerNorm over channels at each time step, after each conv (causal).
    :param activation: activation name.
    """

    def __init__(
        self,
        input_dim: int,
        channels: int | Sequence[int] = 32,
        num_blocks: int = 3,
        kernel_size: int = 3,
        dilation_base: int = 2,
        dropout: float = 0.0,
        layer_norm: bool = False,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        if kernel_size < 2 or dilation_base < 1:
            raise ValueError(f"got kernel_size={kernel_size}, dilation_base={dilation_base}; expected >= 2 and >= 1")
        widths = [int(channels)] * int(num_blocks) if isinstance(channels, int) else [int(c) for c in channels]
        if not widths:
            raise ValueError("got no TCN blocks; expected num_blocks >= 1 or a non-empty channels list")
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        self.shortcuts = nn.ModuleList()
        c_in = int(input_dim)
        for i, c_out in enumerate(widths):
            d = dilation_base**i
            self.convs.append(CausalConv1d(c_in, c_out, kernel_size, d))
            self.convs.append(CausalConv1d(c_out, c_out, kernel_size, d))
            self.norms.append(nn.LayerNorm(c_out) if layer_norm else nn.Identity())
            self.norms.append(nn.LayerNorm(c_out) if layer_norm else nn.Identity())
            self.shortcuts.append(nn.Conv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity())
            c_in = c_out
        self.act = make_activation(activation)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.input_dim = int(input_dim)
        self.output_dim = c_in
        self.kernel_size = int(kernel_size)
        # Each conv sees past_len more inputs than its output steps; stacked, these add up.
        self.receptive_field = 1 + sum(conv.past_len for conv in self.convs)
        # Take the masked-taps path even without a start inside the chunk (benchmarks and tests
        # compare the two paths; the results are the same).
        self.force_masked_taps = False

    @staticmethod
    def receptive_field_of(num_blocks: int, kernel_size: int = 3, dilation_base: int = 2) -> int:
        """Receptive field of ``num_blocks`` blocks (two convs each) without building them."""
        return 1 + 2 * (kernel_size - 1) * sum(dilation_base**i for i in range(num_blocks))

    @property
    def state_shapes(self) -> tuple[tuple[int, ...], ...]:
        return tuple((conv.past_len, conv.in_channels) for conv in self.convs)

    def _conv(self, i: int, h: torch.Tensor, past: torch.Tensor, valid: dict, keep: torch.Tensor | None):
        """Conv i over ``[past, h]``: returns its activated output and its new past (B, past_len, C)."""
        conv = self.convs[i]
        xp = torch.cat([past.transpose(1, 2), h], dim=2)  # (B, C_in, past_len + T)
        new_past = xp[:, :, xp.shape[2] - conv.past_len :]  # (B, C_in, past_len)
        if keep is not None:
            new_past = new_past * keep[conv.past_len].unsqueeze(1).to(new_past.dtype)
        y = conv.forward_taps(xp, valid.get(conv.dilation[0]) if valid else None)  # (B, C_out, T)
        if not isinstance(self.norms[i], nn.Identity):
            y = self.norms[i](y.transpose(1, 2)).transpose(1, 2)
        return self.dropout(self.act(y)), new_past.transpose(1, 2)

    def forward(
        self, x: torch.Tensor, episode_starts: torch.Tensor, state: tuple[torch.Tensor, ...] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        starts, state = self.check_inputs(x, episode_starts, state)
        batch, steps = starts.shape
        valid: dict[int, torch.Tensor] = {}
        keep: dict[int, torch.Tensor] | None = None
        if self.force_masked_taps or bool(starts[:, 1:].any()):
            # Masked path: tap j of output t reads chunk position t - (k - 1 - j) * d, which must not
            # lie before the episode start at or before t (seg); none in the chunk -> all taps valid.
            seg = segment_start(starts)  # (B, T)
            lower = torch.where(seg >= 0, seg, torch.full_like(seg, -(1 << 30)))  # (B, T)
            t = torch.arange(steps, device=x.device).view(1, steps, 1)
            for conv in self.convs:
                d, k = conv.dilation[0], self.kernel_size
                if d not in valid:
                    offsets = torch.arange(k, device=x.device).view(1, 1, k) * d - conv.past_len  # (1, 1, k)
                    valid[d] = (t + offsets) >= lower.unsqueeze(-1)  # (B, T, k)
            # The next chunk continues the last episode of this one: positions before its start are zeroed.
            last = lower[:, -1:]  # (B, 1)
            keep = {}
            for conv in self.convs:
                positions = torch.arange(steps - conv.past_len, steps, device=x.device).view(1, -1)  # (1, P)
                keep[conv.past_len] = positions >= last  # (B, P)
        else:
            state = reset_rows(state, starts[:, 0])

        h = x.transpose(1, 2)  # (B, D, T)
        new_state = []
        for block in range(len(self.shortcuts)):
            y, past1 = self._conv(2 * block, h, state[2 * block], valid, keep)  # (B, C, T)
            y, past2 = self._conv(2 * block + 1, y, state[2 * block + 1], valid, keep)  # (B, C, T)
            h = self.act(y + self.shortcuts[block](h))  # (B, C, T)
            new_state += [past1, past2]
        return h.transpose(1, 2), tuple(new_state)  # (B, T, C)
