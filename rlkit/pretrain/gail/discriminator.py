"""The GAIL discriminator: ``D(s, a) = sigmoid(logit(s, a))``, the probability that ``(s, a)`` is the expert's.

``Discriminator`` reads the observation with an rlkit encoder and the action as the diffusion policy codes it
(`rlkit.pretrain.diffusion.policy.ActionCodec`: Discrete as a ±1 one-hot vector, a bounded Box scaled onto
[-1, 1], an unbounded one standardised by the demonstrations), then an MLP head gives one logit.

``Gail`` holds everything that changes while training: the discriminator, its Adam optimizer and the NumPy
generator its minibatches are drawn from; pickled with the env that holds it (`rlkit.pretrain.gail.reward`),
so a checkpoint resumes it exactly. Rewards: ``gail``: ``-log(1 - D) = softplus(logit)`` (positive, GAIL's);
``logit``: ``log D - log(1 - D) = logit`` (AIRL's form, no sign bias).

``absorbing=True`` models DAC's absorbing state (Kostrikov et al. 2019): every step that ends its episode in a
terminal state (not a time limit) leads into one absorbing state, whose discriminator logit is a parameter of its
own. ``update`` counts one absorbing pair per terminated episode on either side (the demos' ``terminated`` steps,
the agent's ``agent_absorbing``), drawn with the ordinary pairs, so the reward of ending an episode is learned like
any other; the reward wrapper adds its discounted value over the endless remainder to the terminal step.
"""

from __future__ import annotations

from typing import Any, Sequence

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rlkit.nn import make_encoder
from rlkit.pretrain.dataset import Dataset
from rlkit.pretrain.diffusion.policy import ActionCodec

REWARDS = ("gail", "logit")


class Discriminator(nn.Module):
    """Encoder + MLP head over ``[features, action code]`` -> one logit per pair."""

    def __init__(self, observation_space: gym.Space, codec: ActionCodec, encoder: str = "mlp",
                 encoder_kwargs: dict[str, Any] | None = None, hidden: Sequence[int] = (64, 64), seed: int = 0) -> None:  # fmt: skip
        super().__init__()
        self.codec = codec
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.encoder = make_encoder(encoder, observation_space, seed=seed, **(encoder_kwargs or {}))
            if self.encoder.is_sequence:
                raise ValueError(f"got sequence encoder {encoder!r} for the discriminator; use a feed-forward one (mlp, cnn, …)")
            layers: list[nn.Module] = []
            width = self.encoder.output_dim + codec.dim
            for size in hidden:
                layers += [nn.Linear(width, int(size)), nn.Tanh()]
                width = int(size)
            layers.append(nn.Linear(width, 1))
            self.head = nn.Sequential(*layers)

    def forward(self, observations: Any, actions: np.ndarray) -> torch.Tensor:
        """``(B,)`` logits for raw observations and env actions."""
        features = self.encoder(observations)
        codes = torch.as_tensor(self.codec.encode(np.asarray(actions)), device=features.device)
        return self.head(torch.cat([features, codes], dim=-1)).squeeze(-1)


class Gail:
    """The discriminator with its optimizer and minibatch generator; `update` and `reward` (module docstring)."""

    def __init__(self, demos: Dataset, encoder: str = "mlp", encoder_kwargs: dict[str, Any] | None = None,
                 hidden: Sequence[int] = (64, 64), learning_rate: float = 3e-4, batch_size: int = 256, epochs: int = 1,
                 reward: str = "gail", seed: int = 0, absorbing: bool = False) -> None:  # fmt: skip
        if reward not in REWARDS:
            raise ValueError(f"got gail reward {reward!r}; expected one of {', '.join(REWARDS)}")
        if not (learning_rate > 0 and batch_size >= 1 and epochs >= 1):
            raise ValueError(f"got learning_rate={learning_rate}, batch_size={batch_size}, epochs={epochs}; expected positive numbers")
        space = demos.action_space
        mean = std = None
        if isinstance(space, gym.spaces.Box) and not (np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high))):
            actions = demos.actions.reshape(len(demos), -1).astype(np.float64)
            mean, std = actions.mean(axis=0), actions.std(axis=0)
        self.discriminator = Discriminator(demos.observation_space, ActionCodec(space, mean, std), encoder, encoder_kwargs, hidden, seed)
        self.absorbing = bool(absorbing)
        if self.absorbing:
            self.discriminator.absorbing_logit = nn.Parameter(torch.zeros(()))
        self.optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=learning_rate)
        self.rng = np.random.default_rng(seed)
        self.batch_size, self.epochs, self.reward_kind = int(batch_size), int(epochs), reward

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.setdefault("absorbing", False)  # pickled (checkpointed) before gail.absorbing existed
        self.__dict__.update(state)

    @torch.no_grad()
    def reward(self, observations: Any, actions: np.ndarray) -> np.ndarray:
        """``(B,)`` float32 rewards of the pairs (``gail``: ``softplus(logit)``; ``logit``: the logit)."""
        return self._reward_of(self.discriminator(observations, actions)).cpu().numpy().astype(np.float32)

    @torch.no_grad()
    def absorbing_reward(self) -> float:
        """The reward of a step in the absorbing state (``absorbing=True`` only)."""
        if not self.absorbing:
            raise RuntimeError("this discriminator has no absorbing state (gail.absorbing is off)")
        return float(self._reward_of(self.discriminator.absorbing_logit))

    def _reward_of(self, logits: torch.Tensor) -> torch.Tensor:
        return F.softplus(logits) if self.reward_kind == "gail" else logits

    def _logits(self, observations: Any, actions: np.ndarray, indices: np.ndarray, n: int) -> torch.Tensor:
        """Logits of rows ``indices`` of ``(observations, actions)``, where an index ``>= n`` is the absorbing state."""
        real = indices < n
        if real.all():
            return self.discriminator(observations[indices], actions[indices])
        logits = self.discriminator.absorbing_logit.expand(len(indices)).clone()
        if real.any():
            logits[torch.as_tensor(real)] = self.discriminator(observations[indices[real]], actions[indices[real]])
        return logits

    def update(self, agent_obs: np.ndarray, agent_actions: np.ndarray, demos: Dataset, agent_absorbing: int = 0) -> dict[str, float]:
        """``epochs`` passes over the agent's pairs in minibatches, each against as many demo pairs drawn uniformly;
        returns the mean ``disc_loss`` (binary cross-entropy, expert = 1) and the accuracies on either side. With
        ``absorbing``, either side also holds one absorbing pair per terminated episode (``agent_absorbing`` for the
        agent's, counted since the last update)."""
        n = len(agent_actions)
        if n == 0:
            raise ValueError("the discriminator got no agent transitions to learn from")
        if agent_absorbing and not self.absorbing:
            raise ValueError("got absorbing agent pairs for a discriminator without an absorbing state (gail.absorbing is off)")
        n_demos = len(demos)
        agent_rows = n + int(agent_absorbing)
        expert_rows = n_demos + (int(np.count_nonzero(demos.terminated)) if self.absorbing else 0)
        totals = {"disc_loss": 0.0, "expert_acc": 0.0, "agent_acc": 0.0}
        batches = 0
        self.discriminator.train()
        for _ in range(self.epochs):
            order = self.rng.permutation(agent_rows)
            for start in range(0, agent_rows, self.batch_size):
                batch = order[start : start + self.batch_size]
                expert = self.rng.integers(0, expert_rows, size=len(batch))
                logit_e = self._logits(demos.observations, demos.actions, expert, n_demos)
                logit_a = self._logits(agent_obs, agent_actions, batch, n)
                loss = 0.5 * (F.binary_cross_entropy_with_logits(logit_e, torch.ones_like(logit_e))
                              + F.binary_cross_entropy_with_logits(logit_a, torch.zeros_like(logit_a)))  # fmt: skip
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                totals["disc_loss"] += loss.item()
                totals["expert_acc"] += (logit_e > 0).float().mean().item()
                totals["agent_acc"] += (logit_a < 0).float().mean().item()
                batches += 1
        self.discriminator.eval()
        return {k: v / batches for k, v in totals.items()}
