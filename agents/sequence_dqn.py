"""Sequence DQN (``dqn-seq``): double DQN whose Q-network remembers through any rlkit sequence encoder
(LSTM, GRU, TCN, Transformer), trained from an R2D2-style sequence replay.

::

    from agents.sequence_dqn import SequenceDQN

    model = SequenceDQN("SequencePolicy", vec_env, policy_kwargs={"encoder": "gru"}, seq_len=16, burn_in=8)
    model.learn(200_000)

or ``rlkit train dqn-seq rlkit/GroundhogDay-Easy-v0 --encoder gru``.

The Q-network is an encoder and an MLP head with one output per action; the target network a copy,
updated as SB3's DQN does (every ``target_update_interval`` env steps, Polyak ``tau``; 1 = a hard copy).
Exploration is SB3's: ε-greedy with ε decaying linearly from ``exploration_initial_eps`` to
``exploration_final_eps`` over the first ``exploration_fraction`` of training (drawn per env here), random
actions before ``learning_starts``. One gradient step, on windows of ``burn_in + seq_len + 1`` steps
(`rlkit.replay`): the encoders run over the burn-in without gradients, then over the rest; step ``t``
bootstraps from step ``t + 1`` (double DQN: the online network picks the action, the target network
values it), Huber loss averaged over the steps ``mask`` keeps, gradients clipped to ``max_grad_norm``.

Action masks (``use_action_masks``, default on): where the env gives ``info["action_mask"]`` (1 = allowed), the
greedy action is the best allowed one, ε-greedy exploration (and the random actions before ``learning_starts``)
draw uniformly among the allowed ones, and the double-DQN target's next action is the online network's best
among the next observation's allowed actions (the replay stores every step's mask). A mask that allows nothing
is read as allowing everything. ``predict(..., action_masks=...)`` applies them at test time (``rlkit eval``
and ``rlkit enjoy`` pass them). Envs without masks train exactly as without this option.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces
from stable_baselines3.common.type_aliases import GymEnv, Schedule
from stable_baselines3.common.utils import LinearSchedule, polyak_update
from torch import nn

from agents.sequence_offpolicy import MemoryPolicy, SequenceOffPolicyAlgorithm, build_agent, encode, masked_mean, mlp, valid_kwargs
from rlkit.distributions import sanitize_mask

DEFAULT_ENCODER = "gru"


def check_discrete(action_space: spaces.Space) -> None:
    if not isinstance(action_space, spaces.Discrete):
        raise ValueError(f"dqn-seq got action space {action_space}; it acts in Discrete spaces (for Box actions use sac-seq or ppo-seq)")


def masked_q(q: torch.Tensor, action_masks: torch.Tensor) -> torch.Tensor:
    """``q (*batch, n)`` with the actions that ``action_masks (*batch, n)`` forbids set to -inf (a row that allows
    nothing allows everything), so that ``argmax`` picks the best allowed action."""
    return q.masked_fill(~sanitize_mask(action_masks), float("-inf"))


def random_allowed(action_space: spaces.Discrete, mask: np.ndarray | None) -> int:
    """A uniform draw from `action_space` (its own generator), among the actions `mask` allows where given."""
    if mask is None:
        return action_space.sample()
    mask = np.asarray(mask, dtype=bool)
    return action_space.sample(mask=(mask if mask.any() else np.ones_like(mask)).astype(np.int8))


class SequenceQPolicy(MemoryPolicy):
    """A sequence encoder and a Q head, with a target copy of both.

    :param encoder: sequence encoder name (``lstm``, ``gru``, ``tcn``, ``transformer``).
    :param encoder_kwargs: the encoder's options.
    :param net_arch: hidden sizes of the Q head (default ``[64]``).
    :param activation_fn: activation of the head.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        encoder: str = DEFAULT_ENCODER,
        encoder_kwargs: dict[str, Any] | None = None,
        net_arch: list[int] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        optimizer_class: type[torch.optim.Optimizer] = torch.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if optimizer_kwargs is None:  # fused: one Adam kernel per parameter group (as ppo-seq's policy)
            optimizer_kwargs = {"fused": True} if optimizer_class is torch.optim.Adam else {}
        super().__init__(observation_space, action_space, optimizer_class=optimizer_class, optimizer_kwargs=optimizer_kwargs)
        check_discrete(action_space)
        if net_arch is not None and not (isinstance(net_arch, (list, tuple)) and all(isinstance(n, int) and n > 0 for n in net_arch)):
            raise ValueError(f"net_arch={net_arch!r}; expected a list of layer sizes, e.g. [64]")
        self.encoder_name, self.encoder_kwargs = encoder, dict(encoder_kwargs or {})
        self.net_arch, self.activation_fn = net_arch, activation_fn
        self.q_encoder = self.make_encoder("dqn-seq", encoder, self.encoder_kwargs)
        sizes = [64] if net_arch is None else list(net_arch)
        self.q_head = mlp(self.q_encoder.output_dim, sizes, activation_fn, int(action_space.n))
        self.q_encoder_target = copy.deepcopy(self.q_encoder).requires_grad_(False)
        self.q_head_target = copy.deepcopy(self.q_head).requires_grad_(False)
        self.optimizer = self.optimizer_class(self.online_parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)

    @property
    def memory_encoders(self) -> list[nn.Module]:  # type: ignore[override]
        return [self.q_encoder]

    def online_parameters(self) -> list[nn.Parameter]:
        return [*self.q_encoder.parameters(), *self.q_head.parameters()]

    def target_parameters(self) -> list[nn.Parameter]:
        return [*self.q_encoder_target.parameters(), *self.q_head_target.parameters()]

    def set_training_mode(self, mode: bool) -> None:
        super().set_training_mode(mode)
        self.q_encoder_target.train(False)

    def act(self, obs: torch.Tensor, starts: torch.Tensor, state: tuple[torch.Tensor, ...], deterministic: bool = True,
            action_masks: torch.Tensor | None = None):  # fmt: skip
        """One step: greedy actions ``(n,)`` (among those ``action_masks (n, A)`` allows, where given) and the new
        memory (exploration is the agent's)."""
        features, new_state = self.q_encoder(obs, starts, state)
        q = self.q_head(features[:, 0])
        if action_masks is not None:
            q = masked_q(q, action_masks)
        return q.argmax(dim=-1), new_state

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(encoder=self.encoder_name, encoder_kwargs=self.encoder_kwargs, net_arch=self.net_arch,
                    activation_fn=self.activation_fn)  # fmt: skip
        return data


class SequenceDQN(SequenceOffPolicyAlgorithm):
    """Double DQN with a sequence encoder; see the module docstring. Arguments as SB3's DQN, plus
    ``seq_len``, ``burn_in``, ``state_stride`` (as `agents.sequence_sac.SequenceSAC`); ``batch_size``
    counts training steps (``ceil(batch_size / seq_len)`` windows).

    :param use_action_masks: act, explore and pick the target's next action among the actions the env's
        ``info["action_mask"]`` allows (module docstring); False: masks are not read (learn from rewards)."""

    policy_aliases: ClassVar[dict[str, type]] = {"SequencePolicy": SequenceQPolicy}
    policy: SequenceQPolicy

    def __init__(
        self,
        policy: str | type[SequenceQPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 1e-4,
        buffer_size: int = 1_000_000,
        learning_starts: int = 100,
        batch_size: int = 256,
        tau: float = 1.0,
        gamma: float = 0.99,
        train_freq: int | tuple[int, str] = 4,
        gradient_steps: int = 1,
        target_update_interval: int = 10_000,
        exploration_fraction: float = 0.1,
        exploration_initial_eps: float = 1.0,
        exploration_final_eps: float = 0.05,
        max_grad_norm: float = 10,
        seq_len: int = 16,
        burn_in: int = 8,
        state_stride: int | None = None,
        use_action_masks: bool = True,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: torch.device | str = "auto",
        _init_setup_model: bool = True,
    ) -> None:
        if getattr(env, "action_space", None) is not None:
            check_discrete(env.action_space)
        super().__init__(
            policy, env, learning_rate, seq_len=seq_len, burn_in=burn_in, state_stride=state_stride, batch_size=batch_size,
            buffer_size=buffer_size, learning_starts=learning_starts, tau=tau, gamma=gamma, train_freq=train_freq,
            gradient_steps=gradient_steps, policy_kwargs=policy_kwargs, stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log, verbose=verbose, device=device, seed=seed,
            supported_action_spaces=(spaces.Discrete,),
        )  # fmt: skip
        self.target_update_interval = target_update_interval
        self.exploration_fraction = exploration_fraction
        self.exploration_initial_eps, self.exploration_final_eps = exploration_initial_eps, exploration_final_eps
        self.max_grad_norm = max_grad_norm
        self.use_action_masks = bool(use_action_masks)
        self.exploration_rate = 0.0
        self._n_calls = 0
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
        super()._setup_model()
        self.exploration_schedule = LinearSchedule(self.exploration_initial_eps, self.exploration_final_eps, self.exploration_fraction)

    def _on_step(self) -> None:
        self._n_calls += 1
        if self._n_calls % max(self.target_update_interval // self.n_envs, 1) == 0:
            polyak_update(self.policy.online_parameters(), self.policy.target_parameters(), self.tau)
        self.exploration_rate = self.exploration_schedule(self._current_progress_remaining)
        self.logger.record("rollout/exploration_rate", self.exploration_rate)

    def _mask_width(self) -> int | None:
        return int(self.action_space.n) if self.use_action_masks else None

    def _explore(self, actions: np.ndarray, rate: float, masks: np.ndarray | None) -> np.ndarray:
        """Each env's action replaced with probability `rate` (NumPy's global generator) by a random one, among
        those its row of `masks` allows where given (the action space's generator)."""
        explore = np.random.rand(len(actions)) < rate
        if explore.any():
            actions = actions.copy()
            actions[explore] = [random_allowed(self.action_space, None if masks is None else masks[i]) for i in np.flatnonzero(explore)]
        return actions

    def _rollout_actions(self, actions: np.ndarray, warmup: bool, masks: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        actions = self._explore(actions, 1.0 if warmup else self.exploration_rate, masks)
        return actions, actions

    def _env_actions(self, actions: np.ndarray, deterministic: bool, masks: np.ndarray | None) -> np.ndarray:
        return actions if deterministic else self._explore(actions, self.exploration_rate, masks)

    def predict(  # type: ignore[override]
        self,
        observation: np.ndarray,
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
        action_masks: np.ndarray | None = None,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """Actions for a batch of observations (or one) and the memory after them; `action_masks` ``(n, A)``
        (1 = allowed) restricts the greedy and the exploring actions (`predict_masked`)."""
        return self.predict_masked(observation, state, episode_start, deterministic, action_masks)

    def train(self, gradient_steps: int, batch_size: int = 256) -> None:
        policy = self.policy
        policy.set_training_mode(True)
        self._update_learning_rate(policy.optimizer)
        losses = []
        for _ in range(gradient_steps):
            batch = self.replay_buffer.sample(self.windows_per_batch)  # type: ignore[union-attr]
            obs, starts, mask = batch.observations, batch.episode_starts, batch.mask.float()  # mask (B, L)
            q_all = policy.q_head(encode(policy.q_encoder, obs, starts, batch.states, self.burn_in))  # (B, L + 1, A)
            with torch.no_grad():
                target_all = policy.q_head_target(encode(policy.q_encoder_target, obs, starts, batch.states, self.burn_in))
                online_next = q_all[:, 1:]  # double DQN: the online network picks, among the allowed next actions
                if batch.action_masks is not None:
                    online_next = masked_q(online_next, batch.action_masks[:, self.burn_in + 1 :])
                next_actions = online_next.argmax(dim=-1, keepdim=True)
                next_q = target_all[:, 1:].gather(-1, next_actions).squeeze(-1)
                target_q = batch.rewards + (1 - batch.terminated) * self.gamma * next_q
            current = q_all[:, :-1].gather(-1, batch.actions.long().unsqueeze(-1)).squeeze(-1)
            loss = masked_mean(F.smooth_l1_loss(current, target_q, reduction="none"), mask)
            policy.optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.online_parameters(), self.max_grad_norm)
            policy.optimizer.step()
            losses.append(loss.item())
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/loss", float(np.mean(losses)))

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "exploration_schedule"]

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        return ["policy", "policy.optimizer"], []


# --- registration with rlkit's algorithm registry ------------------------------------------------


def build(config: Any, env: Any) -> SequenceDQN:
    return build_agent("dqn-seq", SequenceDQN, config, env, DEFAULT_ENCODER)


def load(path: Any, env: Any = None, device: str = "auto") -> SequenceDQN:
    return SequenceDQN.load(path, env=env, device=device, force_reset=False)


def kwargs() -> list[str]:
    return valid_kwargs(SequenceDQN)
