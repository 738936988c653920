"""Adversarial imitation (GAIL, Ho & Ermon 2016) from ``rlkit collect`` datasets, for SB3 agents.

* ``rlkit.pretrain.gail.discriminator``: ``Discriminator`` (an rlkit encoder + a head over the action),
  ``Gail`` (the discriminator, its optimizer and minibatch RNG, its update and its reward)
* ``rlkit.pretrain.gail.reward``: ``GailReward`` (a ``VecEnvWrapper`` whose rewards are the discriminator's),
  ``attach_gail`` / ``gail_callbacks`` (how ``rlkit.app.training`` sets it up with ``rlkit.callbacks.GailCallback``,
  which updates the discriminator after every rollout, on resume too)
"""

from rlkit.pretrain.gail.discriminator import Discriminator, Gail
from rlkit.pretrain.gail.reward import GailReward

__all__ = ["Discriminator", "Gail", "GailReward"]
