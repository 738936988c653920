"""Pretraining: datasets from any env, then a (β-)VAE, behaviour cloning, a diffusion policy, next-step sequence
prediction, or adversarial imitation (GAIL).

Each task produces a checkpoint a policy can start from (``policy.init_encoder`` / ``policy.init_policy``).
Works on spaces and arrays: imports neither ``envs`` nor ``agents``.

* ``rlkit.pretrain.dataset``: ``collect``, ``save_dataset``, ``load_dataset``, ``check_spaces``, ``Dataset``
* ``rlkit.pretrain.vae``: ``train_vae``, ``save_vae``
* ``rlkit.pretrain.bc``: ``BCPolicy``, ``train_bc``, ``save_bc``, ``load_bc``
* ``rlkit.pretrain.seq``: ``train_seq``, ``save_seq``, ``make_chunks``
* ``rlkit.pretrain.diffusion``: ``NoiseSchedule``, ``DiffusionPolicy``, ``train_diffusion``, ``save_diffusion``, ``load_diffusion``
* ``rlkit.pretrain.gail``: ``Gail`` (discriminator), ``GailReward`` (reward ``VecEnvWrapper``; its callback is ``rlkit.callbacks.GailCallback``)
* ``rlkit.pretrain.init``: ``resolve_policy_config``, ``policy_encoders``, ``freeze`` (loading into an SB3
  policy is ``agents.pretrained.initialize``)
* ``rlkit.pretrain.warmup``: ``check_warmup_config`` (``policy.critic_warmup_steps``; the callback is
  ``rlkit.callbacks.CriticWarmup``, the critic's parameters ``agents.pretrained.critic_parameters``)
* ``rlkit.pretrain.regularize``: ``check_bc_config``, ``load_bc_data`` (``policy.bc_data``; the callback is
  ``rlkit.callbacks.BCRegularizer``, the actor's action ``agents.pretrained.deterministic_action``)
"""

from rlkit.pretrain.dataset import Dataset, check_spaces, collect, load_dataset, save_dataset

__all__ = ["Dataset", "check_spaces", "collect", "load_dataset", "save_dataset"]
