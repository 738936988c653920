"""Checks of a model file before it is handed to SB3: readable zip, spaces that fit the env."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from rlkit.checkpoints.bundle import CheckpointError


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
