"""Diffusion policy (Chi et al. 2023, without action chunking): behaviour cloning whose action model denoises.

* ``rlkit.pretrain.diffusion.schedule``: ``NoiseSchedule`` (DDPM forward process, posterior, DDPM and DDIM steps)
* ``rlkit.pretrain.diffusion.policy``: ``DiffusionPolicy`` (encoder + conditional noise predictor)
* ``rlkit.pretrain.diffusion.train``: ``train_diffusion``, ``save_diffusion``, ``load_diffusion``
"""

from rlkit.pretrain.diffusion.schedule import NoiseSchedule

__all__ = ["NoiseSchedule"]
