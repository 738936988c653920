"""Encoders by name, sized from a Gymnasium space: ``make_encoder(name, observation_space, **kwargs)``.

What ``make_encoder`` returns reads *raw* observations of the space (NumPy or tensors, uint8
images, Discrete indices) and preprocesses them as SB3 does (``rlkit.nn.spaces.preprocess``);
``forward_preprocessed`` skips that step (SB3's policies preprocess before the extractor).
Every encoder has ``name``, ``observation_space``, ``config`` (the kwargs it was made with,
which ``save_encoder`` stores), ``output_dim`` (found by a dry forward pass over a sample of
the space) and ``is_sequence``.

Which encoder reads which space (``fitting_encoders(space)`` lists them):

==========================  ======================================================================
space                        encoders
==========================  ======================================================================
``Box`` (C, H, W)            ``cnn`` (preset ``"nature"`` if H, W >= 36 else ``"grid"``), ``vae``
                             (image VAE), ``mlp`` (flattened)
``Box`` (D,)                 ``mlp``, ``vae``; ``lstm``/``gru``/``tcn``/``transformer`` with
                             ``window=T`` for a flat frame stack of T frames (SB3's VecFrameStack)
``Box`` (T, D)               ``lstm``, ``gru``, ``tcn``, ``transformer`` as *window* encoders
                             (the features at the window's last step), ``mlp`` (flattened)
``Discrete``                 ``mlp`` (on the one-hot)
``MultiDiscrete``            ``mlp`` (on the concatenated one-hots)
``MultiBinary``, other Box   ``mlp``
``Dict``                     any of the above per key, concatenated: ``name`` is the default for
                             every key, ``encoder={"key": "cnn"}`` or ``{"key": {"name": "cnn",
                             **kwargs}}`` picks per key
==========================  ======================================================================

Sequence encoders over a *per-step* space (the memory of a sequence agent)::

    make_encoder(name, observation_space, sequence=True, inner=None, inner_kwargs=None, **kwargs)

with ``name`` in ``lstm``, ``gru``, ``tcn``, ``transformer`` and any supported space (Dict
included). The result is called ``encoder(x, episode_starts, state)`` with ``x`` raw
observations ``(B, T, *obs_shape)`` (a dict of those for a Dict space); see
``rlkit.nn.sequence``. Each step is preprocessed and flattened, or fed through ``inner``, a
feed-forward encoder made by ``make_encoder(inner, observation_space, **inner_kwargs)`` (e.g.
``inner="cnn"`` for image frames), whose parameters train with the sequence encoder.

Every ``make_encoder`` also takes ``seed``: the parameters are initialised from that seed
without touching torch's global RNG. A request that does not fit raises a one-line
``ValueError`` naming the space and the encoders that do fit it.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch
from gymnasium import spaces

from rlkit.nn.encoders import DictEncoder, Encoder, SequenceEncoder
from rlkit.nn.families import FAMILIES, EncoderSpec
from rlkit.nn.spaces import check_supported, describe_space, flat_dim

_REGISTRY: dict[str, EncoderSpec] = {}


def register_encoder(spec: EncoderSpec) -> None:
    """Add an encoder family; tests parametrized over ``encoder_names()`` cover it at once."""
    _REGISTRY[spec.name] = spec


def encoder_names() -> list[str]:
    """Registered encoder names, in registration order."""
    return list(_REGISTRY)


def sequence_encoder_names() -> list[str]:
    """Names of the sequence families (usable with ``sequence=True``)."""
    return [n for n, s in _REGISTRY.items() if s.is_sequence_family]


def fitting_encoders(observation_space: gym.Space, sequence: bool = False) -> list[str]:
    """Names of the encoders that read ``observation_space`` (per-step sequence encoders with ``sequence=True``)."""
    check_supported(observation_space)
    if sequence:
        return sequence_encoder_names()
    return [n for n, s in _REGISTRY.items() if _misfit(s, observation_space, {}) is None]


def _misfit(spec: EncoderSpec, space: gym.Space, kwargs: dict) -> str | None:
    if isinstance(space, spaces.Dict):
        for key, sub in space.spaces.items():
            reason = _misfit(spec, sub, {})
            if reason is not None:
                return f"every key to fit, and key {key!r} ({describe_space(sub)}) does not: {reason}"
        return None
    return spec.fits(space, kwargs)


def _unfit_message(name: str, space: gym.Space, reason: str, sequence: bool) -> str:
    fitting = fitting_encoders(space)
    options = ", ".join(fitting) if fitting else "none"
    seq = "/".join(n for n, s in _REGISTRY.items() if s.is_sequence_family)
    hint = "" if sequence else f" (and {seq} with sequence=True, as a per-step memory)"
    return (
        f"encoder {name!r} cannot read observation space {describe_space(space)}: it needs {reason}; "
        f"encoders that fit this space: {options}{hint}"
    )


def _spec(name: str) -> EncoderSpec:
    if name not in _REGISTRY:
        raise ValueError(f"got encoder name {name!r}; expected one of {encoder_names()}")
    return _REGISTRY[name]


def make_encoder(
    name: str, observation_space: gym.Space, *, sequence: bool = False, seed: int | None = None, **kwargs: Any
) -> Encoder:
    """Build the encoder ``name`` sized for ``observation_space``; see the module docstring for the rules.

    :param name: one of ``encoder_names()``.
    :param observation_space: the per-observation space (Box, Discrete, MultiDiscrete, MultiBinary, Dict).
    :param sequence: build a per-step sequence encoder (``lstm``, ``gru``, ``tcn``, ``transformer``).
    :param seed: initialise the parameters from this seed (torch's global RNG is left untouched).
    :param kwargs: the family's options (e.g. ``hidden_sizes`` for mlp, ``preset`` for cnn,
        ``hidden_size`` for lstm/gru, ``context_len`` for transformer); for sequence families also
        ``inner``/``inner_kwargs`` (with ``sequence=True``) and ``window`` (a flat frame stack);
        for a Dict space ``encoder`` (key -> name or ``{"name": ..., **kwargs}``).
    :raises ValueError: unknown name or argument, or a space the encoder cannot read.
    """
    spec = _spec(name)
    check_supported(observation_space)
    if seed is None:
        return _make(spec, observation_space, sequence, kwargs, seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return _make(spec, observation_space, sequence, kwargs, seed)


def _make(spec: EncoderSpec, space: gym.Space, sequence: bool, kwargs: dict, seed: int | None) -> Encoder:
    config = dict(kwargs)
    if sequence:
        config["sequence"] = True
    if seed is not None:
        config["seed"] = int(seed)
    if sequence:
        return _make_sequence(spec, space, kwargs, config)
    if "inner" in kwargs or "inner_kwargs" in kwargs:
        raise ValueError(f"encoder {spec.name!r} got inner=...; an inner per-step encoder needs sequence=True")
    if isinstance(space, spaces.Dict):
        return _make_dict(spec, space, kwargs, config)
    if "encoder" in kwargs:
        raise ValueError(
            f"encoder {spec.name!r} got encoder=... for {describe_space(space)}; a per-key map is for Dict spaces"
        )
    reason = spec.fits(space, kwargs)
    if reason is not None:
        raise ValueError(_unfit_message(spec.name, space, reason, sequence=False))
    body, flatten = spec.build(space, dict(kwargs))
    return spec.encoder_class(spec.name, space, config, body, flatten)


def _make_dict(spec: EncoderSpec, space: spaces.Dict, kwargs: dict, config: dict) -> DictEncoder:
    kwargs = dict(kwargs)
    per_key = kwargs.pop("encoder", None) or {}
    if not isinstance(per_key, dict):
        raise ValueError(f"got encoder={per_key!r}; expected a dict mapping Dict keys to encoder names")
    unknown = sorted(set(per_key) - set(space.spaces))
    if unknown:
        raise ValueError(
            f"got encoder choices for keys {unknown} that the space lacks; its keys are {list(space.spaces)}"
        )
    encoders = {}
    for key, sub in space.spaces.items():
        choice = per_key.get(key)
        if choice is None:
            sub_name, sub_kwargs = spec.name, kwargs
        elif isinstance(choice, str):
            sub_name, sub_kwargs = choice, {}
        elif isinstance(choice, dict) and "name" in choice:
            sub_name, sub_kwargs = choice["name"], {k: v for k, v in choice.items() if k != "name"}
        else:
            raise ValueError(f"got encoder[{key!r}]={choice!r}; expected a name or a dict with a 'name' and kwargs")
        sub_spec = _spec(sub_name)
        reason = _misfit(sub_spec, sub, sub_kwargs)
        if reason is not None:
            raise ValueError(
                _unfit_message(sub_name, sub, reason, sequence=False)
                + f" (Dict key {key!r}; choose per key with encoder={{{key!r}: {fitting_encoders(sub)[0]!r}}})"
            )
        encoders[key] = _make(sub_spec, sub, False, sub_kwargs, None)
    return DictEncoder(spec.name, space, config, encoders)


def _make_sequence(spec: EncoderSpec, space: gym.Space, kwargs: dict, config: dict) -> SequenceEncoder:
    if not spec.is_sequence_family:
        seq = [n for n, s in _REGISTRY.items() if s.is_sequence_family]
        raise ValueError(
            f"encoder {spec.name!r} is not a sequence encoder (got sequence=True for {describe_space(space)}); "
            f"sequence encoders: {', '.join(seq)}; use it as inner=... of one of them"
        )
    kwargs = dict(kwargs)
    if "window" in kwargs:
        raise ValueError(
            f"encoder {spec.name!r} got window=... with sequence=True; window is for a flat frame stack without it"
        )
    inner_name = kwargs.pop("inner", None)
    inner_kwargs = kwargs.pop("inner_kwargs", None) or {}
    if inner_name is None and inner_kwargs:
        raise ValueError("got inner_kwargs without inner; name the per-step encoder with inner='mlp' (or 'cnn', ...)")
    inner = None
    if inner_name is not None:
        inner = make_encoder(inner_name, space, **inner_kwargs)
        if inner.is_sequence:
            raise ValueError(f"got inner={inner_name!r}, a sequence encoder; inner must be feed-forward")
        input_dim = inner.output_dim
    else:
        input_dim = flat_dim(space)
    core = spec.build_core(input_dim, kwargs, None)
    return SequenceEncoder(spec.name, space, config, core, inner)


for _spec_ in FAMILIES:
    register_encoder(_spec_)
del _spec_
