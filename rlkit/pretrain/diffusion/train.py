"""Train a `DiffusionPolicy` on an ``rlkit collect`` dataset, and write / read its checkpoint.

``train_diffusion`` fits the noise predictor (and the encoder) with DDPM's loss; each epoch logs
``pretrain/denoise_loss`` (training minibatches) and ``pretrain/val_denoise_loss`` (held-out episodes, the
same timesteps and noise every epoch) to TensorBoard, and the weights of the best held-out epoch are kept.
The checkpoint (``save_diffusion``; format ``rlkit.pretrain.diffusion/1``) embeds the encoder checkpoint, so
``rlkit eval CKPT``/``rlkit enjoy CKPT`` run it and ``rlkit pretrain diffusion`` also writes ``encoder.pt``
for ``--init-encoder``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from rlkit.atomic_io import atomic_open
from rlkit.nn import load_encoder, make_encoder
from rlkit.nn.spaces import space_from_dict, space_to_dict
from rlkit.pretrain.bc import _encoder_checkpoint
from rlkit.pretrain.common import check_positive, minibatches, record_epoch, summary_writer
from rlkit.pretrain.dataset import Dataset
from rlkit.pretrain.diffusion.policy import ActionCodec, DiffusionPolicy
from rlkit.pretrain.diffusion.schedule import NoiseSchedule

FORMAT = "rlkit.pretrain.diffusion/1"


@dataclass
class DiffusionResult:
    policy: DiffusionPolicy
    history: list[dict[str, float]] = field(default_factory=list)
    """Per epoch: denoise_loss (training) and val_denoise_loss (held out)."""
    best_epoch: int = -1
    """The epoch whose weights the policy holds (the last: no early stopping)."""


def make_policy(dataset: Dataset, encoder: str = "mlp", encoder_kwargs: dict[str, Any] | None = None,
                hidden: Sequence[int] = (256, 256), diffusion_steps: int = 100, schedule: str = "cosine",
                denoise_steps: int = 10, seed: int = 0, prediction: str = "sample") -> DiffusionPolicy:  # fmt: skip
    """An untrained policy for the dataset's spaces (an unbounded Box is standardised by the dataset's actions)."""
    space = dataset.action_space
    mean = std = None
    if getattr(space, "shape", None) and not (np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high))):
        actions = dataset.actions.reshape(len(dataset), -1).astype(np.float64)
        mean, std = actions.mean(axis=0), actions.std(axis=0)
    codec = ActionCodec(space, mean, std)
    enc = make_encoder(encoder, dataset.observation_space, seed=seed, **(encoder_kwargs or {}))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return DiffusionPolicy(enc, codec, NoiseSchedule(diffusion_steps, schedule, codec.clip), hidden, denoise_steps=denoise_steps,
                               seed=seed, prediction=prediction)  # fmt: skip


def train_diffusion(
    dataset: Dataset,
    policy: DiffusionPolicy,
    epochs: int = 100,
    batch_size: int = 256,
    learning_rate: float = 1e-3,
    holdout: float = 0.1,
    ema_decay: float = 0.99,
    seed: int = 0,
    run_dir: str | Path | None = None,
    device: str = "cpu",
) -> DiffusionResult:
    """Fit ``policy`` (from `make_policy`) to ``dataset`` for ``epochs`` epochs; returns it holding the
    exponential moving average of its weights (``ema_decay`` per update; 0: the last weights), as diffusion
    models are used. No early stopping: the held-out loss of a uniformly drawn timestep is too noisy to pick an epoch by."""
    check_positive(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate)
    if not 0.0 <= ema_decay < 1.0:
        raise ValueError(f"got ema_decay={ema_decay}; expected a number in [0, 1), e.g. 0.99")
    if len(dataset) == 0:
        raise ValueError("got an empty dataset; collect some steps with `rlkit collect`")
    policy.to(device)
    optimizer = torch.optim.Adam(policy.parameters(), lr=learning_rate)
    ema = {k: v.detach().clone() for k, v in policy.state_dict().items()}
    train_idx, val_idx = dataset.split(holdout, seed)
    rng, gen = np.random.default_rng(seed), torch.Generator().manual_seed(seed)
    obs = dataset.observations
    codes = torch.as_tensor(policy.codec.encode(dataset.actions), device=device)
    writer = summary_writer(run_dir)
    result = DiffusionResult(policy)
    try:
        for epoch in range(epochs):
            policy.train()
            total = 0.0
            for batch in minibatches(train_idx, batch_size, rng):
                loss = policy.loss(obs[batch], codes[batch], gen)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                _update_ema(ema, policy, ema_decay)
                total += loss.item() * len(batch)
            row = {"epoch": epoch, "denoise_loss": total / len(train_idx), "val_denoise_loss": held_out_loss(policy, obs, codes, val_idx, seed, ema)}
            record_epoch(writer, result.history, row)
        writer.flush()
    finally:
        writer.close()
    policy.load_state_dict(ema)
    result.best_epoch = epochs - 1
    policy.eval()
    return result


@torch.no_grad()
def _update_ema(ema: dict[str, torch.Tensor], policy: DiffusionPolicy, decay: float) -> None:
    for key, value in policy.state_dict().items():
        if value.dtype.is_floating_point:
            ema[key].mul_(decay).add_(value.detach(), alpha=1.0 - decay)
        else:
            ema[key].copy_(value)


@torch.no_grad()
def held_out_loss(policy: DiffusionPolicy, obs: np.ndarray, codes: torch.Tensor, indices: np.ndarray, seed: int,
                  weights: dict[str, torch.Tensor] | None = None, batch_size: int = 1024) -> float:  # fmt: skip
    """DDPM loss on ``indices`` with timesteps and noise drawn from ``seed`` (the same every call), with
    ``weights`` (e.g. the moving average) loaded for the call and the policy's own put back after."""
    if len(indices) == 0:
        return float("nan")
    own = None
    if weights is not None:
        own = {k: v.detach().clone() for k, v in policy.state_dict().items()}
        policy.load_state_dict(weights)
    try:
        return _loss_over(policy, obs, codes, indices, seed, batch_size)
    finally:
        if own is not None:
            policy.load_state_dict(own)


def _loss_over(policy: DiffusionPolicy, obs: np.ndarray, codes: torch.Tensor, indices: np.ndarray, seed: int, batch_size: int) -> float:
    policy.eval()
    gen = torch.Generator().manual_seed(seed + 1)
    total = 0.0
    for start in range(0, len(indices), batch_size):
        batch = indices[start : start + batch_size]
        total += policy.loss(obs[batch], codes[batch], gen).item() * len(batch)
    return total / len(indices)


def save_diffusion(result: DiffusionResult, path: str | Path, **metadata: Any) -> Path:
    """Write the policy checkpoint (encoder checkpoint + noise predictor + schedule) atomically."""
    policy = result.policy
    payload = {
        "format": FORMAT,
        "encoder": _encoder_checkpoint(policy.encoder, task="diffusion", **metadata),
        "action_space": space_to_dict(policy.action_space),
        "codec": policy.codec.state(),
        "hidden": list(policy.hidden),
        "time_dim": policy.time_dim,
        "schedule": {"steps": policy.schedule.steps, "kind": policy.schedule.kind},
        "denoise_steps": policy.denoise_steps,
        "prediction": policy.prediction,
        "noise_net": {k: v.detach().cpu().clone() for k, v in policy.noise_net.state_dict().items()},
        "metadata": dict(metadata, best_epoch=result.best_epoch),
    }
    path = Path(path)
    with atomic_open(path, "wb") as handle:
        torch.save(payload, handle)
    return path


def read_diffusion_checkpoint(checkpoint: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """Load and check a ``save_diffusion`` checkpoint (a dict read before passes through)."""
    if isinstance(checkpoint, Mapping):
        data, source = dict(checkpoint), "the given checkpoint dict"
    else:
        path = Path(checkpoint)
        if not path.is_file():
            raise FileNotFoundError(f"diffusion checkpoint {str(path)!r} does not exist (write one with `rlkit pretrain diffusion`)")
        try:
            data = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ValueError(f"got {str(path)!r}, which is not an rlkit checkpoint ({type(exc).__name__})") from None
        source = repr(str(path))
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ValueError(f"got {source} with format {found!r}; expected {FORMAT!r} from `rlkit pretrain diffusion`")
    return data


def load_diffusion(checkpoint: str | Path | Mapping[str, Any], denoise_steps: int | None = None, seed: int = 0) -> DiffusionPolicy:
    """Rebuild the policy a checkpoint holds (eval mode); ``denoise_steps`` overrides the saved ``K``."""
    data = read_diffusion_checkpoint(checkpoint)
    space = space_from_dict(data["action_space"])
    codec = ActionCodec(space, data["codec"]["mean"], data["codec"]["std"])
    schedule = NoiseSchedule(data["schedule"]["steps"], data["schedule"]["kind"], codec.clip)
    steps = data["denoise_steps"] if denoise_steps is None else denoise_steps
    policy = DiffusionPolicy(load_encoder(data["encoder"]), codec, schedule, data["hidden"], data["time_dim"], steps, seed, data["prediction"])
    policy.noise_net.load_state_dict(data["noise_net"])
    return policy.eval()
