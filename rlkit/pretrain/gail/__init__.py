"""Adversarial imitation (GAIL, Ho & Ermon 2016) from ``rlkit collect`` datasets, for SB3 agents.

* ``rlkit.pretrain.gail.discriminator``: ``Discriminator`` (an rlkit encoder + a head over the action),
  ``Gail`` (the discriminator, its optimizer and minibatch RNG, its update and its reward)
* ``rlkit.pretrain.gail.reward``: ``GailReward`` (a ``VecEnvWrapper`` whose rewards are the discriminator's),
  ``GailCallback`` (updates the discriminator after every rollout), ``attach_gail`` / ``gail_callbacks``
  (how ``rlkit.app.training`` sets both up, on resume too)
"""

from rlkit.pretrain.gail.discriminator import Discriminator, Gail
from rlkit.pretrain.gail.reward import GailCallback, GailReward

__all__ = ["Discriminator", "Gail", "GailCallback", "GailReward"]
