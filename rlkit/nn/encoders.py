"""What ``make_encoder`` returns: feed-forward, VAE, Dict and sequence encoders over raw observations.

Each reads raw observations of its space (NumPy or tensors, uint8 images, Discrete indices) and
preprocesses them as SB3 does; ``forward_preprocessed`` skips that step.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch
from gymnasium import spaces
from torch import nn

from rlkit.nn.sequence import SequenceModule
from rlkit.nn.spaces import (
    as_batch,
    check_obs_shape,
    describe_space,
    flatten_preprocessed,
    lead_shape,
    merge_lead,
    obs_as_tensor,
    preprocess,
    sample_observation,
)
from rlkit.nn.vae import ImageVAE, VectorVAE


class Encoder(nn.Module):
    """Base of every encoder ``make_encoder`` builds (see the module docstring for the attributes)."""

    is_sequence: bool = False
    output_dim: int

    def __init__(self, name: str, observation_space: gym.Space, config: dict[str, Any]) -> None:
        super().__init__()
        self.name = name
        self.observation_space = observation_space
        self.config = dict(config)

    @property
    def device(self) -> torch.device:
        p = next(self.parameters(), None)
        return p.device if p is not None else torch.device("cpu")

    def preprocess(self, obs: Any) -> Any:
        """Raw observations to the float tensors ``forward_preprocessed`` takes (as SB3's ``preprocess_obs``)."""
        return preprocess(obs_as_tensor(obs, self.device), self.observation_space)

    def extra_repr(self) -> str:
        space = describe_space(self.observation_space)
        return f"name={self.name!r}, observation_space={space}, output_dim={getattr(self, 'output_dim', '?')}"


class FeedForwardEncoder(Encoder):
    """``(B, *obs_shape)`` raw observations -> ``(B, output_dim)``; ``body`` does the work on preprocessed input.

    :param flatten: flatten the preprocessed observation to ``(B, flat_dim)`` before ``body``.
    """

    def __init__(self, name: str, observation_space: gym.Space, config: dict, body: nn.Module, flatten: bool) -> None:
        super().__init__(name, observation_space, config)
        self.body = body
        self.flatten = flatten
        self.output_dim = _dry_run_dim(self)

    def forward(self, obs: Any) -> torch.Tensor:
        obs = obs_as_tensor(obs, self.device)
        check_obs_shape(obs, self.observation_space, 1, f"encoder {self.name!r}")
        return self.forward_preprocessed(preprocess(obs, self.observation_space))

    def forward_preprocessed(self, x: torch.Tensor) -> torch.Tensor:
        """Preprocessed observations ``(B, *preprocessed_shape)`` -> ``(B, output_dim)``."""
        if self.flatten:
            x = flatten_preprocessed(x, self.observation_space, 1)  # (B, flat_dim)
        return self.body(x)


class VAEEncoder(FeedForwardEncoder):
    """A ``FeedForwardEncoder`` whose body is a VAE: features are the posterior mean.

    ``encode``, ``reconstruct`` and ``loss`` take raw observations like ``forward``; ``decode``
    maps latents to the preprocessed observation's shape (images in [0, 1]).
    """

    body: VectorVAE | ImageVAE

    @property
    def latent_dim(self) -> int:
        return self.body.latent_dim

    def _prepared(self, obs: Any) -> torch.Tensor:
        obs = obs_as_tensor(obs, self.device)
        check_obs_shape(obs, self.observation_space, 1, f"encoder {self.name!r}")
        return self.preprocess(obs)

    def encode(self, obs: Any) -> tuple[torch.Tensor, torch.Tensor]:
        return self.body.encode(self._prepared(obs))  # mu, logvar: (B, latent_dim) each

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.body.decode(z)  # (B, *preprocessed_shape)

    def reconstruct(self, obs: Any) -> torch.Tensor:
        return self.body.reconstruct(self._prepared(obs))

    def loss(self, obs: Any, beta: float = 1.0, generator: torch.Generator | None = None):
        """β-VAE loss of raw observations; returns ``(loss, {"reconstruction", "kl"})``."""
        return self.body.loss(self._prepared(obs), beta, generator)


class DictEncoder(Encoder):
    """One encoder per key of a ``Dict`` space, features concatenated in the space's key order."""

    def __init__(self, name: str, observation_space: spaces.Dict, config: dict, encoders: dict[str, Encoder]) -> None:
        super().__init__(name, observation_space, config)
        self.encoders = nn.ModuleDict(encoders)
        self.output_dim = _dry_run_dim(self)

    def forward(self, obs: dict[str, Any]) -> torch.Tensor:
        check_obs_shape(obs, self.observation_space, 1, f"encoder {self.name!r}")
        return torch.cat([enc(obs[k]) for k, enc in self.encoders.items()], dim=1)  # (B, output_dim)

    def forward_preprocessed(self, x: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([enc.forward_preprocessed(x[k]) for k, enc in self.encoders.items()], dim=1)


class WindowBody(nn.Module):
    """A sequence module read as a feed-forward encoder of a window ``(B, T, D)``: features at step T - 1.

    The window is one episode (no starts inside) and the memory starts empty. With ``window``
    set, a flat frame stack ``(B, T * D)`` (oldest frame first, as SB3's ``VecFrameStack``) is
    reshaped to ``(B, T, D)`` first.
    """

    def __init__(self, core: SequenceModule, window: int | None = None) -> None:
        super().__init__()
        self.core = core
        self.window = window

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.window is not None:
            x = x.reshape(x.shape[0], self.window, -1)  # (B, T, D)
        starts = torch.zeros(x.shape[:2], dtype=torch.bool, device=x.device)  # (B, T)
        features, _ = self.core(x, starts, None)  # (B, T, F)
        return features[:, -1]  # (B, F)


class SequenceEncoder(Encoder):
    """Per-step observations ``(B, T, *obs_shape)`` -> ``(B, T, output_dim)`` with a state; see ``rlkit.nn.sequence``.

    ``step`` turns each raw observation into a vector (``inner`` encoder, or preprocess +
    flatten when None); ``core`` is the LSTM/GRU/TCN/Transformer.
    """

    is_sequence = True

    def __init__(
        self, name: str, observation_space: gym.Space, config: dict, core: SequenceModule, inner: Encoder | None
    ) -> None:
        super().__init__(name, observation_space, config)
        self.inner = inner
        self.core = core
        self.output_dim = core.output_dim

    @property
    def state_shapes(self) -> tuple[tuple[int, ...], ...]:
        return self.core.state_shapes

    def initial_state(self, batch_size: int, device: torch.device | str | None = None) -> tuple[torch.Tensor, ...]:
        return self.core.initial_state(batch_size, self.device if device is None else device)

    def encode_steps(self, x: Any) -> torch.Tensor:
        """Raw ``(B, T, *obs_shape)`` -> per-step input vectors ``(B, T, core.input_dim)``."""
        x = obs_as_tensor(x, self.device)
        check_obs_shape(x, self.observation_space, 2, f"sequence encoder {self.name!r}")
        space = self.observation_space
        lead = lead_shape(x, space, 2)  # (B, T)
        flat = merge_lead(x, space, 2)  # (B * T, *obs_shape)
        if self.inner is not None:
            steps = self.inner(flat)  # (B * T, D)
        else:
            steps = flatten_preprocessed(preprocess(flat, space), space, 1)  # (B * T, D)
        return steps.reshape(*lead, -1)  # (B, T, D)

    def forward(
        self, x: Any, episode_starts: Any, state: tuple[torch.Tensor, ...] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        return self.core(self.encode_steps(x), episode_starts, state)  # (B, T, output_dim), new state


def _dry_run_dim(encoder: Encoder) -> int:
    """``output_dim`` from one forward pass over a (seeded) sample of the space, as SB3's NatureCNN."""
    was_training = encoder.training
    encoder.eval()  # no dropout draws (the global RNG stays put), BatchNorm uses its running stats
    with torch.no_grad():
        out = encoder(as_batch(sample_observation(encoder.observation_space)))
    encoder.train(was_training)
    if out.dim() != 2:
        raise AssertionError(f"encoder {encoder.name!r} returned shape {tuple(out.shape)}; expected (B, output_dim)")
    return int(out.shape[1])
