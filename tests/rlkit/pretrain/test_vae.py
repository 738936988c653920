"""β-VAE pretraining on a real collected dataset: the loss falls, TensorBoard gets the tags, the checkpoint reloads."""

import numpy as np
import pytest
import torch

from rlkit.nn import load_encoder
from rlkit.pretrain.vae import save_vae, train_vae
from rlkit.tb import read_scalars


def test_vae_loss_falls_on_collected_frames(image_random, tmp_path):
    result = train_vae(image_random, "cnn", latent_dim=8, beta=1.0, epochs=3, batch_size=64, seed=0, run_dir=tmp_path)
    val = [row["val_loss"] for row in result.history]
    train = [row["loss"] for row in result.history]
    assert all(b < a for a, b in zip(val, val[1:])) and val[-1] < 0.9 * val[0], val
    assert train[-1] < train[0], train
    scalars = read_scalars(tmp_path)
    assert {"pretrain/recon_loss", "pretrain/kl", "pretrain/val_recon_loss"} <= set(scalars)
    # the grid of inputs vs reconstructions is written for image observations
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tmp_path))
    acc.Reload()
    assert "pretrain/reconstructions" in acc.Tags()["images"]
    path = save_vae(result, tmp_path / "encoder.pt")
    reloaded = load_encoder(path).eval()
    obs = image_random.observations[:16]
    with torch.no_grad():
        torch.testing.assert_close(reloaded(obs), result.encoder(obs))


def test_vae_same_seed_same_numbers(grid_optimal):
    a = train_vae(grid_optimal, "mlp", latent_dim=4, epochs=2, seed=5)
    b = train_vae(grid_optimal, "mlp", latent_dim=4, epochs=2, seed=5)
    assert a.history == b.history


@pytest.mark.parametrize("body, fixture", [("mlp", "image_random"), ("cnn", "grid_optimal")])
def test_body_that_cannot_read_the_space_is_refused(body, fixture, request):
    with pytest.raises(ValueError, match=f"`encoder={body}`"):
        train_vae(request.getfixturevalue(fixture), body, epochs=1)


def test_bad_hyperparameters_are_refused(grid_optimal):
    with pytest.raises(ValueError, match="beta"):
        train_vae(grid_optimal, "mlp", beta=-1)
    with pytest.raises(ValueError, match="latent_dim"):
        train_vae(grid_optimal, "mlp", latent_dim=0)
