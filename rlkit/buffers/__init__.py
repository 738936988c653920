"""Rollout buffers whose returns and advantages come from rlkit's Numba kernels.

* :class:`NumbaRolloutBuffer`, :class:`NumbaDictRolloutBuffer`: stable-baselines3's
  ``RolloutBuffer`` / ``DictRolloutBuffer`` with ``compute_returns_and_advantage`` replaced by
  :func:`rlkit.returns.gae_advantages` (bit-identical results, a few hundred times faster). Drop-in:
  ``PPO("MlpPolicy", env, rollout_buffer_class=NumbaRolloutBuffer)``.
* :class:`SequenceRolloutBuffer`: a rollout for memory agents (LSTM/GRU/TCN/Transformer), served
  as minibatches of fixed-length chunks that never span two episodes, each with the memory state
  at its first step and a padding mask.
"""


from rlkit.buffers.chunks import ChunkLayout
from rlkit.buffers.gae import NumbaDictRolloutBuffer, NumbaRolloutBuffer
from rlkit.buffers.sequence import SequenceRolloutBuffer, SequenceRolloutBufferSamples

__all__ = [
    "ChunkLayout",
    "NumbaDictRolloutBuffer",
    "NumbaRolloutBuffer",
    "SequenceRolloutBuffer",
    "SequenceRolloutBufferSamples",
]
