"""VAEs: the reparameterized sample's statistics, the loss against closed forms, training on toy data."""

import numpy as np
import pytest
import torch
from gymnasium import spaces
from torch.distributions import Normal, kl_divergence

from rlkit.nn import ImageVAE, beta_vae_loss, gaussian_kl, make_encoder, reparameterize


def test_reparameterized_sample_has_the_posterior_mean_and_variance():
    n = 200_000
    mu = torch.tensor([1.0, -2.0, 0.0]).expand(n, 3)
    var = torch.tensor([0.25, 4.0, 1.0])
    logvar = var.log().expand(n, 3)
    z = reparameterize(mu, logvar, generator=torch.Generator().manual_seed(0))
    # 5 standard errors: fails by chance with probability < 1e-6.
    assert torch.all((z.mean(0) - mu[0]).abs() < 5 * (var / n).sqrt())
    assert torch.all((z.var(0) - var).abs() < 5 * var * (2 / n) ** 0.5)
    same = reparameterize(mu, logvar, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(same, z, rtol=0, atol=0)  # seeded: same numbers


def test_reparameterization_passes_gradients_to_mu_and_logvar():
    mu = torch.zeros(4, 2, requires_grad=True)
    logvar = torch.zeros(4, 2, requires_grad=True)
    reparameterize(mu, logvar).pow(2).sum().backward()
    assert mu.grad.abs().sum() > 0 and logvar.grad.abs().sum() > 0


def test_kl_matches_torch_distributions():
    mu, logvar = torch.randn(6, 4), torch.randn(6, 4)
    expected = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(gaussian_kl(mu, logvar), expected)


def test_beta_vae_loss_parts():
    x, recon = torch.rand(5, 3, 4, 4), torch.randn(5, 3, 4, 4)
    mu, logvar = torch.randn(5, 2), torch.randn(5, 2)
    loss1, parts = beta_vae_loss(recon, x, mu, logvar, beta=1.0)
    loss3, _ = beta_vae_loss(recon, x, mu, logvar, beta=3.0)
    torch.testing.assert_close(loss3 - loss1, 2 * parts["kl"])
    torch.testing.assert_close(parts["reconstruction"], 0.5 * ((recon - x) ** 2).sum((1, 2, 3)).mean())
    _, bern = beta_vae_loss(recon, x, mu, logvar, likelihood="bernoulli")
    p = torch.sigmoid(recon)
    expected = -(x * p.log() + (1 - x) * (1 - p).log()).sum((1, 2, 3)).mean()
    torch.testing.assert_close(bern["reconstruction"], expected, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="likelihood"):
        beta_vae_loss(recon, x, mu, logvar, likelihood="laplace")


def _train(encoder, data, steps, lr=1e-2):
    optimizer = torch.optim.Adam(encoder.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(0)
    losses = []
    for step in range(steps):
        batch = data[torch.randint(len(data), (64,), generator=generator)]
        loss, _ = encoder.loss(batch, beta=1.0, generator=generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return np.mean(losses[:20]), np.mean(losses[-20:])


def test_vector_vae_loss_decreases_on_a_toy_manifold():
    # 8-D points on a 2-D plane plus a little noise: a 2-latent VAE can explain them.
    g = torch.Generator().manual_seed(0)
    basis = torch.randn(2, 8, generator=g)
    data = 3 * torch.randn(512, 2, generator=g) @ basis + 0.05 * torch.randn(512, 8, generator=g)
    # The loss of knowing nothing (decode the mean, KL = 0): what a useful VAE must beat by far.
    no_information = 0.5 * data.var(0).sum().item()
    space = spaces.Box(-np.inf, np.inf, (8,), np.float32)
    vae = make_encoder("vae", space, latent_dim=2, hidden_sizes=(32,), seed=0)
    first, last = _train(vae, data, steps=300)
    assert last < 0.3 * first and last < 0.2 * no_information, (first, last, no_information)
    # The features are the posterior means and they carry the data's two factors.
    features = vae(data).detach()
    assert features.shape == (512, 2)
    assert torch.linalg.matrix_rank(features, atol=1e-2) == 2


def test_image_vae_loss_decreases_on_toy_images():
    # 1x8x8 uint8 images of a bright vertical bar at one of 8 positions.
    images = torch.zeros(8, 1, 8, 8, dtype=torch.uint8)
    for i in range(8):
        images[i, 0, :, i] = 255
    data = images.repeat(32, 1, 1, 1)
    space = spaces.Box(0, 255, (1, 8, 8), np.uint8)
    vae = make_encoder("vae", space, latent_dim=2, channels=(8, 8), hidden_dim=32, seed=0)
    assert vae.body.likelihood == "bernoulli"  # images in [0, 1] after preprocessing
    first, last = _train(vae, data, steps=200)
    assert last < 0.5 * first, (first, last)
    recon = vae.reconstruct(images)
    assert recon.shape == (8, 1, 8, 8)
    assert ((recon > 0.5) == (images > 0)).float().mean() > 0.95


@pytest.mark.parametrize("shape,preset", [((3, 7, 9), "grid"), ((2, 41, 37), "nature"), ((1, 5, 5), "grid")])
def test_image_decoder_restores_any_shape(shape, preset):
    vae = ImageVAE(*shape, latent_dim=3, preset=preset)
    z = torch.randn(2, 3)
    assert vae.decode(z).shape == (2, *shape)
    x = torch.rand(2, *shape)
    assert vae.reconstruct(x).shape == (2, *shape)


def test_vae_features_are_the_posterior_mean():
    space = spaces.Box(-1.0, 1.0, (4,), np.float32)
    vae = make_encoder("vae", space, latent_dim=3, seed=0)
    x = torch.rand(5, 4)
    mu, logvar = vae.encode(x)
    torch.testing.assert_close(vae(x), mu, rtol=0, atol=0)
    assert vae.decode(mu).shape == (5, 4)
    assert vae.output_dim == vae.latent_dim == 3
    # Symbolic grids are not images: a Gaussian likelihood on their floats.
    assert make_encoder("vae", spaces.Box(0.0, 3.0, (2, 5, 5), np.float32)).body.likelihood == "gaussian"
