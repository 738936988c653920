"""stable-baselines3 adapter: any feed-forward rlkit encoder as a ``BaseFeaturesExtractor``.

::

    from rlkit.nn.sb3 import EncoderExtractor
    PPO("MlpPolicy", env, policy_kwargs=dict(
        features_extractor_class=EncoderExtractor,
        features_extractor_kwargs=dict(encoder="cnn", features_dim=256),
    ))
    # a pretrained encoder, frozen:
    features_extractor_kwargs=dict(checkpoint="runs/vae/encoder.pt", freeze=True)

SB3's policy preprocesses observations before its features extractor (one-hots, uint8 images
divided by 255 when ``normalize_images``), exactly as rlkit's encoders do, so the extractor calls
``encoder.forward_preprocessed`` and nothing is done twice. With ``normalize_images=False`` SB3
passes images unscaled, as it would to its own NatureCNN. Use ``"MultiInputPolicy"`` for Dict
spaces (``encoder={"key": "cnn"}`` picks per key), ``"CnnPolicy"`` or ``"MlpPolicy"`` otherwise
(the extractor replaces the policy's default one either way).

Sequence encoders read a *window* here: wrap the env in Gymnasium's
``FrameStackObservation(env, T)`` (a ``(T, D)`` Box) and use ``encoder="tcn"`` (or
``"transformer"``, ``"lstm"``, ``"gru"``), or stack with SB3's ``VecFrameStack(venv, T)`` (a flat
``(T * D,)`` Box) and pass ``window=T``. A memory over whole episodes needs rlkit's sequence
agent, not an SB3 extractor.

Pretrained weights survive SB3's orthogonal initialisation of the extractor (PPO and A2C
re-initialise it right after building it; see ``EncoderExtractor.apply``).

When a PPO model is saved, ``features_extractor_kwargs`` (the checkpoint path included) go with
it, and ``PPO.load`` rebuilds the extractor from them before loading the trained weights, so the
checkpoint file must still be readable then; pass ``checkpoint=read_checkpoint(path)`` (a dict)
to carry it inside the model instead.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

import gymnasium as gym
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

from rlkit.nn.checkpoint import _network_config, load_encoder_weights, read_checkpoint
from rlkit.nn.encoders import Encoder
from rlkit.nn.registry import make_encoder


class EncoderExtractor(BaseFeaturesExtractor):
    """An rlkit encoder (``make_encoder(encoder, observation_space, **encoder_kwargs)``) as SB3's features extractor.

    ``features_dim`` is the encoder's ``output_dim``.

    :param observation_space: the policy's observation space (SB3 passes it).
    :param encoder: encoder name (``rlkit.nn.encoder_names()``); default ``"mlp"``, or the
        checkpoint's name when ``checkpoint`` is given.
    :param checkpoint: a path written by ``rlkit.nn.save_encoder`` (or its ``read_checkpoint``
        dict): the encoder is built with the checkpoint's name and kwargs and gets its weights.
        A checkpoint of another name, space or shape is refused with a ``ValueError``.
    :param freeze: parameters get ``requires_grad=False`` and the encoder stays in eval mode
        (BatchNorm statistics and dropout fixed) even when SB3 switches the policy to training.
    :param encoder_kwargs: the encoder's options; with a checkpoint they must agree with its own.
    """

    def __init__(
        self,
        observation_space: gym.Space,
        encoder: str | None = None,
        checkpoint: str | os.PathLike | Mapping[str, Any] | None = None,
        freeze: bool = False,
        **encoder_kwargs: Any,
    ) -> None:
        data = None
        if checkpoint is not None:
            data = read_checkpoint(checkpoint)
            if encoder is not None and encoder != data["name"]:
                raise ValueError(
                    f"got encoder={encoder!r} with a checkpoint of a {data['name']!r} encoder; "
                    f"drop encoder= or pass encoder={data['name']!r}"
                )
            encoder = data["name"]
            if encoder_kwargs and _network_config(encoder_kwargs) != _network_config(
                {k: data["config"][k] for k in encoder_kwargs if k in data["config"]}
            ):
                raise ValueError(
                    f"got encoder kwargs {encoder_kwargs} with a checkpoint made with {data['config']}; "
                    "drop them (the checkpoint's are used) or use a matching checkpoint"
                )
            encoder_kwargs = dict(data["config"])
        module = make_encoder(encoder or "mlp", observation_space, **encoder_kwargs)
        if module.is_sequence:
            raise ValueError(
                f"got a per-step sequence encoder ({module.name!r}, sequence=True); SB3 extractors are "
                "feed-forward: give it a window (FrameStackObservation, or window=T) instead"
            )
        super().__init__(observation_space, module.output_dim)
        self.encoder: Encoder = module
        # Kept until SB3 has initialised the policy (see ``apply``), then dropped.
        self._pretrained: dict[str, torch.Tensor] | None = None
        if data is not None:
            load_encoder_weights(module, data)
            self._pretrained = {k: v.clone() for k, v in module.state_dict().items()}
        self.frozen = bool(freeze)
        if self.frozen:
            module.requires_grad_(False)
            module.eval()

    def apply(self, fn) -> "EncoderExtractor":
        # SB3's ActorCriticPolicy (PPO, A2C) re-initialises its features extractor right after
        # building it (orthogonal init through ``module.apply``), which would erase pretrained
        # weights; they are restored once here, so `checkpoint=` survives `ortho_init=True`.
        super().apply(fn)
        if self._pretrained is not None:
            self.encoder.load_state_dict(self._pretrained)
            self._pretrained = None
        return self

    def train(self, mode: bool = True) -> "EncoderExtractor":
        super().train(mode)
        if self.frozen:
            self.encoder.eval()  # frozen means frozen statistics too
        return self

    def forward(self, observations: torch.Tensor | dict[str, torch.Tensor]) -> torch.Tensor:
        return self.encoder.forward_preprocessed(observations)  # (B, features_dim)
