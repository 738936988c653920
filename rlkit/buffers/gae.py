"""SB3's rollout buffers with GAE(λ) by rlkit's Numba kernel: drop-in ``rollout_buffer_class`` for PPO/A2C."""

from __future__ import annotations

import numpy as np
import torch as th
from stable_baselines3.common.buffers import DictRolloutBuffer, RolloutBuffer

from rlkit.returns import gae_advantages


def last_values_to_numpy(last_values: th.Tensor | np.ndarray, n_envs: int) -> np.ndarray:
    if isinstance(last_values, th.Tensor):
        last_values = last_values.detach().cpu().numpy()
    last_values = np.asarray(last_values)
    if last_values.size != n_envs:
        raise ValueError(
            f"last_values has shape {last_values.shape}; expected one value per env, (n_envs,)=({n_envs},) "
            f"or ({n_envs}, 1), the critic's value of the observation after the last step."
        )
    # As SB3's add() does for every stored value: the buffer is float32.
    return last_values.reshape(n_envs).astype(np.float32, copy=False)


class _NumbaGAEMixin:
    """``compute_returns_and_advantage`` by :func:`rlkit.returns.gae_advantages`, in place."""

    rewards: np.ndarray
    values: np.ndarray
    episode_starts: np.ndarray
    advantages: np.ndarray
    returns: np.ndarray
    gamma: float
    gae_lambda: float
    n_envs: int

    def compute_returns_and_advantage(self, last_values: th.Tensor, dones: np.ndarray) -> None:
        """GAE(λ) advantages and TD(λ) returns, identical to SB3's, written into the buffer's arrays.

        SB3's PPO/A2C have already added ``gamma * V(terminal_observation)`` to the reward of
        time-limit truncated steps (``collect_rollouts``), so no truncation arguments are needed
        here; see :mod:`rlkit.returns` for how that relates to explicit truncation bootstrapping.

        :param last_values: (n_envs,) or (n_envs, 1) value of the observation after the last step.
        :param dones: (n_envs,) whether the last step ended an episode.
        """
        gae_advantages(
            self.rewards,
            self.values,
            self.episode_starts,
            last_values_to_numpy(last_values, self.n_envs),
            np.asarray(dones),
            self.gamma,
            self.gae_lambda,
            advantages_out=self.advantages,
            returns_out=self.returns,
        )


class NumbaRolloutBuffer(_NumbaGAEMixin, RolloutBuffer):
    """SB3's ``RolloutBuffer`` with the Numba GAE kernel; use as ``PPO(..., rollout_buffer_class=NumbaRolloutBuffer)``.

    Everything else (storage, ``add``, ``get``, minibatch order) is SB3's, so with the same seed a
    PPO run ends with the same parameters as with the stock buffer.
    """


class NumbaDictRolloutBuffer(_NumbaGAEMixin, DictRolloutBuffer):
    """SB3's ``DictRolloutBuffer`` (Dict observation spaces) with the Numba GAE kernel."""
