"""A sequence replay buffer for off-policy agents with a memory (R2D2-style stored state and burn-in).

Transitions are stored per env in a ring of ``size`` steps, with their episode boundaries
(``episode_starts``), how each step ended (``terminated``/``truncated``) and, every ``state_stride``
steps, the memory the acting policy read at that step (its encoders' state tuple, as
``rlkit.nn.sequence`` defines it). A sample is ``batch_size`` windows of ``burn_in + seq_len + 1``
steps, each starting at a step whose memory is stored::

    window:  [ burn_in steps | seq_len training steps | 1 step (the last step's next observation) ]
    states:  the memory stored at the window's first step

An agent runs its encoders from ``states`` over the burn-in without gradients (this only refreshes a
stale memory for the current weights), then over the rest with gradients; step ``t`` of the training
part reads its next observation at ``t + 1``.

What a window never does:

* read across an episode start unmasked: ``episode_starts`` comes with the window, and a sequence
  encoder resets its memory there (nothing from before a start reaches outputs at or after it);
* read across the write head (older data followed by newer) or unwritten steps: ``valid`` marks the
  written prefix of the window, and ``mask`` (the training steps that get a loss) needs a valid step,
  and a valid next step unless the episode terminated there;
* bootstrap a time-limit truncation from the next episode's first observation: a truncated step has no
  next observation in the window, so it is left out of ``mask`` (one transition per truncated episode).

Action masks (``info["action_mask"]`` of a ``Discrete(n)`` env, 1 = allowed) are stored per step with the
observation they belong to, so a window's step ``t + 1`` carries the mask of step ``t``'s next observation
(what a masked double-DQN target needs). The buffer holds no mask array until a step brings one; steps
added without a mask are all-allowed.

The index arithmetic (ring positions, written prefixes) is a Numba kernel; the random draws come
from the buffer's own generator, which is pickled with it, so a resumed run samples as one that never
stopped.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import torch
from gymnasium import spaces

from rlkit.jit import cached_njit

__all__ = ["SequenceReplayBuffer", "SequenceReplaySamples", "window_index"]


class SequenceReplaySamples(NamedTuple):
    """A batch of ``B`` windows of ``W = burn_in + seq_len + 1`` steps (tensors on the buffer's device)."""

    observations: torch.Tensor
    """``(B, W, *obs_shape)``."""
    episode_starts: torch.Tensor
    """``(B, W)`` bool: the step's observation starts an episode."""
    actions: torch.Tensor
    """``(B, seq_len, *action_shape)``: actions of the training steps."""
    rewards: torch.Tensor
    """``(B, seq_len)`` float32."""
    terminated: torch.Tensor
    """``(B, seq_len)`` float32: 1 where the episode terminated at the step (no bootstrap)."""
    mask: torch.Tensor
    """``(B, seq_len)`` bool: the training steps that get a loss (see the module docstring)."""
    valid: torch.Tensor
    """``(B, W)`` bool: written steps of the window (a prefix)."""
    action_masks: torch.Tensor | None
    """``(B, W, n)`` bool: each step's action mask (1 = allowed), or None if no step was added with one."""
    states: tuple[torch.Tensor, ...]
    """The memory stored at each window's first step, each ``(B, *shape)``."""
    env: np.ndarray
    """``(B,)`` env index of each window."""
    start: np.ndarray
    """``(B,)`` ring position of each window's first step."""


@cached_njit
def window_index(start, pos, full, size, window):
    """Ring positions ``(B, window)`` of windows starting at ``start (B,)`` and whether each is written.

    ``pos`` is the next position to write, ``full`` whether the ring has wrapped. A step is written
    when fewer steps lie between the window's start and it than were written after the start
    (so a window never reads past the write head into older data)."""
    n = start.shape[0]
    index = np.empty((n, window), dtype=np.int64)
    valid = np.empty((n, window), dtype=np.bool_)
    for b in range(n):
        s = start[b]
        if full:
            written = (pos - s) % size
            if written == 0:
                written = size
        else:
            written = pos - s
        for i in range(window):
            index[b, i] = (s + i) % size
            valid[b, i] = i < written
    return index, valid


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}={value!r}; expected an integer >= {low}")
    return int(value)


class SequenceReplayBuffer:
    """Stores transitions with episode boundaries and stored memory; samples windows (module docstring).

    :param buffer_size: transitions kept over all envs (as SB3's ``buffer_size``); each env keeps
        ``buffer_size // n_envs`` steps, rounded up to a multiple of ``state_stride`` and at least a window.
    :param observation_space: per-step observation space (not a ``Dict``).
    :param action_space: action space (``Box`` actions are stored as given, ``Discrete`` as integers).
    :param state_shapes: shapes of the memory tensors of one env (the policy's ``state_shapes``).
    :param seq_len: training steps per window.
    :param burn_in: steps before them that only warm the memory.
    :param state_stride: the memory is stored every this many steps per env; windows start there
        (default: ``seq_len``, so consecutive windows overlap by their burn-in).
    :param n_envs: envs stepped together.
    :param device: where samples are put.
    :param seed: seed of the window draws.
    """

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        state_shapes: tuple[tuple[int, ...], ...],
        seq_len: int = 16,
        burn_in: int = 0,
        state_stride: int | None = None,
        n_envs: int = 1,
        device: torch.device | str = "cpu",
        seed: int | None = None,
    ) -> None:
        if isinstance(observation_space, spaces.Dict):
            raise ValueError("SequenceReplayBuffer stores array observations; flatten a Dict observation space first")
        self.seq_len = _check_int("seq_len", seq_len, 1)
        self.burn_in = _check_int("burn_in", burn_in, 0)
        self.state_stride = _check_int("state_stride", self.seq_len if state_stride is None else state_stride, 1)
        self.n_envs = _check_int("n_envs", n_envs, 1)
        _check_int("buffer_size", buffer_size, 1)
        self.window = self.burn_in + self.seq_len + 1
        per_env = max(int(buffer_size) // self.n_envs, self.window)
        self.size = int(math.ceil(per_env / self.state_stride) * self.state_stride)
        self.observation_space, self.action_space = observation_space, action_space
        self.state_shapes = tuple(tuple(int(d) for d in s) for s in state_shapes)
        self.device = torch.device(device) if not isinstance(device, torch.device) else device
        obs_dtype = observation_space.dtype if observation_space.dtype is not None else np.float32
        act_shape = () if isinstance(action_space, spaces.Discrete) else tuple(action_space.shape)
        act_dtype = np.int64 if isinstance(action_space, spaces.Discrete) else np.float32
        size, n = self.size, self.n_envs
        self.observations = np.zeros((size, n, *observation_space.shape), dtype=obs_dtype)
        self.actions = np.zeros((size, n, *act_shape), dtype=act_dtype)
        self.rewards = np.zeros((size, n), dtype=np.float32)
        self.episode_starts = np.zeros((size, n), dtype=bool)
        self.terminated = np.zeros((size, n), dtype=bool)
        self.truncated = np.zeros((size, n), dtype=bool)
        n_slots = size // self.state_stride
        self.states = tuple(np.zeros((n_slots, n, *shape), dtype=np.float32) for shape in self.state_shapes)
        self.action_masks: np.ndarray | None = None  # (size, n_envs, width) bool once a step brings a mask
        self.pos, self.full = 0, False
        self.rng = np.random.default_rng(seed)

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.setdefault("action_masks", None)  # a buffer pickled before masks were stored holds none
        self.__dict__.update(state)

    # --- writing ------------------------------------------------------------------------------

    def add(
        self,
        obs: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        episode_start: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        state: tuple[Any, ...],
        action_mask: np.ndarray | None = None,
    ) -> None:
        """One step of every env: the observation the policy read, the action it took, the reward, whether
        the observation started an episode, how the step ended, and the memory the policy read (``(n_envs,
        *shape)`` arrays or tensors; stored only every ``state_stride`` steps); `action_mask` ``(n_envs, n)``,
        the observation's action masks (None: all allowed)."""
        p = self.pos
        self._add_mask(p, action_mask)
        self.observations[p] = np.asarray(obs).reshape(self.observations.shape[1:])
        self.actions[p] = np.asarray(action).reshape(self.actions.shape[1:])
        self.rewards[p] = np.asarray(reward, dtype=np.float32).reshape(self.n_envs)
        self.episode_starts[p] = np.asarray(episode_start, dtype=bool).reshape(self.n_envs)
        self.terminated[p] = np.asarray(terminated, dtype=bool).reshape(self.n_envs)
        self.truncated[p] = np.asarray(truncated, dtype=bool).reshape(self.n_envs)
        if p % self.state_stride == 0:
            if len(state) != len(self.states):
                raise ValueError(f"got {len(state)} memory tensors; expected {len(self.states)} (state_shapes {self.state_shapes})")
            slot = p // self.state_stride
            for stored, s in zip(self.states, state):
                s = s.detach().cpu().numpy() if isinstance(s, torch.Tensor) else np.asarray(s)
                stored[slot] = s.reshape(stored.shape[1:])
        self.pos = (p + 1) % self.size
        self.full = self.full or self.pos == 0

    def _add_mask(self, p: int, action_mask: np.ndarray | None) -> None:
        if action_mask is None:
            if self.action_masks is not None:
                self.action_masks[p] = True
            return
        if not isinstance(self.action_space, spaces.Discrete):
            raise ValueError(f"action masks apply to Discrete actions; this buffer stores {self.action_space}")
        width = int(self.action_space.n)
        mask = np.asarray(action_mask, dtype=bool)
        if mask.shape != (self.n_envs, width):
            raise ValueError(f"action_mask has shape {mask.shape}; expected ({self.n_envs}, {width}) (n_envs, actions)")
        if self.action_masks is None:  # the steps stored so far had none: all allowed
            self.action_masks = np.ones((self.size, self.n_envs, width), dtype=bool)
        self.action_masks[p] = mask

    def steps(self) -> int:
        """Steps stored per env."""
        return self.size if self.full else self.pos

    def __len__(self) -> int:
        return self.steps() * self.n_envs

    # --- sampling -----------------------------------------------------------------------------

    def sample_starts(self, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """``batch_size`` (env, ring position) window starts drawn uniformly over the stored memories."""
        if self.steps() == 0:
            raise ValueError("the replay buffer is empty: add steps before sampling")
        n_slots = self.size // self.state_stride if self.full else -(-self.pos // self.state_stride)
        env = self.rng.integers(self.n_envs, size=batch_size)
        start = self.rng.integers(n_slots, size=batch_size) * self.state_stride
        return env, start

    def sample(self, batch_size: int, env: Any = None) -> SequenceReplaySamples:
        """``batch_size`` windows (see `SequenceReplaySamples`); `env` is ignored (SB3's signature)."""
        envs, starts = self.sample_starts(batch_size)
        return self.windows(envs, starts)

    def windows(self, envs: np.ndarray, starts: np.ndarray) -> SequenceReplaySamples:
        """The windows starting at ring positions `starts` (multiples of ``state_stride``) of envs `envs`."""
        envs, starts = np.asarray(envs, dtype=np.int64), np.asarray(starts, dtype=np.int64)
        index, valid = window_index(starts, self.pos, self.full, self.size, self.window)
        rows = envs[:, None]
        b, t = self.burn_in, self.burn_in + self.seq_len
        terminated = self.terminated[index, rows]
        # A training step gets a loss when written, not truncated, and with its next step written unless terminated.
        mask = valid[:, b:t] & ~self.truncated[index[:, b:t], rows] & (terminated[:, b:t] | valid[:, b + 1 : t + 1])
        slots = starts // self.state_stride
        device = self.device

        def tensor(x: np.ndarray, dtype: Any = None) -> torch.Tensor:
            return torch.as_tensor(x, device=device, dtype=dtype)

        return SequenceReplaySamples(
            observations=tensor(self.observations[index, rows]),
            episode_starts=tensor(self.episode_starts[index, rows]),
            actions=tensor(self.actions[index[:, b:t], rows]),
            rewards=tensor(self.rewards[index[:, b:t], rows]),
            terminated=tensor(terminated[:, b:t], torch.float32),
            mask=tensor(mask),
            valid=tensor(valid),
            action_masks=None if self.action_masks is None else tensor(self.action_masks[index, rows]),
            states=tuple(tensor(stored[slots, envs]) for stored in self.states),
            env=envs,
            start=starts,
        )
