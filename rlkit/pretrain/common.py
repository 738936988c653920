"""What the three pretraining tasks share: run directories, TensorBoard writers, minibatches, seeding."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter

from rlkit.atomic_io import atomic_write, create_unique_dir

ENCODER_FILE = "encoder.pt"
POLICY_FILE = "policy.pt"
METRICS_FILE = "metrics.json"
CONFIG_FILE = "config.json"


def create_run_dir(logdir: str | Path, kind: str, env_id: str, encoder: str, seed: int) -> Path:
    """``<logdir>/pretrain-<kind>__<env>__<encoder>__s<seed>__<YYYYmmdd-HHMMSS>`` (``-2``… if taken), as
    ``rlkit.app.run_dir`` names training runs, so `rlkit curves` reads both the same way."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    env = re.sub(r"[^A-Za-z0-9_.-]+", "-", env_id).strip("-")
    return create_unique_dir(Path(logdir) / f"pretrain-{kind}__{env}__{encoder}__s{seed}__{stamp}")


def write_json(path: str | Path, data: dict[str, Any]) -> None:
    atomic_write(path, (json.dumps(data, indent=2, sort_keys=True, default=float) + "\n").encode())


def summary_writer(run_dir: str | Path | None) -> Any:
    """A TensorBoard ``SummaryWriter`` for ``run_dir`` (None: a writer that drops everything)."""
    if run_dir is None:
        return _NullWriter()
    return SummaryWriter(log_dir=str(run_dir))


class _NullWriter:
    def add_scalar(self, *args: Any, **kwargs: Any) -> None:
        pass

    def add_image(self, *args: Any, **kwargs: Any) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def minibatches(indices: np.ndarray, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """``indices`` shuffled by ``rng`` and cut into batches of ``batch_size`` (the last may be smaller)."""
    order = rng.permutation(indices)
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def check_positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"got {name}={value}; expected a positive number")


def record_epoch(writer: Any, history: list[dict[str, Any]], row: dict[str, Any]) -> None:
    """Append an epoch's `row` to `history` and log its numbers, all but ``epoch``, as
    ``pretrain/<key>`` at step ``epoch + 1`` (so the first epoch is step 1, as the curves show it)."""
    history.append(row)
    for key, value in row.items():
        if key != "epoch":
            writer.add_scalar(f"pretrain/{key}", value, row["epoch"] + 1)


class EarlyStopping:
    """Stop when the held-out loss has not improved by ``min_delta`` for ``patience`` epochs; keeps the best weights."""

    def __init__(self, module: torch.nn.Module, patience: int, min_delta: float = 0.0):
        self.module, self.patience, self.min_delta = module, patience, min_delta
        self.best = float("inf")
        self.best_epoch = -1
        self.best_state: dict[str, torch.Tensor] | None = None
        self.bad_epochs = 0

    def update(self, loss: float, epoch: int) -> bool:
        """Record ``loss``; returns True when training should stop."""
        if loss < self.best - self.min_delta:
            self.best, self.best_epoch, self.bad_epochs = loss, epoch, 0
            self.best_state = {k: v.detach().clone() for k, v in self.module.state_dict().items()}
            return False
        self.bad_epochs += 1
        return self.bad_epochs >= self.patience

    def restore(self) -> None:
        if self.best_state is not None:
            self.module.load_state_dict(self.best_state)


def run_epochs(
    run_dir: str | Path | None,
    module: torch.nn.Module,
    epochs: int,
    patience: int,
    history: list[dict[str, Any]],
    one_epoch: Callable[[int], dict[str, Any]],
) -> int:
    """Train epoch by epoch: ``one_epoch(epoch)`` trains once over the data and returns the epoch's row
    (with ``val_loss``), which goes to `history` and to TensorBoard under `run_dir`; stops once the
    held-out loss has not improved for `patience` epochs, then restores `module`'s best weights and
    puts it in eval mode. Returns the best epoch."""
    stopper = EarlyStopping(module, patience)
    writer = summary_writer(run_dir)
    try:
        for epoch in range(epochs):
            row = one_epoch(epoch)
            record_epoch(writer, history, row)
            if stopper.update(row["val_loss"], epoch):
                break
        writer.flush()
    finally:
        writer.close()
    stopper.restore()
    module.eval()
    return stopper.best_epoch
