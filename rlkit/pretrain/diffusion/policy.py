"""``DiffusionPolicy``: an rlkit encoder and a noise predictor that denoises an action given the encoder's features.

Actions are denoised in a continuous code ``x`` in ``[-1, 1]^d`` (`ActionCodec`):

* ``Discrete(n)``: the one-hot vector scaled to ``±1``; the sampled code's argmax is the action. Two good
  actions stay two modes of the code's distribution, where a categorical clone's argmax would too but a
  Gaussian would average them;
* ``Box`` with finite bounds: the action scaled onto ``[-1, 1]``, and the predicted ``x_0`` clipped there
  while sampling; an unbounded ``Box``: standardised by the dataset's mean and std, not clipped.

The denoiser is an MLP over ``[features, x_t, sinusoidal embedding of t]`` trained with DDPM's loss at a uniform
``t``: it predicts ``x_0`` (``prediction="sample"``, the default: low-dimensional codes are learnt in far fewer
updates that way) or the noise (``"epsilon"``, DDPM's ``|eps - eps_hat|^2``); actions are sampled with ``K`` DDIM steps. One action per
observation (no action chunks, no observation history). ``predict`` has SB3's signature, so ``rlkit eval``
and ``rlkit enjoy`` run the policy as they run agents: ``deterministic=True`` takes DDIM's ``eta = 0``
path, otherwise ``eta = 1``; both start from noise drawn from the policy's own seeded generator (`seed`).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from rlkit.nn.registry import Encoder
from rlkit.nn.spaces import describe_space
from rlkit.pretrain.diffusion.schedule import NoiseSchedule


PREDICTIONS = ("sample", "epsilon")


class ActionCodec:
    """Env actions to codes in ``[-1, 1]^d`` and back (see the module docstring)."""

    def __init__(self, action_space: gym.Space, mean: np.ndarray | None = None, std: np.ndarray | None = None) -> None:
        self.space = action_space
        if isinstance(action_space, spaces.Discrete):
            self.kind, self.dim = "onehot", int(action_space.n)
        elif isinstance(action_space, spaces.Box) and len(action_space.shape) == 1:
            bounded = bool(np.all(np.isfinite(action_space.low)) and np.all(np.isfinite(action_space.high)))
            self.kind, self.dim = ("box" if bounded else "standardized"), int(action_space.shape[0])
        else:
            raise ValueError(f"got action space {describe_space(action_space)}; the diffusion policy supports Discrete and flat Box actions")
        if self.kind == "standardized" and (mean is None or std is None):
            raise ValueError("an unbounded Box action space needs the dataset's action mean and std")
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float32)
        self.std = None if std is None else np.maximum(np.asarray(std, dtype=np.float32), 1e-6)

    @property
    def clip(self) -> float | None:
        """The bound of the code (None where the actions are unbounded)."""
        return None if self.kind == "standardized" else 1.0

    def encode(self, actions: np.ndarray) -> np.ndarray:
        """``(B, *act_shape)`` env actions -> ``(B, dim)`` float32 codes."""
        a = np.asarray(actions)
        if self.kind == "onehot":
            index = a.reshape(-1).astype(np.int64) - int(self.space.start)
            return (2.0 * np.eye(self.dim, dtype=np.float32)[index] - 1.0).astype(np.float32)
        a = a.reshape(len(a), self.dim).astype(np.float32)
        if self.kind == "box":
            low, high = self.space.low.astype(np.float32), self.space.high.astype(np.float32)
            return np.clip(2.0 * (a - low) / (high - low) - 1.0, -1.0, 1.0)
        return (a - self.mean) / self.std

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """``(B, dim)`` codes -> ``(B, *act_shape)`` actions inside the space."""
        if self.kind == "onehot":
            return codes.argmax(axis=-1).astype(np.int64) + int(self.space.start)
        if self.kind == "box":
            low, high = self.space.low, self.space.high
            return np.clip(low + 0.5 * (np.clip(codes, -1.0, 1.0) + 1.0) * (high - low), low, high).astype(self.space.dtype)
        return np.clip(codes * self.std + self.mean, self.space.low, self.space.high).astype(self.space.dtype)

    def state(self) -> dict[str, Any]:
        return {"mean": None if self.mean is None else self.mean.tolist(), "std": None if self.std is None else self.std.tolist()}


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """``(B,)`` integer timesteps -> ``(B, dim)`` sinusoidal features (the Transformer's, as in DDPM)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / max(half, 1))
    angles = t.float()[:, None] * freqs[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


class DiffusionPolicy(nn.Module):
    """Encoder + noise predictor ``eps(x_t, t, features)``; see the module docstring."""

    def __init__(self, encoder: Encoder, codec: ActionCodec, schedule: NoiseSchedule, hidden: Sequence[int] = (256, 256),
                 time_dim: int = 32, denoise_steps: int = 10, seed: int = 0, prediction: str = "sample") -> None:  # fmt: skip
        super().__init__()
        if prediction not in PREDICTIONS:
            raise ValueError(f"got prediction={prediction!r}; expected one of {', '.join(PREDICTIONS)}")
        self.prediction = prediction
        if encoder.is_sequence:
            raise ValueError(f"got sequence encoder {encoder.name!r}; the diffusion policy uses a feed-forward encoder (mlp, cnn, vae, …)")
        if time_dim < 2 or time_dim % 2:
            raise ValueError(f"got time_dim={time_dim}; expected an even number >= 2")
        schedule.ddim_timesteps(denoise_steps)  # refuses K outside 1..T
        self.encoder, self.codec, self.schedule = encoder, codec, schedule
        self.hidden, self.time_dim, self.denoise_steps = [int(h) for h in hidden], int(time_dim), int(denoise_steps)
        layers: list[nn.Module] = []
        width = encoder.output_dim + codec.dim + time_dim
        for size in self.hidden:
            layers += [nn.Linear(width, size), nn.Mish()]
            width = size
        layers.append(nn.Linear(width, codec.dim))
        self.noise_net = nn.Sequential(*layers)
        self.observation_space = encoder.observation_space
        self.action_space = codec.space
        self.generator = torch.Generator()
        self.seed(seed)

    def seed(self, seed: int) -> None:
        """Seed the generator that sampling draws its noise from."""
        self.generator.manual_seed(int(seed))

    def _net(self, features: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.noise_net(torch.cat([features, x_t, timestep_embedding(t, self.time_dim)], dim=-1))

    def predict_noise(self, features: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The noise in ``x_t``: the net's output, or (``sample``) the noise its predicted ``x_0`` implies."""
        out = self._net(features, x_t, t)
        if self.prediction == "epsilon":
            return out
        ab = self.schedule._at(self.schedule.alpha_bar, t, x_t)
        return (x_t - ab.sqrt() * out) / (1.0 - ab).sqrt()

    def loss(self, observations: Any, codes: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """DDPM's loss at uniformly drawn timesteps: mean squared error of the predicted noise, or (``sample``) of ``x_0``."""
        features = self.encoder(observations)
        device = features.device
        t = torch.randint(0, self.schedule.steps, (codes.shape[0],), generator=generator).to(device)
        noise = torch.randn(codes.shape, generator=generator).to(device)
        x_t = self.schedule.add_noise(codes, noise, t)
        target = noise if self.prediction == "epsilon" else codes
        return ((self._net(features, x_t, t) - target) ** 2).mean()

    @torch.no_grad()
    def sample_codes(self, observations: Any, steps: int | None = None, eta: float = 0.0) -> torch.Tensor:
        """``(B, dim)`` codes by ``steps`` (default ``denoise_steps``) DDIM steps from noise."""
        features = self.encoder(observations)
        times = self.schedule.ddim_timesteps(self.denoise_steps if steps is None else steps)
        device, shape = features.device, (features.shape[0], self.codec.dim)
        x = torch.randn(shape, generator=self.generator).to(device)
        for i, t in enumerate(times):
            s = times[i + 1] if i + 1 < len(times) else -1
            eps = self.predict_noise(features, x, torch.full((shape[0],), t, device=device, dtype=torch.long))
            noise = torch.randn(shape, generator=self.generator).to(device) if eta > 0 else None
            x = self.schedule.ddim_step(x, eps, t, s, eta, noise)
        return x

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = False,
                **kwargs: Any) -> tuple[np.ndarray, None]:  # fmt: skip
        """SB3's ``predict``: one observation or a batch -> ``(actions, None)``."""
        obs = np.asarray(observation)
        single = obs.shape == self.observation_space.shape
        batch = obs[None] if single else obs
        was_training = self.training
        self.eval()
        try:
            codes = self.sample_codes(batch, eta=0.0 if deterministic else 1.0).cpu().numpy()
        finally:
            self.train(was_training)
        actions = self.codec.decode(codes)
        return (actions[0] if single else actions), None
