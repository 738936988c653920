"""How many env steps a run trains, said before it runs.

SB3 collects whole rollouts: ``learn(total)`` ends at the first collection boundary at or past
``total``. On-policy agents (ppo, a2c, ppo-seq) collect ``n_steps × n_envs`` steps a rollout;
off-policy ones ``train_freq × n_envs`` between updates (or whole episodes where ``train_freq``
counts episodes).

The rule that keeps the budget: where the config leaves ``n_steps`` to the agent's default and
``total_steps`` is not a whole number of rollouts, ``n_steps`` becomes the largest divisor of
``total_steps / n_envs`` between half of ``min(default, total_steps / n_envs)`` and that value,
preferring one whose rollout is a whole number of minibatches; it is written to the run's config.
An ``n_steps`` the config sets is kept (it is a tuned hyperparameter), as is the default where no
divisor fits (e.g. ``total_steps`` not a multiple of ``n_envs``): then the run trains up to the next
boundary past the budget, and `StepPlan.describe` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stable_baselines3.common.type_aliases import TrainFrequencyUnit

from rlkit.app.config import ExperimentConfig


@dataclass(frozen=True)
class StepPlan:
    """What `learn` will train: `steps` env steps (None where episode lengths decide) for `requested`."""

    requested: int
    steps: int | None
    unit: str
    """How the steps are collected, e.g. ``rollouts of 1,250 steps × 8 envs``."""
    n_steps_changed: tuple[int, int] | None = None
    """(the agent's default n_steps, the one chosen to keep the budget), where the rule changed it."""

    def describe(self) -> str:
        """``20,000 steps`` or ``20,480 steps (20,000 asked: SB3 trains whole rollouts of 64 steps × 16 envs)``."""
        if self.steps is None:
            return f"{self.requested:,} steps (and to the end of the episodes under way: {self.unit})"
        if self.steps != self.requested:
            return f"{self.steps:,} steps ({self.requested:,} asked: SB3 trains whole {self.unit})"
        if self.n_steps_changed is not None:
            default, chosen = self.n_steps_changed
            return f"{self.steps:,} steps (n_steps {chosen:,} instead of {default:,}, so that they are whole {self.unit})"
        return f"{self.steps:,} steps"


def fit_n_steps(default: int, n_envs: int, total: int, batch_size: int | None = None) -> int | None:
    """The n_steps that makes `total` whole rollouts of ``n_steps × n_envs`` (see the module's rule), or None."""
    if total % n_envs:
        return None
    per_env = total // n_envs
    top = min(default, per_env)
    if per_env % default == 0:
        return default
    fits = [n for n in range(top, (top + 1) // 2 - 1, -1) if per_env % n == 0 and n * n_envs > 1]
    if batch_size is not None:
        fits = [n for n in fits if n * n_envs >= batch_size]
        whole = [n for n in fits if (n * n_envs) % batch_size == 0]
        fits = whole or fits
    return fits[0] if fits else None


def collection(model: Any) -> tuple[int | None, str]:
    """(env steps between two boundaries where ``learn`` can end, or None where episodes decide; its description)."""
    n_envs = int(model.n_envs)
    n_steps = getattr(model, "n_steps", None)
    if n_steps is not None:
        return int(n_steps) * n_envs, f"rollouts of {int(n_steps):,} steps × {n_envs} envs"
    train_freq = getattr(model, "train_freq", None)
    if train_freq is not None and train_freq.unit == TrainFrequencyUnit.EPISODE:
        return None, f"train_freq is {train_freq.frequency} episode(s) of each of {n_envs} envs"
    frequency = int(train_freq.frequency) if train_freq is not None else 1
    return frequency * n_envs, f"collections of {frequency} step(s) × {n_envs} envs"


def plan_steps(model: Any, total: int, start: int = 0, n_steps_changed: tuple[int, int] | None = None) -> StepPlan:
    """What ``learn`` trains from step `start` (a collection boundary) to `total`."""
    unit, text = collection(model)
    steps = None if unit is None else start + -(-(total - start) // unit) * unit
    return StepPlan(total, steps, text, n_steps_changed)


def build_within_budget(algo: Any, config: ExperimentConfig, env: Any) -> tuple[Any, ExperimentConfig, StepPlan]:
    """``algo.build(config, env)``, with ``n_steps`` chosen by the module's rule; the config as built and the plan."""
    model = algo.build(config, env)
    default = getattr(model, "n_steps", None)
    changed = None
    if default is not None and "n_steps" not in config.algo_kwargs:
        chosen = fit_n_steps(int(default), int(model.n_envs), config.total_steps, getattr(model, "batch_size", None))
        if chosen is not None and chosen != default:
            config = config.model_copy(update={"algo_kwargs": {**config.algo_kwargs, "n_steps": chosen}})
            model = algo.build(config, env)
            changed = (int(default), chosen)
    return model, config, plan_steps(model, config.total_steps, 0, changed)
