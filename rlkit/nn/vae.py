"""Variational auto-encoders for vectors and images (Kingma & Welling 2014), with the β-VAE loss.

A VAE's ``forward`` returns the posterior mean ``mu (B, latent_dim)``, so its encoder half is a
features encoder as it stands (``output_dim = latent_dim``); ``encode``/``decode``/``loss`` are
the generative half that pretraining uses. The reconstruction target is the *preprocessed*
observation (floats; images scaled to [0, 1]).

Likelihoods: ``"gaussian"`` (unit variance: squared error summed over dims) for real vectors and
symbolic grids, ``"bernoulli"`` (binary cross-entropy on logits, the usual choice for images in
[0, 1]); the decoder outputs the mean or the logits accordingly, and ``reconstruct`` returns the
mean either way.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from rlkit.nn.cnn import CNN
from rlkit.nn.mlp import MLP, make_activation

LIKELIHOODS = ("gaussian", "bernoulli")


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """``z = mu + exp(logvar / 2) * eps``, ``eps ~ N(0, I)``: a sample that gradients flow through."""
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, exp(logvar)) || N(0, I))`` per sample, summed over latent dims: ``(B,)``."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)


def beta_vae_loss(
    reconstruction: torch.Tensor,
    target: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    beta: float = 1.0,
    likelihood: str = "gaussian",
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """β-VAE loss (Higgins et al. 2017): ``E[reconstruction NLL] + beta * KL``, averaged over the batch.

    ``reconstruction`` is the decoder's output (means for ``"gaussian"``, logits for
    ``"bernoulli"``), ``target`` the preprocessed observation, both ``(B, *shape)``. The NLL is
    summed over an observation's dims (the unit-variance Gaussian's constant dropped), so beta=1
    gives the negative ELBO. Returns the scalar loss and its ``reconstruction`` and ``kl`` parts.
    """
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"got likelihood={likelihood!r}; expected one of {LIKELIHOODS}")
    if reconstruction.shape != target.shape:
        raise ValueError(
            f"got reconstruction {tuple(reconstruction.shape)} and target {tuple(target.shape)}; shapes must match"
        )
    if likelihood == "gaussian":
        nll = 0.5 * (reconstruction - target).pow(2)
    else:
        nll = F.binary_cross_entropy_with_logits(reconstruction, target, reduction="none")
    recon = nll.flatten(1).sum(dim=1).mean()
    kl = gaussian_kl(mu, logvar).mean()
    return recon + beta * kl, {"reconstruction": recon.detach(), "kl": kl.detach()}


class VAE(nn.Module):
    """Shared encode/decode/loss logic; subclasses define ``encoder_body``, ``decoder`` and the heads."""

    latent_dim: int
    likelihood: str

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x (B, *shape)`` -> posterior ``mu, logvar``, each ``(B, latent_dim)``."""
        h = self.encoder_body(x)
        return self.mu_head(h), self.logvar_head(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode(x)[0]  # (B, latent_dim): the mean, as features

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Decode the posterior mean; probabilities for a Bernoulli likelihood."""
        out = self.decode(self.encode(x)[0])
        return torch.sigmoid(out) if self.likelihood == "bernoulli" else out

    def loss(
        self, x: torch.Tensor, beta: float = 1.0, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """β-VAE loss of a preprocessed batch ``x (B, *shape)`` with one reparameterized sample."""
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar, generator)  # (B, latent_dim)
        return beta_vae_loss(self.decode(z), x, mu, logvar, beta, self.likelihood)


class VectorVAE(VAE):
    """MLP encoder ``(B, input_dim) -> mu, logvar (B, latent_dim)``; mirrored MLP decoder back to ``(B, input_dim)``.

    :param input_dim: vector size.
    :param latent_dim: latent size = ``output_dim``.
    :param hidden_sizes: encoder widths (the decoder uses them reversed).
    :param activation: activation name.
    :param likelihood: ``"gaussian"`` or ``"bernoulli"``.
    """

    def __init__(
        self,
        input_dim: int,
        latent_dim: int = 16,
        hidden_sizes: Sequence[int] = (64, 64),
        activation: str = "relu",
        likelihood: str = "gaussian",
    ) -> None:
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"got likelihood={likelihood!r}; expected one of {LIKELIHOODS}")
        self.encoder_body = MLP(input_dim, hidden_sizes, activation)
        self.mu_head = nn.Linear(self.encoder_body.output_dim, latent_dim)
        self.logvar_head = nn.Linear(self.encoder_body.output_dim, latent_dim)
        self.decoder = nn.Sequential(
            MLP(latent_dim, tuple(reversed(hidden_sizes)), activation),
            nn.Linear(hidden_sizes[0] if hidden_sizes else latent_dim, input_dim),
        )
        self.latent_dim = self.output_dim = int(latent_dim)
        self.likelihood = likelihood
        self.input_dim = int(input_dim)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)  # (B, latent_dim) -> (B, input_dim)


class ImageVAE(VAE):
    """CNN encoder ``(B, C, H, W) -> mu, logvar``; a decoder of transposed convs mirroring it.

    The decoder maps ``z`` through a Linear to the last conv's feature map and runs the convs
    backwards (``ConvTranspose2d`` with the same kernels/strides, sized with ``output_size`` so
    any H, W comes back exactly). Encoder options are the ``CNN``'s (``preset``, ``channels``...),
    without pooling or residual blocks, which have no exact mirror.

    :param in_channels, height, width: the image shape.
    :param latent_dim: latent size = ``output_dim``.
    :param preset, channels, kernel_sizes, strides, paddings, batch_norm, activation: as ``CNN``.
    :param hidden_dim: width of the Linear between the conv features and the latent heads.
    :param likelihood: ``"bernoulli"`` (images in [0, 1]) or ``"gaussian"``.
    """

    def __init__(
        self,
        in_channels: int,
        height: int,
        width: int,
        latent_dim: int = 16,
        preset: str | None = "grid",
        channels: Sequence[int] | None = None,
        kernel_sizes: Sequence[int] | None = None,
        strides: Sequence[int] | None = None,
        paddings: Sequence[int] | None = None,
        batch_norm: bool = False,
        hidden_dim: int = 128,
        activation: str = "relu",
        likelihood: str = "bernoulli",
    ) -> None:
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"got likelihood={likelihood!r}; expected one of {LIKELIHOODS}")
        self.encoder_body = CNN(
            in_channels, height, width, preset, channels, kernel_sizes, strides, paddings,
            batch_norm=batch_norm, features_dim=hidden_dim, activation=activation,
        )  # fmt: skip
        self.mu_head = nn.Linear(hidden_dim, latent_dim)
        self.logvar_head = nn.Linear(hidden_dim, latent_dim)

        # Record each conv's input size so the transposed convs can restore it exactly.
        sizes = [(height, width)]
        with torch.no_grad():
            h = torch.zeros(1, in_channels, height, width)
            for block in self.encoder_body.convs[:-1]:  # the last module is Flatten
                h = block.conv(h)
                sizes.append(tuple(h.shape[-2:]))
        self._feature_shape = tuple(h.shape[1:])  # (C', H', W')
        self._sizes = sizes
        blocks = list(self.encoder_body.convs[:-1])
        self.decoder_input = nn.Sequential(nn.Linear(latent_dim, hidden_dim), make_activation(activation),
                                           nn.Linear(hidden_dim, h.numel()), make_activation(activation))  # fmt: skip
        self.deconvs = nn.ModuleList()
        for i, block in reversed(list(enumerate(blocks))):
            conv = block.conv
            out_c = in_channels if i == 0 else conv.in_channels
            self.deconvs.append(
                nn.ConvTranspose2d(conv.out_channels, out_c, conv.kernel_size, conv.stride, conv.padding)
            )
        self.act = make_activation(activation)
        self.latent_dim = self.output_dim = int(latent_dim)
        self.likelihood = likelihood
        self.input_shape = (int(in_channels), int(height), int(width))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h = self.decoder_input(z).view(-1, *self._feature_shape)  # (B, C', H', W')
        n = len(self.deconvs)
        for j, deconv in enumerate(self.deconvs):
            target = self._sizes[n - 1 - j]
            h = deconv(h, output_size=list(target))
            if j < n - 1:
                h = self.act(h)
        return h  # (B, C, H, W)
