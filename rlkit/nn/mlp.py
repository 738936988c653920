"""Multi-layer perceptron: the default encoder for vectors, one-hots and flattened anything."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

# Activations by the names that configs and checkpoints use (strings, so they serialize).
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "leaky_relu": nn.LeakyReLU,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}


def make_activation(name: str) -> nn.Module:
    """An activation module from its name (``"relu"``, ``"tanh"``, ``"gelu"``, ...)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"got activation {name!r}; expected one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


class MLP(nn.Module):
    """Linear layers, each followed by an optional LayerNorm, the activation and optional dropout.

    Input ``(B, input_dim)`` (any leading dims work), output ``(B, output_dim)`` where
    ``output_dim = hidden_sizes[-1]`` (``input_dim`` when ``hidden_sizes`` is empty: identity).

    :param input_dim: size of the input vector.
    :param hidden_sizes: width of each layer, in order.
    :param activation: activation name, see ``ACTIVATIONS``.
    :param layer_norm: LayerNorm after each linear layer, before the activation.
    :param dropout: dropout probability after each activation (0 disables it).
    :param activate_last: apply norm/activation/dropout after the last layer too (features
        encoders want this, as SB3's NatureCNN's final ReLU; a head that outputs logits does not).
    """

    def __init__(
        self,
        input_dim: int,
        hidden_sizes: Sequence[int] = (64, 64),
        activation: str = "relu",
        layer_norm: bool = False,
        dropout: float = 0.0,
        activate_last: bool = True,
    ) -> None:
        super().__init__()
        if input_dim < 1 or any(int(h) < 1 for h in hidden_sizes):
            raise ValueError(f"got input_dim={input_dim}, hidden_sizes={list(hidden_sizes)}; every size must be >= 1")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"got dropout={dropout}; expected a probability in [0, 1)")
        layers: list[nn.Module] = []
        width = int(input_dim)
        for i, h in enumerate(hidden_sizes):
            layers.append(nn.Linear(width, int(h)))
            if activate_last or i < len(hidden_sizes) - 1:
                if layer_norm:
                    layers.append(nn.LayerNorm(int(h)))
                layers.append(make_activation(activation))
                if dropout > 0:
                    layers.append(nn.Dropout(dropout))
            width = int(h)
        self.net = nn.Sequential(*layers)
        self.input_dim = int(input_dim)
        self.output_dim = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # (B, input_dim) -> (B, output_dim)
