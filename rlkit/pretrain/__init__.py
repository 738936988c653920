"""Pretraining: datasets from any env, then a (β-)VAE, behaviour cloning or next-step sequence prediction.

Each task produces a checkpoint a policy can start from (``rlkit train … --init-encoder`` /
``--init-policy``). Works on spaces and arrays: imports neither ``envs`` nor ``agents``.

* ``rlkit.pretrain.dataset``: ``collect``, ``save_dataset``, ``load_dataset``, ``check_spaces``, ``Dataset``
* ``rlkit.pretrain.vae``: ``train_vae``, ``save_vae``
* ``rlkit.pretrain.bc``: ``BCPolicy``, ``train_bc``, ``save_bc``, ``load_bc``
* ``rlkit.pretrain.seq``: ``train_seq``, ``save_seq``, ``make_chunks``
* ``rlkit.pretrain.init``: ``resolve_policy_config``, ``initialize`` (used by ``rlkit.app.training.train``)
* ``rlkit.pretrain.warmup``: ``critic_parameters``, ``check_warmup_config`` (``--critic-warmup-steps``; the callback is
  ``rlkit.callbacks.CriticWarmup``)
* ``rlkit.pretrain.regularize``: ``check_bc_config``, ``load_bc_data``, ``deterministic_action`` (``--bc-data``; the
  callback is ``rlkit.callbacks.BCRegularizer``)
"""

from rlkit.pretrain.dataset import Dataset, check_spaces, collect, load_dataset, save_dataset

__all__ = ["Dataset", "check_spaces", "collect", "load_dataset", "save_dataset"]
