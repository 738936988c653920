"""Pretraining: datasets from any env, then a (β-)VAE, behaviour cloning or next-step sequence prediction.

Each task produces a checkpoint a policy can start from (``rlkit train … --init-encoder`` /
``--init-policy``). Works on spaces and arrays: imports neither ``envs`` nor ``agents``.

* ``rlkit.pretrain.dataset``: ``collect``, ``save_dataset``, ``load_dataset``, ``check_spaces``, ``Dataset``
* ``rlkit.pretrain.vae``: ``train_vae``, ``save_vae``
* ``rlkit.pretrain.bc``: ``BCPolicy``, ``train_bc``, ``save_bc``, ``load_bc``
* ``rlkit.pretrain.seq``: ``train_seq``, ``save_seq``, ``make_chunks``
* ``rlkit.pretrain.init``: ``resolve_policy_config``, ``initialize`` (used by ``rlkit.app.runs.train``)
* ``rlkit.pretrain.warmup``: ``CriticWarmup``, ``critic_parameters`` (``--critic-warmup-steps``)
"""

from rlkit.pretrain.dataset import Dataset, check_spaces, collect, load_dataset, save_dataset

__all__ = ["Dataset", "check_spaces", "collect", "load_dataset", "save_dataset"]
