"""The policy of sequence PPO: an rlkit sequence encoder (memory) shared by an actor head and a critic head.

::

    obs (B, T, *obs_shape), episode_starts (B, T), state
        └─ encoder = rlkit.nn.make_encoder(name, observation_space, sequence=True)  # lstm/gru/tcn/transformer
              features (B, T, F), new state
              ├─ actor MLP  -> a distribution per action space (agents.sequence_heads; masked where the env masks)
              └─ critic MLP -> value (B, T)

One call serves both rollouts (T = 1, the state carried between calls) and training (T = a chunk,
the state stored at its first step); the encoder guarantees that memory from before an episode
start never reaches outputs at or after it. The state is the encoder's tuple of batch-first
float32 tensors (``state_shapes``), which ``rlkit.buffers.SequenceRolloutBuffer`` stores per step.

By default the critic has its own encoder (its own memory), as SB3's PPO has separate actor and
critic networks and sb3-contrib's RecurrentPPO a second LSTM for the critic: with one shared
encoder the value loss, whose gradients are far larger than the policy loss's while returns are
large (CartPole: ~50 vs ~0.05), dominates the shared weights' Adam updates and the policy learns
several times more slowly. ``share_encoder=True`` runs one encoder for both (half the encoder
compute, for tasks where that trade is right). The state is the actor's memory tensors followed
by the critic's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.policies import BasePolicy
from torch import nn

from agents.sequence_aux import RewardPredictor
from agents.sequence_heads import SUPPORTED_ACTION_SPACES, ActionHead, check_action_space, mask_width, n_params
from agents.sequence_previous import PreviousInputs
from rlkit.nn import make_encoder, sequence_encoder_names
from rlkit.nn.spaces import obs_as_tensor
from rlkit.nn.recurrent import run_recurrent, stackable
from rlkit.nn.transformer import run_transformers, stackable_transformers

__all__ = ["SUPPORTED_ACTION_SPACES", "SequenceActorCriticPolicy", "check_action_space"]


def _mlp(input_dim: int, sizes: list[int], activation_fn: type[nn.Module]) -> tuple[nn.Module, int]:
    layers: list[nn.Module] = []
    for size in sizes:
        layers += [nn.Linear(input_dim, size), activation_fn()]
        input_dim = size
    return nn.Sequential(*layers), input_dim


def _split_net_arch(net_arch: Any) -> tuple[list[int], list[int]]:
    if net_arch is None:
        return [64], [64]
    if isinstance(net_arch, dict):
        unknown = set(net_arch) - {"pi", "vf"}
        if unknown:
            raise ValueError(f"net_arch has keys {sorted(unknown)}; expected pi and vf (e.g. {{pi: [64], vf: [64]}})")
        return list(net_arch.get("pi", [])), list(net_arch.get("vf", []))
    if isinstance(net_arch, (list, tuple)) and all(isinstance(n, (int, np.integer)) and n > 0 for n in net_arch):
        return list(net_arch), list(net_arch)
    raise ValueError(f"net_arch={net_arch!r}; expected a list of layer sizes ([64, 64]) or {{pi: [...], vf: [...]}}")


class SequenceActorCriticPolicy(BasePolicy):
    """Sequence encoder + actor and critic heads; see the module docstring.

    :param observation_space: per-step observation space (anything ``make_encoder`` reads).
    :param action_space: ``Discrete``, ``MultiDiscrete``, ``MultiBinary`` or a flat ``Box``.
    :param lr_schedule: learning-rate schedule (the optimizer is built with ``lr_schedule(1)``).
    :param encoder: sequence encoder name: ``lstm``, ``gru``, ``tcn`` or ``transformer``.
    :param encoder_kwargs: the encoder's options (``hidden_size`` for lstm/gru, ``channels`` for tcn,
        ``d_model``/``context_len`` for transformer, ``inner``/``inner_kwargs`` for a per-step encoder).
    :param net_arch: hidden sizes of the heads, ``[64]`` for both or ``{pi: [...], vf: [...]}``.
    :param activation_fn: activation of the heads.
    :param ortho_init: orthogonal init of the heads as SB3 (gains sqrt(2), 0.01 actor, 1 critic).
    :param log_std_init: initial log standard deviation (Box actions).
    :param share_encoder: one encoder for actor and critic (default: one each; see the module docstring).
    :param freeze_encoder: the encoder(s) get no gradients and stay in eval mode through ``train()``
        (for a pretrained encoder: ``rlkit train ppo-seq --init-encoder CKPT --freeze-encoder``). A
        constructor argument, so it is saved with the agent and a resumed run stays frozen.
    :param prev_action: the encoders also read the previous action (one-hot where discrete; zero at an episode's
        first step); see `agents.sequence_previous`.
    :param prev_reward: the encoders also read the previous reward (zero at an episode's first step); ``predict``
        then needs ``reward=`` (the reward of the previous action).
    :param aux_reward: a `agents.sequence_aux.RewardPredictor` head on the actor's features (``reward_predictor``),
        trained by sequence PPO's ``aux_reward_coef``, which sets this.
    :param torch_compile: run the policy's forward through ``torch.compile`` (``nn.Module.compile``; the
        parameters and checkpoints are unchanged). It fuses small ops, which pays where they dominate: the
        ``transformer`` with few envs and one layer (``rlkit bench train --suite memory``, one CPU thread: a
        rollout step in half the time, a training minibatch 15% faster), not where its matrix products do
        (GroundhogDay-Easy's 2 layers, 32 envs: no faster). Not for ``lstm``/``gru``, whose recurrence is one
        fused kernel already (compiled, they were slower). The first calls compile (tens of seconds on CPU;
        inductor caches the kernels on disk for later runs). Saved with the agent.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Any,
        encoder: str = "lstm",
        encoder_kwargs: dict[str, Any] | None = None,
        net_arch: list[int] | dict[str, list[int]] | None = None,
        activation_fn: type[nn.Module] = nn.Tanh,
        ortho_init: bool = True,
        log_std_init: float = 0.0,
        optimizer_class: type[torch.optim.Optimizer] = torch.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
        use_sde: bool = False,
        share_encoder: bool = False,
        freeze_encoder: bool = False,
        torch_compile: bool = False,
        prev_action: bool = False,
        prev_reward: bool = False,
        aux_reward: bool = False,
    ) -> None:
        if optimizer_kwargs is None:
            # SB3's PPO eps; fused: the whole Adam step in one kernel per parameter group (about 3x faster
            # than foreach=True at these small sizes on CPU, where the optimizer is a sizable share of an
            # update; the same algorithm, results equal up to float rounding).
            optimizer_kwargs = {"eps": 1e-5, "fused": True} if optimizer_class is torch.optim.Adam else {}
        super().__init__(observation_space, action_space, optimizer_class=optimizer_class, optimizer_kwargs=optimizer_kwargs)
        if use_sde:
            raise ValueError("use_sde=True: sequence PPO has no state-dependent exploration; pass use_sde=False")
        check_action_space(action_space)
        if encoder not in sequence_encoder_names():
            raise ValueError(
                f"sequence PPO got encoder={encoder!r}; expected a sequence encoder: {', '.join(sequence_encoder_names())}"
            )
        self.encoder_name = encoder
        self.encoder_kwargs = dict(encoder_kwargs or {})
        self.net_arch = net_arch
        self.activation_fn = activation_fn
        self.ortho_init = ortho_init
        self.log_std_init = log_std_init
        self.share_encoder = bool(share_encoder)
        self.previous = PreviousInputs(action_space, prev_action, prev_reward)
        if self.previous.active and "inner" in self.encoder_kwargs:
            raise ValueError("prev_action/prev_reward with an inner per-step encoder: not supported; drop encoder_kwargs.inner or both")

        step_space = self.previous.encoder_space(observation_space)
        self.encoder = make_encoder(encoder, step_space, sequence=True, **self.encoder_kwargs)
        self.critic_encoder = None
        if not self.share_encoder:
            self.critic_encoder = make_encoder(encoder, step_space, sequence=True, **self.encoder_kwargs)
        self._n_actor_state = len(self.encoder.state_shapes)
        self._n_encoder_state = self._n_actor_state + (0 if self.critic_encoder is None else len(self.critic_encoder.state_shapes))
        pi_sizes, vf_sizes = _split_net_arch(net_arch)
        self.pi_net, pi_dim = _mlp(self.encoder.output_dim, pi_sizes, activation_fn)
        self.vf_net, vf_dim = _mlp(self.encoder.output_dim, vf_sizes, activation_fn)
        self.discrete = isinstance(action_space, spaces.Discrete)
        self.head = ActionHead(action_space)
        self.mask_width = mask_width(action_space)  # None: the space takes no action mask
        self.action_net = nn.Linear(pi_dim, n_params(action_space))
        if isinstance(action_space, spaces.Box):
            self.log_std = nn.Parameter(torch.full((n_params(action_space),), float(log_std_init)))
        self.value_net = nn.Linear(vf_dim, 1)
        self.reward_predictor = RewardPredictor(self.encoder.output_dim, action_space) if aux_reward else None
        self.frozen = False
        if freeze_encoder:
            self.freeze_encoders()
        if ortho_init:
            for module, gain in ((self.pi_net, np.sqrt(2)), (self.vf_net, np.sqrt(2)), (self.action_net, 0.01), (self.value_net, 1.0)):
                module.apply(lambda m, g=gain: self.init_weights(m, g))
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)
        self.torch_compile = bool(torch_compile)
        if self.torch_compile:
            self.compile(dynamic=True)  # in place: the state dict keeps its keys (torch.compile(module) would prefix them)

    def encoders(self) -> list[nn.Module]:
        """The actor's encoder, and the critic's where it has its own."""
        return [self.encoder] if self.critic_encoder is None else [self.encoder, self.critic_encoder]

    def freeze_encoders(self) -> None:
        """No gradients and eval mode (fixed dropout/normalization) for every encoder, kept through ``train()``."""
        self.frozen = True
        for encoder in self.encoders():
            encoder.requires_grad_(False)
            encoder.eval()

    def train(self, mode: bool = True) -> "SequenceActorCriticPolicy":
        super().train(mode)
        if self.frozen:
            for encoder in self.encoders():
                encoder.eval()  # frozen means frozen statistics too, as rlkit.nn.sb3.EncoderExtractor
        return self

    # --- memory -------------------------------------------------------------------------------

    @property
    def state_shapes(self) -> tuple[tuple[int, ...], ...]:
        """Shapes of the memory tensors of one env (no batch axis): the actor's, the critic's, then the previous
        action and reward where the policy reads them (`agents.sequence_previous`)."""
        shapes = self.encoder.state_shapes
        if self.critic_encoder is not None:
            shapes = shapes + self.critic_encoder.state_shapes
        return shapes + self.previous.state_shapes

    def initial_state(self, batch_size: int) -> tuple[torch.Tensor, ...]:
        """The memory before any observation, each tensor ``(batch_size, *shape)``."""
        state = self.encoder.initial_state(batch_size, self.device)
        if self.critic_encoder is not None:
            state = state + self.critic_encoder.initial_state(batch_size, self.device)
        return state + tuple(torch.zeros(batch_size, *shape, device=self.device) for shape in self.previous.state_shapes)

    def remember(self, state: tuple[torch.Tensor, ...], actions: torch.Tensor, rewards: Any = None) -> tuple[torch.Tensor, ...]:
        """The memory after acting: the previous action and reward (None: not yet known) written where read."""
        if not self.previous.active:
            return state
        n = self._n_encoder_state
        return tuple(state[:n]) + self.previous.remember(tuple(state[n:]), actions, rewards)

    def with_reward(self, state: tuple[torch.Tensor, ...], rewards: Any) -> tuple[torch.Tensor, ...]:
        """The memory with the previous reward set (``predict(reward=…)``)."""
        n = self._n_encoder_state
        return tuple(state[:n]) + self.previous.with_reward(tuple(state[n:]), rewards)

    def _with_previous(self, obs: Any, episode_starts: torch.Tensor, state: Any, chunk: Any) -> tuple[Any, Any, tuple]:
        """(the encoders' per-step input, their state, the previous-input memory after these steps)."""
        if not self.previous.active:
            return obs, state, ()
        if state is None:
            state = self.initial_state(episode_starts.shape[0])
        n = self._n_encoder_state
        obs, extra = self.previous.augment(obs, episode_starts, tuple(state[n:]), chunk)
        return obs, tuple(state[:n]), extra

    def reset_state(self, state: tuple[torch.Tensor, ...], episode_starts: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """`state` with the rows where ``episode_starts (B,)`` is set replaced by the initial memory."""
        initial = self.initial_state(episode_starts.shape[0])
        keep = ~episode_starts.bool()
        return tuple(torch.where(keep.view(-1, *([1] * (s.dim() - 1))), s, i) for s, i in zip(state, initial))

    # --- forward ------------------------------------------------------------------------------

    def forward(
        self,
        obs: Any,
        episode_starts: torch.Tensor,
        state: tuple[torch.Tensor, ...] | None,
        action_masks: torch.Tensor | None = None,
        chunk: tuple[torch.Tensor, torch.Tensor] | None = None,
        return_features: bool = False,
    ) -> tuple[Any, ...]:
        """``obs (B, T, *obs_shape)``, ``episode_starts (B, T)``, ``action_masks (B, T, mask_width)`` bool or None
        -> (action distribution over ``(B, T)``, values ``(B, T)``, new state). ``chunk``: the T steps' ``(actions,
        rewards)`` (actions as ``actions_from_buffer`` gives them), for a policy that reads the previous action or
        reward over T > 1 steps; with T = 1 the memory holds them (write them with ``remember`` after acting).
        ``return_features``: the actor's features ``(B, T, F)`` as a fourth element."""
        obs, state, extra = self._with_previous(obs, episode_starts, state, chunk)
        dist, values, new_state, features = self._forward(obs, episode_starts, state, action_masks)
        if return_features:
            return dist, values, tuple(new_state) + extra, features
        return dist, values, tuple(new_state) + extra

    def _forward(self, obs: Any, episode_starts: torch.Tensor, state: Any, action_masks: Any) -> tuple[Any, torch.Tensor, tuple, torch.Tensor]:
        if self.critic_encoder is None:
            features, new_state = self.encoder(obs, episode_starts, state)  # (B, T, F)
            critic_features = features
        else:
            actor_state, critic_state = self._split(state)
            if self.encoder.inner is None:
                # Both encoders read the same preprocessed, flattened steps: prepare them once.
                steps = self.encoder.encode_steps(obs)  # (B, T, D)
                cores = (self.encoder.core, self.critic_encoder.core)
                # LSTM/GRU: one cut search for both; a GRU pair runs as one batched recurrence. Transformers:
                # one pass with stacked weights, masks built once.
                run = run_recurrent if stackable(cores) else run_transformers if stackable_transformers(cores) else None
                if run is not None:
                    starts, actor_state = cores[0].check_inputs(steps, episode_starts, actor_state)
                    _, critic_state = cores[1].check_inputs(steps, starts, critic_state)
                    (features, critic_features), (new_actor, new_critic) = run(
                        cores, steps, starts, (actor_state, critic_state)
                    )  # (B, T, F) each
                else:
                    features, new_actor = cores[0](steps, episode_starts, actor_state)  # (B, T, F)
                    critic_features, new_critic = cores[1](steps, episode_starts, critic_state)  # (B, T, F)
            else:
                features, new_actor = self.encoder(obs, episode_starts, actor_state)  # (B, T, F)
                critic_features, new_critic = self.critic_encoder(obs, episode_starts, critic_state)  # (B, T, F)
            new_state = new_actor + new_critic
        values = self.value_net(self.vf_net(critic_features)).squeeze(-1)  # (B, T)
        return self._distribution(features, action_masks), values, new_state, features

    def predict_values(self, obs: Any, episode_starts: torch.Tensor, state: tuple[torch.Tensor, ...] | None) -> torch.Tensor:
        """Critic only: values ``(B, T)`` (T = 1 where the policy reads previous-step inputs)."""
        obs, state, _ = self._with_previous(obs, episode_starts, state, None)
        if self.critic_encoder is None:
            features, _ = self.encoder(obs, episode_starts, state)  # (B, T, F)
        else:
            features, _ = self.critic_encoder(obs, episode_starts, self._split(state)[1])  # (B, T, F)
        return self.value_net(self.vf_net(features)).squeeze(-1)  # (B, T)

    def _split(self, state: tuple[torch.Tensor, ...] | None) -> tuple[Any, Any]:
        if state is None:
            return None, None
        return tuple(state[: self._n_actor_state]), tuple(state[self._n_actor_state :])

    def _distribution(self, features: torch.Tensor, action_masks: torch.Tensor | None) -> Any:
        out = self.action_net(self.pi_net(features))  # (B, T, p)
        return self.head.distribution(out, getattr(self, "log_std", None), action_masks)

    def actions_from_buffer(self, actions: torch.Tensor) -> torch.Tensor:
        """Stored actions ``(B, T, action_dim)`` (float) as the distribution scores them."""
        return self.head.from_buffer(actions)

    def actions_to_env(self, actions: np.ndarray) -> np.ndarray:
        """Sampled actions ``(n, …)`` as the env takes them: shifted by a space's ``start``, clipped to a Box."""
        return self.head.to_env(actions)

    def obs_to_tensor(self, observation: Any) -> tuple[Any, bool]:
        """SB3's ``obs_to_tensor``, for a ``Tuple`` space too (a tuple of per-slot arrays)."""
        space = self.observation_space
        if not isinstance(space, spaces.Tuple):
            return super().obs_to_tensor(observation)
        first = np.asarray(observation[0])
        vectorized = first.shape != space.spaces[0].shape
        obs = tuple(np.asarray(o).reshape((-1, *s.shape)) for o, s in zip(observation, space.spaces))
        return obs_as_tensor(obs, self.device), vectorized

    def _predict(self, observation: Any, deterministic: bool = False) -> torch.Tensor:
        raise NotImplementedError("a sequence policy acts with a memory: use SequencePPO.predict(obs, state, episode_start)")

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(
            encoder=self.encoder_name, encoder_kwargs=self.encoder_kwargs, net_arch=self.net_arch,
            activation_fn=self.activation_fn, ortho_init=self.ortho_init, log_std_init=self.log_std_init,
            share_encoder=self.share_encoder, freeze_encoder=self.frozen, torch_compile=self.torch_compile,
            prev_action=self.previous.prev_action, prev_reward=self.previous.prev_reward,
            aux_reward=self.reward_predictor is not None,
        )  # fmt: skip
        return data
