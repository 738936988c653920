"""Checkpoints on disk: a step's zip and sidecar, listed, written and read back, and their training state
(replay buffer, RNG streams, gSDE noise) put back into a loaded model."""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlkit.atomic_io import atomic_write
from rlkit.checkpoints.bundle import STATE_VERSION, CheckpointError, read_bundle, write_bundle
from rlkit.checkpoints.env_state import freeze_env
from rlkit.checkpoints.gsde import capture_sde_noise, restore_sde_noise
from rlkit.checkpoints.rng import capture_rng, restore_rng

_CKPT_RE = re.compile(r"^ckpt_(\d+)\.state$")


@dataclass(frozen=True)
class Checkpoint:
    """A complete checkpoint on disk (its sidecar exists)."""

    step: int
    model_path: Path
    state_path: Path


def checkpoint_paths(directory: str | Path, step: int) -> Checkpoint:
    directory = Path(directory)
    return Checkpoint(step, directory / f"ckpt_{step:012d}.zip", directory / f"ckpt_{step:012d}.state")


def list_checkpoints(directory: str | Path) -> list[Checkpoint]:
    """Complete checkpoints in `directory`, oldest first (a zip without its sidecar is incomplete)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for entry in directory.iterdir():
        match = _CKPT_RE.match(entry.name)
        if match:
            found.append(checkpoint_paths(directory, int(match.group(1))))
    return sorted(found, key=lambda c: c.step)


def latest_checkpoint(directory: str | Path) -> Checkpoint | None:
    found = list_checkpoints(directory)
    return found[-1] if found else None


def save_checkpoint(
    model: Any,
    vec_env: Any,
    directory: str | Path,
    keep: int = 3,
    extra: dict[str, Any] | None = None,
    rollout_started: bool = False,
) -> Checkpoint:
    """Write a checkpoint of `model` and its training env `vec_env` at ``model.num_timesteps``.

    `vec_env` is the env stack rlkit built (optionally a ``VecNormalize`` over the base vec env).
    `extra` is stored as is (e.g. the callbacks' next eval/checkpoint steps). Keeps the newest
    `keep` checkpoints; an older one is deleted only after the new one is complete.
    `rollout_started`: saved from ``on_rollout_start``, where SB3 has already drawn the rollout's gSDE
    noise (``collect_rollouts`` calls ``reset_noise`` just before it); the resumed run then skips
    that draw (see `restore_training_state`). False between ``learn`` calls (the end of a run).
    """
    ckpt = checkpoint_paths(directory, int(model.num_timesteps))
    buffer = io.BytesIO()
    model.save(buffer)
    model_bytes = buffer.getvalue()

    replay = None
    if getattr(model, "replay_buffer", None) is not None:
        replay_buffer = io.BytesIO()
        model.save_replay_buffer(replay_buffer)
        replay = replay_buffer.getvalue()

    action_rng = getattr(model.action_space, "_np_random", None)
    payload = {
        "version": STATE_VERSION,
        "step": ckpt.step,
        "model_file": ckpt.model_path.name,
        "model_sha256": hashlib.sha256(model_bytes).hexdigest(),
        "observation_space": model.observation_space,
        "action_space": model.action_space,
        "env": freeze_env(vec_env),
        "replay_buffer": replay,
        "rng": capture_rng(),
        "action_space_rng": None if action_rng is None else action_rng.bit_generator.state,
        "sde_noise": capture_sde_noise(model, rollout_started),
        "extra": dict(extra or {}),
    }
    atomic_write(ckpt.model_path, model_bytes)
    write_bundle(ckpt.state_path, payload)

    for old in list_checkpoints(directory)[:-keep]:
        for path in (old.state_path, old.model_path):  # sidecar first: the pair is incomplete, never half-valid
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    return ckpt


def read_checkpoint(ckpt: Checkpoint) -> dict[str, Any]:
    """Read and verify a checkpoint's sidecar and its zip's checksum; returns the sidecar payload."""
    state = read_bundle(ckpt.state_path)
    if not ckpt.model_path.is_file():
        raise CheckpointError(f"{ckpt.model_path}: missing (its sidecar {ckpt.state_path.name} exists)")
    digest = hashlib.sha256(ckpt.model_path.read_bytes()).hexdigest()
    if digest != state["model_sha256"]:
        raise CheckpointError(
            f"{ckpt.model_path}: truncated or corrupted (SHA-256 {digest[:12]}… does not match "
            f"{state['model_sha256'][:12]}… recorded in {ckpt.state_path.name})"
        )
    return state


def restore_training_state(model: Any, state: dict[str, Any]) -> None:
    """Put the replay buffer and the RNG states of a checkpoint back into a freshly loaded `model`.

    Call it last: loading a model re-seeds the RNGs from its stored seed.
    """
    if state.get("replay_buffer") is not None:
        model.load_replay_buffer(io.BytesIO(state["replay_buffer"]), truncate_last_traj=False)
    if state.get("action_space_rng") is not None:
        model.action_space.np_random.bit_generator.state = state["action_space_rng"]
    if state.get("sde_noise") is not None:
        restore_sde_noise(model, state["sde_noise"])
    env = model.get_env()
    while env is not None:
        # `set_random_seed` during load queued seeds for the next explicit reset; a straight run has none.
        if hasattr(env, "_reset_seeds"):
            env._reset_seeds()
        env = getattr(env, "venv", None)
    restore_rng(state["rng"])
