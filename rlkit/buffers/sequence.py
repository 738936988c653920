"""The sequence rollout buffer of memory agents: episode-aware chunks with the memory at each chunk's start."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import BaseBuffer

from rlkit.buffers.chunks import ChunkLayout, chunk_gather_index, cut_chunks
from rlkit.buffers.gae import last_values_to_numpy
from rlkit.returns import gae_advantages


class SequenceRolloutBufferSamples(NamedTuple):
    observations: th.Tensor | dict[str, th.Tensor] | tuple[th.Tensor, ...]  # (B, T, *obs_shape), per key/slot
    actions: th.Tensor  # (B, T, action_dim) float32, as SB3's samples
    old_values: th.Tensor  # (B, T)
    old_log_prob: th.Tensor  # (B, T)
    advantages: th.Tensor  # (B, T)
    returns: th.Tensor  # (B, T)
    episode_starts: th.Tensor  # (B, T) float32; 1 only possibly at t = 0
    mask: th.Tensor  # (B, T) bool; False on padding
    states: tuple[th.Tensor, ...]  # each (B, *state_shapes[i]): memory before each chunk's first step
    action_masks: th.Tensor | None  # (B, T, *action_mask_shape) bool, or None
    rewards: th.Tensor | None = None  # (B, T): what a policy reading the previous reward reads at t + 1


def _to_numpy(x: Any) -> np.ndarray:
    if isinstance(x, th.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


class SequenceRolloutBuffer(BaseBuffer):
    """A rollout for memory agents, served as episode-aware chunks for truncated BPTT.

    Stores ``buffer_size`` steps of ``n_envs`` envs (arrays ``(n_steps, n_envs, …)`` with
    ``n_steps = buffer_size``) and, per step and env, the policy's memory *before* that step: a
    tuple of arrays of the fixed shapes in ``state_shapes`` (batch-first state of an rlkit
    sequence encoder, without the batch axis: LSTM ``((layers, H), (layers, H))``, a Transformer
    KV cache ``((L, 2, K, D),)``, a TCN's past windows). Memory cost is
    ``n_steps * n_envs * sum(prod(shape))`` floats, so keep state small or chunks long.

    Chunking: each env's column is cut at every episode start and every ``chunk_len`` steps after
    it, so a chunk never spans two episodes; pieces shorter than ``chunk_len`` are padded at the
    end (``mask`` False, values zero, or a Discrete/MultiDiscrete observation's start). A chunk's
    state is the stored state at its first step: the real memory mid-episode, or the reset memory
    at an episode start (store the state the policy actually read, i.e. after its reset). Every stored transition is in exactly one chunk.

    Use::

        buf = SequenceRolloutBuffer(n_steps, obs_space, act_space, n_envs=n_envs,
                                    state_shapes=((1, 64), (1, 64)), chunk_len=16, seed=0)
        for step in range(n_steps):          # collect, as in SB3's collect_rollouts
            buf.add(obs, actions, rewards, episode_starts, values, log_probs, state,
                    truncated=truncated, truncation_values=v_final)   # truncation optional
        buf.compute_returns_and_advantage(last_values, dones)
        for epoch in range(n_epochs):
            for batch in buf.get(batch_size=8):   # 8 chunks per minibatch
                batch.observations                # (8, 16, *obs_shape)
                batch.states                      # ((8, 1, 64), (8, 1, 64))
                batch.mask                        # (8, 16) bool

    ``add`` arguments, one per env: ``obs`` ``(n_envs, *obs_shape)`` (dict for Dict spaces);
    ``action`` ``(n_envs, action_dim)`` or ``(n_envs,)``; ``reward``, ``episode_start`` ``(n_envs,)``;
    ``value``, ``log_prob`` ``(n_envs,)`` or ``(n_envs, 1)`` (arrays or tensors); ``state`` a tuple of
    ``(n_envs, *state_shapes[i])``; optional ``truncated`` ``(n_envs,)`` bool with
    ``truncation_values`` ``(n_envs,)``: the critic's value of the final observation of an episode
    cut by a time limit at this step (see :mod:`rlkit.returns`); optional ``action_mask``
    ``(n_envs, *action_mask_shape)`` bool.

    Minibatches (:class:`SequenceRolloutBufferSamples`) hold ``batch_size`` chunks in an order
    shuffled by the buffer's seeded generator (or ``rng``); all per-step tensors are ``(B, T, …)``
    with ``T = chunk_len``, states ``(B, *state_shapes[i])``, ``mask`` ``(B, T)``. The last
    minibatch of an epoch may be smaller.

    :param buffer_size: steps per env in a rollout (``n_steps``).
    :param observation_space: observation space (Box, Discrete, MultiDiscrete, MultiBinary, Dict, Tuple).
    :param action_space: action space (Box, Discrete, MultiDiscrete, MultiBinary).
    :param device: torch device of the minibatch tensors.
    :param gae_lambda: GAE λ.
    :param gamma: discount factor.
    :param n_envs: number of parallel envs.
    :param state_shapes: shape of each memory tensor of one env, without the batch axis.
    :param chunk_len: chunk length ``T`` (the truncated-BPTT length).
    :param action_mask_shape: shape of one env's action mask (e.g. ``(n_actions,)``), or None.
    :param state_dtype: dtype the states are stored in.
    :param seed: seed of the generator that shuffles chunks.
    """

    observations: np.ndarray | dict[str, np.ndarray]

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "cpu",
        gae_lambda: float = 0.95,
        gamma: float = 0.99,
        n_envs: int = 1,
        *,
        state_shapes: tuple[tuple[int, ...], ...],
        chunk_len: int,
        action_mask_shape: tuple[int, ...] | None = None,
        state_dtype: np.dtype | type = np.float32,
        seed: int | None = None,
    ):
        if isinstance(chunk_len, bool) or not isinstance(chunk_len, (int, np.integer)) or chunk_len < 1:
            raise ValueError(
                f"SequenceRolloutBuffer: chunk_len={chunk_len!r}; expected an integer >= 1 (the BPTT length)."
            )
        if not all(isinstance(n, (int, np.integer)) and n >= 1 for n in (buffer_size, n_envs)):
            raise ValueError(
                f"SequenceRolloutBuffer: buffer_size={buffer_size!r}, n_envs={n_envs!r}; expected integers >= 1."
            )
        try:
            state_shapes = tuple(tuple(int(d) for d in shape) for shape in state_shapes)
        except TypeError:
            raise ValueError(
                f"SequenceRolloutBuffer: state_shapes={state_shapes!r}; expected a tuple of shapes, one per "
                f"memory tensor without the batch axis, e.g. ((layers, H), (layers, H)) for an LSTM."
            ) from None
        # A Tuple space is stored as a Dict keyed "0", "1", … (SB3's buffers know no Tuple) and served as a tuple.
        self.tuple_slots = len(observation_space.spaces) if isinstance(observation_space, spaces.Tuple) else None
        if self.tuple_slots is not None:
            observation_space = spaces.Dict({str(i): s for i, s in enumerate(observation_space.spaces)})
        super().__init__(buffer_size, observation_space, action_space, device, n_envs=n_envs)
        # Observations keep their space's shape (a Discrete one is a scalar, not SB3's (1,)), so that
        # minibatches are (B, T, *space.shape) as the sequence encoders read them.
        if isinstance(self.obs_shape, dict):
            self.obs_shape = {key: tuple(observation_space[key].shape) for key in self.obs_shape}
        else:
            self.obs_shape = tuple(observation_space.shape)
        self.gae_lambda = gae_lambda
        self.gamma = gamma
        self.state_shapes = state_shapes
        self.chunk_len = int(chunk_len)
        self.action_mask_shape = None if action_mask_shape is None else tuple(int(d) for d in action_mask_shape)
        self.state_dtype = np.dtype(state_dtype)
        self.rng = np.random.default_rng(seed)
        self.reset()

    def reset(self) -> None:
        shape = (self.buffer_size, self.n_envs)
        if isinstance(self.obs_shape, dict):
            self.observations = {
                key: np.zeros((*shape, *obs_shape), dtype=self.observation_space[key].dtype)
                for key, obs_shape in self.obs_shape.items()
            }
        else:
            self.observations = np.zeros((*shape, *self.obs_shape), dtype=self.observation_space.dtype)
        self.actions = np.zeros((*shape, self.action_dim), dtype=self.action_space.dtype)
        self.rewards = np.zeros(shape, dtype=np.float32)
        self.values = np.zeros(shape, dtype=np.float32)
        self.log_probs = np.zeros(shape, dtype=np.float32)
        self.episode_starts = np.zeros(shape, dtype=np.float32)
        self.truncated = np.zeros(shape, dtype=np.bool_)
        # NaN where not truncated: the GAE kernel reads truncation_values only where truncated.
        self.truncation_values = np.full(shape, np.nan, dtype=np.float32)
        self.advantages = np.zeros(shape, dtype=np.float32)
        self.returns = np.zeros(shape, dtype=np.float32)
        self.states = tuple(np.zeros((*shape, *s), dtype=self.state_dtype) for s in self.state_shapes)
        self.action_masks = (
            None if self.action_mask_shape is None else np.ones((*shape, *self.action_mask_shape), dtype=np.bool_)
        )
        self.returns_ready = False
        super().reset()

    # --- collection ---------------------------------------------------------------------------

    def _per_env(self, name: str, x: Any) -> np.ndarray:
        array = _to_numpy(x)
        if array.size != self.n_envs:
            raise ValueError(
                f"SequenceRolloutBuffer.add: {name} has shape {array.shape}; expected one value per env, "
                f"(n_envs,)=({self.n_envs},) or ({self.n_envs}, 1)."
            )
        return array.reshape(self.n_envs)

    def _obs(self, name: str, obs: Any, shape: tuple[int, ...]) -> np.ndarray:
        array = _to_numpy(obs)
        if array.size != self.n_envs * int(np.prod(shape)):
            raise ValueError(
                f"SequenceRolloutBuffer.add: {name} has shape {array.shape}; expected (n_envs, *obs_shape)="
                f"{(self.n_envs, *shape)}."
            )
        # Discrete observations arrive as (n_envs,); SB3 reshapes them to (n_envs, 1) the same way.
        return array.reshape((self.n_envs, *shape))

    def add(
        self,
        obs: np.ndarray | dict[str, np.ndarray],
        action: np.ndarray,
        reward: np.ndarray,
        episode_start: np.ndarray,
        value: th.Tensor | np.ndarray,
        log_prob: th.Tensor | np.ndarray,
        state: tuple[th.Tensor | np.ndarray, ...],
        *,
        truncated: np.ndarray | None = None,
        truncation_values: th.Tensor | np.ndarray | None = None,
        action_mask: np.ndarray | None = None,
        check: bool = True,
    ) -> None:
        """Store one step of every env; shapes in the class docstring.

        ``check=False`` skips the shape and value checks, for a caller whose arrays are right by
        construction (sequence PPO's rollouts: a third of this call's time went to re-checking them
        every step); wrong shapes then fail in NumPy's assignment, or broadcast silently."""
        if not check:
            self._add_unchecked(obs, action, reward, episode_start, value, log_prob, state, truncated, truncation_values, action_mask)
            return
        if self.full:
            raise ValueError(
                f"SequenceRolloutBuffer.add: the buffer already holds buffer_size={self.buffer_size} steps; "
                f"call reset() before collecting the next rollout."
            )
        states = self._states(state)
        starts = self._per_env("episode_start", episode_start).astype(np.float32)
        if not np.all((starts == 0) | (starts == 1)):
            raise ValueError(
                f"SequenceRolloutBuffer.add: episode_start has values {np.unique(starts)}; expected 0/1 or bools."
            )
        if (truncated is None) != (truncation_values is None):
            raise ValueError(
                "SequenceRolloutBuffer.add: truncated and truncation_values go together; pass both "
                "(the critic's value of each truncated episode's final observation) or neither."
            )
        if action_mask is not None and self.action_masks is None:
            raise ValueError(
                "SequenceRolloutBuffer.add: got an action_mask but the buffer was built with "
                "action_mask_shape=None; pass action_mask_shape=(n_actions,) to store masks."
            )
        obs = self._as_stored(obs)
        if isinstance(self.observations, dict):
            obs = {key: self._obs(f"obs[{key!r}]", obs[key], obs_shape) for key, obs_shape in self.obs_shape.items()}
        else:
            obs = self._obs("obs", obs, self.obs_shape)
        action = _to_numpy(action)
        if action.size != self.n_envs * self.action_dim:
            raise ValueError(
                f"SequenceRolloutBuffer.add: action has shape {action.shape}; expected (n_envs, action_dim)="
                f"{(self.n_envs, self.action_dim)}."
            )
        reward = self._per_env("reward", reward)
        value = self._per_env("value", value)
        log_prob = self._per_env("log_prob", log_prob)
        if truncated is not None:
            truncated = self._per_env("truncated", truncated).astype(np.bool_)
            truncation_values = self._per_env("truncation_values", truncation_values)
        if action_mask is not None:
            action_mask = _to_numpy(action_mask)
            if action_mask.shape != (self.n_envs, *self.action_mask_shape):
                raise ValueError(
                    f"SequenceRolloutBuffer.add: action_mask has shape {action_mask.shape}; expected "
                    f"(n_envs, *action_mask_shape)={(self.n_envs, *self.action_mask_shape)}."
                )
        self._add_unchecked(obs, action, reward, starts, value, log_prob, states, truncated, truncation_values, action_mask)

    def _states(self, state: Any) -> list[np.ndarray]:
        """``state`` as NumPy arrays, each checked against its ``state_shapes`` entry (batch first)."""
        if not isinstance(state, (tuple, list)) or len(state) != len(self.state_shapes):
            got = f"a tuple of {len(state)}" if isinstance(state, (tuple, list)) else f"a {type(state).__name__}"
            raise ValueError(
                f"SequenceRolloutBuffer.add: state is {got}; expected a tuple of {len(self.state_shapes)} arrays "
                f"of shapes (n_envs, *s) for s in state_shapes={self.state_shapes}."
            )
        states = []
        for i, (s, shape) in enumerate(zip(state, self.state_shapes)):
            array = _to_numpy(s)
            if array.shape != (self.n_envs, *shape):
                raise ValueError(
                    f"SequenceRolloutBuffer.add: state[{i}] has shape {array.shape}; expected "
                    f"(n_envs, *state_shapes[{i}])={(self.n_envs, *shape)} (batch first)."
                )
            states.append(array)
        return states

    def _add_unchecked(self, obs, action, reward, episode_start, value, log_prob, state, truncated, truncation_values, action_mask):
        # The one place a step is stored; `add` reaches it after its checks (and conversions), or directly.
        pos, n = self.pos, self.n_envs
        obs = self._as_stored(obs)
        if isinstance(self.observations, dict):
            for key, obs_shape in self.obs_shape.items():
                self.observations[key][pos] = _to_numpy(obs[key]).reshape((n, *obs_shape))
        else:
            self.observations[pos] = _to_numpy(obs).reshape((n, *self.obs_shape))
        self.actions[pos] = _to_numpy(action).reshape((n, self.action_dim))
        self.rewards[pos] = _to_numpy(reward).reshape(n)
        self.episode_starts[pos] = _to_numpy(episode_start).reshape(n)
        self.values[pos] = _to_numpy(value).reshape(n)
        self.log_probs[pos] = _to_numpy(log_prob).reshape(n)
        for stored, s in zip(self.states, state):
            stored[pos] = _to_numpy(s)
        if truncated is not None:
            self.truncated[pos] = _to_numpy(truncated).reshape(n)
            self.truncation_values[pos] = np.where(self.truncated[pos], _to_numpy(truncation_values).reshape(n), np.nan)
        if action_mask is not None:
            self.action_masks[pos] = _to_numpy(action_mask)
        self.pos += 1
        if self.pos == self.buffer_size:
            self.full = True

    def _as_stored(self, obs: Any) -> Any:
        """A Tuple space's observation (a tuple of per-slot arrays) as the stored dict."""
        if self.tuple_slots is None or isinstance(obs, dict):
            return obs
        if not isinstance(obs, (tuple, list)) or len(obs) != self.tuple_slots:
            raise ValueError(
                f"SequenceRolloutBuffer.add: obs is a {type(obs).__name__}; expected a tuple of "
                f"{self.tuple_slots} arrays for the Tuple observation space."
            )
        return {str(i): o for i, o in enumerate(obs)}

    def compute_returns_and_advantage(self, last_values: th.Tensor | np.ndarray, dones: np.ndarray) -> None:
        """GAE(λ) with the stored truncation bootstraps (:func:`rlkit.returns.gae_advantages`).

        :param last_values: (n_envs,) value of the observation after the last step (with the memory after it).
        :param dones: (n_envs,) whether the last step ended an episode; a truncated last step is
            passed as done here and as ``truncated`` (with its value) to the last ``add``.
        """
        gae_advantages(
            self.rewards,
            self.values,
            self.episode_starts,
            last_values_to_numpy(last_values, self.n_envs),
            np.asarray(dones),
            self.gamma,
            self.gae_lambda,
            truncated=self.truncated,
            truncation_values=self.truncation_values,
            advantages_out=self.advantages,
            returns_out=self.returns,
        )
        self.returns_ready = True

    # --- minibatches --------------------------------------------------------------------------

    def chunk_layout(self) -> ChunkLayout:
        """The chunks of the stored rollout, in env-major, time order (before shuffling)."""
        return ChunkLayout(*cut_chunks(self.episode_starts, self.chunk_len))

    def get(
        self, batch_size: int | None = None, rng: np.random.Generator | None = None
    ) -> Generator[SequenceRolloutBufferSamples, None, None]:
        """One epoch of minibatches of ``batch_size`` chunks (all chunks at once if None), shuffled."""
        n_chunks = self._prepare_chunks()
        if batch_size is None:
            batch_size = n_chunks
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(
                f"SequenceRolloutBuffer.get: batch_size={batch_size!r}; expected an integer >= 1 "
                f"(chunks per minibatch)."
            )
        order = (self.rng if rng is None else rng).permutation(n_chunks)
        for first in range(0, n_chunks, batch_size):
            yield self._get_samples(order[first : first + batch_size])

    def sample(self, batch_size: int, env: Any = None) -> SequenceRolloutBufferSamples:
        """``batch_size`` chunks drawn uniformly with replacement by the buffer's generator."""
        if env is not None:
            raise ValueError("SequenceRolloutBuffer.sample: env normalisation is not supported; pass env=None.")
        n_chunks = self._prepare_chunks()
        return self._get_samples(self.rng.integers(0, n_chunks, size=batch_size))

    def _prepare_chunks(self) -> int:
        if not self.full:
            raise ValueError(
                f"SequenceRolloutBuffer: the buffer holds {self.pos} of {self.buffer_size} steps; "
                f"collect a full rollout before sampling."
            )
        if not self.returns_ready:
            raise ValueError(
                "SequenceRolloutBuffer: advantages are not computed; call "
                "compute_returns_and_advantage(last_values, dones) after collecting."
            )
        layout = self.chunk_layout()
        self._gather_index, self._gather_mask = chunk_gather_index(
            layout.env, layout.start, layout.length, self.chunk_len, self.n_envs
        )  # (n_chunks, T) each
        return len(layout.env)

    def _gather(self, array: np.ndarray, index: np.ndarray, pad: np.ndarray, dtype: Any = None, fill: Any = 0) -> th.Tensor:
        flat = array.reshape(self.buffer_size * self.n_envs, *array.shape[2:])
        out = flat[index]  # (B, T, ...)
        if dtype is not None:
            out = out.astype(dtype, copy=False)
        out[pad] = fill
        return th.as_tensor(out, device=self.device)

    def _gather_obs(self, array: np.ndarray, space: spaces.Space, index: np.ndarray, pad: np.ndarray) -> th.Tensor:
        # Padding is zero, or a Discrete/MultiDiscrete space's start (zero would lie outside the space).
        fill = getattr(space, "start", 0) if isinstance(space, (spaces.Discrete, spaces.MultiDiscrete)) else 0
        return self._gather(array, index, pad, fill=fill)

    def _get_samples(self, batch_inds: np.ndarray, env: Any = None) -> SequenceRolloutBufferSamples:
        index = self._gather_index[batch_inds]  # (B, T)
        mask = self._gather_mask[batch_inds]  # (B, T)
        pad = ~mask
        if isinstance(self.observations, dict):
            observations = {
                key: self._gather_obs(obs, self.observation_space[key], index, pad) for key, obs in self.observations.items()
            }
            if self.tuple_slots is not None:
                observations = tuple(observations[str(i)] for i in range(self.tuple_slots))
        else:
            observations = self._gather_obs(self.observations, self.observation_space, index, pad)
        first = index[:, 0]  # (B,) flat index of each chunk's first step
        states = tuple(
            th.as_tensor(s.reshape(self.buffer_size * self.n_envs, *s.shape[2:])[first], device=self.device)
            for s in self.states
        )
        return SequenceRolloutBufferSamples(
            observations=observations,
            actions=self._gather(self.actions, index, pad, np.float32),
            old_values=self._gather(self.values, index, pad),
            old_log_prob=self._gather(self.log_probs, index, pad),
            advantages=self._gather(self.advantages, index, pad),
            returns=self._gather(self.returns, index, pad),
            episode_starts=self._gather(self.episode_starts, index, pad),
            mask=th.as_tensor(mask, device=self.device),
            states=states,
            action_masks=None if self.action_masks is None else self._gather(self.action_masks, index, pad),
            rewards=self._gather(self.rewards, index, pad),
        )
