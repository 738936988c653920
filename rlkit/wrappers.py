"""Gymnasium wrappers that make an env partially observed (for memory benchmarks): any flat ``Box`` env."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

__all__ = ["PartialObservation"]


class PartialObservation(gym.ObservationWrapper):
    """Drop features of a flat ``Box`` observation and add Gaussian noise to others.

    :param env: an env with a 1-D ``Box`` observation space.
    :param hide: indices of the features removed from the observation.
    :param noise_std: ``{index: std}``: zero-mean Gaussian noise added to those features (indices of the
        original observation; the observation space widens by 4 std), drawn from the env's ``np_random``
        (seeded by ``reset(seed=…)``).
    """

    def __init__(self, env: gym.Env, hide: list[int] | tuple[int, ...] = (), noise_std: dict[int, float] | None = None) -> None:
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, spaces.Box) or len(space.shape) != 1:
            raise ValueError(f"PartialObservation needs a flat Box observation space; got {space}")
        n = space.shape[0]
        noise = {int(k): float(v) for k, v in (noise_std or {}).items()}
        bad = [i for i in [*hide, *noise] if not 0 <= int(i) < n]
        if bad:
            raise ValueError(f"PartialObservation: feature index {bad[0]} is outside the observation's {n} features (0..{n - 1})")
        negative = [i for i, std in noise.items() if not std >= 0]
        if negative:
            raise ValueError(f"PartialObservation: noise_std[{negative[0]}]={noise[negative[0]]}; expected a std >= 0")
        if set(hide) & set(noise):
            raise ValueError(f"PartialObservation: feature {sorted(set(hide) & set(noise))[0]} is both hidden and noisy; pick one")
        self.keep = np.array([i for i in range(n) if i not in set(int(h) for h in hide)], dtype=np.int64)
        if self.keep.size == 0:
            raise ValueError("PartialObservation: every feature is hidden; keep at least one")
        self.noise = np.zeros(n, dtype=np.float32)
        for i, std in noise.items():
            self.noise[i] = std
        low, high = space.low.astype(np.float32) - 4 * self.noise, space.high.astype(np.float32) + 4 * self.noise
        self.observation_space = spaces.Box(low[self.keep], high[self.keep], dtype=np.float32)

    def observation(self, observation: Any) -> np.ndarray:
        obs = np.asarray(observation, dtype=np.float32)
        if self.noise.any():
            obs = obs + self.noise * self.np_random.standard_normal(obs.shape).astype(np.float32)
        return obs[self.keep]
