"""rlkit's encoders: MLP, CNN, LSTM/GRU, TCN, Transformer, VAE, a registry by name, checkpoints.

* ``make_encoder(name, observation_space, **kwargs)`` sizes an encoder for a Gymnasium space
  (``encoder_names()``, ``fitting_encoders(space)``); rules in ``rlkit.nn.registry``, the families in
  ``rlkit.nn.families``, what it returns in ``rlkit.nn.encoders``.
* Sequence encoders share one call convention, ``encoder(x, episode_starts, state)``; see
  ``rlkit.nn.sequence``.
* ``save_encoder`` / ``load_encoder`` / ``load_encoder_weights``: checkpoints (``rlkit.nn.checkpoint``).
* ``rlkit.nn.sb3.EncoderExtractor``: any feed-forward encoder inside an SB3 policy (imported on
  its own so that ``import rlkit.nn`` does not import stable-baselines3).
"""

from rlkit.nn.checkpoint import check_compatible, load_encoder, load_encoder_weights, read_checkpoint, save_encoder
from rlkit.nn.cnn import CNN, ConvBlock
from rlkit.nn.mlp import ACTIVATIONS, MLP, make_activation
from rlkit.nn.recurrent import GRUEncoder, LSTMEncoder, RecurrentEncoder
from rlkit.nn.encoders import DictEncoder, Encoder, FeedForwardEncoder, SequenceEncoder, VAEEncoder, WindowBody
from rlkit.nn.families import EncoderSpec
from rlkit.nn.registry import encoder_names, fitting_encoders, make_encoder, register_encoder, sequence_encoder_names
from rlkit.nn.sequence import SequenceModule
from rlkit.nn.spaces import preprocess
from rlkit.nn.tcn import TCN
from rlkit.nn.transformer import TransformerEncoder
from rlkit.nn.vae import VAE, ImageVAE, VectorVAE, beta_vae_loss, gaussian_kl, reparameterize

__all__ = [
    "ACTIVATIONS",
    "CNN",
    "ConvBlock",
    "DictEncoder",
    "Encoder",
    "EncoderSpec",
    "FeedForwardEncoder",
    "GRUEncoder",
    "ImageVAE",
    "LSTMEncoder",
    "MLP",
    "RecurrentEncoder",
    "SequenceEncoder",
    "SequenceModule",
    "TCN",
    "TransformerEncoder",
    "VAE",
    "VAEEncoder",
    "VectorVAE",
    "WindowBody",
    "beta_vae_loss",
    "check_compatible",
    "encoder_names",
    "fitting_encoders",
    "gaussian_kl",
    "load_encoder",
    "load_encoder_weights",
    "make_activation",
    "make_encoder",
    "preprocess",
    "read_checkpoint",
    "register_encoder",
    "reparameterize",
    "save_encoder",
    "sequence_encoder_names",
]
