"""One stretch of training in a run directory: rlkit's callbacks around SB3's ``learn``, stopping on
signals, and what a run leaves behind when it finishes, diverges, is interrupted or is stopped.

`learn` is shared by `rlkit.app.training.train` (a fresh run) and `resume` (a continued one).
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import cloudpickle
from stable_baselines3.common.callbacks import CallbackList
from stable_baselines3.common.vec_env import VecNormalize, unwrap_vec_wrapper

from rlkit.app.config import ExperimentConfig
from rlkit.app.evaluation import Evaluator, format_metrics
from rlkit.app.run_dir import CHECKPOINT_DIR, METRICS_FILE, MODEL_FILE, NORMALIZE_FILE, file_digests
from rlkit.atomic_io import atomic_write
from rlkit.callbacks import (
    BatchReturnCallback,
    CheckpointCallback,
    EnvMetricsCallback,
    HParamsCallback,
    NanGuard,
    PeriodicEval,
    TrainingDiverged,
    TrainingStatus,
    first_non_finite_parameter,
)
from rlkit.checkpoints import Checkpoint, latest_checkpoint, preserved_rng, save_checkpoint
from rlkit.constraints import LagrangianCallback, LagrangianPenalty
from rlkit.tb import flatten_hparams, log_eval, pending_logs

OnEval = Callable[[int, dict[str, Any]], "bool | None"]


@dataclass
class RunResult:
    """The outcome of `train` / `resume`."""

    run_dir: Path
    status: str
    """``finished``, ``interrupted`` (signal; resumable), ``diverged`` (NaN/inf) or ``stopped`` (by ``on_eval``)."""
    steps: int
    """Env steps trained (``model.num_timesteps``) when training ended."""
    metrics: dict[str, Any] | None = None
    """The final evaluation (also in ``metrics.json``) for finished runs; the last periodic one otherwise."""
    message: str = ""
    """One line about how the run ended."""
    exit_code: int = 0
    """What the command line exits with: 0 finished, 128+signal interrupted, 1 diverged."""
    checkpoint: Checkpoint | None = None
    """The newest checkpoint on disk."""
    model: Any = field(default=None, repr=False)
    """The trained agent (for finished runs)."""


@dataclass
class Session:
    """What one `learn` call trains with, besides the model and its env."""

    config: ExperimentConfig
    run_dir: Path
    fresh: bool
    """A new run (hyperparameters logged, step counter reset) rather than a resumed one."""
    callbacks: list[Any] = field(default_factory=list)
    """Extra SB3 callbacks, after rlkit's."""
    on_eval: OnEval | None = None
    progress_bar: bool = False
    handle_signals: bool = True
    policy_callbacks: list[Any] = field(default_factory=list)
    """Callbacks that change how the policy learns (critic warm-up, BC term), before the extra ones."""


@contextlib.contextmanager
def stop_on_signals(status: TrainingStatus, enabled: bool) -> Iterator[None]:
    """SIGINT/SIGTERM: the first asks training to stop at the next rollout boundary (after a checkpoint);
    a second one stops at once (``KeyboardInterrupt``)."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if status.stop_signal is not None:
            raise KeyboardInterrupt
        status.stop_signal = signum
        print(
            f"\nrlkit: {signal.Signals(signum).name} received: saving a checkpoint at the next rollout boundary, "
            "then stopping (send it again to stop at once)",
            file=sys.stderr,
            flush=True,
        )

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def hparams(config: ExperimentConfig) -> dict[str, Any]:
    """The config as TensorBoard hyperparameters (without paths and the device, which do not change the run)."""
    data = config.to_dict()
    for key in ("logdir", "device", "expected"):
        data.pop(key, None)
    return flatten_hparams(data)


def _callback_chain(session: Session, env: Any, status: TrainingStatus, evaluate: Callable[[Any], dict[str, Any]]) -> list[Any]:
    config = session.config
    chain: list[Any] = [NanGuard(status), EnvMetricsCallback(), BatchReturnCallback()]
    if config.constraint is not None:
        penalty = unwrap_vec_wrapper(env, LagrangianPenalty)
        if penalty is None:
            raise ValueError(f"{session.run_dir} is configured with a constraint but its env stack holds no multiplier; it cannot be resumed")
        chain.append(LagrangianCallback(penalty))
    if session.fresh:
        chain.append(HParamsCallback(hparams(config)))
    if config.eval.every:
        chain.append(PeriodicEval(evaluate, config.eval.every, status, session.on_eval))
    directory = session.run_dir / CHECKPOINT_DIR
    chain.append(CheckpointCallback(status, env, directory, config.checkpoint_every, config.keep_checkpoints))
    return chain + session.policy_callbacks + session.callbacks


def _run_learn(model: Any, session: Session, status: TrainingStatus, chain: list[Any]) -> bool:
    """SB3's ``learn`` up to ``total_steps``; how it stopped goes into `status`. True after a hard stop."""
    try:
        with stop_on_signals(status, session.handle_signals):
            model.learn(
                session.config.total_steps - model.num_timesteps,
                callback=CallbackList(chain),
                reset_num_timesteps=session.fresh,
                progress_bar=session.progress_bar,
            )
    except TrainingDiverged:
        pass  # status says where and why
    except ValueError as exc:
        # NaN weights usually surface inside SB3's update first, as torch's distribution check failing.
        bad = first_non_finite_parameter(model)
        if bad is None:
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        status.stop("diverged", f"non-finite weights in policy.{bad} at step {model.num_timesteps} ({first})")
    except KeyboardInterrupt:
        status.stop("interrupted", f"stopped at once at step {model.num_timesteps}")
        status.stop_signal = status.stop_signal or signal.SIGINT
        return True
    return False


def _stopped_early(result: RunResult, status: TrainingStatus, hard_stop: bool) -> None:
    """Exit code and message of a run that did not finish; an interrupted run without a checkpoint is removed."""
    last = result.checkpoint
    if status.stopped == "interrupted":
        result.exit_code = 128 + int(status.stop_signal or signal.SIGINT)
        if last is None:
            shutil.rmtree(result.run_dir, ignore_errors=True)
            result.message = f"{status.message}; no checkpoint had been written, so the run directory was removed"
        else:
            kept = f" (the last checkpoint, step {last.step}, is kept)" if hard_stop else ""
            result.message = f"{status.message}{kept}; continue with: rlkit resume {result.run_dir}"
    elif status.stopped == "diverged":
        result.exit_code = 1
        kept = f"the last good checkpoint is step {last.step}" if last else "no checkpoint had been written"
        result.message = f"training diverged: {status.message}; {kept} (lower the learning rate or check the env)"
    else:
        result.message = status.message


def _finish(model: Any, env: Any, session: Session, status: TrainingStatus, evaluate: Callable[[Any], dict[str, Any]],
            result: RunResult) -> None:  # fmt: skip
    """A finished run: a final checkpoint (to extend the run later), the model, the final evaluation."""
    config, run_dir, step = session.config, session.run_dir, result.steps
    if result.checkpoint is None or result.checkpoint.step != step:
        extra = {"logger": pending_logs(model.logger)}
        result.checkpoint = save_checkpoint(model, env, run_dir / CHECKPOINT_DIR, config.keep_checkpoints, extra)
    buffer = io.BytesIO()
    model.save(buffer)
    atomic_write(run_dir / MODEL_FILE, buffer.getvalue())
    if isinstance(env, VecNormalize):
        atomic_write(run_dir / NORMALIZE_FILE, cloudpickle.dumps(env))
    if status.last_eval is not None and status.last_eval[0] == step:
        metrics = status.last_eval[1]
    else:
        metrics = evaluate(model)
        log_eval(model.logger, metrics, step)
    metrics = {**metrics, "steps": step, "algo": config.algo, "env": config.env.id, "seed": config.seed, **file_digests(run_dir)}
    atomic_write(run_dir / METRICS_FILE, (json.dumps(metrics, indent=2) + "\n").encode())
    result.metrics = metrics
    result.message = f"finished {step} steps: {format_metrics(metrics)}"


def learn(model: Any, env: Any, session: Session) -> RunResult:
    """Train `model` on its training env stack `env` to ``total_steps``, with checkpoints, evaluations and
    the NaN guard; returns how it ended (the model, metrics and events written where it finished)."""
    status = TrainingStatus()
    evaluator = Evaluator(session.config, normalize_from=env if isinstance(env, VecNormalize) else None)

    def evaluate(agent: Any) -> dict[str, Any]:
        with preserved_rng():
            return evaluator(agent)

    try:
        hard_stop = _run_learn(model, session, status, _callback_chain(session, env, status, evaluate))
        last = latest_checkpoint(session.run_dir / CHECKPOINT_DIR)
        result = RunResult(session.run_dir, status.stopped or "finished", int(model.num_timesteps), checkpoint=last, model=model)
        if status.last_eval is not None:
            result.metrics = status.last_eval[1]
        if status.stopped:
            _stopped_early(result, status, hard_stop)
        else:
            _finish(model, env, session, status, evaluate, result)
        return result
    finally:
        evaluator.close()
        model.logger.close()
