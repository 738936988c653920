"""TensorBoard helpers: the SB3 callbacks that feed a run's event stream, and reading events back.

Tags, besides SB3's own (``rollout/ep_rew_mean``, ``train/value_loss``, …):

* ``env/<name>``: the env's ``info["episode_metrics"]`` (given on the last step of each episode),
  averaged over the episodes finished since the previous log, at the step count of that log;
* ``eval/mean_reward``, ``eval/std_reward``, ``eval/mean_ep_length``, ``eval/<metric>``: periodic evaluation;
* the run's hyperparameters (TensorBoard's HPARAMS tab).

All callbacks share a `TrainingStatus`: once one of them stops training (NaN guard, a signal, an
``on_eval`` hook), the others do no more work, so e.g. no evaluation or checkpoint ever sees
diverged weights. Order them NaN guard first.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import HParam, Logger, TensorBoardOutputFormat

# SB3 logs these with wall-clock values; they differ between identical runs.
TIME_TAGS = ("time/",)


@dataclass
class TrainingStatus:
    """What the callbacks of one training run agree on."""

    stop_signal: int | None = None
    """Set by a signal handler: stop at the next rollout boundary after a checkpoint."""
    stopped: str | None = None
    """Why training stopped early: ``interrupted``, ``diverged`` or ``stopped`` (by an ``on_eval`` hook)."""
    message: str = ""
    """One line for the user about the early stop."""
    last_eval: tuple[int, dict[str, float]] | None = None
    """(step, metrics) of the most recent evaluation."""
    last_checkpoint: Any = None
    """The most recent `rlkit.checkpoints.Checkpoint` written."""
    extra: dict[str, Any] = field(default_factory=dict)

    def stop(self, reason: str, message: str) -> None:
        if self.stopped is None:
            self.stopped, self.message = reason, message


class TrainingDiverged(Exception):
    """Raised by `NanGuard` at a rollout boundary: the policy must not act (or be saved) with non-finite weights."""


class NanGuard(BaseCallback):
    """Stop training at the first NaN/inf in observations, rewards, the losses SB3 logs, or the weights.

    Observations and rewards are checked every step (``on_step`` returns False); losses and weights
    after every update, at the start of the next rollout, before any checkpoint of that step is
    written and before the policy acts again (raises `TrainingDiverged`, which ``rlkit.app.runs`` catches).
    """

    def __init__(self, status: TrainingStatus):
        super().__init__()
        self.status = status

    def _on_training_start(self) -> None:
        self._check_array("observation", self.model._last_obs, at_reset=True)
        if self.status.stopped:
            raise TrainingDiverged(self.status.message)  # before the policy acts on it

    def _on_rollout_start(self) -> None:
        if self.status.stopped:
            return
        step = self.model.num_timesteps
        for key, value in self.logger.name_to_value.items():
            if key.startswith("train/") and isinstance(value, (float, int, np.floating)) and not math.isfinite(value):
                self.status.stop("diverged", f"non-finite loss {key} = {value} at step {step}")
                raise TrainingDiverged(self.status.message)
        bad = first_non_finite_parameter(self.model)
        if bad is not None:
            self.status.stop("diverged", f"non-finite weights in policy.{bad} at step {step} (after an update)")
            raise TrainingDiverged(self.status.message)

    def _on_step(self) -> bool:
        if self.status.stopped:
            return False
        self._check_array("observation", self.locals.get("new_obs"))
        self._check_array("reward", self.locals.get("rewards"))
        return self.status.stopped is None

    def _check_array(self, what: str, value: Any, at_reset: bool = False) -> None:
        if value is None or self.status.stopped:
            return
        arrays = value.items() if isinstance(value, dict) else [("", value)]
        for key, array in arrays:
            array = np.asarray(array)
            if not np.issubdtype(array.dtype, np.number) or np.isfinite(array).all():
                continue
            bad = np.argwhere(~np.isfinite(array.reshape(len(array), -1)))[0]
            where = "at reset" if at_reset else f"at step {self.model.num_timesteps}"
            name = f"{what}[{key!r}]" if key else what
            self.status.stop("diverged", f"non-finite {name} ({array.reshape(len(array), -1)[tuple(bad)]}) from env copy {bad[0]} {where}")


def first_non_finite_parameter(model: Any) -> str | None:
    """Name of the first policy parameter holding a NaN/inf, or None."""
    for name, param in model.policy.named_parameters():
        if not bool(param.detach().isfinite().all()):
            return name
    return None


class EnvMetricsCallback(BaseCallback):
    """Log ``info["episode_metrics"]`` of every finished episode as ``env/<name>`` (mean since the last log)."""

    def _on_step(self) -> bool:
        for done, info in zip(self.locals["dones"], self.locals["infos"]):
            if done and isinstance(info.get("episode_metrics"), dict):
                for name, value in info["episode_metrics"].items():
                    self.logger.record_mean(f"env/{name}", float(value))
        return True


class BatchReturnCallback(BaseCallback):
    """Log ``rollout/ep_rew_batch_mean``: the mean return of the episodes that ended since the last log (for an
    on-policy agent, logging once per rollout, the episodes of one training batch; POPGym's MMER is its maximum
    over training). ``rollout/ep_rew_mean`` is a moving window over the last 100 episodes instead."""

    def _on_step(self) -> bool:
        for done, info in zip(self.locals["dones"], self.locals["infos"]):
            if done and "episode" in info:
                self.logger.record_mean("rollout/ep_rew_batch_mean", float(info["episode"]["r"]))
        return True


class PeriodicEval(BaseCallback):
    """Evaluate every `every` env steps (on the step that reaches a multiple of `every`, so the schedule
    is the same after a resume) and log ``eval/…`` at that step.

    `evaluate(model) -> metrics` must not disturb training's RNG streams (see
    `rlkit.checkpoints.preserved_rng`). `on_eval(step, metrics)` may return False to stop training
    (a sweep pruning a trial).
    """

    def __init__(
        self,
        evaluate: Callable[[Any], dict[str, float]],
        every: int,
        status: TrainingStatus,
        on_eval: Callable[[int, dict[str, float]], bool | None] | None = None,
    ):
        super().__init__()
        self.evaluate, self.every, self.status, self.on_eval = evaluate, every, status, on_eval
        self.next_at = 0

    def _on_training_start(self) -> None:
        self.next_at = (self.model.num_timesteps // self.every + 1) * self.every

    def _on_step(self) -> bool:
        if self.status.stopped:
            return False
        step = self.model.num_timesteps
        if step < self.next_at:
            return True
        self.next_at = (step // self.every + 1) * self.every
        metrics = self.evaluate(self.model)
        log_eval(self.logger, metrics, step)
        self.status.last_eval = (step, metrics)
        if self.on_eval is not None and self.on_eval(step, metrics) is False:
            self.status.stop("stopped", f"stopped by on_eval at step {step}")
            return False
        return True


def log_eval(logger: Logger, metrics: dict[str, float], step: int) -> None:
    """Write an evaluation's metrics under ``eval/`` at `step`."""
    for key in ("mean_reward", "std_reward", "mean_ep_length"):
        if key in metrics:
            logger.record(f"eval/{key}", float(metrics[key]))
    for key, value in metrics.items():
        if key.startswith("env/"):
            logger.record(f"eval/{key[4:]}", float(value))
    logger.dump(step)


class HParamsCallback(BaseCallback):
    """Write the run's hyperparameters once, at the start of a fresh run (TensorBoard's HPARAMS tab)."""

    def __init__(self, hparams: dict[str, Any]):
        super().__init__()
        self.hparams = hparams

    def _on_training_start(self) -> None:
        metrics = {"eval/mean_reward": 0.0, "rollout/ep_rew_mean": 0.0}
        self.logger.record("hparams", HParam(self.hparams, metrics), exclude=("stdout", "log", "json", "csv"))

    def _on_step(self) -> bool:
        return True


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
    with no duplicate steps."""

    def __init__(self, folder: str, purge_step: int | None = None):
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=folder, purge_step=purge_step)
        self._is_closed = False


def make_logger(folder: str | Path, purge_step: int | None = None, stdout: bool = False) -> Logger:
    """An SB3 logger that writes TensorBoard events directly into `folder` (one stream per run dir)."""
    from stable_baselines3.common.logger import HumanOutputFormat

    folder = Path(folder)
    _wait_for_new_second(folder)
    formats: list[Any] = [_TensorBoardFormat(str(folder), purge_step)]
    if stdout:
        import sys

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
    from tensorboard.backend.event_processing.event_accumulator import SCALARS, EventAccumulator

    run_dir = Path(run_dir)
    if not event_files(run_dir):
        raise FileNotFoundError(f"no TensorBoard event files in {str(run_dir)!r}")
    import logging

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
