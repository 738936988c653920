"""Sequence PPO: PPO whose policy remembers through any rlkit sequence encoder (LSTM, GRU, TCN, Transformer).

stable-baselines3 has no memory agent beyond sb3-contrib's ``RecurrentPPO``, whose LSTM is fixed and
whose training loops over time steps. This agent takes the encoder by name::

    from agents.sequence_ppo import SequencePPO

    model = SequencePPO("SequencePolicy", vec_env, policy_kwargs={"encoder": "transformer",
                        "encoder_kwargs": {"context_len": 16}}, bptt_len=16, seed=0)
    model.learn(100_000)
    action, state = model.predict(obs, state=state, episode_start=starts)

or from the command line: ``rlkit train ppo-seq rlkit/GroundhogDay-v0 --encoder transformer``.

How it works
------------
* **Rollouts** (``collect_rollouts``): one policy forward per step for all envs (``T = 1``), carrying
  each env's memory (the encoder's state tuple: LSTM/GRU hidden state, the TCN's past inputs, the
  Transformer's KV cache of the last ``context_len - 1`` tokens) from step to step, and resetting
  it where an episode starts. The memory the policy read at every step is stored.
* **Training** (``train``): ``rlkit.buffers.SequenceRolloutBuffer`` cuts each env's rollout into
  chunks of ``bptt_len`` steps that never span two episodes (truncated BPTT), each chunk starting
  from the memory stored at its first step; one forward over ``(chunks, bptt_len)`` reproduces the
  rollout's values and log-probabilities exactly with the same weights (tested per encoder). The
  loss is SB3's PPO loss with padding masked out. Advantages are GAE(λ) from the Numba kernel in
  ``rlkit.returns``, bootstrapping time-limit truncations from the value of the final observation
  (computed with the memory after the last step).
* **Envs**: an SB3 ``VecEnv`` (what ``rlkit train`` builds), or a Gymnasium ``VectorEnv`` (adapted
  with ``rlkit.vec_env.VectorEnvAdapter``, which handles every autoreset mode: in Gymnasium's default
  ``NEXT_STEP`` mode the step after a done is a reset step, which the adapter performs itself, so no
  reset-step reward is ever stored), or an env id / single env (wrapped in ``DummyVecEnv``).
* **Action masks**: for ``Discrete`` actions (``MultiDiscrete``: one block of ``nvec[i]`` entries per
  sub-action), ``info["action_mask"]`` (1 = allowed) is read after every
  step (the reset info for envs that just reset), stored, and applied to the logits in rollouts and
  training; envs without masks pay nothing.

* **Previous action and reward** (``policy_kwargs`` ``prev_action``/``prev_reward``): written into the memory
  after every env step, read by training from each chunk's own actions and rewards (`agents.sequence_previous`).

The SB3 surface is kept (``OnPolicyAlgorithm`` subclass, as ``RecurrentPPO``): ``learn`` with SB3
callbacks, ``save``/``load`` (the zip also holds the envs' memory, so a checkpoint resumes
exactly), TensorBoard tags as SB3 names them, and ``predict(obs, state, episode_start,
deterministic)`` where ``state`` is the memory tuple (NumPy arrays, batch first).

``batch_size`` counts env steps as in SB3: each epoch the chunks are split into
``n_steps * n_envs // batch_size`` minibatches of equally many chunks (chunks cut at episode ends
are shorter than ``bptt_len``, so a minibatch holds about ``batch_size`` steps, padding excluded).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, TypeVar

import numpy as np
import gymnasium as gym
import torch
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import FloatSchedule, explained_variance
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

from agents import observation_misfit
from agents.sequence import OBSERVATION_SPACES
from agents.sequence_policy import SUPPORTED_ACTION_SPACES, SequenceActorCriticPolicy, check_action_space
from agents.sequence_rollout import env_memory, innermost, predict_memory, read_masks, truncation_bootstrap, with_time_axis
from rlkit.buffers import SequenceRolloutBuffer
from rlkit.nn.spaces import batch_size_of, obs_as_tensor
from rlkit.nn.transformer import fixed_weights
from rlkit.vec_env import VectorEnvAdapter

SelfSequencePPO = TypeVar("SelfSequencePPO", bound="SequencePPO")


def _check_arguments(bptt_len: Any, batch_size: Any, aux_reward_coef: Any, policy_kwargs: dict[str, Any] | None) -> None:
    """`SequencePPO`'s own arguments, each refused with a one-line ValueError."""
    if isinstance(bptt_len, bool) or not isinstance(bptt_len, (int, np.integer)) or bptt_len < 1:
        raise ValueError(f"bptt_len={bptt_len!r}; expected an integer >= 1 (the truncated-BPTT chunk length, e.g. 32)")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r}; expected an integer >= 1 (env steps per minibatch)")
    if isinstance(aux_reward_coef, bool) or not isinstance(aux_reward_coef, (int, float)) or not 0 <= aux_reward_coef < math.inf:
        raise ValueError(f"aux_reward_coef={aux_reward_coef!r}; expected a finite number >= 0 (0: no reward prediction)")
    if "aux_reward" in (policy_kwargs or {}):
        raise ValueError("policy_kwargs aux_reward is set by aux_reward_coef; drop it and pass aux_reward_coef > 0")


class SequencePPO(OnPolicyAlgorithm):
    """PPO with a sequence-encoder policy; see the module docstring.

    :param policy: ``"SequencePolicy"`` or a `SequenceActorCriticPolicy` subclass.
    :param env: SB3 ``VecEnv``, Gymnasium ``VectorEnv``, env or env id.
    :param learning_rate: learning rate or schedule (progress remaining 1 -> 0).
    :param n_steps: steps per env per rollout.
    :param batch_size: env steps per minibatch (see the module docstring).
    :param n_epochs: passes over the rollout per update.
    :param gamma: discount factor.
    :param gae_lambda: GAE λ.
    :param clip_range: PPO clip ε (or schedule).
    :param clip_range_vf: value clipping (None: off), as SB3.
    :param normalize_advantage: normalize advantages per minibatch.
    :param ent_coef: entropy bonus coefficient.
    :param vf_coef: value loss coefficient.
    :param max_grad_norm: gradient clipping norm.
    :param target_kl: stop an update's epochs early when the approximate KL exceeds 1.5 × this.
    :param bptt_len: chunk length of truncated backpropagation through time.
    :param use_action_masks: apply ``info["action_mask"]`` (Discrete actions) in rollouts and training. A
        masked policy never learns to avoid the masked actions itself, so it needs the masks at test time
        too (``predict(..., action_masks=...)``); without them (False) it learns from the env's rewards.
    :param aux_reward_coef: weight of the auxiliary reward-prediction loss (`agents.sequence_aux`; 0: off, no head).
    :param stats_window_size: episodes averaged in ``rollout/ep_rew_mean``.
    :param tensorboard_log: TensorBoard directory (None: off).
    :param policy_kwargs: `SequenceActorCriticPolicy` arguments (``encoder``, ``encoder_kwargs``, ``net_arch``, …).
    :param verbose: 0 silent, 1 info.
    :param seed: seed of weights, sampling, chunk shuffling and env resets.
    :param device: torch device.
    """

    policy_aliases: ClassVar[dict[str, type]] = {"SequencePolicy": SequenceActorCriticPolicy}
    policy: SequenceActorCriticPolicy
    rollout_buffer: SequenceRolloutBuffer  # type: ignore[assignment]

    def __init__(
        self,
        policy: str | type[SequenceActorCriticPolicy],
        env: GymEnv | str | Any,
        learning_rate: float | Schedule = 3e-4,
        n_steps: int = 128,
        batch_size: int = 256,
        n_epochs: int = 10,
        gamma: float = 0.99,
        gae_lambda: float = 0.95,
        clip_range: float | Schedule = 0.2,
        clip_range_vf: float | Schedule | None = None,
        normalize_advantage: bool = True,
        ent_coef: float = 0.0,
        vf_coef: float = 0.5,
        max_grad_norm: float = 0.5,
        target_kl: float | None = None,
        bptt_len: int = 32,
        use_action_masks: bool = True,
        aux_reward_coef: float = 0.0,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: torch.device | str = "auto",
        _init_setup_model: bool = True,
    ):
        _check_arguments(bptt_len, batch_size, aux_reward_coef, policy_kwargs)
        env = self._as_vec_env(env)
        if getattr(env, "action_space", None) is not None:  # before SB3 builds anything for it
            check_action_space(env.action_space)
            misfit = observation_misfit(env.observation_space, OBSERVATION_SPACES)
            if misfit is not None:
                raise ValueError(f"sequence PPO cannot read observation space {env.observation_space} ({misfit})")
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            n_steps=n_steps,
            gamma=gamma,
            gae_lambda=gae_lambda,
            ent_coef=ent_coef,
            vf_coef=vf_coef,
            max_grad_norm=max_grad_norm,
            use_sde=False,
            sde_sample_freq=-1,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            verbose=verbose,
            seed=seed,
            device=device,
            _init_setup_model=False,
            supported_action_spaces=SUPPORTED_ACTION_SPACES,
        )
        self.batch_size = int(batch_size)
        self.n_epochs = n_epochs
        self.clip_range = clip_range
        self.clip_range_vf = clip_range_vf
        self.normalize_advantage = normalize_advantage
        self.target_kl = target_kl
        self.bptt_len = int(bptt_len)
        self.use_action_masks = bool(use_action_masks)
        self.aux_reward_coef = float(aux_reward_coef)
        self._last_memory: tuple[Any, ...] | None = None
        # Shuffles the chunks; an attribute of the agent (saved with it) so that a resumed run draws
        # the same minibatches as one that never stopped.
        self._chunk_rng = np.random.default_rng(seed)
        self._last_action_masks: np.ndarray | None = None
        if self.env is not None and self.n_steps * self.n_envs < self.batch_size:
            raise ValueError(
                f"batch_size={batch_size} exceeds a rollout's n_steps * n_envs = {self.n_steps * self.n_envs} steps; "
                "lower batch_size or raise n_steps"
            )
        if _init_setup_model:
            self._setup_model()

    @staticmethod
    def _as_vec_env(env: Any) -> Any:
        """A Gymnasium ``VectorEnv`` becomes an SB3 ``VecEnv`` (autoreset handled by the adapter, monitored)."""
        if isinstance(env, gym.vector.VectorEnv):
            return VecMonitor(VectorEnvAdapter(env))
        return env

    def _setup_model(self) -> None:
        self._setup_lr_schedule()
        self.set_random_seed(self.seed)
        self.policy_kwargs["aux_reward"] = self.aux_reward_coef > 0  # saved with the agent: a loaded one has its head
        self.policy = self.policy_class(self.observation_space, self.action_space, self.lr_schedule, **self.policy_kwargs)
        self.policy = self.policy.to(self.device)
        width = self.policy.mask_width
        mask_shape = (width,) if width is not None and self.use_action_masks else None
        self.rollout_buffer = SequenceRolloutBuffer(
            self.n_steps,
            self.observation_space,
            self.action_space,
            device=self.device,
            gamma=self.gamma,
            gae_lambda=self.gae_lambda,
            n_envs=self.n_envs,
            state_shapes=self.policy.state_shapes,
            chunk_len=self.bptt_len,
            action_mask_shape=mask_shape,
            seed=self.seed,
        )
        self.clip_range = FloatSchedule(self.clip_range)
        if self.clip_range_vf is not None:
            if isinstance(self.clip_range_vf, (float, int)) and self.clip_range_vf <= 0:
                raise ValueError(f"clip_range_vf={self.clip_range_vf}; expected a positive value, or None for no value clipping")
            self.clip_range_vf = FloatSchedule(self.clip_range_vf)

    # --- memory and masks ---------------------------------------------------------------------

    def _read_masks(self, infos: list[dict[str, Any]], dones: np.ndarray | None = None) -> np.ndarray | None:
        """``(n_envs, width)`` bool masks of the envs' current observations, or None (see `read_masks`)."""
        if not self.use_action_masks or self.policy.mask_width is None:
            return None
        reset_infos = getattr(innermost(self.env), "reset_infos", None) if dones is not None else None
        return read_masks(infos, self.policy.mask_width, self.action_space, dones, reset_infos)

    def _memory(self) -> tuple[torch.Tensor, ...]:
        """The envs' memory as tensors on the policy's device (fresh where missing or sized for other envs)."""
        return env_memory(self.policy, self._last_memory, self.n_envs, self.device)

    def _setup_learn(self, total_timesteps: int, callback: MaybeCallback = None, reset_num_timesteps: bool = True,
                     tb_log_name: str = "run", progress_bar: bool = False) -> tuple[int, BaseCallback]:  # fmt: skip
        was_reset = reset_num_timesteps or self._last_obs is None
        out = super()._setup_learn(total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar)
        if was_reset:
            self._last_memory = None
            self._last_action_masks = self._read_masks(getattr(innermost(self.env), "reset_infos", []))
        return out

    # --- rollouts -----------------------------------------------------------------------------

    def collect_rollouts(  # type: ignore[override]
        self, env: VecEnv, callback: BaseCallback, rollout_buffer: RolloutBuffer, n_rollout_steps: int
    ) -> bool:
        # No update happens before the rollout ends: a Transformer's weight stacks are built once for it.
        with fixed_weights():
            return self._collect_rollouts(env, callback, rollout_buffer, n_rollout_steps)

    def _collect_rollouts(self, env: VecEnv, callback: BaseCallback, rollout_buffer: RolloutBuffer, n_rollout_steps: int) -> bool:
        assert self._last_obs is not None, "No previous observation was provided"
        self.policy.set_training_mode(False)
        rollout_buffer.reset()
        callback.on_rollout_start()
        policy, device, n_envs = self.policy, self.device, env.num_envs
        memory = self._memory()
        dones = self._last_episode_starts
        for _ in range(n_rollout_steps):
            starts = torch.as_tensor(self._last_episode_starts, dtype=torch.bool, device=device)  # (n,)
            masks = self._last_action_masks
            with torch.inference_mode():
                if self._last_episode_starts.any():
                    memory = policy.reset_state(memory, starts)  # store the memory the policy actually reads
                obs = obs_as_tensor(self._last_obs, device)
                masks_t = None if masks is None else torch.as_tensor(masks, device=device).unsqueeze(1)  # (n, 1, A)
                dist, values, new_memory = policy(with_time_axis(obs), starts.unsqueeze(1), memory, masks_t)
                actions = dist.sample()  # (n, 1) or (n, 1, d)
                log_probs = dist.log_prob(actions)  # (n, 1)
            actions = actions[:, 0].cpu().numpy()
            new_obs, rewards, dones, infos = env.step(policy.actions_to_env(actions))
            self.num_timesteps += n_envs
            if policy.previous.active:  # what the next step reads as its previous action and reward
                new_memory = policy.remember(new_memory, torch.as_tensor(actions, device=device), rewards)

            callback.update_locals(locals())
            if not callback.on_step():
                self._last_memory = memory  # goes with _last_obs, which SB3 leaves at the pre-step observation
                return False
            self._update_info_buffer(infos, dones)

            truncated, truncation_values = truncation_bootstrap(policy, infos, dones, new_memory)
            rollout_buffer.add(
                self._last_obs, actions, rewards, self._last_episode_starts, values[:, 0], log_probs[:, 0], memory,
                truncated=truncated, truncation_values=truncation_values,
                action_mask=masks, check=False,
            )  # fmt: skip
            self._last_obs = new_obs
            self._last_episode_starts = dones
            self._last_action_masks = self._read_masks(infos, dones)
            memory = new_memory

        with torch.no_grad():
            starts = torch.as_tensor(dones, dtype=torch.bool, device=device)
            last = policy.reset_state(memory, starts) if dones.any() else memory
            last_values = policy.predict_values(with_time_axis(obs_as_tensor(new_obs, device)), starts.unsqueeze(1), last)[:, 0]
        rollout_buffer.compute_returns_and_advantage(last_values=last_values, dones=dones)
        self._last_memory = tuple(m.detach() for m in memory)

        callback.update_locals(locals())
        callback.on_rollout_end()
        return True

    # --- training -----------------------------------------------------------------------------

    def train(self) -> None:
        policy = self.policy
        policy.set_training_mode(True)
        self._update_learning_rate(policy.optimizer)
        clip_range = self.clip_range(self._current_progress_remaining)
        clip_range_vf = self.clip_range_vf(self._current_progress_remaining) if self.clip_range_vf is not None else None

        n_chunks = len(self.rollout_buffer.chunk_layout().env)
        n_minibatches = max(1, (self.n_steps * self.n_envs) // self.batch_size)
        chunks_per_batch = max(1, math.ceil(n_chunks / n_minibatches))

        stats: dict[str, list[torch.Tensor]] = {"pg": [], "vf": [], "ent": [], "kl": [], "clip": [], "aux": []}
        # Listed once per update: walking the module tree for every minibatch cost more than the clipping
        # itself (Transformer policy: clip_grad_norm_ 372 -> 162 us).
        parameters = list(policy.parameters())
        continue_training = True
        for _epoch in range(self.n_epochs):
            epoch_kl = []
            for batch in self.rollout_buffer.get(chunks_per_batch, rng=self._chunk_rng):
                loss, batch_stats = self._minibatch_loss(batch, clip_range, clip_range_vf)
                for key, value in batch_stats.items():
                    stats[key].append(value)
                approx_kl = batch_stats["kl"]
                epoch_kl.append(approx_kl)
                if self.target_kl is not None and float(approx_kl) > 1.5 * self.target_kl:
                    continue_training = False
                    if self.verbose >= 1:
                        print(f"Early stopping at step {_epoch} due to reaching max kl: {float(approx_kl):.2f}")
                    break

                policy.optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(parameters, self.max_grad_norm, foreach=True)
                policy.optimizer.step()
            self._n_updates += 1
            if not continue_training:
                break

        self._record_train(stats, loss, clip_range, clip_range_vf)

    def _minibatch_loss(self, batch: Any, clip_range: float, clip_range_vf: float | None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """PPO's clipped loss on one minibatch of chunks (padding steps masked out) and its statistics:
        ``pg``, ``vf``, ``ent`` (the loss terms), ``kl`` (approximate KL) and ``clip`` (the clipped fraction)."""
        policy = self.policy
        valid = batch.mask  # (B, T)
        n_valid = valid.sum().clamp(min=1)
        masks = batch.action_masks
        if masks is not None:
            masks = masks.bool() | ~valid.unsqueeze(-1)  # padding: any action (never scored)
        actions = policy.actions_from_buffer(batch.actions)  # (B, T) | (B, T, k)
        chunk = (actions, batch.rewards) if policy.previous.active else None
        dist, values, _, features = policy(batch.observations, batch.episode_starts, batch.states, masks, chunk, return_features=True)
        log_prob = dist.log_prob(actions)  # (B, T)

        def mean(x: torch.Tensor) -> torch.Tensor:
            return torch.where(valid, x, torch.zeros_like(x)).sum() / n_valid

        advantages = batch.advantages
        if self.normalize_advantage and int(n_valid) > 1:
            adv_mean = mean(advantages)
            adv_std = torch.sqrt(mean((advantages - adv_mean) ** 2) * n_valid / (n_valid - 1))
            advantages = (advantages - adv_mean) / (adv_std + 1e-8)

        log_ratio = log_prob - batch.old_log_prob
        ratio = torch.exp(log_ratio)
        policy_loss = -mean(torch.min(advantages * ratio, advantages * torch.clamp(ratio, 1 - clip_range, 1 + clip_range)))
        if clip_range_vf is not None:
            values = batch.old_values + torch.clamp(values - batch.old_values, -clip_range_vf, clip_range_vf)
        value_loss = mean((batch.returns - values) ** 2)
        entropy_loss = -mean(dist.entropy())
        loss = policy_loss + self.ent_coef * entropy_loss + self.vf_coef * value_loss
        extra = {}
        if policy.reward_predictor is not None:
            extra["aux"] = policy.reward_predictor.loss(features, actions, batch.rewards, valid)
            loss = loss + self.aux_reward_coef * extra["aux"]

        with torch.no_grad():
            approx_kl = mean((ratio - 1) - log_ratio)
            clip_fraction = mean(((ratio - 1).abs() > clip_range).float())
        return loss, {"pg": policy_loss.detach(), "vf": value_loss.detach(), "ent": entropy_loss.detach(),
                      "kl": approx_kl, "clip": clip_fraction, **{k: v.detach() for k, v in extra.items()}}  # fmt: skip

    def _record_train(self, stats: dict[str, list[torch.Tensor]], loss: torch.Tensor, clip_range: float,
                      clip_range_vf: float | None) -> None:  # fmt: skip
        policy = self.policy
        explained_var = explained_variance(self.rollout_buffer.values.flatten(), self.rollout_buffer.returns.flatten())
        record = self.logger.record
        record("train/entropy_loss", float(torch.stack(stats["ent"]).mean()))
        record("train/policy_gradient_loss", float(torch.stack(stats["pg"]).mean()))
        record("train/value_loss", float(torch.stack(stats["vf"]).mean()))
        record("train/approx_kl", float(torch.stack(stats["kl"]).mean()))
        record("train/clip_fraction", float(torch.stack(stats["clip"]).mean()))
        record("train/loss", float(loss.detach()))
        record("train/explained_variance", explained_var)
        if stats["aux"]:
            record("train/aux_reward_loss", float(torch.stack(stats["aux"]).mean()))
        if isinstance(self.action_space, spaces.Box):
            record("train/std", float(torch.exp(policy.log_std.detach()).mean()))
        record("train/n_updates", self._n_updates, exclude="tensorboard")
        record("train/clip_range", clip_range)
        if clip_range_vf is not None:
            record("train/clip_range_vf", clip_range_vf)

    def learn(
        self: SelfSequencePPO,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "SequencePPO",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfSequencePPO:
        return super().learn(total_timesteps, callback, log_interval, tb_log_name, reset_num_timesteps, progress_bar)

    # --- acting -------------------------------------------------------------------------------

    def predict(  # type: ignore[override]
        self,
        observation: np.ndarray | dict[str, np.ndarray],
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
        action_masks: np.ndarray | None = None,
        reward: np.ndarray | None = None,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """Actions for a batch of observations (or one) and the memory after them.

        :param observation: ``(n, *obs_shape)`` or one observation.
        :param state: the memory returned by the previous call (None: empty memory), tensors batch first.
        :param episode_start: ``(n,)`` bool, True where ``observation`` starts an episode (memory reset);
            None = no resets.
        :param deterministic: the distribution's mode instead of a sample.
        :param action_masks: ``(n, width)`` (or ``(width,)``) 1 = allowed: ``width = n`` for ``Discrete(n)``,
            ``sum(nvec)`` for ``MultiDiscrete`` (one block per sub-action).
        :param reward: ``(n,)`` the rewards the previous actions earned, for a policy with ``prev_reward``
            (needed with a ``state``, except where every observation starts an episode).
        :return: ``(actions, state)``: actions clipped to a Box's bounds; the state as NumPy arrays.
        """
        self.policy.set_training_mode(False)
        obs, vectorized = self.policy.obs_to_tensor(observation)
        n = batch_size_of(obs, self.observation_space)
        memory, starts = predict_memory(self.policy, state, episode_start, n, self.device)
        masks_t = None
        if action_masks is not None:
            width = self.policy.mask_width
            if width is None:
                raise ValueError(f"predict: action_masks given for {self.action_space}; masks apply to Discrete and MultiDiscrete actions")
            masks = np.asarray(action_masks, dtype=bool).reshape(n, -1)
            if masks.shape[1] != width:
                raise ValueError(f"predict: action_masks has {masks.shape[1]} columns; expected {width} for {self.action_space}")
            masks_t = torch.as_tensor(masks, device=self.device).unsqueeze(1)
        if self.policy.previous.prev_reward and state is not None:
            if reward is None and not starts.all():
                raise ValueError("predict: this policy reads the previous reward (prev_reward); pass reward=, the (n,) rewards of the previous actions")
            if reward is not None:
                memory = self.policy.with_reward(memory, reward)
        with torch.no_grad():
            starts_t = torch.as_tensor(starts, device=self.device)
            if starts.any():
                memory = self.policy.reset_state(memory, starts_t)
            dist, _, new_memory = self.policy(with_time_axis(obs), starts_t.unsqueeze(1), memory, masks_t)
            actions = dist.mode() if deterministic else dist.sample()
            new_memory = self.policy.remember(new_memory, actions[:, 0])  # the reward comes with the next call
        actions = self.policy.actions_to_env(actions[:, 0].cpu().numpy())
        if not vectorized:
            actions = actions[0]
        return actions, tuple(m.cpu().numpy() for m in new_memory)
