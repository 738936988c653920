"""Datasets: collection against a plain rollout, write/read round trip, refusals."""

import gymnasium as gym
import numpy as np
import pytest

import envs
from envs.baselines import load_baseline, run_episodes
from rlkit.pretrain import check_spaces, load_dataset, save_dataset
from rlkit.pretrain.dataset import ARRAYS


@pytest.mark.parametrize("env_id", ["rlkit/GridWorld-Image-v0", "rlkit/HVAC-v0", "rlkit/GroundhogDay-Easy-v0", "rlkit/Trading-v0"])
def test_round_trip_is_identical(env_id, tmp_path, collect_from):
    data = collect_from(env_id, "random", 300, seed=3)
    path = save_dataset(data, tmp_path / "d.npz")
    back = load_dataset(path)
    for name in ARRAYS:
        a, b = getattr(data, name), getattr(back, name)
        assert a.dtype == b.dtype and a.shape == b.shape, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert back.manifest == data.manifest
    assert set(back.infos) == set(data.infos)
    for key in data.infos:
        np.testing.assert_array_equal(back.infos[key], data.infos[key])
    for key in data.episode_metrics:
        np.testing.assert_array_equal(back.episode_metrics[key], data.episode_metrics[key])
    env = gym.make(env_id)
    check_spaces(back, env.observation_space, env.action_space)  # the env it came from is accepted


def test_returns_match_a_plain_rollout(collect_from):
    """Episode returns in the dataset equal envs.baselines.run_episodes' with the same seeds (oracle)."""
    data = collect_from("rlkit/GridWorld-v0", "optimal", 400, seed=7)
    env = gym.make("rlkit/GridWorld-v0")
    ends = np.flatnonzero(data.terminated | data.truncated)
    starts = np.flatnonzero(data.episode_starts)
    returns = [data.rewards[s : e + 1].sum() for s, e in zip(starts, ends)]
    expected = run_episodes(env, load_baseline("rlkit/GridWorld-v0", "optimal", env), len(ends), seed=7)
    np.testing.assert_allclose(returns, expected, rtol=1e-6)
    assert data.manifest["episodes_finished"] == len(ends)
    assert data.manifest["seed"] == 7 and data.manifest["policy"] == "optimal"
    # every episode starts right after the previous one ended
    assert starts[0] == 0 and np.array_equal(starts[1:], ends[:-1] + 1)


def test_episode_metrics_recorded(hvac_schedule):
    assert "energy_kwh" in hvac_schedule.episode_metrics
    assert len(hvac_schedule.episode_metrics["energy_kwh"]) == hvac_schedule.manifest["episodes_finished"] == 4


def test_mismatched_spaces_are_refused(tmp_path, collect_from):
    data = collect_from("rlkit/GridWorld-v0", "random", 50)
    other = gym.make("rlkit/GridWorld-Image-v0")
    with pytest.raises(ValueError, match="observation space .* collect a dataset from the same env"):
        check_spaces(data, other.observation_space, other.action_space)
    hvac = gym.make("rlkit/HVAC-Discrete-v0")
    data = collect_from("rlkit/HVAC-v0", "random", 50)
    with pytest.raises(ValueError, match="action space"):
        check_spaces(data, hvac.observation_space, hvac.action_space)


def test_bad_files_are_refused(tmp_path, collect_from):
    with pytest.raises(FileNotFoundError, match="rlkit collect"):
        load_dataset(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not an rlkit dataset"):
        load_dataset(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="without a manifest"):
        load_dataset(tmp_path / "other.npz")
    data = collect_from("rlkit/GridWorld-v0", "random", 10)
    with pytest.raises(ValueError, match=".npz"):
        save_dataset(data, tmp_path / "d.pkl")
    assert not list(tmp_path.glob(".*tmp"))  # atomic writes leave no temp files behind


def test_split_holds_out_whole_episodes(grid_optimal):
    train, held = grid_optimal.split(0.2, seed=0)
    ids = grid_optimal.episode_ids()
    assert len(set(ids[train]) & set(ids[held])) == 0
    assert len(train) + len(held) == len(grid_optimal)
    with pytest.raises(ValueError, match="holdout"):
        grid_optimal.split(1.5)
