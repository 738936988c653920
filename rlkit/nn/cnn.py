"""Convolutional encoder for channels-first images and symbolic grids.

Two presets, picked by size in the registry (``preset="auto"``):

* ``"nature"``: SB3's NatureCNN (Mnih et al. 2015): 8x8/4, 4x4/2, 3x3/1 convs with 32, 64, 64
  channels, then Linear to 512 + ReLU. Needs H, W >= 36.
* ``"grid"``: for small symbolic grids (MiniGrid-like 5x5 .. 20x20, one channel per object
  type or feature): 3x3 "same" convs (no striding that would erase a 7x7 map), then Linear.

Every option of a preset can be overridden (``channels``, ``kernel_sizes``, ``strides``,
``paddings``, ``pool``, ``batch_norm``, ``dropout``, ``residual``, ``features_dim``).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from rlkit.nn.mlp import make_activation

PRESETS: dict[str, dict] = {
    "nature": dict(
        channels=(32, 64, 64), kernel_sizes=(8, 4, 3), strides=(4, 2, 1), paddings=(0, 0, 0), features_dim=512
    ),
    "grid": dict(
        channels=(16, 32, 32), kernel_sizes=(3, 3, 3), strides=(1, 1, 1), paddings=(1, 1, 1), features_dim=128
    ),
    # preset=None: every option explicit, defaulting to two 3x3 "same" convs and no Linear.
    None: dict(channels=(32, 64), kernel_sizes=(3, 3), strides=(1, 1), paddings=(1, 1), features_dim=None),
}
# NatureCNN's three convs shrink 36 pixels to 1; smaller inputs get the grid preset.
NATURE_MIN_SIZE = 36


def auto_preset(height: int, width: int) -> str:
    return "nature" if min(height, width) >= NATURE_MIN_SIZE else "grid"


class ConvBlock(nn.Module):
    """Conv -> [BatchNorm] -> activation -> [Dropout2d] -> [pool], or a residual basic block.

    With ``residual=True`` the block is ResNet's basic block: two convs (the first with the
    stride, the second 1x1-stride "same"), the input added back through a 1x1 conv when the
    shape changes, then the activation; the padding must keep the size ("same") for that.
    Input ``(B, C_in, H, W)``, output ``(B, C_out, H', W')``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        batch_norm: bool = False,
        dropout: float = 0.0,
        residual: bool = False,
        pool: str | None = None,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        if residual and 2 * padding != kernel_size - 1:
            raise ValueError(
                f"got a residual block with kernel_size={kernel_size}, padding={padding}; "
                f"a skip connection needs 'same' padding = (kernel_size - 1) // 2 = {(kernel_size - 1) // 2}"
            )
        self.residual = residual
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=not batch_norm)
        self.norm = nn.BatchNorm2d(out_channels) if batch_norm else nn.Identity()
        self.act = make_activation(activation)
        if residual:
            self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size, 1, padding, bias=not batch_norm)
            self.norm2 = nn.BatchNorm2d(out_channels) if batch_norm else nn.Identity()
            needs_projection = stride != 1 or in_channels != out_channels
            self.shortcut = (
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False) if needs_projection else nn.Identity()
            )
        self.dropout = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        if pool not in (None, "max", "avg"):
            raise ValueError(f"got pool={pool!r}; expected None, 'max' or 'avg'")
        self.pool = {None: nn.Identity(), "max": nn.MaxPool2d(2), "avg": nn.AvgPool2d(2)}[pool]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self.norm(self.conv(x)))  # (B, C_out, H', W')
        if self.residual:
            y = self.act(self.norm2(self.conv2(y)) + self.shortcut(x))
        return self.pool(self.dropout(y))


class CNN(nn.Module):
    """Conv blocks, flatten, then an optional Linear + activation to ``features_dim``.

    Input ``(B, C, H, W)`` float (channels first; images already scaled), output
    ``(B, output_dim)``; ``output_dim`` is ``features_dim``, or the flattened conv size when
    ``features_dim`` is None. The flattened size is computed by a dry forward pass.

    :param in_channels, height, width: the input's shape.
    :param preset: ``"nature"``, ``"grid"`` or None; supplies the defaults below.
    :param channels, kernel_sizes, strides, paddings: one entry per conv block.
    :param pool: ``None``, ``"max"`` or ``"avg"`` (2x2) after each block.
    :param batch_norm, dropout, residual: per block, see ``ConvBlock``.
    :param features_dim: width of the final Linear (None: no Linear).
    :param activation: activation name.
    """

    def __init__(
        self,
        in_channels: int,
        height: int,
        width: int,
        preset: str | None = "nature",
        channels: Sequence[int] | None = None,
        kernel_sizes: Sequence[int] | None = None,
        strides: Sequence[int] | None = None,
        paddings: Sequence[int] | None = None,
        pool: str | None = None,
        batch_norm: bool = False,
        dropout: float = 0.0,
        residual: bool = False,
        features_dim: int | None = -1,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        if preset not in PRESETS:
            raise ValueError(f"got preset={preset!r}; expected one of {sorted(p for p in PRESETS if p)} or None")
        base = dict(PRESETS[preset])
        channels = tuple(channels if channels is not None else base["channels"])
        n = len(channels)
        kernel_sizes = _per_block(kernel_sizes, base["kernel_sizes"], n, "kernel_sizes")
        strides = _per_block(strides, base["strides"], n, "strides")
        paddings = _per_block(paddings, base["paddings"], n, "paddings")
        # -1 means "the preset's"; None means "no final Linear".
        features_dim = base["features_dim"] if features_dim == -1 else features_dim

        blocks = []
        c = in_channels
        for out_c, k, s, p in zip(channels, kernel_sizes, strides, paddings):
            blocks.append(ConvBlock(c, out_c, k, s, p, batch_norm, dropout, residual, pool, activation))
            c = out_c
        self.convs = nn.Sequential(*blocks, nn.Flatten())
        with torch.no_grad():
            try:
                n_flatten = self.convs.eval()(torch.zeros(1, in_channels, height, width)).shape[1]
            except RuntimeError as exc:
                raise ValueError(
                    f"got input (C, H, W) = ({in_channels}, {height}, {width}), too small for preset={preset!r} "
                    f"(kernels {list(kernel_sizes)}, strides {list(strides)}); use preset='grid' for small grids "
                    f"or preset='nature' only for H, W >= {NATURE_MIN_SIZE}"
                ) from exc
            self.convs.train()
        if features_dim is None:
            self.linear: nn.Module = nn.Identity()
            self.output_dim = int(n_flatten)
        else:
            self.linear = nn.Sequential(nn.Linear(n_flatten, int(features_dim)), make_activation(activation))
            self.output_dim = int(features_dim)
        self.input_shape = (int(in_channels), int(height), int(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.convs(x))  # (B, C, H, W) -> (B, output_dim)


def _per_block(values: Sequence[int] | None, default: Sequence[int], n: int, name: str) -> tuple[int, ...]:
    if values is None:
        values = default if len(default) == n else [default[-1]] * n
    values = tuple(int(v) for v in values)
    if len(values) != n:
        raise ValueError(f"got {name}={list(values)} for {n} conv blocks; give one value per block")
    return values
