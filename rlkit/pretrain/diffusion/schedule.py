"""A DDPM noise schedule (Ho et al. 2020) with DDPM and DDIM (Song et al. 2021) reverse steps, written once.

Forward process: ``q(x_t | x_0) = N(sqrt(ab_t) x_0, (1 - ab_t) I)`` with ``ab_t = prod_{s<=t} (1 - beta_s)``,
``t = 0 … T-1`` (index 0 is the first noising step). The model predicts the noise ``eps``.

* DDPM step (ancestral): ``x_{t-1} = mu_tilde(x_t, x0_hat) + sqrt(beta_tilde_t) z`` with the posterior
  ``q(x_{t-1} | x_t, x_0) = N(c0_t x_0 + ct_t x_t, beta_tilde_t)``.
* DDIM step from ``t`` to ``s < t`` (``s = -1``: to the data, ``ab_{-1} = 1``):
  ``x_s = sqrt(ab_s) x0_hat + sqrt(1 - ab_s - sigma^2) eps + sigma z``,
  ``sigma = eta sqrt((1 - ab_s) / (1 - ab_t)) sqrt(1 - ab_t / ab_s)``; ``eta = 0`` is deterministic and,
  with the true noise, returns ``x_0`` exactly; ``eta = 1`` on every step is DDPM.

``clip`` bounds the predicted ``x_0`` to ``[-clip, clip]`` (as diffusers' ``clip_sample``) where the data
are known to lie in a box. Tables are float64 tensors; steps compute in the input's dtype.
"""

from __future__ import annotations

import math

import numpy as np
import torch

SCHEDULES = ("linear", "cosine")


def make_betas(kind: str, steps: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> np.ndarray:
    """``(steps,)`` float64 betas: ``linear`` (DDPM's, ``beta_start`` to ``beta_end``) or ``cosine``
    (Nichol & Dhariwal 2021: ``ab(t) = cos^2(((t/T) + 0.008) / 1.008 * pi/2)``, betas capped at 0.999)."""
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"got {steps!r} diffusion steps; expected a positive integer, e.g. 100")
    if kind == "linear":
        if not 0 < beta_start <= beta_end < 1:
            raise ValueError(f"got betas {beta_start:g}..{beta_end:g}; expected 0 < beta_start <= beta_end < 1")
        return np.linspace(beta_start, beta_end, steps, dtype=np.float64)
    if kind == "cosine":
        s = 0.008
        f = np.cos(((np.arange(steps + 1, dtype=np.float64) / steps) + s) / (1 + s) * math.pi / 2) ** 2
        return np.minimum(1.0 - f[1:] / f[:-1], 0.999)
    raise ValueError(f"got schedule {kind!r}; expected one of {', '.join(SCHEDULES)}")


class NoiseSchedule:
    """The tables of a ``T``-step schedule and the steps that use them (see the module docstring)."""

    def __init__(self, steps: int = 100, kind: str = "cosine", clip: float | None = None) -> None:
        if clip is not None and not clip > 0:
            raise ValueError(f"got clip={clip}; expected a positive bound or None")
        self.steps, self.kind, self.clip = int(steps), kind, clip
        betas = make_betas(kind, steps)
        alphas = 1.0 - betas
        alpha_bar = np.cumprod(alphas)
        alpha_bar_prev = np.concatenate([[1.0], alpha_bar[:-1]])
        table = {
            "betas": betas,
            "alphas": alphas,
            "alpha_bar": alpha_bar,
            "alpha_bar_prev": alpha_bar_prev,
            "posterior_variance": betas * (1.0 - alpha_bar_prev) / (1.0 - alpha_bar),
            "posterior_coef_x0": betas * np.sqrt(alpha_bar_prev) / (1.0 - alpha_bar),
            "posterior_coef_xt": (1.0 - alpha_bar_prev) * np.sqrt(alphas) / (1.0 - alpha_bar),
        }
        for name, values in table.items():
            setattr(self, name, torch.as_tensor(values, dtype=torch.float64))

    def _at(self, table: torch.Tensor, t: torch.Tensor | int, like: torch.Tensor) -> torch.Tensor:
        """``table[t]`` shaped to broadcast against ``like`` ``(B, ...)``; ``t`` a scalar or ``(B,)``."""
        t = torch.as_tensor(t, device=table.device)
        values = table[t].to(device=like.device, dtype=like.dtype)
        return values.reshape(values.shape + (1,) * (like.dim() - values.dim()))

    def _alpha_bar_or_one(self, t: int, like: torch.Tensor) -> torch.Tensor:
        return torch.ones((), dtype=like.dtype, device=like.device) if t < 0 else self._at(self.alpha_bar, t, like)

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor | int) -> torch.Tensor:
        """A draw of ``q(x_t | x_0)`` for the given standard-normal ``noise``."""
        ab = self._at(self.alpha_bar, t, x0)
        return ab.sqrt() * x0 + (1.0 - ab).sqrt() * noise

    def predict_x0(self, x_t: torch.Tensor, eps: torch.Tensor, t: torch.Tensor | int) -> torch.Tensor:
        """``x_0`` implied by ``x_t`` and the noise ``eps`` (bounded by ``clip`` when set)."""
        ab = self._at(self.alpha_bar, t, x_t)
        x0 = (x_t - (1.0 - ab).sqrt() * eps) / ab.sqrt()
        return x0 if self.clip is None else x0.clamp(-self.clip, self.clip)

    def posterior(self, x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor | int) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and variance of ``q(x_{t-1} | x_t, x_0)``."""
        mean = self._at(self.posterior_coef_x0, t, x_t) * x0 + self._at(self.posterior_coef_xt, t, x_t) * x_t
        return mean, self._at(self.posterior_variance, t, x_t)

    def ddpm_step(self, x_t: torch.Tensor, eps: torch.Tensor, t: int, noise: torch.Tensor | None) -> torch.Tensor:
        """``x_{t-1}`` by ancestral sampling (no noise is added at ``t = 0``, where ``noise`` may be None)."""
        mean, var = self.posterior(self.predict_x0(x_t, eps, t), x_t, t)
        return mean if t == 0 else mean + var.sqrt() * noise

    def ddim_timesteps(self, k: int) -> list[int]:
        """``k`` timesteps from ``T - 1`` down to ``0``, evenly spaced (``k = T``: every step)."""
        if not isinstance(k, (int, np.integer)) or not 1 <= k <= self.steps:
            raise ValueError(f"got {k!r} denoising steps; expected an integer from 1 to the schedule's {self.steps}")
        return [int(round(v)) for v in np.linspace(self.steps - 1, 0, k)]

    def ddim_step(self, x_t: torch.Tensor, eps: torch.Tensor, t: int, s: int, eta: float = 0.0,
                  noise: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
        """``x_s`` from ``x_t`` (``s < t``; ``s = -1`` gives the data); ``eta > 0`` needs ``noise``."""
        ab_t, ab_s = self._at(self.alpha_bar, t, x_t), self._alpha_bar_or_one(s, x_t)
        x0 = self.predict_x0(x_t, eps, t)
        if self.clip is not None:  # the noise consistent with the clipped x_0
            eps = (x_t - ab_t.sqrt() * x0) / (1.0 - ab_t).sqrt()
        sigma = eta * ((1.0 - ab_s) / (1.0 - ab_t)).sqrt() * (1.0 - ab_t / ab_s).sqrt()
        out = ab_s.sqrt() * x0 + (1.0 - ab_s - sigma**2).clamp(min=0.0).sqrt() * eps
        return out if eta == 0 else out + sigma * noise

    def ddim_invert_step(self, x_s: torch.Tensor, eps: torch.Tensor, s: int, t: int) -> torch.Tensor:
        """The deterministic (``eta = 0``) DDIM map run forward, ``x_s`` to ``x_t`` with ``t > s`` (``s = -1``: from the data)."""
        ab_s, ab_t = self._alpha_bar_or_one(s, x_s), self._at(self.alpha_bar, t, x_s)
        x0 = (x_s - (1.0 - ab_s).sqrt() * eps) / ab_s.sqrt()
        return ab_t.sqrt() * x0 + (1.0 - ab_t).sqrt() * eps
