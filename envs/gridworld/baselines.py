"""The ``"optimal"`` baseline of GridWorld (see ``envs.baselines`` for the policy interface)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from envs.gridworld.solver import value_iteration


class OptimalPolicy:
    """The ``"optimal"`` baseline: greedy on :func:`value_iteration`'s values, reading the agent's cell from the env.

    A solver over the known model, so it works with every observation mode (the partial view too).
    ``gamma`` defaults to 1 (the env's undiscounted return) when ``step_reward < 0``, else 0.99.
    """

    def __init__(self, env: gym.Env, gamma: float | None = None):
        env = env.unwrapped
        self.gamma = gamma if gamma is not None else (1.0 if env.step_reward < 0 else 0.99)
        self.values, self.policy = value_iteration(env, self.gamma)
        self._env = env

    def reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        env = env.unwrapped
        if env is not self._env:
            self.values, self.policy = value_iteration(env, self.gamma)
            self._env = env

    def act(self, observation: Any, info: dict) -> int:
        return int(self.policy[self._env.agent_cell])
