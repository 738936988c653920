"""One row of ``rlkit bench returns``: SB3's GAE, rlkit's buffer, the bare kernel and the copy floor on one size."""

from __future__ import annotations

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer

from rlkit.app.bench import best_time
from rlkit.app.bench.returns import EPISODE_START_PROB, GAE_LAMBDA, GAMMA
from rlkit.buffers import NumbaRolloutBuffer
from rlkit.returns.kernels import gae_kernel


def time_size(n_steps: int, n_envs: int, rng: np.random.Generator, repeat: int, min_time: float) -> list:
    """``[size, SB3 ms, rlkit buffer µs, speedup x, kernel µs, copy floor µs, kernel/floor, max|dA|]`` on
    rollout data drawn from `rng`."""
    observation_space, action_space = spaces.Box(-1.0, 1.0, (1,), dtype=np.float32), spaces.Discrete(2)
    rewards = rng.standard_normal((n_steps, n_envs)).astype(np.float32)
    values = rng.standard_normal((n_steps, n_envs)).astype(np.float32)
    episode_starts = (rng.random((n_steps, n_envs)) < EPISODE_START_PROB).astype(np.float32)
    last_values = th.as_tensor(rng.standard_normal(n_envs).astype(np.float32))
    dones = rng.random(n_envs) < EPISODE_START_PROB

    buffers = []
    for cls in (RolloutBuffer, NumbaRolloutBuffer):
        kwargs = dict(device="cpu", gamma=GAMMA, gae_lambda=GAE_LAMBDA, n_envs=n_envs)
        buf = cls(n_steps, observation_space, action_space, **kwargs)
        buf.rewards[:], buf.values[:], buf.episode_starts[:] = rewards, values, episode_starts
        buffers.append(buf)
    sb3, numba_buf = buffers

    # SB3's loop costs ~1 ms per 100 steps: one call per repeat is plenty.
    t_sb3 = best_time(lambda: sb3.compute_returns_and_advantage(last_values, dones), repeat=repeat)
    t_buffer = best_time(lambda: numba_buf.compute_returns_and_advantage(last_values, dones), repeat=repeat, min_time=min_time)
    max_diff = float(np.max(np.abs(numba_buf.advantages - sb3.advantages)))

    advantages, returns = np.empty_like(rewards), np.empty_like(rewards)
    last_values_np = last_values.numpy()
    kernel_args = (rewards, values, episode_starts, last_values_np, dones, GAMMA, GAE_LAMBDA, advantages, returns)
    t_kernel = best_time(lambda: gae_kernel(*kernel_args), repeat=repeat, min_time=min_time)

    touched = [rewards, values, episode_starts, last_values_np, dones, advantages, returns]
    copies = [np.empty_like(a) for a in touched]

    def copy_all() -> None:
        for dst, src in zip(copies, touched):
            np.copyto(dst, src)

    t_copy = best_time(copy_all, repeat=repeat, min_time=min_time)
    return [
        f"{n_steps}x{n_envs}", t_sb3 * 1e3, t_buffer * 1e6, t_sb3 / t_buffer, t_kernel * 1e6, t_copy * 1e6,
        t_kernel / t_copy, max_diff,
    ]  # fmt: skip
