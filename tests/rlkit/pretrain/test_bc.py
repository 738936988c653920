"""Behaviour cloning: agreement with a deterministic heuristic on held-out episodes; the head maps onto SB3's PPO."""

import numpy as np
import pytest
import torch

from rlkit.pretrain.bc import evaluate_bc, load_bc, save_bc, train_bc


def test_bc_agrees_with_deterministic_heuristic(grid_optimal, tmp_path):
    result = train_bc(grid_optimal, "mlp", epochs=40, batch_size=128, learning_rate=3e-3, holdout=0.2, patience=8, seed=0)
    _, held = grid_optimal.split(0.2, seed=0)
    assert len(held) > 100
    metrics = evaluate_bc(result.policy, grid_optimal, held)
    assert metrics["val_accuracy"] >= 0.95, metrics
    # reloading the checkpoint gives the same actions
    policy = load_bc(save_bc(result, tmp_path / "policy.pt"))
    obs = grid_optimal.observations[held]
    np.testing.assert_array_equal(policy.predict(obs), result.policy.predict(obs))


def test_bc_continuous_fits_thermostat(hvac_schedule):
    result = train_bc(hvac_schedule, "mlp", epochs=40, batch_size=64, learning_rate=3e-3, holdout=0.25, patience=8, seed=0)
    _, held = hvac_schedule.split(0.25, seed=0)
    mse = evaluate_bc(result.policy, hvac_schedule, held)["val_mse"]
    variance = float(hvac_schedule.actions[held].var())
    assert mse < 0.1 * variance, (mse, variance)  # explains > 90% of the thermostat's action variance


def test_early_stopping_keeps_the_best_epoch(grid_optimal):
    result = train_bc(grid_optimal, "mlp", epochs=30, learning_rate=0.05, patience=2, seed=1)
    losses = [row["val_loss"] for row in result.history]
    assert result.best_epoch == int(np.argmin(losses))
    _, held = grid_optimal.split(0.1, seed=1)
    assert evaluate_bc(result.policy, grid_optimal, held)["val_loss"] == pytest.approx(min(losses), rel=1e-5)


def test_exploration_std_replaces_the_fitted_std(hvac_schedule, tmp_path):
    result = train_bc(hvac_schedule, "mlp", epochs=2, seed=0)
    policy = load_bc(save_bc(result, tmp_path / "p.pt", exploration_std=0.2))
    torch.testing.assert_close(policy.log_std.exp(), torch.full((1,), 0.2))
    with pytest.raises(ValueError, match="exploration_std"):
        save_bc(result, tmp_path / "q.pt", exploration_std=0.0)
