"""Keep an off-policy actor near demonstrations (TD3+BC, Fujimoto & Gu 2021): ``rlkit train … --bc-data D.npz --bc-weight W``.

SAC from a behaviour-cloned actor follows the critic's action-gradient far from the data the clone was fitted to,
where the critic's estimates are guesses, and falls below its teacher. TD3+BC adds to the actor loss a
behaviour-cloning term, ``W * mean((actor(s) - a)^2)`` over ``(s, a)`` pairs of an ``rlkit collect`` dataset, with
both actions in SB3's scaled units ([-1, 1], ``policy.scale_action``) and the actor's deterministic action (SAC/TQC:
the squashed mean; TD3/DDPG: ``mu``). Off-policy actor-critics only: sac, tqc, td3, ddpg.

`BCRegularizer` (added to the run's callbacks by ``rlkit.app.runs``, on resume too) does it without copying SB3's
``train()``; works on torch modules and datasets only (no import of ``agents``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from stable_baselines3.common.callbacks import BaseCallback

from rlkit.pretrain.dataset import Dataset, check_spaces, load_dataset

ALGOS = ("sac", "tqc", "td3", "ddpg")
"""The algorithms whose actor a BC term can anchor: SB3's off-policy actor-critics with a deterministic action."""


def check_bc_config(policy_config: Any, algo: str) -> None:
    """``bc_weight`` and ``bc_data`` go together, on sac/tqc/td3/ddpg: one line saying what is missing otherwise."""
    weight, data = float(policy_config.bc_weight), policy_config.bc_data
    if weight > 0 and data is None:
        raise ValueError(
            f"got --bc-weight {weight:g} (policy.bc_weight) without --bc-data; the BC term needs demonstrations: "
            "add --bc-data DATASET.npz (from `rlkit collect`), or set the weight to 0"
        )
    if data is not None and weight == 0:
        raise ValueError(
            f"got --bc-data {data!r} (policy.bc_data) with --bc-weight 0; the dataset would be unused: "
            "add --bc-weight W (e.g. 2.5), or drop --bc-data"
        )
    if data is not None and algo not in ALGOS:
        raise ValueError(
            f"--bc-data/--bc-weight regularise the actor of an off-policy actor-critic ({', '.join(ALGOS)}); "
            f"got algo {algo!r}: use one of those, or drop them"
        )


def load_bc_data(path: str, observation_space: Any, action_space: Any) -> Dataset:
    """The dataset at ``path``, checked against the agent's spaces (``rlkit.pretrain.dataset.check_spaces``)."""
    dataset = load_dataset(path)
    check_spaces(dataset, observation_space, action_space, target="the agent (--bc-data)")
    if len(dataset) == 0:
        raise ValueError(f"--bc-data {path!r} holds no steps; collect some with `rlkit collect`")
    return dataset


def deterministic_action(actor: torch.nn.Module, observations: torch.Tensor) -> torch.Tensor:
    """The actor's action without noise, in scaled units: SAC/TQC's squashed mean, TD3/DDPG's ``mu``."""
    if hasattr(actor, "action_dist"):  # SAC's / TQC's Actor: tanh of the Gaussian's mean, no draw
        return actor(observations, deterministic=True)
    return actor(observations)


class BCRegularizer(BaseCallback):
    """Add ``weight * MSE(actor's deterministic action, dataset action)`` to every actor update.

    SB3's SAC/TQC/TD3 ``train()`` computes the actor loss inline (``zero_grad``, ``actor_loss.backward()``,
    ``actor.optimizer.step()``), so there is no loss to add a term to from outside. Rather than copying
    ``train()`` of four algorithms (and following their changes), at training start this wraps
    ``model.actor.optimizer.step``: each actor step first back-propagates ``weight * mse`` on a fresh minibatch,
    which accumulates into the gradients SB3's loss left (the term reaches only actor parameters), then steps:
    the step of ``actor_loss + weight * mse``. The wrapper is an instance attribute of the optimizer, removed at
    training end; it is not saved with the model, and ``rlkit.app.runs`` installs it again on resume, reading the
    dataset again from the config's path.

    Minibatches of ``model.batch_size`` steps are drawn uniformly (with replacement, as SB3's replay buffer) from
    NumPy's global RNG, whose state rlkit's checkpoints save, so a resumed run draws what the straight run does.
    With ``weight == 0`` nothing is drawn or added (the run is plain SB3's). While no actor parameter is trainable
    (a critic warm-up, `rlkit.pretrain.warmup.CriticWarmup`) the actor does not learn and no term is added either.
    Observations are normalised by the model's ``VecNormalize`` as replay samples are.

    Logs ``train/bc_loss``: the unweighted MSE, the mean over the actor steps of the last update (as SB3's
    ``train/actor_loss``), written with the update's other ``train/`` scalars.
    """

    def __init__(self, dataset: Dataset, weight: float):
        super().__init__()
        if not weight >= 0 or not np.isfinite(weight):
            raise ValueError(f"bc weight must be a finite number >= 0, got {weight}")
        self.dataset = dataset
        self.weight = float(weight)
        self._loss_sum, self._loss_count = 0.0, 0  # over the actor steps of the current update
        self._optimizer: Any = None

    def _on_training_start(self) -> None:
        self._loss_sum, self._loss_count = 0.0, 0
        if self.weight == 0:
            return
        model = self.model
        actor = model.actor
        if actor is None or not hasattr(actor, "optimizer"):
            raise ValueError(f"--bc-weight needs an agent with an actor ({', '.join(ALGOS)}); got {type(model).__name__}")
        policy = model.policy
        observations = self.dataset.observations
        actions = policy.scale_action(self.dataset.actions.astype(np.float32)).astype(np.float32)
        optimizer = actor.optimizer
        if "step" in vars(optimizer):  # a previous learn() ended without training end (an exception): unwrap first
            del optimizer.step
        original = optimizer.step
        params = [p for group in optimizer.param_groups for p in group["params"]]

        def step(*args: Any, **kwargs: Any) -> Any:
            if any(p.requires_grad for p in params):
                index = np.random.randint(0, len(actions), size=model.batch_size)
                obs = observations[index]
                normalize = getattr(model, "_vec_normalize_env", None)
                if normalize is not None:
                    obs = normalize.normalize_obs(obs)
                obs_t = torch.as_tensor(obs, device=model.device)
                target = torch.as_tensor(actions[index], device=model.device)
                mse = F.mse_loss(deterministic_action(actor, obs_t), target)
                (self.weight * mse).backward()
                self._loss_sum += mse.item()
                self._loss_count += 1
                self.logger.record("train/bc_loss", self._loss_sum / self._loss_count)
            return original(*args, **kwargs)

        optimizer.step = step
        self._optimizer = optimizer

    def _on_rollout_start(self) -> None:
        # SB3 trains between two rollouts: the losses of the update before this rollout are recorded; the next starts afresh.
        self._loss_sum, self._loss_count = 0.0, 0

    def _on_step(self) -> bool:
        return True

    def _on_training_end(self) -> None:
        if self._optimizer is not None and "step" in vars(self._optimizer):
            del self._optimizer.step
        self._optimizer = None
