"""Checksummed pickle bundles (a checkpoint's sidecar): a magic string, the payload's length and SHA-256,
then the payload, so that a truncated or altered file is refused with a message naming it.

Bundles are pickles: load only files you trust, as with SB3's own zips."""

from __future__ import annotations

import hashlib
import pickle
import struct
from pathlib import Path
from typing import Any

import cloudpickle

from rlkit.atomic_io import atomic_write

MAGIC = b"RLKIT-CHECKPOINT\x01"
_HEADER = struct.Struct("<Q32s")  # payload length, SHA-256 of the payload
STATE_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint or model file that cannot be used (truncated, corrupted, or for another env)."""


def write_bundle(path: str | Path, payload: dict[str, Any]) -> None:
    """Pickle `payload` (with cloudpickle, so user envs defined in scripts survive) behind a checksummed header."""
    body = cloudpickle.dumps(payload, protocol=5)
    header = MAGIC + _HEADER.pack(len(body), hashlib.sha256(body).digest())
    atomic_write(path, header + body)


def read_bundle(path: str | Path) -> dict[str, Any]:
    """Read a bundle written by `write_bundle`; refuse (`CheckpointError`) anything truncated or altered."""
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
