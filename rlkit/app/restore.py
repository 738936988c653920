"""Resuming a run: which checkpoint (the newest, or ``--from`` one, with a damaged newest one refused
naming the older valid ones), and its agent and env stack loaded back as they were."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from agents import get_algo
from rlkit.app.config import ExperimentConfig
from rlkit.app.env_factory import env_spaces, make_vec_env
from rlkit.app.run_dir import CHECKPOINT_DIR
from rlkit.checkpoints import (
    Checkpoint,
    CheckpointError,
    check_spaces,
    list_checkpoints,
    read_checkpoint,
    restore_env,
    restore_training_state,
    verify_zip,
)


def _named_checkpoint(run_dir: Path, found: list[Checkpoint], name: str) -> Checkpoint:
    """The checkpoint `name` names: its zip or sidecar path, or its step."""
    for ckpt in found:
        if name == str(ckpt.step) or Path(name).resolve() in (ckpt.model_path.resolve(), ckpt.state_path.resolve()):
            return ckpt
    steps = ", ".join(f"{c.step}" for c in found) or "none"
    raise ValueError(f"--from {name}: not a checkpoint of {run_dir} (give a ckpt_*.zip path or a step; its checkpoints: {steps})")


def choose_checkpoint(run_dir: str | Path, name: str | None = None) -> tuple[Checkpoint, dict[str, Any]]:
    """The checkpoint to resume from and its verified payload: the newest, or the one `name` names
    (``resume --from``). A damaged newest checkpoint is refused naming the older valid ones."""
    run_dir = Path(run_dir)
    found = list_checkpoints(run_dir / CHECKPOINT_DIR)
    if not found:
        raise ValueError(f"{run_dir} holds no checkpoint to resume from")
    ckpt = found[-1] if name is None else _named_checkpoint(run_dir, found, name)
    try:
        return ckpt, read_checkpoint(ckpt)
    except CheckpointError as exc:
        if name is not None:
            raise
        valid = []
        for older in reversed(found[:-1]):
            try:
                read_checkpoint(older)
                valid.append(older)
            except (CheckpointError, OSError):
                continue
        if not valid:
            raise CheckpointError(f"{exc}; no older checkpoint is valid either") from None
        listed = ", ".join(f"step {c.step:,}" for c in valid)
        raise CheckpointError(
            f"{exc}; older valid checkpoints: {listed}; continue from the newest of them with: "
            f"rlkit resume {run_dir} --from {valid[0].model_path}"
        ) from None


def set_aside_newer(ckpt: Checkpoint) -> list[Path]:
    """Rename the checkpoints after `ckpt` (``*.set-aside``), so that a run resumed from `ckpt` never mixes
    them with its own; returns the renamed files."""
    moved = []
    for newer in list_checkpoints(ckpt.state_path.parent):
        if newer.step > ckpt.step:
            for path in (newer.state_path, newer.model_path):  # sidecar first: the pair stops counting at once
                if path.exists():
                    path.rename(path.with_name(path.name + ".set-aside"))
                    moved.append(path)
    return moved



def load_checkpoint(config: ExperimentConfig, ckpt: Checkpoint, state: dict[str, Any]) -> tuple[Any, Any]:
    """(model, env): the agent and its env stack as they were at the checkpoint (`state`: its payload)."""
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
    return model, env
