"""Every SB3 callback rlkit trains with.

All of them share a `TrainingStatus`: once one stops training (the NaN guard, a signal, an ``on_eval``
hook), the others do no more work, so no evaluation or checkpoint ever sees diverged weights. Order
them NaN guard first. Tags written, besides SB3's own: ``env/<name>`` (the env's
``info["episode_metrics"]``), ``eval/…`` (periodic evaluation), the run's hyperparameters,
``train/critic_warmup`` and ``train/bc_loss``.

The callbacks that change how a policy learns (`CriticWarmup`, `BCRegularizer`) are given the
policy-specific pieces (which parameters are the critic's, the actor's deterministic action) by their
caller, so that they work on torch modules alone.
"""

from __future__ import annotations

import math
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import HParam

from rlkit.checkpoints import preserved_rng, save_checkpoint
from rlkit.tb import log_eval, pending_logs


@dataclass
class TrainingStatus:
    """What the callbacks of one training run agree on."""

    stop_signal: int | None = None
    """Set by a signal handler: stop at the next rollout boundary after a checkpoint."""
    stopped: str | None = None
    """Why training stopped early: ``interrupted``, ``diverged`` or ``stopped`` (by an ``on_eval`` hook)."""
    message: str = ""
    """One line for the user about the early stop."""
    last_eval: tuple[int, dict[str, float]] | None = None
    """(step, metrics) of the most recent evaluation."""
    last_checkpoint: Any = None
    """The most recent `rlkit.checkpoints.Checkpoint` written."""
    extra: dict[str, Any] = field(default_factory=dict)

    def stop(self, reason: str, message: str) -> None:
        if self.stopped is None:
            self.stopped, self.message = reason, message


class TrainingDiverged(Exception):
    """Raised by `NanGuard` at a rollout boundary: the policy must not act (or be saved) with non-finite weights."""


def first_non_finite_parameter(model: Any) -> str | None:
    """Name of the first policy parameter holding a NaN/inf, or None."""
    for name, param in model.policy.named_parameters():
        if not bool(param.detach().isfinite().all()):
            return name
    return None


class NanGuard(BaseCallback):
    """Stop training at the first NaN/inf in observations, rewards, the losses SB3 logs, or the weights.

    Observations and rewards are checked every step (``on_step`` returns False); losses and weights
    after every update, at the start of the next rollout, before any checkpoint of that step is
    written and before the policy acts again (raises `TrainingDiverged`, which the trainer catches).
    """

    def __init__(self, status: TrainingStatus):
        super().__init__()
        self.status = status

    def _on_training_start(self) -> None:
        self._check_array("observation", self.model._last_obs, at_reset=True)
        if self.status.stopped:
            raise TrainingDiverged(self.status.message)  # before the policy acts on it

    def _on_rollout_start(self) -> None:
        if self.status.stopped:
            return
        step = self.model.num_timesteps
        for key, value in self.logger.name_to_value.items():
            if key.startswith("train/") and isinstance(value, (float, int, np.floating)) and not math.isfinite(value):
                self.status.stop("diverged", f"non-finite loss {key} = {value} at step {step}")
                raise TrainingDiverged(self.status.message)
        bad = first_non_finite_parameter(self.model)
        if bad is not None:
            self.status.stop("diverged", f"non-finite weights in policy.{bad} at step {step} (after an update)")
            raise TrainingDiverged(self.status.message)

    def _on_step(self) -> bool:
        if self.status.stopped:
            return False
        self._check_array("observation", self.locals.get("new_obs"))
        self._check_array("reward", self.locals.get("rewards"))
        return self.status.stopped is None

    def _check_array(self, what: str, value: Any, at_reset: bool = False) -> None:
        if value is None or self.status.stopped:
            return
        arrays = value.items() if isinstance(value, dict) else [("", value)]
        for key, array in arrays:
            array = np.asarray(array)
            if not np.issubdtype(array.dtype, np.number) or np.isfinite(array).all():
                continue
            bad = np.argwhere(~np.isfinite(array.reshape(len(array), -1)))[0]
            where = "at reset" if at_reset else f"at step {self.model.num_timesteps}"
            name = f"{what}[{key!r}]" if key else what
            self.status.stop("diverged", f"non-finite {name} ({array.reshape(len(array), -1)[tuple(bad)]}) from env copy {bad[0]} {where}")


class EnvMetricsCallback(BaseCallback):
    """Log ``info["episode_metrics"]`` of every finished episode as ``env/<name>`` (mean since the last log)."""

    def _on_step(self) -> bool:
        for done, info in zip(self.locals["dones"], self.locals["infos"]):
            if done and isinstance(info.get("episode_metrics"), dict):
                for name, value in info["episode_metrics"].items():
                    self.logger.record_mean(f"env/{name}", float(value))
        return True


class BatchReturnCallback(BaseCallback):
    """Log ``rollout/ep_rew_batch_mean``: the mean return of the episodes that ended since the last log (for an
    on-policy agent, logging once per rollout, the episodes of one training batch; POPGym's MMER is its maximum
    over training). ``rollout/ep_rew_mean`` is a moving window over the last 100 episodes instead."""

    def _on_step(self) -> bool:
        for done, info in zip(self.locals["dones"], self.locals["infos"]):
            if done and "episode" in info:
                self.logger.record_mean("rollout/ep_rew_batch_mean", float(info["episode"]["r"]))
        return True


class PeriodicEval(BaseCallback):
    """Evaluate every `every` env steps (on the step that reaches a multiple of `every`, so the schedule
    is the same after a resume) and log ``eval/…`` at that step.

    `evaluate(model) -> metrics` must not disturb training's RNG streams (see
    `rlkit.checkpoints.preserved_rng`). `on_eval(step, metrics)` may return False to stop training
    (a sweep pruning a trial).
    """

    def __init__(
        self,
        evaluate: Callable[[Any], dict[str, float]],
        every: int,
        status: TrainingStatus,
        on_eval: Callable[[int, dict[str, float]], bool | None] | None = None,
    ):
        super().__init__()
        self.evaluate, self.every, self.status, self.on_eval = evaluate, every, status, on_eval
        self.next_at = 0

    def _on_training_start(self) -> None:
        self.next_at = (self.model.num_timesteps // self.every + 1) * self.every

    def _on_step(self) -> bool:
        if self.status.stopped:
            return False
        step = self.model.num_timesteps
        if step < self.next_at:
            return True
        self.next_at = (step // self.every + 1) * self.every
        metrics = self.evaluate(self.model)
        log_eval(self.logger, metrics, step)
        self.status.last_eval = (step, metrics)
        if self.on_eval is not None and self.on_eval(step, metrics) is False:
            self.status.stop("stopped", f"stopped by on_eval at step {step}")
            return False
        return True


class HParamsCallback(BaseCallback):
    """Write the run's hyperparameters once, at the start of a fresh run (TensorBoard's HPARAMS tab)."""

    def __init__(self, hparams: dict[str, Any]):
        super().__init__()
        self.hparams = hparams

    def _on_training_start(self) -> None:
        metrics = {"eval/mean_reward": 0.0, "rollout/ep_rew_mean": 0.0}
        self.logger.record("hparams", HParam(self.hparams, metrics), exclude=("stdout", "log", "json", "csv"))

    def _on_step(self) -> bool:
        return True


class CheckpointCallback(BaseCallback):
    """Checkpoints at rollout boundaries (``on_rollout_start``): every `every` steps, and when a signal
    asked training to stop (then stop). A boundary is the one point where SB3's state is complete
    without the rollout buffer, so resuming from it equals never having stopped."""

    def __init__(self, status: TrainingStatus, env: Any, directory: Path, every: int, keep: int):
        super().__init__()
        self.status, self.env, self.directory, self.every, self.keep = status, env, directory, every, keep
        self.next_at: int | None = None

    def _on_training_start(self) -> None:
        step = self.model.num_timesteps
        self.next_at = (step // self.every + 1) * self.every if self.every else None

    def _on_rollout_start(self) -> None:
        if self.status.stopped:
            return
        step = self.model.num_timesteps
        signalled = self.status.stop_signal is not None
        due = self.next_at is not None and step >= self.next_at
        if not (signalled or due):
            return
        with preserved_rng():
            extra = {"logger": pending_logs(self.logger)}
            self.status.last_checkpoint = save_checkpoint(self.model, self.env, self.directory, self.keep, extra, rollout_started=True)
        if due:
            self.next_at = (step // self.every + 1) * self.every
        if signalled:
            name = signal.Signals(self.status.stop_signal).name
            self.status.stop("interrupted", f"{name} at step {step}: checkpoint saved")

    def _on_step(self) -> bool:
        return self.status.stopped is None


class CriticWarmup(BaseCallback):
    """Train only the value function in the updates of the rollouts that start before env step `steps`.

    `critic_parameters(policy)` names the parameters only the value function uses. At each rollout
    boundary the actor's parameters (everything else the policy trains) get ``requires_grad`` off while
    warming up and back on after it: the loss is unchanged, but its actor terms reach no trainable
    parameter, and ``Adam`` skips parameters whose ``.grad`` is None, so the actor stays bit-identical
    while the critic learns. The decision depends only on ``model.num_timesteps``, so a resumed run warms
    up exactly as an uninterrupted one. Parameters not trainable at the start (a frozen encoder) are left
    alone. Off-policy (SAC / TD3): the critic's own step is unchanged; the actor loss still reaches the
    critic through ``Q(s, actor(s))``, and those gradients are discarded by the critic's ``zero_grad``.

    Logs ``train/critic_warmup`` (1 or 0) beside the ``train/`` losses of the update it describes.
    """

    def __init__(self, steps: int, critic_parameters: Callable[[torch.nn.Module], list[torch.nn.Parameter]]):
        super().__init__()
        if steps < 0:
            raise ValueError(f"critic warm-up steps must be >= 0, got {steps}")
        self.steps = int(steps)
        self.critic_parameters = critic_parameters
        self._actor: list[torch.nn.Parameter] = []
        self._warm = False

    def _last_update_warm(self, step: int) -> bool:
        n_steps = getattr(self.model, "n_steps", None)
        if n_steps is not None:  # on-policy: the last update followed the rollout of n_steps * n_envs before this one
            return step - int(n_steps) * int(self.model.n_envs) < self.steps
        # Off-policy: updates follow every short rollout (train_freq, in steps or episodes) under the flags last set.
        return self._warm

    def _on_training_start(self) -> None:
        policy = self.model.policy
        critic = {id(p) for p in self.critic_parameters(policy)}
        self._actor = [p for p in policy.parameters() if p.requires_grad and id(p) not in critic]
        self._set(self.model.num_timesteps)

    def _set(self, rollout_start: int) -> None:
        warm = self._warm = rollout_start < self.steps
        for param in self._actor:
            param.requires_grad_(not warm)

    def _record_last_update(self) -> None:
        # SB3 records an update's train/ scalars after the logs were dumped; they are written with the next
        # rollout's (or by the final evaluation), so the flag describes the update before now too.
        step = int(self.model.num_timesteps)
        if step > 0:
            self.logger.record("train/critic_warmup", int(self._last_update_warm(step)))

    def _on_rollout_start(self) -> None:
        self._record_last_update()
        self._set(int(self.model.num_timesteps))

    def _on_step(self) -> bool:
        return True

    def _on_training_end(self) -> None:
        self._record_last_update()
        for param in self._actor:
            param.requires_grad_(True)


class BCRegularizer(BaseCallback):
    """Add ``weight * MSE(actor_action(actor, s), a)`` over `dataset`'s ``(s, a)`` pairs to every actor update
    (TD3+BC, Fujimoto & Gu 2021); both actions in SB3's scaled units (``policy.scale_action``).

    SB3's SAC/TQC/TD3 ``train()`` computes the actor loss inline, so at training start this wraps
    ``model.actor.optimizer.step``: each actor step first back-propagates ``weight * mse`` on a fresh
    minibatch, which accumulates into the gradients SB3's loss left, then steps. The wrapper is an instance
    attribute of the optimizer, removed at training end and not saved with the model: the trainer installs
    it again on resume. Minibatches of ``model.batch_size`` are drawn with replacement from NumPy's global
    RNG (which checkpoints save), so a resumed run draws what the straight run does. With ``weight == 0``
    nothing is drawn or added; while no actor parameter is trainable (`CriticWarmup`) no term is added.
    Observations are normalised by the model's ``VecNormalize`` as replay samples are.

    Logs ``train/bc_loss``: the unweighted MSE, the mean over the actor steps of the last update.
    """

    def __init__(self, dataset: Any, weight: float, actor_action: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor]):
        super().__init__()
        if not weight >= 0 or not np.isfinite(weight):
            raise ValueError(f"bc weight must be a finite number >= 0, got {weight}")
        self.dataset = dataset
        self.weight = float(weight)
        self.actor_action = actor_action
        self._loss_sum, self._loss_count = 0.0, 0  # over the actor steps of the current update
        self._optimizer: Any = None

    def _on_training_start(self) -> None:
        self._loss_sum, self._loss_count = 0.0, 0
        if self.weight == 0:
            return
        model = self.model
        actor = model.actor
        if actor is None or not hasattr(actor, "optimizer"):
            raise ValueError(f"a BC weight needs an agent with an actor; got {type(model).__name__}")
        observations = self.dataset.observations
        actions = model.policy.scale_action(self.dataset.actions.astype(np.float32)).astype(np.float32)
        optimizer = actor.optimizer
        if "step" in vars(optimizer):  # a previous learn() ended without training end (an exception): unwrap first
            del optimizer.step
        original = optimizer.step
        params = [p for group in optimizer.param_groups for p in group["params"]]

        def step(*args: Any, **kwargs: Any) -> Any:
            if any(p.requires_grad for p in params):
                self._add_bc_term(model, actor, observations, actions)
            return original(*args, **kwargs)

        optimizer.step = step
        self._optimizer = optimizer

    def _add_bc_term(self, model: Any, actor: torch.nn.Module, observations: np.ndarray, actions: np.ndarray) -> None:
        index = np.random.randint(0, len(actions), size=model.batch_size)
        obs = observations[index]
        normalize = getattr(model, "_vec_normalize_env", None)
        if normalize is not None:
            obs = normalize.normalize_obs(obs)
        obs_t = torch.as_tensor(obs, device=model.device)
        target = torch.as_tensor(actions[index], device=model.device)
        mse = F.mse_loss(self.actor_action(actor, obs_t), target)
        (self.weight * mse).backward()
        self._loss_sum += mse.item()
        self._loss_count += 1
        self.logger.record("train/bc_loss", self._loss_sum / self._loss_count)

    def _on_rollout_start(self) -> None:
        # SB3 trains between two rollouts: the losses of the update before this rollout are recorded; the next starts afresh.
        self._loss_sum, self._loss_count = 0.0, 0

    def _on_step(self) -> bool:
        return True

    def _on_training_end(self) -> None:
        if self._optimizer is not None and "step" in vars(self._optimizer):
            del self._optimizer.step
        self._optimizer = None


class GailCallback(BaseCallback):
    """Train a GAIL reward wrapper's discriminator on every rollout's pairs against ``demos``; logs ``gail/*``.

    `wrapper` is the env stack's `rlkit.pretrain.gail.reward.GailReward`: its ``take_transitions()`` gives the
    (observation, action) pairs stepped since the last call, and ``gail.update`` fits the discriminator; with an
    absorbing state, ``take_absorbing()`` the episodes that ended in one, and the wrapper discounts with the
    agent's ``gamma`` (set when training starts, on resume too)."""

    def __init__(self, wrapper: Any, demos: Any) -> None:
        super().__init__()
        self.wrapper, self.demos = wrapper, demos

    def _on_training_start(self) -> None:
        self.wrapper.gamma = float(self.model.gamma)

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        if not self.wrapper.agent_actions:
            return
        obs, actions = self.wrapper.take_transitions()
        absorbing = self.wrapper.take_absorbing()
        for key, value in self.wrapper.gail.update(obs, actions, self.demos, absorbing).items():
            self.logger.record(f"gail/{key}", value)
