"""A cost constraint by a Lagrange multiplier (PPO-Lagrangian: Ray et al. 2019, "Benchmarking Safe Exploration
in Deep RL"; the PI form of Stooke et al. 2020, "Responsive Safety in RL by PID Lagrangian Methods").

The learner maximises the return subject to ``E[episode cost] <= limit``, where the cost is a per-step number
the env reports in ``info[cost_key]``. It does so on the Lagrangian ``reward - λ · cost``, with λ ≥ 0 raised
while the constraint is violated and lowered (never below 0) while it holds:

* `LagrangianPenalty`, an SB3 ``VecEnvWrapper``, passes ``reward - λ · info[cost_key]`` to the learner and
  sums each env copy's cost over its episode. It belongs under ``VecNormalize`` (the penalty applies to the
  env's reward, which is normalized afterwards); ``Monitor``/``VecMonitor`` sit below it, so episode returns
  and evaluations stay the env's own reward.
* ``update()`` (called once per rollout by `LagrangianCallback`) takes the mean cost ``J`` of the episodes
  that finished since the last update and, by projected dual ascent, sets ``I ← max(0, I + lr · (J - limit))``
  and ``λ = max(0, I + kp · (J - limit))`` (``kp = 0``: plain gradient ascent on the dual, ``λ = I``). With no
  finished episode, λ stays as it is.

λ, its integral and the per-copy episode costs are attributes of the wrapper, so a checkpoint that pickles
the env stack carries them and a resumed run goes on with the same λ.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper


class LagrangianPenalty(VecEnvWrapper):
    """``reward - multiplier · info[cost_key]`` for the learner, and the episodes' costs for `update`.

    :param cost_key: the step info's key of the per-step cost (a number ≥ 0 by convention, e.g. K·h).
    :param limit: the bound on the expected episode cost (≥ 0).
    :param lr: the dual step size (the multiplier's change per unit of constraint violation; > 0).
    :param multiplier_init: λ before the first update (≥ 0).
    :param kp: proportional gain of the PI form (0 = plain dual ascent)."""

    def __init__(self, venv: VecEnv, cost_key: str, limit: float, lr: float, multiplier_init: float = 0.0, kp: float = 0.0):
        super().__init__(venv)
        if limit < 0 or lr <= 0 or multiplier_init < 0 or kp < 0:
            raise ValueError(f"LagrangianPenalty: need limit >= 0, lr > 0, multiplier_init >= 0, kp >= 0; got {limit}, {lr}, {multiplier_init}, {kp}")
        self.cost_key, self.limit, self.lr, self.kp = cost_key, float(limit), float(lr), float(kp)
        self.multiplier = float(multiplier_init)
        self.integral = float(multiplier_init)
        self.episode_cost = np.zeros(self.num_envs, dtype=np.float64)
        self.finished_costs: list[float] = []

    def reset(self) -> Any:
        self.episode_cost[:] = 0.0
        return self.venv.reset()

    def step_wait(self) -> Any:
        obs, rewards, dones, infos = self.venv.step_wait()
        costs = self.step_costs(infos)
        self.episode_cost += costs
        for i in np.flatnonzero(dones):
            self.finished_costs.append(float(self.episode_cost[i]))
            self.episode_cost[i] = 0.0
        penalized = np.asarray(rewards, dtype=np.float64) - self.multiplier * costs
        return obs, penalized.astype(np.float32), dones, infos

    def step_costs(self, infos: list[dict[str, Any]]) -> np.ndarray:
        """The per-copy cost of one step, read from each copy's info; a one-line ``ValueError`` where it is missing."""
        costs = np.empty(len(infos), dtype=np.float64)
        for i, info in enumerate(infos):
            if self.cost_key not in info:
                keys = ", ".join(sorted(k for k in info if k not in ("terminal_observation", "TimeLimit.truncated", "episode")))
                raise ValueError(
                    f"constraint.cost {self.cost_key!r}: the env's step info has no such key "
                    f"(its keys: {keys or 'none'}); name a per-step cost the env reports in info"
                )
            value = float(info[self.cost_key])
            if not np.isfinite(value):
                raise ValueError(f"constraint.cost {self.cost_key!r}: the env reported {value} in copy {i}'s info; a cost must be finite")
            costs[i] = value
        return costs

    def update(self) -> float | None:
        """One dual step on the episodes finished since the last call (then forgotten); returns their mean
        cost, or None (λ unchanged) when none finished."""
        if not self.finished_costs:
            return None
        mean_cost = float(np.mean(self.finished_costs))
        self.finished_costs = []
        error = mean_cost - self.limit
        self.integral = max(0.0, self.integral + self.lr * error)
        self.multiplier = max(0.0, self.integral + self.kp * error)
        return mean_cost


class LagrangianCallback(BaseCallback):
    """Update `penalty`'s multiplier at the end of every rollout; logs ``constraint/multiplier`` (the λ of the next
    rollout) and, when episodes finished, ``constraint/episode_cost`` (their mean cost)."""

    def __init__(self, penalty: LagrangianPenalty) -> None:
        super().__init__()
        self.penalty = penalty

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        mean_cost = self.penalty.update()
        if mean_cost is not None:
            self.logger.record("constraint/episode_cost", mean_cost)
        self.logger.record("constraint/multiplier", self.penalty.multiplier)
