"""The noise schedule against its closed forms, computed here in plain Python from the definitions."""

import math

import numpy as np
import pytest
import torch

from rlkit.pretrain.diffusion.schedule import NoiseSchedule, make_betas


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_tables_are_the_closed_forms(kind):
    sched = NoiseSchedule(50, kind)
    betas = make_betas(kind, 50)
    product = 1.0
    for t in range(50):
        product *= 1.0 - float(betas[t])
        assert float(sched.alpha_bar[t]) == pytest.approx(product, rel=1e-12)
        if t == 0:
            assert float(sched.posterior_variance[0]) == 0.0  # q(x_{-1} | x_0, x_0) is the point x_0
            continue
        ab_prev = product / (1.0 - float(betas[t]))
        # Bayes for the Gaussians q(x_t | x_{t-1}) = N(sqrt(a_t) x_{t-1}, b_t) and q(x_{t-1} | x_0) = N(sqrt(ab_{t-1}) x_0, 1 - ab_{t-1}).
        precision = (1.0 - float(betas[t])) / float(betas[t]) + 1.0 / (1.0 - ab_prev)
        assert float(sched.posterior_variance[t]) == pytest.approx(1.0 / precision, rel=1e-10)
        x0, xt = 0.7, -1.3
        mean = (math.sqrt(1.0 - float(betas[t])) * xt / float(betas[t]) + math.sqrt(ab_prev) * x0 / (1.0 - ab_prev)) / precision
        got_mean, _ = sched.posterior(torch.tensor([[x0]], dtype=torch.float64), torch.tensor([[xt]], dtype=torch.float64), t)
        assert float(got_mean) == pytest.approx(mean, rel=1e-10)


def test_linear_betas_and_cosine_alpha_bar():
    assert np.allclose(make_betas("linear", 1000), [1e-4 + (0.02 - 1e-4) * i / 999 for i in range(1000)])
    f = lambda t: math.cos((t / 100 + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    sched = NoiseSchedule(100, "cosine")
    for t in (0, 10, 50, 90):  # below the 0.999 cap on betas
        assert float(sched.alpha_bar[t]) == pytest.approx(f(t + 1) / f(0), rel=1e-9)


def test_noise_then_x0_and_ddim_to_the_data_are_exact():
    gen = torch.Generator().manual_seed(0)
    sched = NoiseSchedule(100, "linear")
    x0, noise = torch.randn(8, 3, generator=gen, dtype=torch.float64), torch.randn(8, 3, generator=gen, dtype=torch.float64)
    t = torch.randint(0, 100, (8,), generator=gen)
    xt = sched.add_noise(x0, noise, t)
    assert torch.allclose(sched.predict_x0(xt, noise, t), x0, atol=1e-10)
    # A point mass at x0: the true noise of x_t is (x_t - sqrt(ab) x0) / sqrt(1 - ab); DDIM with eta=0 lands on x0.
    x = sched.add_noise(x0, noise, 99)
    steps = sched.ddim_timesteps(7)
    assert steps[0] == 99 and steps[-1] == 0 and len(steps) == 7
    for i, step in enumerate(steps):
        ab = sched.alpha_bar[step]
        eps = (x - ab.sqrt() * x0) / (1 - ab).sqrt()
        x = sched.ddim_step(x, eps, step, steps[i + 1] if i + 1 < len(steps) else -1)
    assert torch.allclose(x, x0, atol=1e-9)


def test_ddim_inversion_inverts_the_deterministic_step():
    gen = torch.Generator().manual_seed(1)
    sched = NoiseSchedule(100, "cosine")
    x, eps = torch.randn(5, 2, generator=gen, dtype=torch.float64), torch.randn(5, 2, generator=gen, dtype=torch.float64)
    for s, t in ((-1, 0), (3, 40), (40, 99)):
        forward = sched.ddim_invert_step(x, eps, s, t)
        assert torch.allclose(sched.ddim_step(forward, eps, t, s, eta=0.0), x, atol=1e-10)


def test_ddim_with_eta_one_on_consecutive_steps_is_ddpm():
    gen = torch.Generator().manual_seed(2)
    sched = NoiseSchedule(60, "linear")
    x, eps, z = (torch.randn(4, 2, generator=gen, dtype=torch.float64) for _ in range(3))
    for t in (1, 30, 59):
        assert torch.allclose(sched.ddim_step(x, eps, t, t - 1, eta=1.0, noise=z), sched.ddpm_step(x, eps, t, z), atol=1e-10)


@pytest.mark.parametrize("sampler, steps", [("ddpm", 200), ("ddim", 200), ("ddim", 50)])
def test_exact_noise_of_gaussian_data_samples_that_gaussian(sampler, steps):
    # DDIM integrates the probability-flow ODE: with few steps it narrows the distribution (10 steps: std 0.24 of 0.3).
    # Data N(mu, s^2): x_t ~ N(sqrt(ab) mu, ab s^2 + 1 - ab) and E[eps | x_t] = sqrt(1-ab) (x_t - sqrt(ab) mu) / (ab s^2 + 1 - ab).
    mu, s = 1.5, 0.3
    sched = NoiseSchedule(200, "cosine")
    gen = torch.Generator().manual_seed(3)

    def eps_of(x, t):
        ab = sched.alpha_bar[t]
        return (1 - ab).sqrt() * (x - ab.sqrt() * mu) / (ab * s * s + 1 - ab)

    x = torch.randn(20000, 1, generator=gen, dtype=torch.float64)
    if sampler == "ddpm":
        for t in range(199, -1, -1):
            x = sched.ddpm_step(x, eps_of(x, t), t, torch.randn(x.shape, generator=gen, dtype=torch.float64))
    else:
        times = sched.ddim_timesteps(steps)
        for i, t in enumerate(times):
            x = sched.ddim_step(x, eps_of(x, t), t, times[i + 1] if i + 1 < len(times) else -1)
    assert float(x.mean()) == pytest.approx(mu, abs=0.02)
    assert float(x.std()) == pytest.approx(s, rel=0.05)


def test_bad_schedules_are_refused():
    with pytest.raises(ValueError, match="positive integer"):
        NoiseSchedule(0)
    with pytest.raises(ValueError, match="expected one of linear, cosine"):
        NoiseSchedule(10, "quadratic")
    with pytest.raises(ValueError, match="from 1 to the schedule's 10"):
        NoiseSchedule(10).ddim_timesteps(11)
