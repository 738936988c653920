"""Atomic writes and checkpoint bundles: everything a run needs to continue as if never stopped.

A checkpoint at step N is two files in ``<run>/checkpoints/``:

* ``ckpt_<N>.zip``: the agent in SB3's zip format (weights, optimizer state, step counter, schedule
  progress, ``_last_obs``, episode-info buffers: what ``model.save`` writes), loadable by SB3 alone;
* ``ckpt_<N>.state``: the sidecar, written *last*, whose presence marks the checkpoint complete. It
  holds the vec env (pickled: env copies with their RNGs and mid-episode state), the normalization
  statistics, the replay buffer where the algorithm has one, the RNG states of Python, NumPy and
  torch, gSDE's exploration matrices where the policy has them, the training callbacks' schedule,
  and a SHA-256 of the zip.

Every file is written atomically (temp file in the same directory, flush + fsync, rename, fsync of the
directory): a write killed midway leaves a temp file that is never read, and the previous checkpoint
still loads. The sidecar starts with a magic string, its payload length and the payload's SHA-256, so
a truncated or corrupted sidecar, or a zip that does not match its sidecar, is refused with a message
naming the file. Loading a checkpoint whose spaces differ from the env's is refused with both sides
shown.

Checkpoints are pickles: load only checkpoints you trust, as with SB3's own zips.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import random
import re
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

import numpy as np

MAGIC = b"RLKIT-CHECKPOINT\x01"
_HEADER = struct.Struct("<Q32s")  # payload length, SHA-256 of the payload
_CKPT_RE = re.compile(r"^ckpt_(\d+)\.state$")
STATE_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint or model file that cannot be used (truncated, corrupted, or for another env)."""


# --- atomic writes ----------------------------------------------------------------------------------


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temp file next to `path`; on a clean exit flush, fsync and rename it over `path`.

    On an exception the temp file is removed and `path` is left as it was. The rename is atomic on
    POSIX (same directory, same file system), so readers see the old file or the new one, never half.
    """
    path = Path(path)
    make_dirs(path.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)


def atomic_write(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` atomically (see `atomic_open`)."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def _file_in_the_way(paths: Iterable[Path]) -> Path | None:
    """The first of `paths` that exists and is not a directory."""
    return next((p for p in paths if p.exists() and not p.is_dir()), None)


def make_dirs(directory: str | Path) -> None:
    """``mkdir -p directory``; a file in the way is a one-line ``NotADirectoryError`` that names it
    (``mkdir`` says only "File exists" or "Not a directory", without saying which part of the path)."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = _file_in_the_way((directory, *directory.parents)) or directory
        raise NotADirectoryError(
            f"cannot create directory {str(directory)!r}: {str(blocker)!r} is a file, not a directory; choose another path"
        ) from None


def check_output_path(path: str | Path, option: str) -> None:
    """Refuse, before any work, an output file that could not be written: a file where a parent directory
    would go, a directory at the file's own path (found otherwise only when the result is saved), or a
    parent directory that does not exist (an output file goes into an existing directory, as with ``cp``;
    only run directories are created)."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{option} {str(path)!r} is a directory; give a file name inside it")
    blocker = _file_in_the_way(path.parents)
    if blocker is not None:
        raise NotADirectoryError(f"{option} {str(path)!r}: {str(blocker)!r} is a file, not a directory; choose another path")
    parent = path.parent
    if not parent.is_dir():
        raise FileNotFoundError(
            f"{option} {str(path)!r}: directory {str(parent)!r} does not exist; create it first (mkdir -p {parent}) or choose another path"
        )


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not every platform/file system allows opening a directory.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- sidecar bundles --------------------------------------------------------------------------------


def create_unique_dir(base: str | Path) -> Path:
    """Create and return the new, empty directory `base`, or ``base-2``, ``base-3`` … if taken.

    ``mkdir`` without ``exist_ok`` is the atomic claim, so two processes started in the same second
    (seed groups, sweeps) never share a run directory.
    """
    base = Path(base)
    make_dirs(base.parent)
    for attempt in range(1, 1000):
        path = base if attempt == 1 else base.with_name(f"{base.name}-{attempt}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise RuntimeError(f"could not create a run directory next to {base}")


def write_bundle(path: str | Path, payload: dict[str, Any]) -> None:
    """Pickle `payload` (with cloudpickle, so user envs defined in scripts survive) behind a checksummed header."""
    import cloudpickle

    body = cloudpickle.dumps(payload, protocol=5)
    header = MAGIC + _HEADER.pack(len(body), hashlib.sha256(body).digest())
    atomic_write(path, header + body)


def read_bundle(path: str | Path) -> dict[str, Any]:
    """Read a bundle written by `write_bundle`; refuse (`CheckpointError`) anything truncated or altered."""
    import pickle

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file {str(path)!r} does not exist")
    raw = path.read_bytes()
    if not raw.startswith(MAGIC) or len(raw) < len(MAGIC) + _HEADER.size:
        raise CheckpointError(f"{path}: not an rlkit checkpoint (bad header; the file is truncated or of another kind)")
    length, digest = _HEADER.unpack_from(raw, len(MAGIC))
    body = raw[len(MAGIC) + _HEADER.size :]
    if len(body) != length:
        raise CheckpointError(f"{path}: truncated checkpoint ({len(body)} of {length} payload bytes present)")
    if hashlib.sha256(body).digest() != digest:
        raise CheckpointError(f"{path}: corrupted checkpoint (SHA-256 of the payload does not match its header)")
    payload = pickle.loads(body)
    if not isinstance(payload, dict) or payload.get("version") != STATE_VERSION:
        raise CheckpointError(f"{path}: unsupported checkpoint version {payload.get('version')!r}, expected {STATE_VERSION}")
    return payload


# --- RNG states -------------------------------------------------------------------------------------


def capture_rng() -> dict[str, Any]:
    """The global RNG states that training draws from: Python, NumPy (legacy global), torch (CPU and CUDA)."""
    import torch

    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@contextlib.contextmanager
def preserved_rng() -> Iterator[None]:
    """Run a block (an evaluation, a checkpoint) without changing the global RNG streams of training."""
    state = capture_rng()
    try:
        yield
    finally:
        restore_rng(state)


# --- checkpoints ------------------------------------------------------------------------------------


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
    import cloudpickle
    from stable_baselines3.common.vec_env import SubprocVecEnv

    ckpt = checkpoint_paths(directory, int(model.num_timesteps))
    buffer = io.BytesIO()
    model.save(buffer)
    model_bytes = buffer.getvalue()

    env_bytes = None
    if not isinstance(vec_env.unwrapped, SubprocVecEnv):  # its envs live in other processes
        env_bytes = cloudpickle.dumps(_freeze_env(vec_env))

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
        "env": env_bytes,
        "replay_buffer": replay,
        "rng": capture_rng(),
        "action_space_rng": None if action_rng is None else action_rng.bit_generator.state,
        "sde_noise": _capture_sde_noise(model, rollout_started),
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


def restore_env(state: dict[str, Any], fallback: Any = None) -> Any:
    """The training vec env stack from a checkpoint payload (`fallback` where it was not picklable)."""
    import pickle

    if state["env"] is None:
        if fallback is None:
            raise CheckpointError("the checkpoint holds no env state and no fresh env was given")
        return fallback
    return _thaw_env(pickle.loads(state["env"]))


def normalization_of(state: dict[str, Any]) -> Any:
    """The ``VecNormalize`` layer of a checkpoint's env stack (its statistics), or None."""
    import pickle

    from stable_baselines3.common.vec_env import VecNormalize

    if state["env"] is None:
        return None
    frozen = pickle.loads(state["env"])
    while frozen[0] == "wrapper":
        _, cls, attributes, inner = frozen
        if issubclass(cls, VecNormalize):
            return _thaw_env(frozen)
        frozen = inner
    return None


def _freeze_env(env: Any) -> tuple:
    # SB3's VecEnvWrappers cannot be pickled as they are (they cache their class's members, ABC data
    # included), and VecNormalize pickles without the env it wraps; so each layer is stored as
    # (class, attributes) and rebuilt around the layer below.
    from stable_baselines3.common.vec_env import VecEnvWrapper

    if isinstance(env, VecEnvWrapper):
        attributes = {k: v for k, v in vars(env).items() if k not in ("venv", "class_attributes")}
        return ("wrapper", type(env), attributes, _freeze_env(env.venv))
    return ("base", env)


def _thaw_env(frozen: tuple) -> Any:
    import inspect

    if frozen[0] == "base":
        return frozen[1]
    _, cls, attributes, inner = frozen
    wrapper = cls.__new__(cls)
    wrapper.__dict__.update(attributes)
    wrapper.venv = _thaw_env(inner)
    wrapper.class_attributes = dict(inspect.getmembers(cls))
    return wrapper


def restore_training_state(model: Any, state: dict[str, Any]) -> None:
    """Put the replay buffer and the RNG states of a checkpoint back into a freshly loaded `model`.

    Call it last: loading a model re-seeds the RNGs from its stored seed.
    """
    if state.get("replay_buffer") is not None:
        model.load_replay_buffer(io.BytesIO(state["replay_buffer"]), truncate_last_traj=False)
    if state.get("action_space_rng") is not None:
        model.action_space.np_random.bit_generator.state = state["action_space_rng"]
    if state.get("sde_noise") is not None:
        _restore_sde_noise(model, state["sde_noise"])
    env = model.get_env()
    if env is not None:
        # `set_random_seed` during load queued seeds for the next explicit reset; a straight run has none.
        _clear_pending_seeds(env)
    restore_rng(state["rng"])


def _sde_distributions(model: Any) -> dict[str, Any]:
    """The policy's gSDE distributions by module name (``""`` for PPO/A2C's policy, ``"actor"`` for SAC's)."""
    from stable_baselines3.common.distributions import StateDependentNoiseDistribution

    policy = getattr(model, "policy", None)
    if policy is None:
        return {}
    found: dict[str, Any] = {}
    for name, module in policy.named_modules():
        dist = getattr(module, "action_dist", None)
        if isinstance(dist, StateDependentNoiseDistribution) and all(dist is not d for d in found.values()):
            found[name] = dist
    return found


def _capture_sde_noise(model: Any, drawn: bool) -> dict[str, Any] | None:
    # The matrices are plain attributes of the distribution, not parameters or buffers, so SB3's zip
    # leaves them out; a straight run acts with them until the next draw (the whole rollout where
    # sde_sample_freq is -1), and drawing them again would also shift the torch RNG stream.
    dists = _sde_distributions(model)
    if not dists:
        return None
    matrices = {
        name: {
            "exploration_mat": dist.exploration_mat.detach().cpu().clone(),
            "exploration_matrices": dist.exploration_matrices.detach().cpu().clone(),
            "weights_std": dist.weights_dist.stddev.detach().cpu().clone(),
        }
        for name, dist in dists.items()
    }
    return {"drawn": drawn, "matrices": matrices}


def _restore_sde_noise(model: Any, saved: dict[str, Any]) -> None:
    import torch
    from torch.distributions import Normal

    dists = _sde_distributions(model)
    device = model.policy.device
    for name, tensors in saved["matrices"].items():
        dist = dists.get(name)
        if dist is None:
            raise CheckpointError(
                f"the checkpoint holds gSDE noise for policy module {name!r}, which this model lacks; "
                "resume it with the policy config it was trained on"
            )
        std = tensors["weights_std"].to(device)
        dist.weights_dist = Normal(torch.zeros_like(std), std)
        dist.exploration_mat = tensors["exploration_mat"].to(device)
        dist.exploration_matrices = tensors["exploration_matrices"].to(device)
        if saved["drawn"]:
            _skip_next_draw(dist)


def _skip_next_draw(dist: Any) -> None:
    """Make the distribution's next ``sample_weights`` keep the restored matrices and draw nothing.

    The checkpoint was taken after ``collect_rollouts`` drew this rollout's noise; the resumed run
    re-enters ``collect_rollouts`` and would draw it a second time."""
    restored = len(dist.exploration_matrices)

    def sample_weights(log_std: Any, batch_size: int = 1) -> None:
        del dist.sample_weights  # the class's method again from the next call on
        if batch_size != restored:  # not the draw that was checkpointed (another n_envs): draw as SB3 does
            dist.sample_weights(log_std, batch_size)

    dist.sample_weights = sample_weights


def _clear_pending_seeds(env: Any) -> None:
    while env is not None:
        if hasattr(env, "_reset_seeds"):
            env._reset_seeds()
        env = getattr(env, "venv", None)


def check_spaces(source: str | Path, saved_obs: Any, saved_act: Any, env_obs: Any, env_act: Any, env_id: str = "the env") -> None:
    """Refuse a model/checkpoint whose spaces differ from the env's, showing both sides."""
    for kind, saved, current in (("observation", saved_obs, env_obs), ("action", saved_act, env_act)):
        if saved != current:
            raise CheckpointError(
                f"{source} does not fit {env_id}: {kind} space {saved} (saved in {Path(source).name}) != {current} (env); "
                "evaluate or resume it with the env config it was trained on"
            )


def verify_zip(path: str | Path, required: tuple[str, ...] = ("data",)) -> None:
    """Refuse a truncated or corrupted zip (SB3 model) before handing it to SB3, naming the file.

    `required` members must be present: a truncated SB3 zip can still parse as a zip, because the
    torch files inside it are zips themselves and end in their own directory record."""
    import zipfile

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist")
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
            missing = [name for name in required if name not in archive.namelist()]
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise CheckpointError(f"{path}: not a readable model zip ({exc}); the file is truncated or corrupted") from None
    if missing:
        raise CheckpointError(f"{path}: not a readable model zip (no {', '.join(missing)} member); the file is truncated or corrupted")
    if bad is not None:
        raise CheckpointError(f"{path}: corrupted model zip (CRC mismatch in member {bad!r})")
