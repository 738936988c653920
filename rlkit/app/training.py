"""Training runs: `train(config) -> RunResult` in a new run directory, `resume(run_dir)` from its newest
checkpoint. The ``rlkit train`` / ``resume`` commands are thin shells around these, which sweeps and
scripts call directly.

The run directory is created only after the config, env and agent have been built without error, and
removed again if training fails before its first checkpoint: bad input never leaves a run behind.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np

from agents import get_algo
from rlkit.app.config import ExperimentConfig, save_config
from rlkit.app.env_factory import env_spaces, make_vec_env
from rlkit.app.learning import OnEval, RunResult, Session, learn
from rlkit.app.policy_setup import bc_regularizer, critic_warmup, load_pretrained, with_pretrained_encoder
from rlkit.app.run_dir import CHECKPOINT_DIR, CONFIG_FILE, METRICS_FILE, create_run_dir, read_run_config
from rlkit.app.validation import validate
from rlkit.checkpoints import Checkpoint, check_spaces, latest_checkpoint, read_checkpoint, restore_env, restore_training_state, verify_zip
from rlkit.pretrain.gail.reward import attach_gail, gail_callbacks
from rlkit.tb import make_logger, restore_pending_logs


def _policy_callbacks(model: Any, config: ExperimentConfig, resuming: Path | None = None) -> list[Any]:
    return [cb for cb in (critic_warmup(config), bc_regularizer(model, config, resuming)) if cb is not None]


def train(
    config: ExperimentConfig,
    *,
    callbacks: list[Any] | tuple[Any, ...] = (),
    on_eval: OnEval | None = None,
    progress_bar: bool = False,
    handle_signals: bool = True,
    on_start: Callable[[Path], None] | None = None,
) -> RunResult:
    """Train the agent `config` describes, in a new run directory; returns how it ended.

    :param callbacks: extra SB3 callbacks, called after rlkit's (NaN guard, env metrics, evaluation,
        checkpoints).
    :param on_eval: called as ``on_eval(step, metrics)`` after every periodic evaluation (``eval.every``);
        returning False stops training with status ``stopped`` (e.g. an Optuna pruner).
    :param progress_bar: show SB3's tqdm/rich progress bar.
    :param handle_signals: stop cleanly on SIGINT/SIGTERM (main thread only): checkpoint at the next
        rollout boundary, status ``interrupted``.
    :param on_start: called with the run directory once it exists (e.g. to print it).
    :raises ValueError: bad config (unknown env/algo/encoder/key, an algo that does not fit the env, …),
        before anything is written.
    """
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
        model = algo.build(config, env)
        load_pretrained(model, config)
        policy_callbacks = _policy_callbacks(model, config)
    except BaseException:
        env.close()
        raise
    run_dir = create_run_dir(config)
    try:
        save_config(config, run_dir / CONFIG_FILE)
        model.set_logger(make_logger(run_dir))
        if on_start is not None:
            on_start(run_dir)
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


def _load_checkpoint(config: ExperimentConfig, ckpt: Checkpoint) -> tuple[Any, Any, dict[str, Any]]:
    """(model, env, checkpoint payload): the agent and its env stack as they were at the checkpoint."""
    state = read_checkpoint(ckpt)
    env_obs, env_act = env_spaces(config)
    check_spaces(ckpt.model_path, state["observation_space"], state["action_space"], env_obs, env_act, config.env.id)
    env = restore_env(state, fallback=make_vec_env(config) if state["env"] is None else None)
    try:
        verify_zip(ckpt.model_path)
        model = get_algo(config.algo).load(ckpt.model_path, env, config.device)
        restore_training_state(model, state)
    except BaseException:
        env.close()
        raise
    if state["env"] is None:
        # A SubprocVecEnv's copies live in other processes and are not checkpointed: they restart
        # their episodes here (seeded from the step, so that a resume is still reproducible).
        print(f"rlkit: {config.env.vectorization} env state is not checkpointed; episodes restart on resume", file=sys.stderr)
        env.seed(config.seed + ckpt.step)
        model._last_obs = None
    return model, env, state


def resume(
    run_dir: str | Path,
    *,
    device: str | None = None,
    steps: int | None = None,
    callbacks: list[Any] | tuple[Any, ...] = (),
    on_eval: OnEval | None = None,
    progress_bar: bool = False,
    handle_signals: bool = True,
    on_start: Callable[[Path, int], None] | None = None,
) -> RunResult:
    """Continue a run from its newest checkpoint to its configured ``total_steps``, as if never stopped:
    weights, optimizer, step counter and schedules, normalization, replay buffer, env state and RNG
    states all come from the checkpoint, and TensorBoard events continue the same step axis (events
    after the checkpoint, from the run that stopped, are purged). `on_start(run_dir, step)` is called
    once the checkpoint is loaded; the other arguments are `train`'s.

    :param steps: a new ``total_steps`` (a finished run is extended): it must exceed the checkpoint's
        step, and is written to the run's ``config.yaml`` (atomically) before training goes on. SB3's
        schedules read progress against the new total, so with a decaying schedule the extended run
        differs from one configured with the new total from the start; constant ones give the same run."""
    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    if device is not None:
        config = config.model_copy(update={"device": device})
    validate(config)
    ckpt = latest_checkpoint(run_dir / CHECKPOINT_DIR)
    if ckpt is None:
        raise ValueError(f"{run_dir} holds no checkpoint to resume from")
    config = _with_steps(config, run_dir, steps, ckpt)
    model, env, state = _load_checkpoint(config, ckpt)
    try:
        if model.num_timesteps >= config.total_steps and (run_dir / METRICS_FILE).is_file():
            metrics = json.loads((run_dir / METRICS_FILE).read_text())
            return RunResult(run_dir, "finished", int(model.num_timesteps), metrics,
                             f"already finished ({model.num_timesteps} of {config.total_steps} steps)", checkpoint=ckpt, model=model)  # fmt: skip
        policy_callbacks = _policy_callbacks(model, config, resuming=run_dir)
        gail = gail_callbacks(env, config.gail, run_dir) if config.gail is not None else []
        if steps is not None:
            # Only once the checkpoint has loaded: a refused resume leaves the run as it was. The model
            # and device stay the run's (`device` is an override for this session, not saved).
            saved = read_run_config(run_dir)
            if saved.total_steps != config.total_steps:
                save_config(saved.model_copy(update={"total_steps": config.total_steps}), run_dir / CONFIG_FILE)
        # Events at the checkpoint's step were written before it; later ones (by the run that stopped) are purged.
        logger = make_logger(run_dir, purge_step=ckpt.step + 1)
        restore_pending_logs(logger, state["extra"].get("logger"))
        model.set_logger(logger)
        if on_start is not None:
            on_start(run_dir, ckpt.step)
        session = Session(config, run_dir, False, [*callbacks, *gail], on_eval, progress_bar, handle_signals, policy_callbacks)
        return learn(model, env, session)
    finally:
        env.close()
