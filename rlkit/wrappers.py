"""Gymnasium observation wrappers for any env: partial observation (memory benchmarks), index grids read as categories."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

__all__ = ["CategoricalObservation", "PartialObservation"]


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


class CategoricalObservation(gym.ObservationWrapper):
    """An integer ``Box`` whose entries are category indices, read as a flat ``MultiDiscrete``.

    Grids of object / colour / state indices (MiniGrid's ``ImgObsWrapper`` image: a uint8
    ``Box(0, 255, (7, 7, 3))`` holding objects 0-10, colours 0-5, states 0-2) are not pixels, but a uint8
    ``Box`` with bounds [0, 255] is scaled as an image (divided by 255) by rlkit's encoders and SB3's
    policies. As a ``MultiDiscrete`` every entry is one-hot encoded instead (``rlkit.nn.spaces.preprocess``,
    SB3's ``preprocess_obs``), so every encoder and algorithm that reads ``MultiDiscrete`` reads it. The
    observation is flattened in C order (``obs.reshape(-1)``); an index outside its channel's range raises.

    :param env: an env with an integer-dtype ``Box`` observation space.
    :param nvec: the number of values of each channel (the last axis): ``[11, 6, 3]`` for MiniGrid's image;
        entry ``i`` of a channel with ``n`` values must lie in ``[0, n)``. ``None``: read from the space's
        bounds (``high - low + 1`` values from ``low``, per entry), refused where those bounds are a uint8
        image's [0, 255], which say nothing about the number of categories.
    """

    def __init__(self, env: gym.Env, nvec: list[int] | tuple[int, ...] | None = None) -> None:
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, spaces.Box) or not np.issubdtype(space.dtype, np.integer):
            raise ValueError(f"CategoricalObservation needs an integer-dtype Box observation space; got {space}")
        if nvec is None:
            if space.dtype == np.uint8 and bool(np.all(space.low == 0)) and bool(np.all(space.high == 255)):
                raise ValueError(
                    f"CategoricalObservation: the bounds of {space} are a uint8 image's [0, 255], not a count of "
                    "categories; pass nvec, the number of values per channel (e.g. nvec=[11, 6, 3] for MiniGrid)"
                )
            start = space.low.astype(np.int64)
            counts = space.high.astype(np.int64) - start + 1
        else:
            per_channel = np.asarray(nvec, dtype=np.int64)
            if per_channel.ndim != 1 or per_channel.size != space.shape[-1] or bool(np.any(per_channel < 1)):
                raise ValueError(
                    f"CategoricalObservation: got nvec={list(nvec)}; expected one count >= 1 per channel, "
                    f"{space.shape[-1]} for {space} (channels are its last axis)"
                )
            start = np.zeros(space.shape, dtype=np.int64)
            counts = np.broadcast_to(per_channel, space.shape)
        self.start = start.reshape(-1)
        self.counts = counts.reshape(-1)
        self.observation_space = spaces.MultiDiscrete(self.counts, start=self.start)

    def observation(self, observation: Any) -> np.ndarray:
        obs = np.asarray(observation).astype(np.int64).reshape(-1)
        bad = np.flatnonzero((obs < self.start) | (obs >= self.start + self.counts))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"CategoricalObservation: entry {i} of the flattened observation is {int(obs[i])}; its channel has "
                f"{int(self.counts[i])} values from {int(self.start[i])} (raise nvec for that channel)"
            )
        return obs
