"""How a rollout is cut into episode-aware chunks: the layout and the gather index (Numba kernels)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rlkit.jit import cached_njit


class ChunkLayout(NamedTuple):
    """How a rollout is cut: chunk ``c`` is steps ``start[c] : start[c] + length[c]`` of env ``env[c]``."""

    env: np.ndarray  # (n_chunks,) int64
    start: np.ndarray  # (n_chunks,) int64
    length: np.ndarray  # (n_chunks,) int64, 1 <= length <= chunk_len


@cached_njit
def cut_chunks(episode_starts, chunk_len):
    """``(env, start, length)`` of every chunk of an ``(n_steps, n_envs)`` rollout (fields of `ChunkLayout`)."""
    # Each env's column is cut at every episode start and every chunk_len steps after it, so a
    # chunk lies within one episode and starts either at an episode start or chunk_len * k steps in.
    n_steps, n_envs = episode_starts.shape
    n_chunks = 0
    for e in range(n_envs):
        run = 0
        for t in range(n_steps):
            if t == 0 or episode_starts[t, e] != 0 or run == chunk_len:
                n_chunks += 1
                run = 0
            run += 1
    env = np.empty(n_chunks, np.int64)
    start = np.empty(n_chunks, np.int64)
    length = np.zeros(n_chunks, np.int64)
    c = -1
    for e in range(n_envs):
        run = 0
        for t in range(n_steps):
            if t == 0 or episode_starts[t, e] != 0 or run == chunk_len:
                c += 1
                env[c] = e
                start[c] = t
                run = 0
            run += 1
            length[c] += 1
    return env, start, length


@cached_njit
def chunk_gather_index(env, start, length, chunk_len, n_envs):
    """``(index, mask)``, each ``(n_chunks, chunk_len)``: where each chunk position is stored, and whether it is real."""
    # Flat index (step * n_envs + env) of every chunk position into the (n_steps * n_envs, ...) view
    # of a stored array; padding points at the chunk's first transition (a valid row, then zeroed).
    n_chunks = env.shape[0]
    index = np.empty((n_chunks, chunk_len), np.int64)
    mask = np.zeros((n_chunks, chunk_len), np.bool_)
    for c in range(n_chunks):
        first = start[c] * n_envs + env[c]
        for k in range(chunk_len):
            if k < length[c]:
                index[c, k] = first + k * n_envs
                mask[c, k] = True
            else:
                index[c, k] = first
    return index, mask
