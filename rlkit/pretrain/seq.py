"""Self-supervised sequence pretraining: predict the next observation and the reward from the history.

A sequence encoder (``make_encoder(name, space, sequence=True)``: lstm, gru, tcn, transformer)
reads the observations of an episode step by step; a small head reads its features at step t and
the action taken at t and predicts the (preprocessed, flattened) observation at t + 1 and the
reward r_t. The dataset is cut into chunks of ``chunk_len`` steps that never span two episodes,
each starting from an empty memory at its first step (``episode_starts``), as sequence PPO's
truncated BPTT does; padding and the steps whose next observation is unknown (an episode's last)
are masked out of the loss. Only the encoder is saved: ppo-seq's ``policy.init_encoder``.

The held-out losses are reported next to two trivial predictors (the next observation equals
the current one; the reward equals its training mean), so a "pretrained" encoder that learned
nothing shows as such.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from rlkit.nn import make_encoder, save_encoder, sequence_encoder_names
from rlkit.nn.encoders import SequenceEncoder
from rlkit.nn.spaces import flatten_preprocessed, obs_as_tensor, preprocess
from rlkit.pretrain.common import check_positive, run_epochs
from rlkit.pretrain.dataset import Dataset


@dataclass
class Chunks:
    """Episode-aligned windows of a dataset: ``index (K, L)`` step indices (padding repeats a valid index)."""

    index: np.ndarray  # (K, L) int
    valid: np.ndarray  # (K, L) bool: a real step of the chunk
    has_next: np.ndarray  # (K, L) bool: the step's next observation is in the dataset (same episode)


def make_chunks(dataset: Dataset, steps: np.ndarray, chunk_len: int) -> Chunks:
    """Cut the steps ``steps`` (sorted indices) into chunks of at most ``chunk_len`` within one episode."""
    ids = dataset.episode_ids()
    ends = dataset.terminated | dataset.truncated
    n = len(dataset)
    rows, valid, has_next = [], [], []
    if len(steps):
        breaks = np.flatnonzero((np.diff(steps) != 1) | (np.diff(ids[steps]) != 0)) + 1
        for run in np.split(steps, breaks):
            for start in range(0, len(run), chunk_len):
                part = run[start : start + chunk_len]
                pad = chunk_len - len(part)
                rows.append(np.concatenate([part, np.full(pad, part[-1])]))
                valid.append(np.arange(chunk_len) < len(part))
                nxt = part + 1
                ok = (nxt < n) & ~ends[part]
                ok[ok] &= ~dataset.episode_starts[nxt[ok]]
                has_next.append(np.concatenate([ok, np.zeros(pad, dtype=bool)]))
    empty = np.zeros((0, chunk_len))
    return Chunks(
        np.asarray(rows, dtype=np.int64).reshape(-1, chunk_len) if rows else empty.astype(np.int64),
        np.asarray(valid, dtype=bool).reshape(-1, chunk_len) if valid else empty.astype(bool),
        np.asarray(has_next, dtype=bool).reshape(-1, chunk_len) if has_next else empty.astype(bool),
    )


class NextStepModel(nn.Module):
    """Sequence encoder + head: ``(features_t, action_t) -> (next observation, reward)``."""

    def __init__(self, encoder: SequenceEncoder, action_space: spaces.Space, target_dim: int, hidden: int = 128) -> None:
        super().__init__()
        self.encoder = encoder
        self.action_space = action_space
        if isinstance(action_space, spaces.Discrete):
            self.action_dim = int(action_space.n)
        elif isinstance(action_space, spaces.Box):
            self.action_dim = int(np.prod(action_space.shape))
        else:
            raise ValueError(f"got action space {action_space}; next-step prediction supports Discrete and Box actions")
        self.head = nn.Sequential(
            nn.Linear(encoder.output_dim + self.action_dim, hidden), nn.ReLU(), nn.Linear(hidden, target_dim + 1)
        )

    def encode_actions(self, actions: torch.Tensor) -> torch.Tensor:
        """``(B, T, *act_shape)`` -> ``(B, T, action_dim)`` (one-hot for Discrete)."""
        if isinstance(self.action_space, spaces.Discrete):
            return nn.functional.one_hot(actions.long() - int(self.action_space.start), self.action_dim).float()
        return actions.float().reshape(*actions.shape[:2], -1)

    def forward(self, obs: Any, actions: torch.Tensor, starts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features, _ = self.encoder(obs, starts, None)  # (B, T, F)
        out = self.head(torch.cat([features, self.encode_actions(actions)], dim=-1))  # (B, T, D + 1)
        return out[..., :-1], out[..., -1]  # next obs (B, T, D), reward (B, T)


@dataclass
class SeqResult:
    model: NextStepModel
    history: list[dict[str, float]] = field(default_factory=list)
    """Per epoch: loss, val_loss, val_obs_mse, val_reward_mse (held out)."""
    baselines: dict[str, float] = field(default_factory=dict)
    """Held-out errors of the trivial predictors: copy_obs_mse, mean_reward_mse."""
    best_epoch: int = -1


def _targets(dataset: Dataset) -> np.ndarray:
    space = dataset.observation_space
    flat = flatten_preprocessed(preprocess(obs_as_tensor(dataset.observations), space), space, 1)  # (N, D)
    return flat.float().numpy()


def train_seq(
    dataset: Dataset,
    encoder: str = "gru",
    encoder_kwargs: dict[str, Any] | None = None,
    chunk_len: int = 32,
    epochs: int = 30,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    reward_weight: float = 1.0,
    holdout: float = 0.1,
    patience: int = 5,
    seed: int = 0,
    run_dir: str | Path | None = None,
    device: str = "cpu",
) -> SeqResult:
    """Pretrain a sequence encoder on next-observation and reward prediction (``batch_size`` counts chunks)."""
    check_positive(chunk_len=chunk_len, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, patience=patience)
    names = sequence_encoder_names()
    if encoder not in names:
        raise ValueError(f"got `encoder` {encoder!r} for sequence pretraining; expected one of: {', '.join(names)}")
    torch.manual_seed(seed)
    seq_encoder = make_encoder(encoder, dataset.observation_space, sequence=True, seed=seed, **(encoder_kwargs or {}))
    targets = _targets(dataset)  # (N, D)
    model = NextStepModel(seq_encoder, dataset.action_space, targets.shape[1]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    train_steps, val_steps = dataset.split(holdout, seed)
    train_chunks, val_chunks = make_chunks(dataset, train_steps, chunk_len), make_chunks(dataset, val_steps, chunk_len)
    rewards = dataset.rewards.astype(np.float32)
    reward_mean = float(rewards[train_steps].mean())
    result = SeqResult(model)
    result.baselines = _baselines(dataset, targets, rewards, val_chunks, reward_mean)
    rng = np.random.default_rng(seed)

    def batch_loss(chunks: Chunks, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        index = chunks.index[rows]  # (B, L)
        starts = torch.zeros(index.shape, dtype=torch.bool, device=device)
        starts[:, 0] = True  # every chunk starts from an empty memory
        obs = torch.as_tensor(dataset.observations[index], device=device)  # (B, L, *obs_shape)
        acts = torch.as_tensor(dataset.actions[index], device=device)  # (B, L, *act_shape)
        pred_obs, pred_rew = model(obs, acts, starts)
        next_index = np.minimum(index + 1, len(dataset) - 1)
        obs_target = torch.as_tensor(targets[next_index], device=device)  # (B, L, D)
        rew_target = torch.as_tensor(rewards[index] - reward_mean, device=device)  # (B, L)
        has_next = torch.as_tensor(chunks.has_next[rows], device=device).float()  # (B, L)
        valid = torch.as_tensor(chunks.valid[rows], device=device).float()  # (B, L)
        obs_se = ((pred_obs - obs_target) ** 2).mean(dim=-1)  # (B, L)
        obs_mse = (obs_se * has_next).sum() / has_next.sum().clamp(min=1)
        rew_mse = (((pred_rew - rew_target) ** 2) * valid).sum() / valid.sum().clamp(min=1)
        return obs_mse + reward_weight * rew_mse, obs_mse, rew_mse

    def one_epoch(epoch: int) -> dict[str, Any]:
        model.train()
        total, count = 0.0, 0
        order = rng.permutation(len(train_chunks.index))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            loss, _, _ = batch_loss(train_chunks, rows)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            total, count = total + loss.item() * len(rows), count + len(rows)
        model.eval()
        with torch.no_grad():
            rows = np.arange(len(val_chunks.index))
            val = [t.item() for t in batch_loss(val_chunks, rows)] if len(rows) else [np.nan] * 3
        return {"epoch": epoch, "loss": total / max(count, 1), "val_loss": val[0], "val_obs_mse": val[1], "val_reward_mse": val[2]}

    result.best_epoch = run_epochs(run_dir, model, epochs, patience, result.history, one_epoch)
    return result


def _baselines(dataset: Dataset, targets: np.ndarray, rewards: np.ndarray, chunks: Chunks, reward_mean: float) -> dict[str, float]:
    index, has_next, valid = chunks.index, chunks.has_next, chunks.valid
    if not len(index):
        return {}
    next_index = np.minimum(index + 1, len(dataset) - 1)
    copy_se = ((targets[next_index] - targets[index]) ** 2).mean(axis=-1)  # (K, L)
    return {
        "copy_obs_mse": float(copy_se[has_next].mean()) if has_next.any() else float("nan"),
        "mean_reward_mse": float(((rewards[index] - reward_mean) ** 2)[valid].mean()),
    }


def save_seq(result: SeqResult, path: str | Path, **metadata: Any) -> Path:
    """The sequence encoder's checkpoint (``rlkit.nn.save_encoder``): what ppo-seq's ``policy.init_encoder`` loads."""
    return save_encoder(result.model.encoder, path, task="seq", **metadata)
