"""Training runs: `train(config) -> RunResult` in a new run directory, `resume(run_dir)` from its newest
checkpoint. The ``rlkit train`` / ``resume`` commands are thin shells around these, which sweeps and
scripts call directly.

The run directory is created only after the config, env and agent have been built without error, and
removed again if training fails before its first checkpoint: bad input never leaves a run behind.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from rlkit.app.budget import StepPlan, build_within_budget, plan_steps
from rlkit.app.config import ExperimentConfig
from rlkit.app.env_factory import make_vec_env
from rlkit.app.learning import OnEval, RunResult, Session, learn
from rlkit.app.policy_setup import bc_regularizer, critic_warmup, load_pretrained, with_pretrained_encoder
from rlkit.app.restore import choose_checkpoint, load_checkpoint, set_aside_newer
from rlkit.app.run_dir import CHECKPOINT_DIR, METRICS_FILE, create_run_dir, read_run_config, save_run_config
from rlkit.app.validation import validate
from rlkit.atomic_io import clean_temp_files
from rlkit.checkpoints import Checkpoint, latest_checkpoint
from rlkit.pretrain.gail.reward import attach_gail, gail_callbacks
from rlkit.tb import make_logger, restore_pending_logs


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run a block with `threads` torch CPU threads (0: leave torch's default), then restore the previous count."""
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _policy_callbacks(model: Any, config: ExperimentConfig, resuming: Path | None = None) -> list[Any]:
    return [cb for cb in (critic_warmup(config), bc_regularizer(model, config, resuming)) if cb is not None]


def train(
    config: ExperimentConfig,
    *,
    callbacks: list[Any] | tuple[Any, ...] = (),
    on_eval: OnEval | None = None,
    progress_bar: bool = False,
    handle_signals: bool = True,
    on_start: Callable[[Path, StepPlan], None] | None = None,
) -> RunResult:
    """Train the agent `config` describes, in a new run directory; returns how it ended.

    :param callbacks: extra SB3 callbacks, called after rlkit's (NaN guard, env metrics, evaluation,
        checkpoints).
    :param on_eval: called as ``on_eval(step, metrics)`` after every periodic evaluation (``eval.every``);
        returning False stops training with status ``stopped`` (e.g. an Optuna pruner).
    :param progress_bar: show SB3's tqdm/rich progress bar.
    :param handle_signals: stop cleanly on SIGINT/SIGTERM (main thread only): checkpoint at the next
        rollout boundary, status ``interrupted``.
    :param on_start: called as ``on_start(run_dir, plan)`` once the run directory exists, with the
        `rlkit.app.budget.StepPlan` of the steps that will be trained (e.g. to print them).
    :raises ValueError: bad config (unknown env/algo/encoder/key, an algo that does not fit the env, …),
        before anything is written.
    """
    with torch_threads(config.threads):
        return _train(config, callbacks, on_eval, progress_bar, handle_signals, on_start)


def _train(config: ExperimentConfig, callbacks: Any, on_eval: OnEval | None, progress_bar: bool, handle_signals: bool,
           on_start: Callable[[Path, StepPlan], None] | None) -> RunResult:  # fmt: skip
    algo = validate(config)
    config = with_pretrained_encoder(config, algo)
    if config.policy.bc_data is not None:  # resume reads it again, maybe from another working directory
        policy = config.policy.model_copy(update={"bc_data": str(Path(config.policy.bc_data).resolve())})
        config = config.model_copy(update={"policy": policy})
    if config.gail is not None:  # the same
        config = config.model_copy(update={"gail": config.gail.model_copy(update={"demos": str(Path(config.gail.demos).resolve())})})
    env = make_vec_env(config)
    gail: list[Any] = []
    try:
        if config.gail is not None:
            env, gail = attach_gail(env, config.gail, config.seed)
        model, config, plan = build_within_budget(algo, config, env)
        load_pretrained(model, config)
        policy_callbacks = _policy_callbacks(model, config)
    except BaseException:
        env.close()
        raise
    run_dir = create_run_dir(config)
    try:
        save_run_config(config, run_dir)
        model.set_logger(make_logger(run_dir))
        if on_start is not None:
            on_start(run_dir, plan)
        session = Session(config, run_dir, True, [*callbacks, *gail], on_eval, progress_bar, handle_signals, policy_callbacks)
        return learn(model, env, session)
    except BaseException:
        if latest_checkpoint(run_dir / CHECKPOINT_DIR) is None:
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    finally:
        env.close()


def _with_steps(config: ExperimentConfig, run_dir: Path, steps: int | None, ckpt: Checkpoint) -> ExperimentConfig:
    """`config` with ``resume --steps``'s new total, which must exceed the checkpoint's step."""
    if steps is not None:
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps <= ckpt.step:
            raise ValueError(
                f"--steps {steps}: {run_dir} has already trained {ckpt.step:,} steps; give a new total above that "
                f"(e.g. --steps {max(2 * ckpt.step, ckpt.step + 1)})"
            )
        config = config.model_copy(update={"total_steps": int(steps)})
    return config


def resume(
    run_dir: str | Path,
    *,
    device: str | None = None,
    steps: int | None = None,
    callbacks: list[Any] | tuple[Any, ...] = (),
    on_eval: OnEval | None = None,
    progress_bar: bool = False,
    handle_signals: bool = True,
    on_start: Callable[[Path, int, StepPlan], None] | None = None,
    threads: int | None = None,
    from_checkpoint: str | None = None,
) -> RunResult:
    """Continue a run from its newest checkpoint to its configured ``total_steps``, as if never stopped:
    weights, optimizer, step counter and schedules, normalization, replay buffer, env state and RNG
    states all come from the checkpoint, and TensorBoard events continue the same step axis (events
    after the checkpoint, from the run that stopped, are purged). `on_start(run_dir, step, plan)` is
    called once the checkpoint is loaded; the other arguments are `train`'s. `device` and `threads`
    override the run's for this session (they are not saved). Temp files of killed writes are removed.

    :param steps: a new ``total_steps`` (a finished run is extended): it must exceed the checkpoint's
        step, and is written to the run's ``config.yaml`` (atomically) before training goes on. SB3's
        schedules read progress against the new total, so with a decaying schedule the extended run
        differs from one configured with the new total from the start; constant ones give the same run.
    :param from_checkpoint: resume from this checkpoint (its zip path or step) rather than the newest;
        the newer ones are set aside (renamed ``*.set-aside``)."""
    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    if device is not None:
        config = config.model_copy(update={"device": device})
    if threads is not None:
        config = config.model_copy(update={"threads": threads})
    session = Session(config, run_dir, False, list(callbacks), on_eval, progress_bar, handle_signals)
    with torch_threads(config.threads):
        return _resume(session, steps, from_checkpoint, on_start)


def _resume(session: Session, steps: int | None, from_checkpoint: str | None,
            on_start: Callable[[Path, int, StepPlan], None] | None) -> RunResult:  # fmt: skip
    run_dir = session.run_dir
    validate(session.config)
    ckpt, state = choose_checkpoint(run_dir, from_checkpoint)
    config = session.config = _with_steps(session.config, run_dir, steps, ckpt)
    model, env = load_checkpoint(config, ckpt, state)
    try:
        if model.num_timesteps >= config.total_steps and (run_dir / METRICS_FILE).is_file():
            metrics = json.loads((run_dir / METRICS_FILE).read_text())
            return RunResult(run_dir, "finished", int(model.num_timesteps), metrics,
                             f"already finished ({model.num_timesteps} of {config.total_steps} steps)", checkpoint=ckpt, model=model)  # fmt: skip
        session.policy_callbacks = _policy_callbacks(model, config, resuming=run_dir)
        if config.gail is not None:
            session.callbacks = [*session.callbacks, *gail_callbacks(env, config.gail, run_dir)]
        # Only once the checkpoint has loaded: a refused resume leaves the run as it was.
        for directory in (run_dir, run_dir / CHECKPOINT_DIR):
            clean_temp_files(directory)
        if set_aside_newer(ckpt):
            print(f"rlkit: resuming from step {ckpt.step:,}: newer checkpoints renamed *.set-aside", file=sys.stderr)
        if steps is not None:  # the model and device stay the run's (`device` is an override for this session)
            saved = read_run_config(run_dir)
            if saved.total_steps != config.total_steps:
                save_run_config(saved.model_copy(update={"total_steps": config.total_steps}), run_dir)
        # Events at the checkpoint's step were written before it; later ones (by the run that stopped) are purged.
        logger = make_logger(run_dir, purge_step=ckpt.step + 1)
        restore_pending_logs(logger, state["extra"].get("logger"))
        model.set_logger(logger)
        if on_start is not None:
            on_start(run_dir, ckpt.step, plan_steps(model, config.total_steps, ckpt.step))
        return learn(model, env, session)
    finally:
        env.close()
