"""What the off-policy memory agents (``sac-seq``, ``dqn-seq``) share: acting with a memory, the
sequence replay buffer, ``predict``, saving, and their registration helpers.

`SequenceOffPolicyAlgorithm` is SB3's ``OffPolicyAlgorithm`` (so ``learn``, callbacks, logging, ``save``
and ``load`` are SB3's) with two changes:

* **Rollouts** (``collect_rollouts``): one policy call per step for all envs (``T = 1``), carrying each
  env's memory (the policy's encoders' state tuple) from step to step and resetting it where an episode
  starts. Every step goes to an `rlkit.replay.SequenceReplayBuffer` with its episode start, how it ended
  and the memory the policy read (the buffer keeps it every ``state_stride`` steps).
* **Action masks**: an agent whose ``_mask_width()`` is not None (``dqn-seq``) reads ``info["action_mask"]``
  of every current observation (the reset info where an episode just ended), hands it to the policy's ``act``
  and to its exploration, and stores it with the step, so a replayed window carries each step's mask. Envs
  that give no mask pay nothing and train as before.
* **Replay**: training samples windows of ``burn_in + seq_len + 1`` steps; the burn-in only refreshes the
  stored memory (no gradient). ``batch_size`` counts training steps as in SB3 (``ceil(batch_size /
  seq_len)`` windows per gradient step).

The buffer stores the observations the policy read (after ``VecNormalize``, where one is used) and the
rewards the env gave it, so that a replayed window reproduces the rollout's memory. The envs' memory
(``_last_memory``) is saved with the agent, and the buffer (with its random generator) with every
checkpoint, so a resumed run trains as one that never stopped.

A policy for this class offers ``state_shapes``, ``initial_state(n)``, ``reset_state(state, starts)`` and
``act(obs (n, 1, …), starts (n, 1), state, deterministic) -> (actions (n, …) tensor, new state)``; a masked
agent's policy also takes ``action_masks=(n, width)`` bool (passed only when the envs give masks).
"""

from __future__ import annotations

import inspect
import io
import math
import pathlib
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.save_util import load_from_pkl
from stable_baselines3.common.type_aliases import MaybeCallback, RolloutReturn, TrainFreq
from stable_baselines3.common.utils import obs_as_tensor, should_collect_more_steps
from stable_baselines3.common.vec_env import VecEnv

from agents.sequence_rollout import env_memory, innermost, predict_memory, read_masks, with_time_axis
from rlkit.nn import make_encoder, sequence_encoder_names
from rlkit.nn.recurrent import run_recurrent, stackable
from rlkit.nn.transformer import run_transformers, stackable_transformers
from rlkit.replay import SequenceReplayBuffer


def check_sequence_encoder(agent: str, encoder: str) -> None:
    """Refuse an encoder name that is not a sequence encoder, naming those that are."""
    if encoder not in sequence_encoder_names():
        raise ValueError(f"{agent} got encoder={encoder!r}; expected a sequence encoder: {', '.join(sequence_encoder_names())}")


def run_encoders(encoders: tuple[torch.nn.Module, ...], obs: torch.Tensor, starts: torch.Tensor,
                 states: tuple[tuple[torch.Tensor, ...], ...]) -> tuple[tuple[torch.Tensor, ...], tuple[tuple, ...]]:  # fmt: skip
    """Sequence encoders over the same ``obs (B, T, …)`` and ``starts (B, T)``, each from its own state: per encoder,
    features ``(B, T, F)`` and the new state. LSTMs/GRUs of one shape (and Transformers of one configuration) run as
    one batched pass over the observations prepared once, as sequence PPO's actor and critic do; others one by one."""
    if len(encoders) > 1 and all(getattr(e, "inner", False) is None for e in encoders):
        cores = tuple(e.core for e in encoders)
        run = run_recurrent if stackable(cores) else run_transformers if stackable_transformers(cores) else None
        if run is not None:
            steps = encoders[0].encode_steps(obs)  # (B, T, D): no parameters without an inner encoder
            checked, first = cores[0].check_inputs(steps, starts, states[0])
            rest = tuple(core.check_inputs(steps, checked, state)[1] for core, state in zip(cores[1:], states[1:]))
            return run(cores, steps, checked, (first, *rest))
    runs = [encoder(obs, starts, state) for encoder, state in zip(encoders, states)]
    return tuple(r[0] for r in runs), tuple(r[1] for r in runs)


def encode(encoder: torch.nn.Module, obs: torch.Tensor, starts: torch.Tensor, state: tuple, burn_in: int) -> torch.Tensor:
    """Features ``(B, W - burn_in, F)`` of a replayed window: the first `burn_in` steps only warm `state`."""
    if burn_in:
        with torch.no_grad():
            _, state = encoder(obs[:, :burn_in], starts[:, :burn_in], state)
    features, _ = encoder(obs[:, burn_in:], starts[:, burn_in:], state)
    return features


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``x`` over the steps where ``mask`` (same shape, float) is 1."""
    return (x * mask).sum() / mask.sum().clamp(min=1.0)


def mlp(input_dim: int, sizes: list[int], activation_fn: type[torch.nn.Module], output_dim: int | None = None) -> torch.nn.Sequential:
    """Linear layers of `sizes` with `activation_fn` after each, then a linear output layer if `output_dim`."""
    layers: list[torch.nn.Module] = []
    for size in sizes:
        layers += [torch.nn.Linear(input_dim, size), activation_fn()]
        input_dim = size
    if output_dim is not None:
        layers.append(torch.nn.Linear(input_dim, output_dim))
    return torch.nn.Sequential(*layers)


class MemoryPolicy(BasePolicy):
    """A policy whose memory is the state of its ``memory_encoders`` (concatenated in that order)."""

    memory_encoders: list[torch.nn.Module]

    def make_encoder(self, agent: str, name: str, kwargs: dict[str, Any]) -> torch.nn.Module:
        check_sequence_encoder(agent, name)
        return make_encoder(name, self.observation_space, sequence=True, **kwargs)

    @property
    def state_shapes(self) -> tuple[tuple[int, ...], ...]:
        return tuple(shape for encoder in self.memory_encoders for shape in encoder.state_shapes)

    def initial_state(self, batch_size: int) -> tuple[torch.Tensor, ...]:
        return tuple(s for encoder in self.memory_encoders for s in encoder.initial_state(batch_size, self.device))

    def reset_state(self, state: tuple[torch.Tensor, ...], episode_starts: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """`state` with the rows where ``episode_starts (B,)`` is set replaced by the initial memory."""
        initial = self.initial_state(episode_starts.shape[0])
        keep = ~episode_starts.bool()
        return tuple(torch.where(keep.view(-1, *([1] * (s.dim() - 1))), s, i) for s, i in zip(state, initial))

    def split(self, state: tuple[torch.Tensor, ...]) -> list[tuple[torch.Tensor, ...]]:
        """`state` cut into each memory encoder's part."""
        parts, i = [], 0
        for encoder in self.memory_encoders:
            n = len(encoder.state_shapes)
            parts.append(tuple(state[i : i + n]))
            i += n
        return parts

    def _predict(self, observation: Any, deterministic: bool = False) -> torch.Tensor:
        raise NotImplementedError("a sequence policy acts with a memory: use the agent's predict(obs, state, episode_start)")


class SequenceOffPolicyAlgorithm(OffPolicyAlgorithm):
    """Off-policy agent with a sequence-encoder policy; see the module docstring. Subclasses implement
    ``train`` and ``_rollout_actions``."""

    def __init__(self, policy: Any, env: Any, learning_rate: Any, *, seq_len: int, burn_in: int,
                 state_stride: int | None, batch_size: int, **kwargs: Any) -> None:  # fmt: skip
        for name, value, low in (("seq_len", seq_len, 1), ("burn_in", burn_in, 0), ("batch_size", batch_size, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name}={value!r}; expected an integer >= {low}")
        if state_stride is not None and (isinstance(state_stride, bool) or not isinstance(state_stride, (int, np.integer)) or state_stride < 1):
            raise ValueError(f"state_stride={state_stride!r}; expected an integer >= 1, or None (= seq_len)")
        super().__init__(policy, env, learning_rate, batch_size=int(batch_size), support_multi_env=True,
                         sde_support=False, **kwargs)  # fmt: skip
        self.seq_len, self.burn_in, self.state_stride = int(seq_len), int(burn_in), state_stride
        self._last_memory: tuple[np.ndarray, ...] | None = None
        self._last_action_masks: np.ndarray | None = None  # (n_envs, width) masks of _last_obs, or None

    def _setup_model(self) -> None:
        self._setup_lr_schedule()
        self.set_random_seed(self.seed)
        self.policy = self.policy_class(self.observation_space, self.action_space, self.lr_schedule, **self.policy_kwargs)
        self.policy = self.policy.to(self.device)
        self.replay_buffer = SequenceReplayBuffer(  # type: ignore[assignment]
            self.buffer_size, self.observation_space, self.action_space, self.policy.state_shapes,
            seq_len=self.seq_len, burn_in=self.burn_in, state_stride=self.state_stride, n_envs=self.n_envs,
            device=self.device, seed=self.seed,
        )  # fmt: skip
        self._convert_train_freq()

    @property
    def windows_per_batch(self) -> int:
        """Windows sampled per gradient step: ``ceil(batch_size / seq_len)``."""
        return max(1, math.ceil(self.batch_size / self.seq_len))

    def load_replay_buffer(self, path: str | pathlib.Path | io.BufferedIOBase, truncate_last_traj: bool = True) -> None:
        """The pickled `SequenceReplayBuffer` of a checkpoint (SB3's version insists on its own buffer class)."""
        buffer = load_from_pkl(path, self.verbose)
        if not isinstance(buffer, (SequenceReplayBuffer, ReplayBuffer)):
            raise ValueError(f"{path} holds a {type(buffer).__name__}; expected a SequenceReplayBuffer")
        buffer.device = self.device
        self.replay_buffer = buffer

    # --- memory -------------------------------------------------------------------------------

    def _memory(self) -> tuple[torch.Tensor, ...]:
        return env_memory(self.policy, self._last_memory, self.n_envs, self.device)

    def _mask_width(self) -> int | None:
        """Length of the action masks this agent acts with (``info["action_mask"]``), or None: it reads none."""
        return None

    def _read_masks(self, infos: list[dict[str, Any]], dones: np.ndarray | None = None) -> np.ndarray | None:
        """``(n_envs, width)`` bool masks of the envs' current observations, or None (see `read_masks`)."""
        width = self._mask_width()
        if width is None:
            return None
        reset_infos = getattr(innermost(self.env), "reset_infos", None) if dones is not None else None
        return read_masks(infos, width, self.action_space, dones, reset_infos)

    def _act(self, obs: torch.Tensor, starts: torch.Tensor, memory: tuple, deterministic: bool,
             masks: np.ndarray | None) -> tuple[torch.Tensor, tuple]:  # fmt: skip
        """The policy's ``act``, given the action masks where there are some."""
        if masks is None:
            return self.policy.act(obs, starts, memory, deterministic)
        return self.policy.act(obs, starts, memory, deterministic, action_masks=torch.as_tensor(masks, device=self.device))

    def _setup_learn(self, total_timesteps: int, callback: MaybeCallback = None, reset_num_timesteps: bool = True,
                     tb_log_name: str = "run", progress_bar: bool = False) -> tuple[int, BaseCallback]:  # fmt: skip
        was_reset = reset_num_timesteps or self._last_obs is None
        out = super()._setup_learn(total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar)
        if was_reset:
            self._last_memory = None
            self._last_action_masks = self._read_masks(getattr(innermost(self.env), "reset_infos", []))
        return out

    # --- rollouts -----------------------------------------------------------------------------

    def _rollout_actions(self, actions: np.ndarray, warmup: bool, masks: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """The policy's actions (or, in `warmup`, random ones; within `masks` where given) -> (env actions,
        actions as stored)."""
        raise NotImplementedError

    def collect_rollouts(  # type: ignore[override]
        self,
        env: VecEnv,
        callback: BaseCallback,
        train_freq: TrainFreq,
        replay_buffer: SequenceReplayBuffer,  # type: ignore[override]
        action_noise: Any = None,
        learning_starts: int = 0,
        log_interval: int | None = None,
    ) -> RolloutReturn:
        self.policy.set_training_mode(False)
        n_steps, n_episodes, n_envs, device = 0, 0, env.num_envs, self.device
        callback.on_rollout_start()
        memory = self._memory()
        while should_collect_more_steps(train_freq, n_steps, n_episodes):
            starts_np, masks = np.asarray(self._last_episode_starts, dtype=bool), self._last_action_masks
            starts = torch.as_tensor(starts_np, device=device)
            with torch.no_grad():
                if starts_np.any():
                    memory = self.policy.reset_state(memory, starts)  # store the memory the policy actually reads
                obs = with_time_axis(obs_as_tensor(self._last_obs, device))
                actions, new_memory = self._act(obs, starts.unsqueeze(1), memory, False, masks)
            env_actions, buffer_actions = self._rollout_actions(actions.cpu().numpy(), self.num_timesteps < learning_starts, masks)
            new_obs, rewards, dones, infos = env.step(env_actions)
            self.num_timesteps += n_envs
            n_steps += 1
            callback.update_locals(locals())
            if not callback.on_step():
                self._last_memory = tuple(m.cpu().numpy() for m in memory)  # goes with _last_obs (the pre-step one)
                return RolloutReturn(n_steps * n_envs, n_episodes, continue_training=False)
            self._update_info_buffer(infos, dones)
            truncated = np.array([bool(d and info.get("TimeLimit.truncated", False)) for d, info in zip(dones, infos)])
            replay_buffer.add(self._last_obs, buffer_actions, rewards, starts_np, dones & ~truncated, truncated, memory, masks)
            self._last_obs, self._last_episode_starts, memory = new_obs, dones, new_memory
            self._last_action_masks = self._read_masks(infos, dones)
            self._update_current_progress_remaining(self.num_timesteps, self._total_timesteps)
            self._on_step()
            for done in dones:
                if done:
                    n_episodes += 1
                    self._episode_num += 1
                    if log_interval is not None and self._episode_num % log_interval == 0:
                        self.dump_logs()
        self._last_memory = tuple(m.cpu().numpy() for m in memory)
        callback.on_rollout_end()
        return RolloutReturn(n_steps * n_envs, n_episodes, True)

    # --- acting -------------------------------------------------------------------------------

    def _env_actions(self, actions: np.ndarray, deterministic: bool, masks: np.ndarray | None) -> np.ndarray:
        """The policy's actions for ``predict`` as the env takes them (`masks`: the given action masks)."""
        return actions

    def predict(  # type: ignore[override]
        self,
        observation: np.ndarray,
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """Actions for a batch of observations (or one) and the memory after them (see `predict_masked`)."""
        return self.predict_masked(observation, state, episode_start, deterministic, None)

    def predict_masked(
        self,
        observation: np.ndarray,
        state: tuple[np.ndarray, ...] | None,
        episode_start: np.ndarray | None,
        deterministic: bool,
        action_masks: np.ndarray | None,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """Actions for a batch of observations (or one) and the memory after them.

        :param observation: ``(n, *obs_shape)`` or one observation.
        :param state: the memory returned by the previous call (None: empty memory), arrays batch first.
        :param episode_start: ``(n,)`` bool, True where ``observation`` starts an episode (memory reset).
        :param deterministic: the policy's greedy action instead of an exploring one.
        :param action_masks: ``(n, width)`` (or ``(width,)``) 1 = allowed, for an agent that reads masks
            (``_mask_width``); None: all allowed.
        :return: ``(actions, state)``, actions in the env's action space, the state as NumPy arrays.
        """
        self.policy.set_training_mode(False)
        obs, vectorized = self.policy.obs_to_tensor(observation)
        n = obs.shape[0]
        memory, starts = predict_memory(self.policy, state, episode_start, n, self.device)
        masks = None if action_masks is None else self._checked_masks(action_masks, n)
        with torch.no_grad():
            starts_t = torch.as_tensor(starts, device=self.device)
            if starts.any():
                memory = self.policy.reset_state(memory, starts_t)
            actions, new_memory = self._act(with_time_axis(obs), starts_t.unsqueeze(1), memory, deterministic, masks)
        actions = self._env_actions(actions.cpu().numpy(), deterministic, masks)
        if not vectorized:
            actions = actions[0]
        return actions, tuple(m.cpu().numpy() for m in new_memory)

    def _checked_masks(self, action_masks: Any, n: int) -> np.ndarray:
        """`action_masks` as an ``(n, width)`` bool array, or a one-line ValueError naming what would be right."""
        width = self._mask_width()
        if width is None:
            raise ValueError(f"predict: action_masks given, but this agent does not act with masks ({self.action_space})")
        masks = np.asarray(action_masks, dtype=bool)
        if masks.size != n * width:
            raise ValueError(f"predict: action_masks has shape {masks.shape}; expected ({n}, {width}) for {n} observation(s) and {self.action_space}")
        return masks.reshape(n, width)


# --- registration helpers ----------------------------------------------------------------------------

RESERVED_KWARGS = {"self", "policy", "env", "seed", "device", "verbose", "policy_kwargs", "tensorboard_log", "_init_setup_model"}


def valid_kwargs(cls: type) -> list[str]:
    return [name for name in inspect.signature(cls.__init__).parameters if name not in RESERVED_KWARGS]


def policy_kwargs_from(policy_config: Any, default_encoder: str) -> dict[str, Any]:
    """Policy arguments from an `rlkit.app.config.PolicyConfig` (encoder default: `default_encoder`)."""
    kwargs: dict[str, Any] = dict(policy_config.kwargs)
    kwargs["encoder"] = policy_config.encoder or default_encoder
    kwargs["encoder_kwargs"] = dict(policy_config.encoder_kwargs)
    if policy_config.net_arch is not None:
        kwargs["net_arch"] = policy_config.net_arch
    if policy_config.activation_fn is not None:
        from agents.sb3 import activation_class

        kwargs["activation_fn"] = activation_class(policy_config.activation_fn)
    return kwargs


def build_agent(name: str, cls: type, config: Any, env: Any, default_encoder: str) -> Any:
    """A fresh `cls` agent for an `rlkit.app.config.ExperimentConfig` on the vec env `env`."""
    from agents.sb3 import algo_kwargs

    valid = valid_kwargs(cls)
    unknown = [key for key in config.algo_kwargs if key not in valid]
    if unknown:
        raise ValueError(f"{name} does not take algo_kwargs.{unknown[0]}; valid: {', '.join(valid)}")
    if config.policy.freeze_encoder or config.policy.init_encoder or config.policy.init_policy:
        raise ValueError(f"{name} does not load pretrained encoders or policies yet; drop --init-encoder/--init-policy/--freeze-encoder")
    try:
        return cls(
            "SequencePolicy", env, seed=config.seed, device=config.device, verbose=0,
            policy_kwargs=policy_kwargs_from(config.policy, default_encoder), **algo_kwargs(config.algo_kwargs, env.action_space),
        )  # fmt: skip
    except (TypeError, AssertionError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{name} rejected the config: {message}") from exc
