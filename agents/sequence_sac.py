"""Sequence SAC (``sac-seq``): Soft Actor-Critic whose actor and critics remember through any rlkit
sequence encoder (LSTM, GRU, TCN, Transformer), trained from an R2D2-style sequence replay.

::

    from agents.sequence_sac import SequenceSAC

    model = SequenceSAC("SequencePolicy", vec_env, policy_kwargs={"encoder": "gru"}, seq_len=16, burn_in=8)
    model.learn(100_000)
    action, state = model.predict(obs, state=state, episode_start=starts)

or ``rlkit train sac-seq popgym-PositionOnlyPendulumEasy-v0 --encoder gru``.

The policy: an actor encoder with SB3's squashed-Gaussian head (``tanh`` of a Gaussian, log-std clipped to
[-20, 2]), and a critic encoder shared by ``n_critics`` Q heads (each an MLP over the features and the
action), as SB3's SAC has one features extractor per network. The critic target is a Polyak-averaged
copy of the critic encoder and heads. Both encoders run in rollouts, so that the memory stored in the
replay buffer is each one's; the target encoder starts a window from the critic's stored memory.

One gradient step (``train``), on windows of ``burn_in + seq_len + 1`` steps (`rlkit.replay`): the
encoders run over the burn-in without gradients, then over the rest; step ``t`` is scored with the
features at ``t`` and bootstraps from the target's features and the actor's next action at ``t + 1``.
Then SB3's SAC update, in its order (entropy coefficient, critic, actor, target), with the losses
averaged over the window steps ``mask`` keeps. The actor's loss reads the critic features computed before
the critic step (through the updated Q heads), to save a second critic pass.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.type_aliases import GymEnv, Schedule
from stable_baselines3.common.utils import polyak_update
from torch import nn

from agents.sequence_offpolicy import MemoryPolicy, SequenceOffPolicyAlgorithm, build_agent, masked_mean, mlp, run_encoders, valid_kwargs

LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0
DEFAULT_ENCODER = "gru"


def _split_net_arch(net_arch: Any) -> tuple[list[int], list[int]]:
    if net_arch is None:
        return [256, 256], [256, 256]
    if isinstance(net_arch, dict):
        unknown = set(net_arch) - {"pi", "qf"}
        if unknown:
            raise ValueError(f"net_arch has keys {sorted(unknown)}; expected pi and qf (e.g. {{pi: [256], qf: [256]}})")
        return list(net_arch.get("pi", [])), list(net_arch.get("qf", []))
    if isinstance(net_arch, (list, tuple)) and all(isinstance(n, (int, np.integer)) and n > 0 for n in net_arch):
        return list(net_arch), list(net_arch)
    raise ValueError(f"net_arch={net_arch!r}; expected a list of layer sizes ([256, 256]) or {{pi: [...], qf: [...]}}")


def check_box(agent: str, action_space: spaces.Space) -> None:
    if not isinstance(action_space, spaces.Box) or len(action_space.shape) != 1:
        raise ValueError(f"{agent} got action space {action_space}; it acts in flat Box spaces (for Discrete actions use dqn-seq or ppo-seq)")


class SequenceSACPolicy(MemoryPolicy):
    """Actor and critic encoders with SAC's heads; see the module docstring.

    :param encoder: sequence encoder name (``lstm``, ``gru``, ``tcn``, ``transformer``), for actor and critic.
    :param encoder_kwargs: the encoder's options (``hidden_size`` for lstm/gru, …).
    :param net_arch: hidden sizes of the heads: ``[256, 256]`` for both or ``{pi: [...], qf: [...]}``.
    :param activation_fn: activation of the heads.
    :param n_critics: Q heads (the target is their minimum).
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        encoder: str = DEFAULT_ENCODER,
        encoder_kwargs: dict[str, Any] | None = None,
        net_arch: list[int] | dict[str, list[int]] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        n_critics: int = 2,
        optimizer_class: type[torch.optim.Optimizer] = torch.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if optimizer_kwargs is None:  # fused: one Adam kernel per parameter group (as ppo-seq's policy)
            optimizer_kwargs = {"fused": True} if optimizer_class is torch.optim.Adam else {}
        super().__init__(observation_space, action_space, optimizer_class=optimizer_class,
                         optimizer_kwargs=optimizer_kwargs, squash_output=True)  # fmt: skip
        check_box("sac-seq", action_space)
        self.encoder_name, self.encoder_kwargs = encoder, dict(encoder_kwargs or {})
        self.net_arch, self.activation_fn, self.n_critics = net_arch, activation_fn, int(n_critics)
        self.actor_encoder = self.make_encoder("sac-seq", encoder, self.encoder_kwargs)
        self.critic_encoder = self.make_encoder("sac-seq", encoder, self.encoder_kwargs)
        pi_sizes, qf_sizes = _split_net_arch(net_arch)
        features, act_dim = self.actor_encoder.output_dim, int(action_space.shape[0])
        self.latent_pi = mlp(features, pi_sizes, activation_fn)
        latent = pi_sizes[-1] if pi_sizes else features
        self.mu, self.log_std = nn.Linear(latent, act_dim), nn.Linear(latent, act_dim)
        self.q_nets = nn.ModuleList(mlp(features + act_dim, qf_sizes, activation_fn, 1) for _ in range(self.n_critics))
        self.critic_target_encoder = copy.deepcopy(self.critic_encoder).requires_grad_(False)
        self.q_nets_target = copy.deepcopy(self.q_nets).requires_grad_(False)
        actor = [*self.actor_encoder.parameters(), *self.latent_pi.parameters(), *self.mu.parameters(), *self.log_std.parameters()]
        self.actor_optimizer = self.optimizer_class(actor, lr=lr_schedule(1), **self.optimizer_kwargs)
        critic = [*self.critic_encoder.parameters(), *self.q_nets.parameters()]
        self.critic_optimizer = self.optimizer_class(critic, lr=lr_schedule(1), **self.optimizer_kwargs)

    @property
    def memory_encoders(self) -> list[nn.Module]:  # type: ignore[override]
        return [self.actor_encoder, self.critic_encoder]

    def critic_parameters(self) -> list[nn.Parameter]:
        return [*self.critic_encoder.parameters(), *self.q_nets.parameters()]

    def target_parameters(self) -> list[nn.Parameter]:
        return [*self.critic_target_encoder.parameters(), *self.q_nets_target.parameters()]

    def set_training_mode(self, mode: bool) -> None:
        super().set_training_mode(mode)
        self.critic_target_encoder.train(False)

    # --- heads --------------------------------------------------------------------------------

    def action_log_prob(self, features: torch.Tensor, deterministic: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Squashed actions in [-1, 1] ``(B, T, d)`` and their log-probabilities ``(B, T)``."""
        latent = self.latent_pi(features)
        mean, log_std = self.mu(latent), self.log_std(latent).clamp(LOG_STD_MIN, LOG_STD_MAX)
        std = log_std.exp()
        gaussian = mean if deterministic else mean + std * torch.randn_like(mean)
        actions = torch.tanh(gaussian)
        log_prob = (-0.5 * ((gaussian - mean) / std) ** 2 - log_std - 0.5 * np.log(2 * np.pi)).sum(-1)
        log_prob = log_prob - torch.log(1 - actions**2 + 1e-6).sum(-1)  # SB3's squash correction
        return actions, log_prob

    @staticmethod
    def q_values(q_nets: nn.ModuleList, features: torch.Tensor, actions: torch.Tensor) -> list[torch.Tensor]:
        """Each Q head's values ``(B, T)`` of `actions` ``(B, T, d)`` after `features` ``(B, T, F)``."""
        x = torch.cat([features, actions], dim=-1)
        return [q(x).squeeze(-1) for q in q_nets]

    def replay(self, obs: torch.Tensor, starts: torch.Tensor, state: tuple[torch.Tensor, ...], burn_in: int):
        """Actor, critic and target features ``(B, W - burn_in, F)`` of replayed windows ``obs (B, W, …)``, each
        encoder from its stored memory (the target from the critic's), the first `burn_in` steps without gradients
        (they only warm the memory), the target's without gradients throughout."""
        actor_state, critic_state = self.split(state)
        encoders = (self.actor_encoder, self.critic_encoder, self.critic_target_encoder)
        states = (actor_state, critic_state, critic_state)
        if burn_in:
            with torch.no_grad():
                _, states = run_encoders(encoders, obs[:, :burn_in], starts[:, :burn_in], states)
        obs, starts = obs[:, burn_in:], starts[:, burn_in:]
        (actor_features, critic_features), _ = run_encoders(encoders[:2], obs, starts, states[:2])
        with torch.no_grad():
            (target_features,), _ = run_encoders(encoders[2:], obs, starts, states[2:])
        return actor_features, critic_features, target_features

    def act(self, obs: torch.Tensor, starts: torch.Tensor, state: tuple[torch.Tensor, ...], deterministic: bool = False):
        """One step: squashed actions ``(n, d)`` and the new memory (the actor's, then the critic's)."""
        actor_state, critic_state = self.split(state)
        features, new_actor = self.actor_encoder(obs, starts, actor_state)
        _, new_critic = self.critic_encoder(obs, starts, critic_state)
        actions, _ = self.action_log_prob(features, deterministic)
        return actions[:, 0], new_actor + new_critic

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(encoder=self.encoder_name, encoder_kwargs=self.encoder_kwargs, net_arch=self.net_arch,
                    activation_fn=self.activation_fn, n_critics=self.n_critics)  # fmt: skip
        return data


class SequenceSAC(SequenceOffPolicyAlgorithm):
    """SAC with sequence encoders; see the module docstring. Arguments as SB3's SAC, plus:

    :param seq_len: training steps per replayed window.
    :param burn_in: steps before them that only warm the stored memory.
    :param state_stride: memory stored every this many steps per env (None: ``seq_len``).
    :param batch_size: training steps per gradient step (``ceil(batch_size / seq_len)`` windows).
    """

    policy_aliases: ClassVar[dict[str, type]] = {"SequencePolicy": SequenceSACPolicy}
    policy: SequenceSACPolicy

    def __init__(
        self,
        policy: str | type[SequenceSACPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 3e-4,
        buffer_size: int = 1_000_000,
        learning_starts: int = 100,
        batch_size: int = 256,
        tau: float = 0.005,
        gamma: float = 0.99,
        train_freq: int | tuple[int, str] = 1,
        gradient_steps: int = 1,
        ent_coef: str | float = "auto",
        target_update_interval: int = 1,
        target_entropy: str | float = "auto",
        seq_len: int = 16,
        burn_in: int = 8,
        state_stride: int | None = None,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: torch.device | str = "auto",
        _init_setup_model: bool = True,
    ) -> None:
        if getattr(env, "action_space", None) is not None:
            check_box("sac-seq", env.action_space)
        super().__init__(
            policy, env, learning_rate, seq_len=seq_len, burn_in=burn_in, state_stride=state_stride, batch_size=batch_size,
            buffer_size=buffer_size, learning_starts=learning_starts, tau=tau, gamma=gamma, train_freq=train_freq,
            gradient_steps=gradient_steps, policy_kwargs=policy_kwargs, stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log, verbose=verbose, device=device, seed=seed,
            supported_action_spaces=(spaces.Box,),
        )  # fmt: skip
        self.ent_coef, self.target_entropy, self.target_update_interval = ent_coef, target_entropy, target_update_interval
        self.log_ent_coef: torch.Tensor | None = None
        self.ent_coef_optimizer: torch.optim.Optimizer | None = None
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
        super()._setup_model()
        dim = float(np.prod(self.action_space.shape))
        self.target_entropy = -dim if self.target_entropy == "auto" else float(self.target_entropy)
        if isinstance(self.ent_coef, str) and self.ent_coef.startswith("auto"):
            init = float(self.ent_coef.split("_")[1]) if "_" in self.ent_coef else 1.0
            if init <= 0:
                raise ValueError(f"ent_coef={self.ent_coef!r}; the initial value after auto_ must be positive")
            self.log_ent_coef = torch.log(torch.ones(1, device=self.device) * init).requires_grad_(True)
            self.ent_coef_optimizer = torch.optim.Adam([self.log_ent_coef], lr=self.lr_schedule(1))
        else:
            self.ent_coef_tensor = torch.tensor(float(self.ent_coef), device=self.device)

    def _rollout_actions(self, actions: np.ndarray, warmup: bool, masks: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if warmup:
            env_actions = np.array([self.action_space.sample() for _ in range(self.n_envs)])
            return env_actions, self.policy.scale_action(env_actions)
        return self.policy.unscale_action(actions), actions

    def _env_actions(self, actions: np.ndarray, deterministic: bool, masks: np.ndarray | None) -> np.ndarray:
        return self.policy.unscale_action(actions)

    def train(self, gradient_steps: int, batch_size: int = 256) -> None:
        policy = self.policy
        policy.set_training_mode(True)
        optimizers = [policy.actor_optimizer, policy.critic_optimizer]
        if self.ent_coef_optimizer is not None:
            optimizers.append(self.ent_coef_optimizer)
        self._update_learning_rate(optimizers)
        stats: dict[str, list[float]] = {"ent_coef": [], "ent_coef_loss": [], "actor_loss": [], "critic_loss": []}
        for _ in range(gradient_steps):
            self._gradient_step(self.replay_buffer.sample(self.windows_per_batch), stats)  # type: ignore[union-attr]
            self._n_updates += 1
            if self._n_updates % self.target_update_interval == 0:
                polyak_update(policy.critic_parameters(), policy.target_parameters(), self.tau)
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        for key, values in stats.items():
            if values:
                self.logger.record(f"train/{key}", float(np.mean(values)))

    def _gradient_step(self, batch: Any, stats: dict[str, list[float]]) -> None:
        policy, burn_in = self.policy, self.burn_in
        obs, starts, mask = batch.observations, batch.episode_starts, batch.mask.float()  # mask (B, L)
        actor_features, critic_features, target_features = policy.replay(obs, starts, batch.states, burn_in)  # (B, L + 1, F)
        actions_pi, log_prob = policy.action_log_prob(actor_features)  # (B, L + 1, d), (B, L + 1)

        ent_coef = self.ent_coef_tensor if self.log_ent_coef is None else torch.exp(self.log_ent_coef.detach())
        if self.ent_coef_optimizer is not None:
            ent_coef_loss = -masked_mean(self.log_ent_coef * (log_prob[:, :-1] + self.target_entropy).detach(), mask)
            self.ent_coef_optimizer.zero_grad()
            ent_coef_loss.backward()
            self.ent_coef_optimizer.step()
            stats["ent_coef_loss"].append(ent_coef_loss.item())
        stats["ent_coef"].append(ent_coef.item())

        with torch.no_grad():
            next_q = torch.stack(policy.q_values(policy.q_nets_target, target_features[:, 1:], actions_pi[:, 1:]), 0).min(0).values
            target_q = batch.rewards + (1 - batch.terminated) * self.gamma * (next_q - ent_coef * log_prob[:, 1:])
        current = policy.q_values(policy.q_nets, critic_features[:, :-1], batch.actions)
        critic_loss = 0.5 * sum(masked_mean((q - target_q) ** 2, mask) for q in current)
        policy.critic_optimizer.zero_grad()
        critic_loss.backward(retain_graph=True)  # the actor's features may come from the same batched encoder pass
        policy.critic_optimizer.step()
        stats["critic_loss"].append(critic_loss.item())

        q_pi = torch.stack(policy.q_values(policy.q_nets, critic_features[:, :-1].detach(), actions_pi[:, :-1]), 0).min(0).values
        actor_loss = masked_mean(ent_coef * log_prob[:, :-1] - q_pi, mask)
        policy.actor_optimizer.zero_grad()
        actor_loss.backward()
        policy.actor_optimizer.step()
        stats["actor_loss"].append(actor_loss.item())

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state_dicts = ["policy", "policy.actor_optimizer", "policy.critic_optimizer"]
        if self.ent_coef_optimizer is not None:
            return state_dicts + ["ent_coef_optimizer"], ["log_ent_coef"]
        return state_dicts, ["ent_coef_tensor"]


# --- registration with rlkit's algorithm registry ------------------------------------------------


def build(config: Any, env: Any) -> SequenceSAC:
    return build_agent("sac-seq", SequenceSAC, config, env, DEFAULT_ENCODER)


def load(path: Any, env: Any = None, device: str = "auto") -> SequenceSAC:
    return SequenceSAC.load(path, env=env, device=device, force_reset=False)


def kwargs() -> list[str]:
    return valid_kwargs(SequenceSAC)
