"""rlkit.buffers: the Numba SB3 buffers against SB3's own, and the sequence buffer's chunking
against a plain-Python reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from hypothesis import given, settings
from hypothesis import strategies as st
from stable_baselines3 import PPO
from stable_baselines3.common.buffers import DictRolloutBuffer, RolloutBuffer

from rlkit.buffers import NumbaDictRolloutBuffer, NumbaRolloutBuffer, SequenceRolloutBuffer
from rlkit.returns import gae_advantages

# --- drop-in SB3 buffers ---------------------------------------------------------------------------


def test_ppo_with_numba_buffer_ends_with_the_same_parameters():
    def train(**kwargs):
        model = PPO("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=64, n_epochs=2, seed=0, device="cpu", **kwargs)
        initial = {k: v.clone() for k, v in model.policy.state_dict().items()}
        model.learn(256)
        return model, initial

    stock, initial = train()
    numba, _ = train(rollout_buffer_class=NumbaRolloutBuffer)
    assert type(numba.rollout_buffer) is NumbaRolloutBuffer and type(stock.rollout_buffer) is RolloutBuffer
    stock_params, numba_params = stock.policy.state_dict(), numba.policy.state_dict()
    assert any(not th.equal(initial[k], stock_params[k]) for k in initial), "training did not move the parameters"
    # GAE is bit-identical and everything else is SB3's, so the parameters are exactly equal.
    for name in stock_params:
        assert th.equal(stock_params[name], numba_params[name]), name


def _fill(buf, rng):
    buf.rewards[:] = rng.standard_normal(buf.rewards.shape)
    buf.values[:] = rng.standard_normal(buf.values.shape)
    buf.episode_starts[:] = rng.random(buf.episode_starts.shape) < 0.1


@pytest.mark.parametrize(
    "stock_cls, numba_cls, obs_space",
    [
        (RolloutBuffer, NumbaRolloutBuffer, spaces.Box(-1, 1, (3,))),
        (DictRolloutBuffer, NumbaDictRolloutBuffer, spaces.Dict({"a": spaces.Box(-1, 1, (2,)), "b": spaces.Discrete(4)})),
    ],
)
def test_numba_buffers_compute_what_sb3_computes(stock_cls, numba_cls, obs_space):
    buffers = []
    for cls in (stock_cls, numba_cls):
        buf = cls(50, obs_space, spaces.Discrete(2), device="cpu", gamma=0.98, gae_lambda=0.9, n_envs=3)
        _fill(buf, np.random.default_rng(3))
        buf.compute_returns_and_advantage(th.tensor([[0.5], [-1.0], [2.0]]), np.array([False, True, False]))
        buffers.append(buf)
    np.testing.assert_array_equal(buffers[0].advantages, buffers[1].advantages)
    np.testing.assert_array_equal(buffers[0].returns, buffers[1].returns)


def test_numba_buffer_rejects_wrong_last_values():
    buf = NumbaRolloutBuffer(8, spaces.Box(-1, 1, (1,)), spaces.Discrete(2), device="cpu", n_envs=2)
    with pytest.raises(ValueError, match=r"last_values has shape \(3,\); expected one value per env"):
        buf.compute_returns_and_advantage(th.zeros(3), np.zeros(2, bool))
    buf.rewards[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"rewards has non-finite value nan at \[step 3, env 1\]"):
        buf.compute_returns_and_advantage(th.zeros(2), np.zeros(2, bool))


# --- sequence buffer --------------------------------------------------------------------------------

STATE_SHAPES = ((2, 3), (4,))  # e.g. an LSTM's (h, c) of one layer... and a TCN window


def ref_chunks(episode_starts: np.ndarray, chunk_len: int) -> list[tuple[int, int, int]]:
    """(env, start, length) of every chunk: each env's column split at episode starts, then every chunk_len."""
    n_steps, n_envs = episode_starts.shape
    chunks = []
    for e in range(n_envs):
        boundaries = [t for t in range(n_steps) if t == 0 or episode_starts[t, e]] + [n_steps]
        for begin, end in zip(boundaries[:-1], boundaries[1:]):
            for start in range(begin, end, chunk_len):
                chunks.append((e, start, min(chunk_len, end - start)))
    return chunks


def _state_value(i: int, t: int, e: int, shape: tuple[int, ...]) -> np.ndarray:
    return np.full(shape, 1000 * i + 10 * t + e + 1, np.float32)


def _make_buffer(episode_starts, chunk_len, seed=0, truncate=False, obs_space=None, action_masks=False, check=True):
    n_steps, n_envs = episode_starts.shape
    obs_space = obs_space or spaces.Box(-np.inf, np.inf, (2,), np.float32)
    buf = SequenceRolloutBuffer(
        n_steps, obs_space, spaces.Discrete(3), gamma=0.9, gae_lambda=0.8, n_envs=n_envs,
        state_shapes=STATE_SHAPES, chunk_len=chunk_len, seed=seed,
        action_mask_shape=(3,) if action_masks else None,
    )  # fmt: skip
    rng = np.random.default_rng(seed)
    done_after = np.concatenate([episode_starts[1:], np.ones((1, n_envs), bool)], axis=0)
    truncated = done_after & (rng.random((n_steps, n_envs)) < 0.5) if truncate else None
    for t in range(n_steps):
        ids = np.stack([np.full(n_envs, t), np.arange(n_envs)], axis=1).astype(np.float32)  # (n_envs, 2): who am I
        obs = {"id": ids, "image": np.full((n_envs, 2, 2), t, np.uint8)} if isinstance(obs_space, spaces.Dict) else ids
        state = tuple(th.as_tensor(np.stack([_state_value(i, t, e, s) for e in range(n_envs)])) for i, s in enumerate(STATE_SHAPES))
        buf.add(
            obs, np.arange(n_envs) % 3, rng.standard_normal(n_envs), episode_starts[t], th.as_tensor(rng.standard_normal((n_envs, 1))),
            th.as_tensor(rng.standard_normal(n_envs)), state,
            truncated=None if truncated is None else truncated[t],
            truncation_values=None if truncated is None else rng.standard_normal(n_envs),
            action_mask=np.tile([True, False, t % 2 == 0], (n_envs, 1)) if action_masks else None, check=check,
        )  # fmt: skip
    buf.compute_returns_and_advantage(th.as_tensor(rng.standard_normal(n_envs)), done_after[-1].astype(bool))
    return buf, truncated


@pytest.mark.parametrize("obs_space", [None, spaces.Dict({"id": spaces.Box(-np.inf, np.inf, (2,), np.float32),
                                                             "image": spaces.Box(0, 255, (2, 2), np.uint8)})])
def test_unchecked_add_stores_what_checked_add_stores(obs_space):
    """add(check=False), sequence PPO's per-step call, writes the same arrays as the validating add."""
    starts = np.random.default_rng(3).random((9, 3)) < 0.3
    checked, _ = _make_buffer(starts, 4, truncate=True, obs_space=obs_space, action_masks=True)
    unchecked, _ = _make_buffer(starts, 4, truncate=True, obs_space=obs_space, action_masks=True, check=False)
    names = ["actions", "rewards", "values", "log_probs", "episode_starts", "truncated", "truncation_values", "action_masks",
             "advantages", "returns"]  # fmt: skip
    for name in names:
        a, b = getattr(checked, name), getattr(unchecked, name)
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    for a, b in zip(checked.states, unchecked.states):
        np.testing.assert_array_equal(a, b)
    obs_a, obs_b = (b.observations if isinstance(b.observations, dict) else {"": b.observations} for b in (checked, unchecked))
    for key in obs_a:
        np.testing.assert_array_equal(obs_a[key], obs_b[key], err_msg=key)
    assert unchecked.full and checked.truncated.any() and np.isnan(unchecked.truncation_values).any()


@st.composite
def episode_start_grids(draw):
    n_steps, n_envs = draw(st.integers(1, 30)), draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    p = draw(st.sampled_from([0.0, 0.05, 0.3, 1.0]))
    starts = rng.random((n_steps, n_envs)) < p
    starts[0] = draw(st.booleans())  # the first row may or may not be an episode start
    return starts, draw(st.integers(1, 9))


@settings(max_examples=60, deadline=None)
@given(episode_start_grids())
def test_chunk_layout_matches_python_reference(case):
    starts, chunk_len = case
    buf, _ = _make_buffer(starts, chunk_len)
    layout = buf.chunk_layout()
    assert list(zip(layout.env.tolist(), layout.start.tolist(), layout.length.tolist())) == ref_chunks(starts, chunk_len)


@settings(max_examples=40, deadline=None)
@given(episode_start_grids(), st.integers(1, 7))
def test_minibatches_cover_every_transition_once_and_never_cross_an_episode_start(case, batch_size):
    starts, chunk_len = case
    n_steps, n_envs = starts.shape
    buf, _ = _make_buffer(starts, chunk_len)
    expected = {(e, s, n) for e, s, n in ref_chunks(starts, chunk_len)}
    seen, chunks = [], set()
    for batch in buf.get(batch_size):
        b = batch.mask.shape[0]
        assert b <= batch_size and batch.mask.shape == (b, chunk_len) and batch.mask.dtype == th.bool
        assert batch.observations.shape == (b, chunk_len, 2) and batch.actions.shape == (b, chunk_len, 1)
        for name in ("old_values", "old_log_prob", "advantages", "returns", "episode_starts"):
            assert getattr(batch, name).shape == (b, chunk_len), name
        for c in range(b):
            mask = batch.mask[c].numpy()
            length = int(mask.sum())
            assert mask[:length].all() and not mask[length:].any(), "padding is not a suffix"
            ids = batch.observations[c].numpy()
            t0, e = int(ids[0, 0]), int(ids[0, 1])
            chunks.add((e, t0, length))
            # Real positions are consecutive steps of one env ...
            np.testing.assert_array_equal(ids[:length], np.stack([np.arange(t0, t0 + length), np.full(length, e)], 1))
            seen += [(t0 + k, e) for k in range(length)]
            # ... with no episode start after the first position, and matching the stored data.
            assert not starts[t0 + 1 : t0 + length, e].any()
            np.testing.assert_array_equal(batch.episode_starts[c, :length].numpy(), starts[t0 : t0 + length, e])
            np.testing.assert_array_equal(batch.advantages[c, :length].numpy(), buf.advantages[t0 : t0 + length, e])
            np.testing.assert_array_equal(batch.old_values[c, :length].numpy(), buf.values[t0 : t0 + length, e])
            # Padding is zero everywhere.
            for name in ("observations", "actions", "old_values", "old_log_prob", "advantages", "returns", "episode_starts"):
                assert not getattr(batch, name)[c, length:].any(), name
            # The state is the memory stored at the chunk's first step.
            for i, shape in enumerate(STATE_SHAPES):
                np.testing.assert_array_equal(batch.states[i][c].numpy(), _state_value(i, t0, e, shape))
    assert sorted(seen) == sorted((t, e) for t in range(n_steps) for e in range(n_envs))  # each exactly once
    assert chunks == expected


def test_shuffle_is_seeded():
    starts = np.zeros((40, 3), bool)
    starts[[0, 7, 19]] = True

    def order(seed):
        buf, _ = _make_buffer(starts, 4, seed=seed)
        return [tuple(batch.observations[:, 0, :].flatten().tolist()) for batch in buf.get(5)]

    assert order(1) == order(1)
    assert order(1) != order(2)


def test_advantages_use_gae_with_the_stored_truncation_bootstraps():
    rng = np.random.default_rng(5)
    starts = rng.random((30, 3)) < 0.2
    buf, truncated = _make_buffer(starts, 8, truncate=True)
    assert truncated.any()
    done_after = np.concatenate([starts[1:], np.ones((1, 3), bool)], axis=0)
    # Recompute from the buffer's stored arrays, with and without the truncation bootstraps.
    args = (buf.rewards, buf.values, buf.episode_starts)
    expected, _ = gae_advantages(*args, np.zeros(3, np.float32), done_after[-1], 0.9, 0.8,
                                 truncated=buf.truncated, truncation_values=buf.truncation_values)  # fmt: skip
    np.testing.assert_array_equal(buf.truncated, truncated)
    np.testing.assert_array_equal(buf.advantages, expected)  # last_values unused: every env is done at the end
    without, _ = gae_advantages(*args, np.zeros(3, np.float32), done_after[-1], 0.9, 0.8)
    assert not np.array_equal(buf.advantages, without)


def test_dict_observations_and_action_masks():
    starts = np.zeros((10, 2), bool)
    starts[[0, 6]] = True
    obs_space = spaces.Dict({"id": spaces.Box(-np.inf, np.inf, (2,), np.float32), "image": spaces.Box(0, 255, (2, 2), np.uint8)})
    buf, _ = _make_buffer(starts, 4, obs_space=obs_space, action_masks=True)
    for batch in buf.get(3):
        assert batch.observations["image"].dtype == th.uint8 and batch.observations["image"].shape[1:] == (4, 2, 2)
        t0 = batch.observations["id"][:, 0, 0].long()
        length = batch.mask.sum(1)
        for c in range(len(t0)):
            steps = t0[c] + th.arange(int(length[c]))
            assert th.equal(batch.observations["image"][c, : length[c], 0, 0], steps.to(th.uint8))
            assert th.equal(batch.action_masks[c, : length[c], 2], steps % 2 == 0)
            assert not batch.action_masks[c, length[c] :].any()


def test_sequence_buffer_bad_input():
    space, act = spaces.Box(-1, 1, (2,), np.float32), spaces.Discrete(2)
    with pytest.raises(ValueError, match="chunk_len=0"):
        SequenceRolloutBuffer(4, space, act, state_shapes=((3,),), chunk_len=0)
    buf = SequenceRolloutBuffer(2, space, act, n_envs=2, state_shapes=((3,),), chunk_len=2)
    good = (np.zeros((2, 2)), np.zeros(2), np.zeros(2), np.ones(2), np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match=r"state\[0\] has shape \(2, 4\); expected \(n_envs, \*state_shapes\[0\]\)=\(2, 3\)"):
        buf.add(*good, (np.zeros((2, 4)),))
    with pytest.raises(ValueError, match="state is a tuple of 2"):
        buf.add(*good, (np.zeros((2, 3)), np.zeros((2, 3))))
    with pytest.raises(ValueError, match=r"obs has shape \(2, 3\)"):
        buf.add(np.zeros((2, 3)), *good[1:], (np.zeros((2, 3)),))
    with pytest.raises(ValueError, match="action_mask_shape=None"):
        buf.add(*good, (np.zeros((2, 3)),), action_mask=np.ones((2, 2), bool))
    with pytest.raises(ValueError, match="truncated and truncation_values go together"):
        buf.add(*good, (np.zeros((2, 3)),), truncated=np.zeros(2, bool))
    buf.add(*good, (np.zeros((2, 3)),))
    with pytest.raises(ValueError, match="holds 1 of 2 steps"):
        next(buf.get(1))
    buf.add(*good, (np.zeros((2, 3)),))
    with pytest.raises(ValueError, match="already holds buffer_size=2"):
        buf.add(*good, (np.zeros((2, 3)),))
    with pytest.raises(ValueError, match="advantages are not computed"):
        next(buf.get(1))
    buf.compute_returns_and_advantage(np.zeros(2), np.zeros(2, bool))
    assert sum(batch.mask.sum().item() for batch in buf.get(1)) == 4
