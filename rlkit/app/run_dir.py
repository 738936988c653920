"""Run directories: their files, creating one, reading its config back, and loading its agent.

A run directory (``<logdir>/<env>__<algo>__<encoder>__s<seed>__<YYYYmmdd-HHMMSS>/``) holds:

* ``config.yaml``: the resolved `rlkit.app.config.ExperimentConfig` (reloads to the same config);
* ``events.out.tfevents.*``: one TensorBoard event stream (a resumed run continues it);
* ``checkpoints/``: the last ``keep_checkpoints`` checkpoints (see `rlkit.checkpoints`), written at
  rollout boundaries every ``checkpoint_every`` steps, on SIGINT/SIGTERM, and at the end;
* ``model.zip`` (SB3 format; plus ``vecnormalize.pkl`` with normalization) and ``metrics.json`` with
  the final evaluation, once the run finishes.
"""

from __future__ import annotations

import datetime
import json
import pickle
from pathlib import Path
from typing import Any

from agents import get_algo
from rlkit.app.config import ExperimentConfig, config_from_dict, read_yaml
from rlkit.app.env_factory import env_spaces
from rlkit.app.validation import check_device
from rlkit.atomic_io import create_unique_dir
from rlkit.checkpoints import Checkpoint, CheckpointError, check_spaces, latest_checkpoint, normalization_of, read_checkpoint, verify_zip

CONFIG_FILE = "config.yaml"
MODEL_FILE = "model.zip"
NORMALIZE_FILE = "vecnormalize.pkl"
METRICS_FILE = "metrics.json"
CHECKPOINT_DIR = "checkpoints"


def create_run_dir(config: ExperimentConfig) -> Path:
    """A new, empty run directory under ``config.logdir`` (a ``-2``, ``-3`` … suffix if the name is taken)."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return create_unique_dir(Path(config.logdir) / config.run_name(stamp))


def read_run_config(run_dir: str | Path) -> ExperimentConfig:
    """The config of an existing run; a missing directory or config is a one-line error."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise FileNotFoundError(f"run directory {str(run_dir)!r} does not exist")
    if not run_dir.is_dir():
        raise NotADirectoryError(f"{str(run_dir)!r} is not a run directory")
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        raise ValueError(f"{run_dir} is not an rlkit run directory (no {CONFIG_FILE})")
    return config_from_dict(read_yaml(path), str(path))


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
