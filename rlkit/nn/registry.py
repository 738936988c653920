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

import inspect
from dataclasses import dataclass
from typing import Any, Callable

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from rlkit.nn.cnn import CNN, auto_preset
from rlkit.nn.mlp import MLP
from rlkit.nn.recurrent import RecurrentEncoder
from rlkit.nn.sequence import SequenceModule
from rlkit.nn.spaces import (
    check_obs_shape,
    check_supported,
    describe_space,
    flat_dim,
    flatten_preprocessed,
    is_image_space,
    obs_as_tensor,
    preprocess,
    sample_observation,
)
from rlkit.nn.tcn import TCN
from rlkit.nn.transformer import TransformerEncoder
from rlkit.nn.vae import ImageVAE, VectorVAE

# ------------------------------------------------------------------------------------------------
# What make_encoder returns
# ------------------------------------------------------------------------------------------------


class Encoder(nn.Module):
    """Base of every encoder ``make_encoder`` builds (see the module docstring for the attributes)."""

    is_sequence: bool = False
    output_dim: int

    def __init__(self, name: str, observation_space: gym.Space, config: dict[str, Any]) -> None:
        super().__init__()
        self.name = name
        self.observation_space = observation_space
        self.config = dict(config)

    @property
    def device(self) -> torch.device:
        p = next(self.parameters(), None)
        return p.device if p is not None else torch.device("cpu")

    def preprocess(self, obs: Any) -> Any:
        """Raw observations to the float tensors ``forward_preprocessed`` takes (as SB3's ``preprocess_obs``)."""
        return preprocess(obs_as_tensor(obs, self.device), self.observation_space)

    def extra_repr(self) -> str:
        space = describe_space(self.observation_space)
        return f"name={self.name!r}, observation_space={space}, output_dim={getattr(self, 'output_dim', '?')}"


class FeedForwardEncoder(Encoder):
    """``(B, *obs_shape)`` raw observations -> ``(B, output_dim)``; ``body`` does the work on preprocessed input.

    :param flatten: flatten the preprocessed observation to ``(B, flat_dim)`` before ``body``.
    """

    def __init__(self, name: str, observation_space: gym.Space, config: dict, body: nn.Module, flatten: bool) -> None:
        super().__init__(name, observation_space, config)
        self.body = body
        self.flatten = flatten
        self.output_dim = _dry_run_dim(self)

    def forward(self, obs: Any) -> torch.Tensor:
        obs = obs_as_tensor(obs, self.device)
        check_obs_shape(obs, self.observation_space, 1, f"encoder {self.name!r}")
        return self.forward_preprocessed(preprocess(obs, self.observation_space))

    def forward_preprocessed(self, x: torch.Tensor) -> torch.Tensor:
        """Preprocessed observations ``(B, *preprocessed_shape)`` -> ``(B, output_dim)``."""
        if self.flatten:
            x = flatten_preprocessed(x, self.observation_space, 1)  # (B, flat_dim)
        return self.body(x)


class VAEEncoder(FeedForwardEncoder):
    """A ``FeedForwardEncoder`` whose body is a VAE: features are the posterior mean.

    ``encode``, ``reconstruct`` and ``loss`` take raw observations like ``forward``; ``decode``
    maps latents to the preprocessed observation's shape (images in [0, 1]).
    """

    body: VectorVAE | ImageVAE

    @property
    def latent_dim(self) -> int:
        return self.body.latent_dim

    def _prepared(self, obs: Any) -> torch.Tensor:
        obs = obs_as_tensor(obs, self.device)
        check_obs_shape(obs, self.observation_space, 1, f"encoder {self.name!r}")
        return self.preprocess(obs)

    def encode(self, obs: Any) -> tuple[torch.Tensor, torch.Tensor]:
        return self.body.encode(self._prepared(obs))  # mu, logvar: (B, latent_dim) each

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.body.decode(z)  # (B, *preprocessed_shape)

    def reconstruct(self, obs: Any) -> torch.Tensor:
        return self.body.reconstruct(self._prepared(obs))

    def loss(self, obs: Any, beta: float = 1.0, generator: torch.Generator | None = None):
        """β-VAE loss of raw observations; returns ``(loss, {"reconstruction", "kl"})``."""
        return self.body.loss(self._prepared(obs), beta, generator)


class DictEncoder(Encoder):
    """One encoder per key of a ``Dict`` space, features concatenated in the space's key order."""

    def __init__(self, name: str, observation_space: spaces.Dict, config: dict, encoders: dict[str, Encoder]) -> None:
        super().__init__(name, observation_space, config)
        self.encoders = nn.ModuleDict(encoders)
        self.output_dim = _dry_run_dim(self)

    def forward(self, obs: dict[str, Any]) -> torch.Tensor:
        check_obs_shape(obs, self.observation_space, 1, f"encoder {self.name!r}")
        return torch.cat([enc(obs[k]) for k, enc in self.encoders.items()], dim=1)  # (B, output_dim)

    def forward_preprocessed(self, x: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([enc.forward_preprocessed(x[k]) for k, enc in self.encoders.items()], dim=1)


class WindowBody(nn.Module):
    """A sequence module read as a feed-forward encoder of a window ``(B, T, D)``: features at step T - 1.

    The window is one episode (no starts inside) and the memory starts empty. With ``window``
    set, a flat frame stack ``(B, T * D)`` (oldest frame first, as SB3's ``VecFrameStack``) is
    reshaped to ``(B, T, D)`` first.
    """

    def __init__(self, core: SequenceModule, window: int | None = None) -> None:
        super().__init__()
        self.core = core
        self.window = window

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.window is not None:
            x = x.reshape(x.shape[0], self.window, -1)  # (B, T, D)
        starts = torch.zeros(x.shape[:2], dtype=torch.bool, device=x.device)  # (B, T)
        features, _ = self.core(x, starts, None)  # (B, T, F)
        return features[:, -1]  # (B, F)


class SequenceEncoder(Encoder):
    """Per-step observations ``(B, T, *obs_shape)`` -> ``(B, T, output_dim)`` with a state; see ``rlkit.nn.sequence``.

    ``step`` turns each raw observation into a vector (``inner`` encoder, or preprocess +
    flatten when None); ``core`` is the LSTM/GRU/TCN/Transformer.
    """

    is_sequence = True

    def __init__(
        self, name: str, observation_space: gym.Space, config: dict, core: SequenceModule, inner: Encoder | None
    ) -> None:
        super().__init__(name, observation_space, config)
        self.inner = inner
        self.core = core
        self.output_dim = core.output_dim

    @property
    def state_shapes(self) -> tuple[tuple[int, ...], ...]:
        return self.core.state_shapes

    def initial_state(self, batch_size: int, device: torch.device | str | None = None) -> tuple[torch.Tensor, ...]:
        return self.core.initial_state(batch_size, self.device if device is None else device)

    def encode_steps(self, x: Any) -> torch.Tensor:
        """Raw ``(B, T, *obs_shape)`` -> per-step input vectors ``(B, T, core.input_dim)``."""
        x = obs_as_tensor(x, self.device)
        check_obs_shape(x, self.observation_space, 2, f"sequence encoder {self.name!r}")
        space = self.observation_space
        lead = _lead_shape(x, space)  # (B, T)
        flat = _merge_lead(x, space)  # (B * T, *obs_shape)
        if self.inner is not None:
            steps = self.inner(flat)  # (B * T, D)
        else:
            steps = flatten_preprocessed(preprocess(flat, space), space, 1)  # (B * T, D)
        return steps.reshape(*lead, -1)  # (B, T, D)

    def forward(
        self, x: Any, episode_starts: Any, state: tuple[torch.Tensor, ...] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        return self.core(self.encode_steps(x), episode_starts, state)  # (B, T, output_dim), new state


def _lead_shape(x: Any, space: gym.Space) -> tuple[int, int]:
    if isinstance(space, spaces.Dict):
        k = next(iter(space.spaces))
        return _lead_shape(x[k], space[k])
    return tuple(x.shape[:2])


def _merge_lead(x: Any, space: gym.Space) -> Any:
    if isinstance(space, spaces.Dict):
        return {k: _merge_lead(x[k], s) for k, s in space.spaces.items()}
    return x.reshape(-1, *x.shape[2:])


def _dry_run_dim(encoder: Encoder) -> int:
    """``output_dim`` from one forward pass over a (seeded) sample of the space, as SB3's NatureCNN."""
    was_training = encoder.training
    encoder.eval()  # no dropout draws (the global RNG stays put), BatchNorm uses its running stats
    with torch.no_grad():
        sample = sample_observation(encoder.observation_space)
        if isinstance(sample, dict):
            batch = {k: torch.as_tensor(np.asarray(v)[None]) for k, v in sample.items()}
        else:
            batch = torch.as_tensor(np.asarray(sample)[None])
        out = encoder(batch)
    encoder.train(was_training)
    if out.dim() != 2:
        raise AssertionError(f"encoder {encoder.name!r} returned shape {tuple(out.shape)}; expected (B, output_dim)")
    return int(out.shape[1])


# ------------------------------------------------------------------------------------------------
# The registry
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EncoderSpec:
    """A registered encoder family.

    :param fits: ``fits(space, kwargs)`` -> None when the family reads this (non-Dict) space,
        else the reason it does not (completes "it needs ...").
    :param build: ``build(space, kwargs)`` -> ``(body, flatten)`` for a feed-forward encoder.
    :param build_core: for sequence families, ``build_core(input_dim, kwargs, window_len)`` -> a
        ``SequenceModule`` (``window_len`` is the window's T in window mode, None per step).
    :param kwargs_of: the constructor whose keyword arguments are accepted (for the error message).
    """

    name: str
    summary: str
    fits: Callable[[gym.Space, dict], str | None]
    build: Callable[[gym.Space, dict], tuple[nn.Module, bool]] | None = None
    build_core: Callable[[int, dict, int | None], SequenceModule] | None = None
    encoder_class: type[FeedForwardEncoder] = FeedForwardEncoder

    @property
    def is_sequence_family(self) -> bool:
        return self.build_core is not None


_REGISTRY: dict[str, EncoderSpec] = {}

# make_encoder's own arguments, never passed on to a family.
_COMMON = ("sequence", "seed")
_SEQUENCE_ARGS = ("inner", "inner_kwargs", "window")


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


def _check_kwargs(name: str, kwargs: dict, accepted: list[str]) -> None:
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(f"encoder {name!r} got unknown argument(s) {unknown}; it accepts {sorted(accepted)}")


def _params(cls: Callable, skip: int) -> list[str]:
    """Keyword parameter names of ``cls``'s constructor, skipping the first ``skip`` (the sizes)."""
    names = [p for p in inspect.signature(cls).parameters if p != "self"]
    return names[skip:]


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


# ------------------------------------------------------------------------------------------------
# The families
# ------------------------------------------------------------------------------------------------


def _is_box(space: gym.Space, ndim: int) -> bool:
    return isinstance(space, spaces.Box) and len(space.shape) == ndim


def _channels_last_reason(space: spaces.Box, kwargs: dict) -> str | None:
    c, _, w = space.shape
    if kwargs.get("check_channels", True) and w < c and w <= 4:
        return (
            f"channels first (C, H, W), and shape {space.shape} looks channels-last (H, W, C); transpose it "
            "(SB3 does for uint8 images; else gymnasium.wrappers.TransformObservation), "
            "or pass check_channels=False if it really is (C, H, W)"
        )
    return None


# mlp -------------------------------------------------------------------------------------------

_MLP_ARGS = _params(MLP, 1)
_MLP_ARGS.remove("activate_last")


def _build_mlp(space: gym.Space, kwargs: dict) -> tuple[nn.Module, bool]:
    _check_kwargs("mlp", kwargs, _MLP_ARGS)
    return MLP(flat_dim(space), **kwargs), True


register_encoder(
    EncoderSpec(
        "mlp",
        "MLP on the flattened (one-hot) observation; any space",
        fits=lambda space, kw: None,
        build=_build_mlp,
    )
)

# cnn -------------------------------------------------------------------------------------------

_CNN_ARGS = _params(CNN, 3) + ["check_channels"]


def _fits_cnn(space: gym.Space, kwargs: dict) -> str | None:
    if not _is_box(space, 3):
        return "a 3-D Box (C, H, W) image or symbolic grid"
    return _channels_last_reason(space, kwargs)


def _build_cnn(space: spaces.Box, kwargs: dict) -> tuple[nn.Module, bool]:
    _check_kwargs("cnn", kwargs, _CNN_ARGS)
    kwargs.pop("check_channels", None)
    c, h, w = space.shape
    if kwargs.get("preset", "auto") == "auto":
        kwargs["preset"] = auto_preset(h, w)
    return CNN(c, h, w, **kwargs), False


register_encoder(
    EncoderSpec("cnn", "conv blocks (nature preset for images, grid preset for small grids)", _fits_cnn, _build_cnn)
)

# vae -------------------------------------------------------------------------------------------

_VECTOR_VAE_ARGS = _params(VectorVAE, 1)
_IMAGE_VAE_ARGS = _params(ImageVAE, 3) + ["check_channels"]


def _fits_vae(space: gym.Space, kwargs: dict) -> str | None:
    if _is_box(space, 1):
        return None
    if _is_box(space, 3):
        return _channels_last_reason(space, kwargs)
    return "a 1-D Box (vector VAE) or a 3-D Box (C, H, W) (image VAE)"


def _build_vae(space: spaces.Box, kwargs: dict) -> tuple[nn.Module, bool]:
    if len(space.shape) == 1:
        _check_kwargs("vae", kwargs, _VECTOR_VAE_ARGS)
        kwargs.setdefault("likelihood", "gaussian")
        return VectorVAE(space.shape[0], **kwargs), False
    _check_kwargs("vae", kwargs, _IMAGE_VAE_ARGS)
    kwargs.pop("check_channels", None)
    c, h, w = space.shape
    if kwargs.get("preset", "auto") == "auto":
        kwargs["preset"] = auto_preset(h, w)
    # Images scaled to [0, 1] are Bernoulli-like; a symbolic grid's floats are not.
    kwargs.setdefault("likelihood", "bernoulli" if is_image_space(space) else "gaussian")
    return ImageVAE(c, h, w, **kwargs), False


register_encoder(
    EncoderSpec(
        "vae",
        "VAE (vectors: MLP, images: CNN); features = posterior mean",
        _fits_vae,
        _build_vae,
        encoder_class=VAEEncoder,
    )
)

# sequence families -----------------------------------------------------------------------------


def _fits_window(space: gym.Space, kwargs: dict) -> str | None:
    window = kwargs.get("window")
    if window is not None:
        if not _is_box(space, 1):
            return f"a 1-D Box (T * D,) for window={window}"
        if int(window) < 1 or space.shape[0] % int(window):
            return f"a 1-D Box whose size is a multiple of window={window} (got {space.shape[0]})"
        return None
    if _is_box(space, 2):
        return None
    return (
        "a window Box (T, D) (e.g. gymnasium.wrappers.FrameStackObservation), or window=T for a flat "
        "frame stack (T * D,), or sequence=True for a per-step memory"
    )


def _build_window(family: str, space: spaces.Box, kwargs: dict) -> tuple[nn.Module, bool]:
    window = kwargs.pop("window", None)
    if window is not None:
        steps, dim = int(window), space.shape[0] // int(window)
    else:
        steps, dim = space.shape
    core = _REGISTRY[family].build_core(dim, kwargs, steps)
    return WindowBody(core, window=steps if window is not None else None), False


def _recurrent_core(cell: str) -> Callable[[int, dict, int | None], SequenceModule]:
    def build(input_dim: int, kwargs: dict, window_len: int | None) -> SequenceModule:
        _check_kwargs(cell, kwargs, _params(RecurrentEncoder, 1)[:2] + ["dropout"])
        return RecurrentEncoder(input_dim, cell=cell, **kwargs)

    return build


def _tcn_core(input_dim: int, kwargs: dict, window_len: int | None) -> SequenceModule:
    _check_kwargs("tcn", kwargs, _params(TCN, 1))
    if kwargs.get("num_blocks") is None and isinstance(kwargs.get("channels", 32), int):
        if window_len is None:
            kwargs["num_blocks"] = 3
        else:
            # The fewest blocks whose receptive field covers the whole window.
            k, base = kwargs.get("kernel_size", 3), kwargs.get("dilation_base", 2)
            n = 1
            while TCN.receptive_field_of(n, k, base) < window_len and n < 16:
                n += 1
            kwargs["num_blocks"] = n
    return TCN(input_dim, **kwargs)


def _transformer_core(input_dim: int, kwargs: dict, window_len: int | None) -> SequenceModule:
    _check_kwargs("transformer", kwargs, _params(TransformerEncoder, 1))
    if kwargs.get("context_len") is None:
        kwargs["context_len"] = window_len if window_len is not None else 32
    return TransformerEncoder(input_dim, **kwargs)


for _name, _summary, _core in (
    ("lstm", "LSTM with state and episode-start resets", _recurrent_core("lstm")),
    ("gru", "GRU with state and episode-start resets", _recurrent_core("gru")),
    ("tcn", "dilated causal TCN with past-input state", _tcn_core),
    ("transformer", "causal sliding-window Transformer with a KV cache", _transformer_core),
):
    register_encoder(
        EncoderSpec(
            _name,
            _summary,
            fits=_fits_window,
            build=lambda space, kw, _family=_name: _build_window(_family, space, kw),
            build_core=_core,
        )
    )

del _name, _summary, _core
