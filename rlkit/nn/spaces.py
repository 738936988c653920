"""Gymnasium spaces as encoders see them: preprocessing, flat sizes, and a safe serial form.

Preprocessing follows stable-baselines3's ``preprocess_obs`` exactly (images in [0, 255] as
uint8 are divided by 255, ``Discrete`` becomes a one-hot, ``MultiDiscrete`` concatenated
one-hots, everything else a float cast), so that an rlkit encoder sees the same numbers whether
it is called on raw observations (``encoder(obs)``) or inside an SB3 policy, which preprocesses
before its features extractor (``encoder.forward_preprocessed(obs)``). One deliberate
difference: a ``Discrete``/``MultiDiscrete`` with a non-zero ``start`` is shifted to 0 before the
one-hot (SB3 ignores ``start``). The version here also accepts any number of leading dims
(``(B, T, *shape)`` for sequence encoders), which SB3's does not, and ``Tuple`` spaces (observations
a tuple of per-slot arrays, as SB3's vec envs return them), read like a ``Dict`` keyed by position.

``space_to_dict``/``space_from_dict`` store a space as plain lists and numbers, so that encoder
checkpoints load with ``torch.load(weights_only=True)`` (no pickled objects).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces

SUPPORTED_SPACES = "Box, Discrete, MultiDiscrete, MultiBinary, or a Dict or Tuple of these"


def children(space: gym.Space) -> list[tuple[Any, gym.Space]]:
    """``(key, subspace)`` of a ``Dict`` (keys) or ``Tuple`` (positions); empty for any other space."""
    if isinstance(space, spaces.Dict):
        return list(space.spaces.items())
    if isinstance(space, spaces.Tuple):
        return list(enumerate(space.spaces))
    return []


def is_composite(space: gym.Space) -> bool:
    return isinstance(space, (spaces.Dict, spaces.Tuple))


def describe_space(space: gym.Space) -> str:
    """One short line naming a space: its class, shape and dtype (no bound arrays)."""
    if isinstance(space, spaces.Box):
        low, high = np.unique(space.low), np.unique(space.high)
        bounds = f"[{low[0]:g}, {high[0]:g}]" if low.size == 1 and high.size == 1 else "[per-dim bounds]"
        return f"Box(shape={space.shape}, dtype={space.dtype}, bounds={bounds})"
    if isinstance(space, spaces.Discrete):
        start = f", start={int(space.start)}" if int(space.start) else ""
        return f"Discrete({int(space.n)}{start})"
    if isinstance(space, spaces.MultiDiscrete):
        return f"MultiDiscrete({space.nvec.tolist()})"
    if isinstance(space, spaces.MultiBinary):
        return f"MultiBinary({space.n})"
    if isinstance(space, spaces.Dict):
        return "Dict(" + ", ".join(f"{k}: {describe_space(s)}" for k, s in space.spaces.items()) + ")"
    if isinstance(space, spaces.Tuple):
        return "Tuple(" + ", ".join(describe_space(s) for s in space.spaces) + ")"
    return repr(space)


def check_supported(space: gym.Space) -> None:
    """Raise a one-line ``ValueError`` for a space rlkit's encoders cannot read."""
    if is_composite(space):
        for _, sub in children(space):
            check_supported(sub)
        return
    if isinstance(space, spaces.MultiDiscrete) and space.nvec.ndim != 1:
        raise ValueError(
            f"got {describe_space(space)} with a {space.nvec.ndim}-D nvec; expected a 1-D MultiDiscrete; "
            "flatten it with gymnasium.wrappers.FlattenObservation"
        )
    if not isinstance(space, (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)):
        raise ValueError(
            f"got observation space {space!r}; rlkit encoders read {SUPPORTED_SPACES}; "
            "convert it with a Gymnasium observation wrapper (e.g. FlattenObservation)"
        )


def is_image_space(space: gym.Space) -> bool:
    """SB3's test: a 3-D uint8 ``Box`` with bounds exactly [0, 255] (channel count not checked)."""
    return (
        isinstance(space, spaces.Box)
        and len(space.shape) == 3
        and space.dtype == np.uint8
        and bool(np.all(space.low == 0))
        and bool(np.all(space.high == 255))
    )


def flat_dim(space: gym.Space) -> int:
    """Size of the preprocessed observation once flattened (one-hots count their width)."""
    if isinstance(space, spaces.Box):
        return int(np.prod(space.shape))
    if isinstance(space, spaces.Discrete):
        return int(space.n)
    if isinstance(space, spaces.MultiDiscrete):
        return int(space.nvec.sum())
    if isinstance(space, spaces.MultiBinary):
        return int(np.prod(space.shape))
    if is_composite(space):
        return sum(flat_dim(s) for _, s in children(space))
    check_supported(space)
    raise AssertionError("unreachable")


def preprocessed_shape(space: gym.Space) -> tuple[int, ...]:
    """Per-observation shape after ``preprocess`` (not defined for ``Dict`` or ``Tuple``)."""
    if isinstance(space, (spaces.Box, spaces.MultiBinary)):
        return tuple(space.shape)
    if isinstance(space, (spaces.Discrete, spaces.MultiDiscrete)):
        return (flat_dim(space),)
    raise ValueError(f"got {describe_space(space)}; preprocessed_shape takes a non-Dict, non-Tuple space")


def obs_as_tensor(obs: Any, device: torch.device | str | None = None) -> Any:
    """NumPy arrays (or dicts or tuples of them) to tensors, keeping the dtype; tensors pass through."""
    if isinstance(obs, dict):
        return {k: obs_as_tensor(v, device) for k, v in obs.items()}
    if isinstance(obs, tuple):  # a Tuple space's observation (a list is one array, as before)
        return tuple(obs_as_tensor(v, device) for v in obs)
    if isinstance(obs, torch.Tensor):
        return obs if device is None else obs.to(device)
    return torch.as_tensor(np.asarray(obs), device=device)


def preprocess(obs: Any, space: gym.Space, normalize_images: bool = True) -> Any:
    """Raw observations ``(*lead, *space.shape)`` to float tensors, as SB3's ``preprocess_obs``.

    ``Box``: float (uint8 images in [0, 255] divided by 255 when ``normalize_images``);
    ``Discrete``: ``(*lead, n)`` one-hot; ``MultiDiscrete``: ``(*lead, sum(nvec))``;
    ``MultiBinary``: float; ``Dict``: a dict of the above, per key; ``Tuple``: a tuple, per slot.
    """
    if isinstance(space, spaces.Tuple):
        if not isinstance(obs, (tuple, list)) or len(obs) != len(space.spaces):
            raise ValueError(f"got a {type(obs).__name__} for {describe_space(space)}; expected a tuple of {len(space.spaces)} arrays")
        return tuple(preprocess(o, s, normalize_images) for o, s in zip(obs, space.spaces))
    if isinstance(space, spaces.Dict):
        if not isinstance(obs, dict):
            raise ValueError(
                f"got a {type(obs).__name__} for a Dict space; expected a dict with keys {list(space.spaces)}"
            )
        missing = [k for k in space.spaces if k not in obs]
        if missing:
            raise ValueError(f"observation dict lacks keys {missing}; the space has keys {list(space.spaces)}")
        return {k: preprocess(obs[k], s, normalize_images) for k, s in space.spaces.items()}
    obs = obs_as_tensor(obs)
    if isinstance(space, spaces.Box):
        if normalize_images and is_image_space(space):
            return obs.float() / 255.0
        return obs.float()
    if isinstance(space, spaces.Discrete):
        return F.one_hot(obs.long() - int(space.start), num_classes=int(space.n)).float()
    if isinstance(space, spaces.MultiDiscrete):
        return _multi_one_hot(obs, space)
    if isinstance(space, spaces.MultiBinary):
        return obs.float()
    check_supported(space)
    raise AssertionError("unreachable")


def _multi_one_hot(obs: torch.Tensor, space: spaces.MultiDiscrete) -> torch.Tensor:
    """``(*lead, K)`` indices to ``(*lead, sum(nvec))``: the K one-hots side by side, in one scatter."""
    nvec = torch.as_tensor(space.nvec, dtype=torch.long, device=obs.device)  # (K,)
    index = obs.long() - torch.as_tensor(space.start, dtype=torch.long, device=obs.device)  # (*lead, K)
    outside = (index < 0) | (index >= nvec)
    if bool(outside.any()):
        k = int(torch.nonzero(outside)[0, -1])
        raise ValueError(
            f"got index {int(index[outside][0]) + int(space.start[k])} at position {k} of an observation of "
            f"{describe_space(space)}; expected {int(space.start[k])}..{int(space.start[k] + space.nvec[k]) - 1}"
        )
    offsets = torch.cumsum(nvec, 0) - nvec  # (K,) where each one-hot begins
    out = torch.zeros(*index.shape[:-1], int(space.nvec.sum()), device=obs.device)  # (*lead, sum(nvec))
    return out.scatter_(-1, index + offsets, 1.0)


def flatten_preprocessed(x: Any, space: gym.Space, n_lead: int) -> torch.Tensor:
    """A preprocessed observation (``preprocess``'s output) as ``(*lead, flat_dim(space))``.

    ``Dict`` keys are concatenated in the space's key order, as SB3's ``CombinedExtractor`` does;
    ``Tuple`` slots in order.
    """
    if is_composite(space):
        return torch.cat([flatten_preprocessed(x[k], s, n_lead) for k, s in children(space)], dim=-1)
    return x.reshape(*x.shape[:n_lead], -1)


def batch_size_of(obs: Any, space: gym.Space) -> int:
    return lead_shape(obs, space, 1)[0]


def lead_shape(obs: Any, space: gym.Space, n_lead: int) -> tuple[int, ...]:
    """The ``n_lead`` leading dims of ``obs`` (of its first leaf for ``Dict``/``Tuple``)."""
    if is_composite(space):
        key, sub = children(space)[0]
        return lead_shape(obs[key], sub, n_lead)
    return tuple(obs.shape[:n_lead])


def merge_lead(obs: Any, space: gym.Space, n_lead: int) -> Any:
    """``(*lead, *shape)`` leaves as ``(prod(lead), *shape)``, keeping ``Dict``/``Tuple`` structure."""
    if isinstance(space, spaces.Dict):
        return {k: merge_lead(obs[k], s, n_lead) for k, s in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        return tuple(merge_lead(obs[i], s, n_lead) for i, s in enumerate(space.spaces))
    return obs.reshape(-1, *obs.shape[n_lead:])


def check_obs_shape(obs: Any, space: gym.Space, n_lead: int, what: str) -> None:
    """Raise a ``ValueError`` unless ``obs`` is ``(*lead, *space.shape)`` with ``n_lead`` leading dims."""
    if isinstance(space, spaces.Dict):
        if not isinstance(obs, dict):
            raise ValueError(f"{what}: got a {type(obs).__name__}; expected a dict with keys {list(space.spaces)}")
        for k, s in space.spaces.items():
            if k not in obs:
                raise ValueError(f"{what}: observation dict lacks key {k!r}; the space has keys {list(space.spaces)}")
            check_obs_shape(obs[k], s, n_lead, f"{what}[{k!r}]")
        return
    if isinstance(space, spaces.Tuple):
        if not isinstance(obs, (tuple, list)) or len(obs) != len(space.spaces):
            raise ValueError(f"{what}: got a {type(obs).__name__}; expected a tuple of {len(space.spaces)} arrays for {describe_space(space)}")
        for i, s in enumerate(space.spaces):
            check_obs_shape(obs[i], s, n_lead, f"{what}[{i}]")
        return
    shape = tuple(obs.shape)
    if len(shape) != n_lead + len(space.shape) or shape[n_lead:] != tuple(space.shape):
        lead = ("B",) if n_lead == 1 else ("B", "T")
        expected = "(" + ", ".join([*lead, *map(str, space.shape)]) + ")"
        raise ValueError(
            f"{what}: got observations of shape {shape}; expected {expected} for {describe_space(space)}"
        )


def sample_observation(space: gym.Space) -> Any:
    """A seeded sample of ``space`` (the user's space and its RNG are left untouched)."""
    space = space_from_dict(space_to_dict(space))
    space.seed(0)
    return space.sample()


def as_batch(obs: Any) -> Any:
    """One observation (a ``Dict``/``Tuple`` one too) as tensors with a batch axis of 1."""
    if isinstance(obs, dict):
        return {k: as_batch(v) for k, v in obs.items()}
    if isinstance(obs, tuple):
        return tuple(as_batch(v) for v in obs)
    return torch.as_tensor(np.asarray(obs)[None])


# --- serial form ------------------------------------------------------------------------------------


def _array_or_scalar(a: np.ndarray) -> Any:
    flat = np.unique(a)
    return float(flat[0]) if flat.size == 1 else a.astype(np.float64).tolist()


def space_to_dict(space: gym.Space) -> dict[str, Any]:
    """A space as plain lists/numbers/strings (bounds stored as a scalar where uniform)."""
    if isinstance(space, spaces.Box):
        return {
            "type": "Box",
            "shape": list(space.shape),
            "dtype": str(space.dtype),
            "low": _array_or_scalar(space.low),
            "high": _array_or_scalar(space.high),
        }
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.MultiDiscrete):
        return {"type": "MultiDiscrete", "nvec": space.nvec.tolist(), "start": space.start.tolist()}
    if isinstance(space, spaces.MultiBinary):
        return {"type": "MultiBinary", "n": np.asarray(space.n).tolist()}
    if isinstance(space, spaces.Dict):
        return {"type": "Dict", "spaces": {k: space_to_dict(s) for k, s in space.spaces.items()}}
    if isinstance(space, spaces.Tuple):
        return {"type": "Tuple", "spaces": [space_to_dict(s) for s in space.spaces]}
    check_supported(space)
    raise AssertionError("unreachable")


def space_from_dict(d: dict[str, Any]) -> gym.Space:
    kind = d.get("type")
    if kind == "Box":
        dtype = np.dtype(d["dtype"])
        shape = tuple(d["shape"])
        low = np.broadcast_to(np.asarray(d["low"], dtype=np.float64), shape).astype(dtype)
        high = np.broadcast_to(np.asarray(d["high"], dtype=np.float64), shape).astype(dtype)
        return spaces.Box(low=low, high=high, shape=shape, dtype=dtype)
    if kind == "Discrete":
        return spaces.Discrete(d["n"], start=d["start"])
    if kind == "MultiDiscrete":
        return spaces.MultiDiscrete(d["nvec"], start=d["start"])
    if kind == "MultiBinary":
        return spaces.MultiBinary(d["n"])
    if kind == "Dict":
        return spaces.Dict({k: space_from_dict(s) for k, s in d["spaces"].items()})
    if kind == "Tuple":
        return spaces.Tuple([space_from_dict(s) for s in d["spaces"]])
    raise ValueError(
        f"got a stored space of type {kind!r}; expected one of Box, Discrete, MultiDiscrete, MultiBinary, Dict, Tuple"
    )
