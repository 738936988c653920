"""Run directories: their files, creating one, reading its config back, and loading its agent.

A run directory (``<logdir>/<env>__<algo>__<encoder>__s<seed>__<YYYYmmdd-HHMMSS>/``) holds:

* ``config.yaml``: the resolved `rlkit.app.config.ExperimentConfig` (reloads to the same config), whose
  first line is the SHA-256 of the rest: an edited or damaged config is refused, as is an incomplete one;
* ``events.out.tfevents.*``: one TensorBoard event stream (a resumed run continues it);
* ``checkpoints/``: the last ``keep_checkpoints`` checkpoints (see `rlkit.checkpoints`), written at
  rollout boundaries every ``checkpoint_every`` steps, on SIGINT/SIGTERM, and at the end;
* ``model.zip`` (SB3 format; plus ``vecnormalize.pkl`` with normalization) and ``metrics.json`` with
  the final evaluation and the SHA-256 of both files, once the run finishes: a model.zip replaced
  (e.g. by a checkpoint's zip) is refused.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import pickle
from pathlib import Path
from typing import Any

from agents import get_algo
from rlkit.app.config import ExperimentConfig, config_from_dict, read_yaml
from rlkit.app.env_factory import env_spaces
from rlkit.app.validation import check_device
from rlkit.atomic_io import atomic_write, create_unique_dir
from rlkit.checkpoints import Checkpoint, CheckpointError, check_spaces, latest_checkpoint, normalization_of, read_checkpoint, verify_zip

CONFIG_FILE = "config.yaml"
MODEL_FILE = "model.zip"
NORMALIZE_FILE = "vecnormalize.pkl"
METRICS_FILE = "metrics.json"
CHECKPOINT_DIR = "checkpoints"

CHECKSUM_PREFIX = "# sha256: "
CHECKSUM_NOTE = "(of the lines below; rlkit refuses this config edited: delete this line to use an edited one)"
REQUIRED_KEYS = ("algo", "env", "n_envs", "seed", "total_steps")
"""Keys every run's config.yaml has held: one without them is not the config the run trained with."""
FILE_DIGESTS = {MODEL_FILE: "model_sha256", NORMALIZE_FILE: "normalize_sha256"}
"""The final files of a run and the metrics.json key holding each one's SHA-256."""


def create_run_dir(config: ExperimentConfig) -> Path:
    """A new, empty run directory under ``config.logdir`` (a ``-2``, ``-3`` … suffix if the name is taken)."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return create_unique_dir(Path(config.logdir) / config.run_name(stamp))


def save_run_config(config: ExperimentConfig, run_dir: str | Path) -> None:
    """Write the run's ``config.yaml`` atomically, its first line the SHA-256 of the rest."""
    text = config.to_yaml()
    digest = hashlib.sha256(text.encode()).hexdigest()
    atomic_write(Path(run_dir) / CONFIG_FILE, f"{CHECKSUM_PREFIX}{digest} {CHECKSUM_NOTE}\n{text}".encode())


def _check_config_file(path: Path, data: dict[str, Any]) -> None:
    """Refuse a run config whose checksum line does not match it, or that lacks `REQUIRED_KEYS`."""
    first, _, rest = path.read_bytes().partition(b"\n")
    if first.startswith(CHECKSUM_PREFIX.encode()):
        expected = first[len(CHECKSUM_PREFIX) :].split(b" ")[0].decode(errors="replace")
        if hashlib.sha256(rest).hexdigest() != expected:
            raise ValueError(
                f"{path}: changed since the run wrote it (its SHA-256 does not match the one in its first line); "
                "restore it, or delete that first line to use the edited config as it is"
            )
    missing = [key for key in REQUIRED_KEYS if key not in data]
    if missing:
        raise ValueError(
            f"{path}: incomplete run config (no {', '.join(missing)}); a run's config.yaml holds the whole config "
            "it trained with: restore it"
        )


def read_run_config(run_dir: str | Path) -> ExperimentConfig:
    """The config of an existing run; a missing directory or config, or a config changed since the run wrote
    it (its checksum line) or incomplete, is a one-line error."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise FileNotFoundError(f"run directory {str(run_dir)!r} does not exist")
    if not run_dir.is_dir():
        raise NotADirectoryError(f"{str(run_dir)!r} is not a run directory")
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        raise ValueError(f"{run_dir} is not an rlkit run directory (no {CONFIG_FILE})")
    data = read_yaml(path)
    _check_config_file(path, data)
    return config_from_dict(data, str(path))


def file_digests(run_dir: str | Path) -> dict[str, str]:
    """``{"model_sha256": …, "normalize_sha256": …}`` of the run's final files that exist (for metrics.json)."""
    run_dir = Path(run_dir)
    return {key: hashlib.sha256((run_dir / name).read_bytes()).hexdigest() for name, key in FILE_DIGESTS.items() if (run_dir / name).is_file()}


def check_final_files(run_dir: str | Path) -> None:
    """Refuse a model.zip or vecnormalize.pkl that is not the one the run finished with (SHA-256 in metrics.json)."""
    run_dir = Path(run_dir)
    try:
        metrics = json.loads((run_dir / METRICS_FILE).read_text())
    except (OSError, ValueError):
        return  # a run stopped before it finished has no metrics.json: its checkpoints are checksummed
    for name in FILE_DIGESTS:
        if (run_dir / name).is_file() and isinstance(metrics, dict):
            _check_final_file(run_dir, name, metrics)


def _check_final_file(run_dir: Path, name: str, metrics: dict[str, Any]) -> None:
    expected = metrics.get(FILE_DIGESTS[name])
    if expected is None:  # a run finished before the digests were recorded
        return
    digest = hashlib.sha256((run_dir / name).read_bytes()).hexdigest()
    if digest != expected:
        raise CheckpointError(
            f"{run_dir / name}: not the file this run finished with (SHA-256 {digest[:12]}… differs from "
            f"{expected[:12]}… in {METRICS_FILE}); it was replaced or damaged: restore it, or delete it to use the newest checkpoint"
        )


def find_model(run_dir: str | Path) -> tuple[Path, Checkpoint | None]:
    """The run's newest agent: its final ``model.zip``, unless a checkpoint is further on (an extension,
    ``rlkit resume --steps``, stopped before it finished: model.zip is still the shorter run's), else its
    newest checkpoint; error if it has neither."""
    run_dir = Path(run_dir)
    ckpt = latest_checkpoint(run_dir / CHECKPOINT_DIR)
    if (run_dir / MODEL_FILE).is_file():
        final_step = None
        try:  # metrics.json is written right after model.zip, with the step count of that model
            final_step = int(json.loads((run_dir / METRICS_FILE).read_text())["steps"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        if ckpt is None or (final_step is not None and ckpt.step <= final_step):
            return run_dir / MODEL_FILE, None
    if ckpt is None:
        raise ValueError(f"{run_dir} holds no model ({MODEL_FILE}) and no checkpoint")
    return ckpt.model_path, ckpt


def load_agent(run_dir: str | Path, device: str = "auto", env_kwargs: dict[str, Any] | None = None) -> tuple[Any, ExperimentConfig, Path, Any]:
    """Load a run's agent for evaluation: ``(model, config, model path, normalization or None)``.

    `env_kwargs` override the run's env kwargs (to evaluate on a variant); a model whose spaces do not
    fit the env is refused with both spaces shown."""
    config = read_run_config(run_dir)
    check_device(device)  # else SB3's load reports a bad --device as a model that cannot be loaded
    if env_kwargs:
        config = config.model_copy(update={"env": config.env.model_copy(update={"kwargs": {**config.env.kwargs, **env_kwargs}})})
    algo = get_algo(config.algo)
    path, ckpt = find_model(run_dir)
    verify_zip(path)
    if ckpt is None:
        check_final_files(run_dir)
    normalize = None
    if ckpt is not None:
        normalize = normalization_of(read_checkpoint(ckpt))
    elif (Path(run_dir) / NORMALIZE_FILE).is_file():
        normalize = pickle.loads((Path(run_dir) / NORMALIZE_FILE).read_bytes())
    saved_obs, saved_act = algo.saved_spaces(path)
    env_obs, env_act = env_spaces(config)
    check_spaces(path, saved_obs, saved_act, env_obs, env_act, config.env.id)
    try:
        model = algo.load(path, None, device)
    except Exception as exc:  # a zip that passed its CRC check but is not an agent of this kind
        raise CheckpointError(f"{path}: cannot be loaded as {config.algo} ({type(exc).__name__}: {exc})") from None
    return model, config, path, normalize
