"""Encoder checkpoints: what pretraining writes and what a policy loads.

A checkpoint is a ``torch.save`` of plain data only (loads with ``weights_only=True``)::

    {"format": "rlkit.nn.encoder/1", "name": "cnn", "config": {...make_encoder kwargs...},
     "observation_space": {...rlkit.nn.spaces.space_to_dict...}, "state_dict": {...},
     "metadata": {...}, "rlkit_version": "...", "torch_version": "..."}

``load_encoder(path)`` rebuilds the encoder with ``make_encoder(name, space, **config)`` and
loads the weights; ``load_encoder_weights(encoder, path)`` loads them into an encoder you built,
refusing (``ValueError``, both sides shown) a different name, space, configuration or shape.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import torch

from rlkit import __version__
from rlkit.atomic_io import atomic_open
from rlkit.nn.encoders import Encoder
from rlkit.nn.registry import make_encoder
from rlkit.nn.spaces import describe_space, space_from_dict, space_to_dict

FORMAT = "rlkit.nn.encoder/1"
# Config entries that do not change the network (only how it was initialised).
_IGNORED_CONFIG = ("seed",)

Checkpoint = dict[str, Any]


def _plain(value: Any, where: str) -> Any:
    """Check that ``value`` is made of str/int/float/bool/None/list/tuple/dict (what weights_only loads)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v, f"{where}[{i}]") for i, v in enumerate(value))
    if isinstance(value, dict):
        return {str(k): _plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    raise ValueError(
        f"got {where} = {value!r} of type {type(value).__name__}; checkpoints store plain values only "
        "(str, int, float, bool, None, lists, dicts): pass names (e.g. activation='relu'), not objects"
    )


def save_encoder(encoder: Encoder, path: str | os.PathLike, **metadata: Any) -> Path:
    """Write ``encoder`` (made by ``make_encoder``) to ``path`` atomically; ``metadata`` is stored alongside.

    Returns the path. ``metadata`` must be plain values (e.g. ``dataset="runs/x.npz", epochs=10``).
    """
    if not isinstance(encoder, Encoder):
        raise ValueError(
            f"got a {type(encoder).__name__}; save_encoder takes an encoder made by rlkit.nn.make_encoder "
            "(it stores the name and kwargs needed to rebuild it)"
        )
    payload = {
        "format": FORMAT,
        "name": encoder.name,
        "config": _plain(encoder.config, "config"),
        "observation_space": space_to_dict(encoder.observation_space),
        "state_dict": {k: v.detach().cpu().clone() for k, v in encoder.state_dict().items()},
        "metadata": _plain(metadata, "metadata"),
        "rlkit_version": __version__,
        "torch_version": str(torch.__version__),
    }
    path = Path(path)
    # Write then rename, so a crash never leaves a half-written checkpoint under the final name.
    with atomic_open(path, "wb") as f:
        torch.save(payload, f)
    return path


def load_payload(checkpoint: str | os.PathLike | Mapping[str, Any], kind: str, writer: str) -> tuple[Any, str]:
    """What ``torch.save`` wrote to the file `checkpoint` (a dict given is copied) and how messages name it.

    A missing or unloadable file is a one-line error naming the `kind` of checkpoint wanted (``"encoder"``)
    and the `writer` that writes one (``"rlkit.nn.save_encoder"``); the caller checks the contents."""
    if isinstance(checkpoint, Mapping):
        return dict(checkpoint), "the given checkpoint dict"
    path = Path(checkpoint)
    if not path.is_file():
        raise FileNotFoundError(f"{kind} checkpoint {str(path)!r} does not exist (write one with {writer})")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a zip of another kind, a pickle with objects, a truncated file
        raise ValueError(
            f"got {str(path)!r}, which is not an rlkit {kind} checkpoint ({type(exc).__name__}); write one with {writer}"
        ) from None
    return data, repr(str(path))


def read_checkpoint(checkpoint: str | os.PathLike | Mapping[str, Any]) -> Checkpoint:
    """Load and validate a checkpoint file (a dict read before is checked and passed through)."""
    data, source = load_payload(checkpoint, "encoder", "rlkit.nn.save_encoder")
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ValueError(f"got {source} with format {found!r}; expected {FORMAT!r} (written by rlkit.nn.save_encoder)")
    return data


def load_encoder(
    checkpoint: str | os.PathLike | Mapping[str, Any], map_location: str | torch.device = "cpu"
) -> Encoder:
    """Rebuild the encoder a checkpoint describes and load its weights; outputs equal the saved encoder's.

    The encoder comes back in training mode, as ``make_encoder`` builds it; ``metadata`` is on
    ``encoder.checkpoint_metadata``.
    """
    data = read_checkpoint(checkpoint)
    encoder = make_encoder(data["name"], space_from_dict(data["observation_space"]), **data["config"])
    encoder.load_state_dict(data["state_dict"])
    encoder.checkpoint_metadata = dict(data.get("metadata", {}))
    return encoder.to(map_location)


def _normalized(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_normalized(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalized(v) for k, v in value.items()}
    return value


def _network_config(config: Mapping[str, Any]) -> dict:
    return _normalized({k: v for k, v in config.items() if k not in _IGNORED_CONFIG})


def check_compatible(encoder: Encoder, data: Checkpoint) -> None:
    """Raise a ``ValueError`` showing both sides unless ``data`` was saved from an encoder like ``encoder``."""
    if data["name"] != encoder.name:
        raise ValueError(
            f"checkpoint holds encoder {data['name']!r}; the target is {encoder.name!r}; "
            f"build a {data['name']!r} encoder or use another checkpoint"
        )
    saved_space = space_from_dict(data["observation_space"])
    if space_to_dict(saved_space) != space_to_dict(encoder.observation_space):
        raise ValueError(
            f"checkpoint was saved for observation space {describe_space(saved_space)}; "
            f"the target reads {describe_space(encoder.observation_space)}; the spaces must be the same"
        )
    saved, target = _network_config(data["config"]), _network_config(encoder.config)
    if saved != target:
        raise ValueError(
            f"checkpoint's encoder was made with {saved}; the target with {target}; pass the checkpoint's kwargs"
        )
    own = encoder.state_dict()
    theirs = data["state_dict"]
    if set(own) != set(theirs):
        missing, extra = sorted(set(own) - set(theirs)), sorted(set(theirs) - set(own))
        raise ValueError(
            f"checkpoint lacks parameters {missing[:5]} and has unexpected {extra[:5]}; saved by another rlkit version?"
        )
    for k, v in own.items():
        if tuple(theirs[k].shape) != tuple(v.shape):
            raise ValueError(f"checkpoint's {k} has shape {tuple(theirs[k].shape)}; the target's is {tuple(v.shape)}")


def load_encoder_weights(encoder: Encoder, checkpoint: str | os.PathLike | Mapping[str, Any]) -> Checkpoint:
    """Copy a checkpoint's weights into ``encoder`` after ``check_compatible``; returns the checkpoint data."""
    data = read_checkpoint(checkpoint)
    check_compatible(encoder, data)
    encoder.load_state_dict(data["state_dict"])
    return data
