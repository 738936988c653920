"""The built-in encoder families (mlp, cnn, vae, lstm, gru, tcn, transformer): which spaces each reads
and how each is built; ``rlkit.nn.registry`` registers them and makes encoders by name."""

from __future__ import annotations

import inspect
import re
import typing
from dataclasses import dataclass
from typing import Callable

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from pydantic import TypeAdapter, ValidationError
from torch import nn

from rlkit.nn.cnn import CNN, auto_preset
from rlkit.nn.encoders import FeedForwardEncoder, VAEEncoder, WindowBody
from rlkit.nn.mlp import MLP
from rlkit.nn.recurrent import RecurrentEncoder
from rlkit.nn.sequence import SequenceModule
from rlkit.nn.spaces import flat_dim, is_image_space
from rlkit.nn.tcn import TCN
from rlkit.nn.transformer import TransformerEncoder
from rlkit.nn.vae import ImageVAE, VectorVAE

CoreBuilder = Callable[[int, dict, "int | None"], SequenceModule]
"""``build_core(input_dim, kwargs, window_len)`` -> the sequence module of a sequence family."""


@dataclass(frozen=True)
class EncoderSpec:
    """A registered encoder family.

    :param fits: ``fits(space, kwargs)`` -> None when the family reads this (non-Dict) space,
        else the reason it does not (completes "it needs ...").
    :param build: ``build(space, kwargs)`` -> ``(body, flatten)`` for a feed-forward encoder.
    :param build_core: for sequence families, ``build_core(input_dim, kwargs, window_len)`` -> a
        ``SequenceModule`` (``window_len`` is the window's T in window mode, None per step).
    """

    name: str
    summary: str
    fits: Callable[[gym.Space, dict], str | None]
    build: Callable[[gym.Space, dict], tuple[nn.Module, bool]] | None = None
    build_core: CoreBuilder | None = None
    encoder_class: type[FeedForwardEncoder] = FeedForwardEncoder

    @property
    def is_sequence_family(self) -> bool:
        return self.build_core is not None


def _check_kwargs(name: str, kwargs: dict, accepted: list[str], cls: Callable | None = None) -> None:
    """Refuse an argument `cls`'s constructor does not take, or a value not of its annotated type (else the
    family fails later with e.g. "invalid literal for int()", which names neither the argument nor the type)."""
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(f"encoder {name!r} got unknown argument(s) {unknown}; it accepts {sorted(accepted)}")
    hints = typing.get_type_hints(cls.__init__) if cls is not None else {}
    for key, value in kwargs.items():
        if key not in hints:
            continue
        plain = value.tolist() if isinstance(value, (np.generic, np.ndarray)) else value  # NumPy numbers are numbers
        try:
            TypeAdapter(hints[key]).validate_python(plain, strict=True)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = f"item {error['loc'][-1]}: " if error["loc"] and isinstance(error["loc"][-1], int) else ""
            expected = re.sub(r"\btyping\.|<class '(\w+)'>", r"\1", str(hints[key]))
            raise ValueError(
                f"encoder {name!r}: {key}={value!r} is not {expected} ({where}{error['msg']}); "
                f"e.g. --encoder-kwargs {key}={_example(hints[key])}"
            ) from None


def _example(annotation: object) -> str:
    """A value of `annotation`'s type for an error message (sequences: ``[64,64]``)."""
    text = str(annotation)
    if "Sequence" in text:
        return "[64,64]"
    if "int" in text:
        return "64"
    if "float" in text:
        return "0.1"
    if "bool" in text:
        return "true"
    return "VALUE"



def _params(cls: Callable, skip: int) -> list[str]:
    """Keyword parameter names of ``cls``'s constructor, skipping the first ``skip`` (the sizes)."""
    names = [p for p in inspect.signature(cls).parameters if p != "self"]
    return names[skip:]


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
    _check_kwargs("mlp", kwargs, _MLP_ARGS, MLP)
    return MLP(flat_dim(space), **kwargs), True


# cnn -------------------------------------------------------------------------------------------

_CNN_ARGS = _params(CNN, 3) + ["check_channels"]


def _fits_cnn(space: gym.Space, kwargs: dict) -> str | None:
    if not _is_box(space, 3):
        return "a 3-D Box (C, H, W) image or symbolic grid"
    return _channels_last_reason(space, kwargs)


def _build_cnn(space: spaces.Box, kwargs: dict) -> tuple[nn.Module, bool]:
    _check_kwargs("cnn", kwargs, _CNN_ARGS, CNN)
    kwargs.pop("check_channels", None)
    c, h, w = space.shape
    if kwargs.get("preset", "auto") == "auto":
        kwargs["preset"] = auto_preset(h, w)
    return CNN(c, h, w, **kwargs), False


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
        _check_kwargs("vae", kwargs, _VECTOR_VAE_ARGS, VectorVAE)
        kwargs.setdefault("likelihood", "gaussian")
        return VectorVAE(space.shape[0], **kwargs), False
    _check_kwargs("vae", kwargs, _IMAGE_VAE_ARGS, ImageVAE)
    kwargs.pop("check_channels", None)
    c, h, w = space.shape
    if kwargs.get("preset", "auto") == "auto":
        kwargs["preset"] = auto_preset(h, w)
    # Images scaled to [0, 1] are Bernoulli-like; a symbolic grid's floats are not.
    kwargs.setdefault("likelihood", "bernoulli" if is_image_space(space) else "gaussian")
    return ImageVAE(c, h, w, **kwargs), False


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


def _build_window(build_core: CoreBuilder, space: spaces.Box, kwargs: dict) -> tuple[nn.Module, bool]:
    window = kwargs.pop("window", None)
    if window is not None:
        steps, dim = int(window), space.shape[0] // int(window)
    else:
        steps, dim = space.shape
    core = build_core(dim, kwargs, steps)
    return WindowBody(core, window=steps if window is not None else None), False


def _recurrent_core(cell: str) -> CoreBuilder:
    def build(input_dim: int, kwargs: dict, window_len: int | None) -> SequenceModule:
        _check_kwargs(cell, kwargs, _params(RecurrentEncoder, 1)[:2] + ["dropout"], RecurrentEncoder)
        return RecurrentEncoder(input_dim, cell=cell, **kwargs)

    return build


def _tcn_core(input_dim: int, kwargs: dict, window_len: int | None) -> SequenceModule:
    _check_kwargs("tcn", kwargs, _params(TCN, 1), TCN)
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
    _check_kwargs("transformer", kwargs, _params(TransformerEncoder, 1), TransformerEncoder)
    if kwargs.get("context_len") is None:
        kwargs["context_len"] = window_len if window_len is not None else 32
    return TransformerEncoder(input_dim, **kwargs)


def _sequence_family(name: str, summary: str, build_core: CoreBuilder) -> EncoderSpec:
    return EncoderSpec(
        name,
        summary,
        fits=_fits_window,
        build=lambda space, kw: _build_window(build_core, space, kw),
        build_core=build_core,
    )


# The built-in families, in the order ``encoder_names()`` lists them.
FAMILIES: tuple[EncoderSpec, ...] = (
    EncoderSpec(
        "mlp",
        "MLP on the flattened (one-hot) observation; any space",
        fits=lambda space, kw: None,
        build=_build_mlp,
    ),
    EncoderSpec("cnn", "conv blocks (nature preset for images, grid preset for small grids)", _fits_cnn, _build_cnn),
    EncoderSpec(
        "vae",
        "VAE (vectors: MLP, images: CNN); features = posterior mean",
        _fits_vae,
        _build_vae,
        encoder_class=VAEEncoder,
    ),
    _sequence_family("lstm", "LSTM with state and episode-start resets", _recurrent_core("lstm")),
    _sequence_family("gru", "GRU with state and episode-start resets", _recurrent_core("gru")),
    _sequence_family("tcn", "dilated causal TCN with past-input state", _tcn_core),
    _sequence_family("transformer", "causal sliding-window Transformer with a KV cache", _transformer_core),
)
