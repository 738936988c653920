"""Sequence pretraining: episode-aware chunks (checked against a plain loop), next-step prediction that beats copying."""

import numpy as np
import pytest

from rlkit.pretrain.seq import make_chunks, train_seq


def test_chunks_never_span_episodes_and_cover_every_step(groundhog_random):
    data = groundhog_random
    steps = np.arange(len(data))
    chunks = make_chunks(data, steps, chunk_len=7)
    ids = data.episode_ids()
    covered = chunks.index[chunks.valid]
    np.testing.assert_array_equal(np.sort(covered), steps)  # every step exactly once
    for row, valid in zip(chunks.index, chunks.valid):
        real = row[valid]
        assert len(set(ids[real])) == 1  # one episode per chunk
        assert np.array_equal(real, np.arange(real[0], real[0] + len(real)))  # consecutive steps
    # has_next: the next step exists and belongs to the same episode (plain-loop reference)
    ends = data.terminated | data.truncated
    for row, valid, has_next in zip(chunks.index, chunks.valid, chunks.has_next):
        for t, ok, nxt in zip(row, valid, has_next):
            expected = bool(ok) and t + 1 < len(data) and not ends[t] and not data.episode_starts[t + 1]
            assert nxt == expected


def test_next_observation_prediction_beats_copying(groundhog_random, tmp_path):
    result = train_seq(groundhog_random, "gru", {"hidden_size": 32}, chunk_len=30, epochs=8, batch_size=16,
                       learning_rate=3e-3, seed=0, run_dir=tmp_path)  # fmt: skip
    best = result.history[result.best_epoch]
    assert best["val_loss"] < result.history[0]["val_loss"]
    assert best["val_obs_mse"] < 0.5 * result.baselines["copy_obs_mse"], (best, result.baselines)
    from rlkit.tb import read_scalars

    assert {"pretrain/val_obs_mse", "pretrain/val_reward_mse"} <= set(read_scalars(tmp_path))


def test_feed_forward_encoder_is_refused(groundhog_random):
    with pytest.raises(ValueError, match="sequence pretraining"):
        train_seq(groundhog_random, "mlp", epochs=1)
