"""β-VAE pretraining on a dataset's observations; the encoder half becomes a policy's features encoder.

The model is ``make_encoder("vae", space, ...)`` (``rlkit.nn.VAEEncoder``: ``encoder="cnn"`` is the
image VAE of a ``(C, H, W)`` space, ``encoder="mlp"`` the vector VAE of a 1-D Box) trained on the
β-VAE loss of ``rlkit.nn.vae``. Its features are the posterior mean, so the saved checkpoint loads
into a PPO policy as its ``policy.init_encoder`` (``EncoderExtractor`` of the
``vae`` encoder). TensorBoard: ``pretrain/recon_loss``, ``pretrain/kl``, ``pretrain/loss`` (train)
and their ``pretrain/val_*`` held-out twins per epoch; for images a grid of held-out inputs (top
row) against their reconstructions (bottom row) under ``pretrain/reconstructions``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rlkit.nn import make_encoder, save_encoder
from rlkit.nn.encoders import VAEEncoder
from rlkit.nn.spaces import describe_space, is_image_space
from rlkit.pretrain.common import check_positive, minibatches, record_epoch, summary_writer
from rlkit.pretrain.dataset import Dataset

VAE_BODIES = ("cnn", "mlp")


@dataclass
class VAEResult:
    encoder: VAEEncoder
    history: list[dict[str, float]] = field(default_factory=list)
    """Per epoch: loss, recon_loss, kl (train) and val_loss, val_recon_loss, val_kl (held out)."""


def _check_body(body: str, space: Any) -> None:
    if body not in VAE_BODIES:
        raise ValueError(f"got `encoder` {body!r} for the VAE; expected one of {VAE_BODIES}")
    shape = getattr(space, "shape", None) or ()
    if body == "cnn" and len(shape) != 3:
        raise ValueError(
            f"got `encoder=cnn` for observations {describe_space(space)}; the CNN VAE reads (C, H, W) images or grids: use `encoder=mlp`"
        )
    if body == "mlp" and len(shape) != 1:
        raise ValueError(
            f"got `encoder=mlp` for observations {describe_space(space)}; the MLP VAE reads 1-D vectors: use `encoder=cnn` for (C, H, W)"
        )


def train_vae(
    dataset: Dataset,
    encoder: str = "cnn",
    latent_dim: int = 16,
    beta: float = 1.0,
    epochs: int = 20,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    holdout: float = 0.1,
    seed: int = 0,
    run_dir: str | Path | None = None,
    encoder_kwargs: dict[str, Any] | None = None,
    device: str = "cpu",
) -> VAEResult:
    """Train a β-VAE on ``dataset.observations``; returns the encoder and the per-epoch losses.

    With ``run_dir`` the losses (and, for images, reconstructions) are logged there to TensorBoard.
    """
    check_positive(latent_dim=latent_dim, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate)
    if beta < 0:
        raise ValueError(f"got beta={beta}; expected beta >= 0 (1 = the plain VAE)")
    space = dataset.observation_space
    _check_body(encoder, space)
    torch.manual_seed(seed)
    model: VAEEncoder = make_encoder("vae", space, latent_dim=int(latent_dim), seed=seed, **(encoder_kwargs or {}))
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    train_idx, val_idx = dataset.split(holdout, seed)
    rng = np.random.default_rng(seed)
    generator = torch.Generator(device=device).manual_seed(seed)
    observations = dataset.observations
    writer = summary_writer(run_dir)
    result = VAEResult(model)
    try:
        for epoch in range(epochs):
            model.train()
            sums = np.zeros(3)
            for batch in minibatches(train_idx, batch_size, rng):
                loss, parts = model.loss(observations[batch], beta, generator)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                sums += len(batch) * np.array([loss.item(), parts["reconstruction"].item(), parts["kl"].item()])
            train = sums / len(train_idx)
            val = _evaluate(model, observations[val_idx], beta, batch_size, seed)
            row = {"epoch": epoch, "loss": train[0], "recon_loss": train[1], "kl": train[2],
                   "val_loss": val[0], "val_recon_loss": val[1], "val_kl": val[2]}  # fmt: skip
            record_epoch(writer, result.history, row)
            if is_image_space(space) and len(val_idx):
                writer.add_image("pretrain/reconstructions", reconstruction_grid(model, observations[val_idx[:8]]), epoch + 1)
        writer.flush()
    finally:
        writer.close()
    model.eval()
    return result


@torch.no_grad()
def _evaluate(model: VAEEncoder, observations: np.ndarray, beta: float, batch_size: int, seed: int) -> np.ndarray:
    if len(observations) == 0:
        return np.full(3, np.nan)
    model.eval()
    generator = torch.Generator(device=model.device).manual_seed(seed + 1)  # the same noise every epoch
    sums = np.zeros(3)
    for start in range(0, len(observations), batch_size):
        batch = observations[start : start + batch_size]
        loss, parts = model.loss(batch, beta, generator)
        sums += len(batch) * np.array([loss.item(), parts["reconstruction"].item(), parts["kl"].item()])
    return sums / len(observations)


@torch.no_grad()
def reconstruction_grid(model: VAEEncoder, observations: np.ndarray) -> torch.Tensor:
    """``(C, 2H, K*W)`` image in [0, 1]: the K inputs on top, their reconstructions below."""
    model.eval()
    inputs = model.preprocess(observations)  # (K, C, H, W) in [0, 1]
    recon = model.reconstruct(observations).clamp(0, 1)  # (K, C, H, W)
    top = torch.cat(list(inputs), dim=-1)  # (C, H, K*W)
    bottom = torch.cat(list(recon), dim=-1)  # (C, H, K*W)
    return torch.cat([top, bottom], dim=-2).cpu()  # (C, 2H, K*W)


def save_vae(result: VAEResult, path: str | Path, **metadata: Any) -> Path:
    """The encoder checkpoint (``rlkit.nn.save_encoder``): what ``policy.init_encoder`` loads."""
    return save_encoder(result.encoder, path, task="vae", **metadata)
