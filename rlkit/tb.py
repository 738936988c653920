"""TensorBoard logging: a run's SB3 logger writing one event stream, the scalars it records, and
reading events back. The callbacks that feed it are in `rlkit.callbacks`.

Tags, besides SB3's own (``rollout/ep_rew_mean``, ``train/value_loss``, …):

* ``env/<name>``: the env's ``info["episode_metrics"]`` (given on the last step of each episode),
  averaged over the episodes finished since the previous log, at the step count of that log;
* ``eval/mean_reward``, ``eval/std_reward``, ``eval/mean_ep_length``, ``eval/<metric>``: periodic evaluation;
* the run's hyperparameters (TensorBoard's HPARAMS tab).
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.logger import HumanOutputFormat, Logger, TensorBoardOutputFormat
from tensorboard.backend.event_processing.event_accumulator import SCALARS, EventAccumulator
from torch.utils.tensorboard import SummaryWriter

# SB3 logs these with wall-clock values; they differ between identical runs.
TIME_TAGS = ("time/",)


def log_eval(logger: Logger, metrics: dict[str, float], step: int) -> None:
    """Write an evaluation's metrics under ``eval/`` at `step`."""
    for key in ("mean_reward", "std_reward", "mean_ep_length"):
        if key in metrics:
            logger.record(f"eval/{key}", float(metrics[key]))
    for key, value in metrics.items():
        if key.startswith("env/"):
            logger.record(f"eval/{key[4:]}", float(value))
    logger.dump(step)


def pending_logs(logger: Logger) -> dict[str, Any]:
    """Scalars recorded but not yet written (SB3 records an update's losses and writes them with the next
    rollout's statistics); saved with a checkpoint so that the resumed run writes them as the run would have."""
    keep = {k: v for k, v in logger.name_to_value.items() if isinstance(v, (int, float, np.number))}
    return {
        "values": keep,
        "counts": {k: logger.name_to_count[k] for k in keep if k in logger.name_to_count},
        "excluded": {k: logger.name_to_excluded[k] for k in keep if k in logger.name_to_excluded},
    }


def restore_pending_logs(logger: Logger, pending: dict[str, Any] | None) -> None:
    """Put `pending_logs` back into a resumed run's logger."""
    if not pending:
        return
    logger.name_to_value.update(pending["values"])
    logger.name_to_count.update(pending["counts"])
    logger.name_to_excluded.update(pending["excluded"])


def flatten_hparams(data: dict[str, Any], prefix: str = "") -> dict[str, bool | str | float | int]:
    """A nested config → flat ``{"algo_kwargs.n_steps": 64, …}`` of values TensorBoard's hparams accept."""
    flat: dict[str, bool | str | float | int] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_hparams(value, f"{name}."))
        elif isinstance(value, (bool, int, float, str)):
            flat[name] = value
        elif value is not None:
            flat[name] = str(value)
    return flat


class _TensorBoardFormat(TensorBoardOutputFormat):
    """SB3's TensorBoard writer with ``purge_step``: a resumed run hides events at or after the step it
    resumes from (written after the last checkpoint by the run that stopped), so the curve continues
    with no duplicate steps.

    It writes each tag at most once per step. Two dumps can share a step: an evaluation's (periodic or
    final) and the agent's own (SB3's off-policy agents dump every ``log_interval`` episodes, wherever
    an episode ends), and SB3's logger writes every value recorded since its last dump, such as DQN's
    ``rollout/exploration_rate`` (recorded every step) or the ``train/`` losses of an update made
    between them. A later dump at the same step writes only the tags not yet written at that step:
    the first value stands."""

    def __init__(self, folder: str, purge_step: int | None = None):
        self.writer = SummaryWriter(log_dir=folder, purge_step=purge_step)
        self._is_closed = False
        self._step: int | None = None
        self._written: set[str] = set()  # tags written at self._step

    def write(self, key_values: dict[str, Any], key_excluded: dict[str, tuple[str, ...]], step: int = 0) -> None:
        if step != self._step:
            self._step, self._written = step, set()
        new = [key for key in key_values if key not in self._written]
        self._written.update(new)
        super().write({k: key_values[k] for k in new}, {k: key_excluded[k] for k in new}, step)


def make_logger(folder: str | Path, purge_step: int | None = None, stdout: bool = False) -> Logger:
    """An SB3 logger that writes TensorBoard events directly into `folder` (one stream per run dir)."""
    folder = Path(folder)
    _wait_for_new_second(folder)
    formats: list[Any] = [_TensorBoardFormat(str(folder), purge_step)]
    if stdout:
        formats.append(HumanOutputFormat(sys.stdout))
    return Logger(folder=str(folder), output_formats=formats)


def _wait_for_new_second(folder: Path) -> None:
    # Event files are named by creation second and read back in name order; a resumed run's file must
    # sort after the stopped run's for TensorBoard to apply its purge step.
    newest = max((int(p.name.split(".")[3]) for p in folder.glob("events.out.tfevents.*") if _is_int(p.name.split(".")[3])), default=None)
    while newest is not None and int(time.time()) <= newest:
        time.sleep(0.05)


def _is_int(text: str) -> bool:
    return text.isdigit()


# --- reading events back ----------------------------------------------------------------------------


def event_files(run_dir: str | Path) -> list[Path]:
    return sorted(Path(run_dir).glob("events.out.tfevents.*"))


def read_scalars(run_dir: str | Path, tags: list[str] | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every scalar tag of a run's event files → (steps, values), sorted by step, with TensorBoard's own
    reader (which applies purge steps, so a resumed run reads as one curve)."""
    run_dir = Path(run_dir)
    if not event_files(run_dir):
        raise FileNotFoundError(f"no TensorBoard event files in {str(run_dir)!r}")
    accumulator = EventAccumulator(str(run_dir), size_guidance={SCALARS: 0})
    tb_logger = logging.getLogger("tensorboard")
    level = tb_logger.level
    tb_logger.setLevel(logging.ERROR)  # purging a resumed run's orphaned events is expected, not news
    try:
        accumulator.Reload()
    finally:
        tb_logger.setLevel(level)
    out = {}
    for tag in accumulator.Tags()["scalars"]:
        if tags is not None and tag not in tags:
            continue
        events = accumulator.Scalars(tag)
        steps = np.array([e.step for e in events], dtype=np.int64)
        values = np.array([e.value for e in events], dtype=np.float64)
        order = np.argsort(steps, kind="stable")
        out[tag] = (steps[order], values[order])
    return out
