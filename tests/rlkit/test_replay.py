"""The sequence replay buffer (rlkit/replay.py): stored memory replays exactly, windows never cross an
episode start or the write head unmasked, and the Numba index kernel equals a plain-Python reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces

from rlkit.nn import make_encoder, sequence_encoder_names
from rlkit.replay import SequenceReplayBuffer, window_index

TINY = {
    "lstm": {"hidden_size": 8},
    "gru": {"hidden_size": 8},
    "tcn": {"channels": 8, "num_blocks": 2},
    "transformer": {"d_model": 8, "num_heads": 2, "num_layers": 1, "context_len": 6},
}


def reference_window_index(start, pos, full, size, window):
    """Plain Python: walk from each start; a step is written until the walk reaches the write head
    (or, in a ring that has not wrapped, the first unwritten position)."""
    index, valid = [], []
    for s in start:
        rows, ok, written = [], [], True
        for i in range(window):
            p = (int(s) + i) % size
            if i > 0 and p == pos:
                written = False  # the next step to write: from here on older (or no) data
            if not full and (p >= pos or int(s) + i >= size):
                written = False
            rows.append(p)
            ok.append(written)
        index.append(rows)
        valid.append(ok)
    return np.array(index, dtype=np.int64).reshape(len(start), window), np.array(valid, dtype=bool).reshape(len(start), window)


@pytest.mark.parametrize("seed", range(20))
def test_window_index_equals_the_plain_python_reference(seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(4, 40))
    window = int(rng.integers(1, 2 * size))
    full = bool(rng.integers(2))
    pos = int(rng.integers(size)) if full else int(rng.integers(1, size + 1)) % size or 1
    start = rng.integers(size if full else pos, size=16)
    got = window_index(start, pos, full, size, window)
    want = reference_window_index(start, pos, full, size, window)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def _episodes(rng, n_envs, steps, max_len=7, truncate_every=3):
    """Per step and env: episode id, step id, whether the step starts an episode, ends it by termination
    or by truncation (every `truncate_every`-th episode ends by a time limit)."""
    ep_id = np.zeros((steps, n_envs), np.int64)
    starts = np.zeros((steps, n_envs), bool)
    term = np.zeros((steps, n_envs), bool)
    trunc = np.zeros((steps, n_envs), bool)
    for e in range(n_envs):
        t, episode = 0, e * 1000
        while t < steps:
            length = int(rng.integers(1, max_len + 1))
            end = min(t + length, steps)
            ep_id[t:end, e], starts[t, e] = episode, True
            if t + length <= steps:
                (trunc if episode % truncate_every == 2 else term)[t + length - 1, e] = True
            t, episode = end, episode + 1
    return ep_id, starts, term, trunc


@pytest.mark.parametrize("stride, burn_in, seq_len", [(4, 0, 4), (3, 2, 5), (1, 3, 2)])
def test_windows_never_cross_an_episode_start_or_the_write_head_unmasked(stride, burn_in, seq_len):
    rng = np.random.default_rng(stride)
    n_envs, steps = 3, 137
    ep_id, starts, term, trunc = _episodes(rng, n_envs, steps)
    obs_space = spaces.Box(-np.inf, np.inf, (2,), np.float32)  # (episode id, global step)
    buffer = SequenceReplayBuffer(60, obs_space, spaces.Discrete(2), ((1,),), seq_len=seq_len, burn_in=burn_in,
                                  state_stride=stride, n_envs=n_envs, seed=0)  # fmt: skip
    for t in range(steps):
        obs = np.stack([ep_id[t], np.full(n_envs, t)], axis=1).astype(np.float32)
        buffer.add(obs, np.zeros(n_envs), np.full(n_envs, t), starts[t], term[t], trunc[t], (obs[:, 1:],))
        if t < 5:
            continue
        s = buffer.sample(64)
        obs_w, valid = s.observations.numpy(), s.valid.numpy()
        step = obs_w[..., 1]
        assert valid[:, 0].all()
        # The stored memory is the first step's (here: its global step).
        np.testing.assert_array_equal(s.states[0].numpy()[:, 0], step[:, 0])
        # Valid steps are consecutive steps of one env, ending at the newest step at most.
        assert (np.diff(step, axis=1)[valid[:, 1:]] == 1).all() and (step[valid] <= t).all()
        # The episode changes only where the window says an episode starts.
        changes = np.diff(obs_w[..., 0], axis=1) != 0
        assert (changes & valid[:, 1:] <= s.episode_starts.numpy()[:, 1:]).all()
        # A training step's loss needs a written step, no truncation, and a written next step unless terminated.
        b = burn_in
        rows = [(int(g), e) for g, e in zip(step[:, b:b + seq_len].ravel(), np.repeat(s.env, seq_len))]
        is_term = np.array([term[g, e] for g, e in rows]).reshape(-1, seq_len)
        is_trunc = np.array([trunc[g, e] for g, e in rows]).reshape(-1, seq_len)
        want = valid[:, b:b + seq_len] & ~is_trunc & (is_term | valid[:, b + 1:b + seq_len + 1])
        np.testing.assert_array_equal(s.mask.numpy(), want)
        np.testing.assert_array_equal(s.terminated.numpy().astype(bool) & want, is_term & want)
        np.testing.assert_array_equal(s.rewards.numpy()[want], step[:, b:b + seq_len][want])
    assert buffer.full and buffer.size % stride == 0


def _rollout(encoder_name, buffer_size=40, steps=90, n_envs=3, burn_in=2, seq_len=5, stride=3):
    """Act with an encoder (T = 1 per step, memory reset at episode starts) and store its memory;
    returns the buffer and, per (ring position, env), the features the encoder gave at that step."""
    torch.manual_seed(0)
    obs_space = spaces.Box(-1.0, 1.0, (3,), np.float32)
    encoder = make_encoder(encoder_name, obs_space, sequence=True, **TINY[encoder_name]).eval()
    buffer = SequenceReplayBuffer(buffer_size, obs_space, spaces.Box(-1, 1, (1,), np.float32), encoder.state_shapes,
                                  seq_len=seq_len, burn_in=burn_in, state_stride=stride, n_envs=n_envs, seed=1)  # fmt: skip
    rng = np.random.default_rng(2)
    _, starts, term, trunc = _episodes(rng, n_envs, steps)
    memory, after = encoder.initial_state(n_envs), {}
    with torch.no_grad():
        for t in range(steps):
            obs = rng.uniform(-1, 1, (n_envs, 3)).astype(np.float32)
            start = torch.as_tensor(starts[t])
            keep = (~start).float()
            memory = tuple(m * keep.view(-1, *([1] * (m.dim() - 1))) for m in memory)  # the memory the policy reads
            features, new_memory = encoder(torch.as_tensor(obs)[:, None], start[:, None], memory)
            buffer.add(obs, np.zeros((n_envs, 1)), np.zeros(n_envs), starts[t], term[t], trunc[t], memory)
            for e in range(n_envs):
                after[(buffer.pos - 1) % buffer.size, e] = features[e, 0].clone()
            memory = new_memory
    return encoder, buffer, after


@pytest.mark.parametrize("encoder_name", sequence_encoder_names())
def test_a_sampled_window_replayed_from_its_stored_state_reproduces_the_rollout_memory(encoder_name):
    """What the memory gives (the features at every written step of a window) is the rollout's: step by step
    from the stored state, and burn-in then the rest in one call each (as an agent trains). Up to float
    rounding: the rollout ran 3 envs in a batch, the replay 32 windows."""
    encoder, buffer, after = _rollout(encoder_name)
    s = buffer.sample(32)
    index = (s.start[:, None] + np.arange(buffer.window)) % buffer.size
    valid = s.valid.numpy()
    with torch.no_grad():
        memory, steps = s.states, []
        for i in range(buffer.window):
            features, memory = encoder(s.observations[:, i : i + 1], s.episode_starts[:, i : i + 1], memory)
            steps.append(features[:, 0])
        _, warm = encoder(s.observations[:, : buffer.burn_in], s.episode_starts[:, : buffer.burn_in], s.states)
        chunk, _ = encoder(s.observations[:, buffer.burn_in :], s.episode_starts[:, buffer.burn_in :], warm)
    chunk = torch.cat([torch.stack(steps[: buffer.burn_in], 1), chunk], dim=1)
    for b, i in zip(*np.nonzero(valid)):
        want = after[index[b, i], s.env[b]]
        torch.testing.assert_close(steps[i][b], want, rtol=0, atol=1e-6)
        torch.testing.assert_close(chunk[b, i], want, rtol=1e-5, atol=1e-5)
    assert valid.all(axis=1).sum() >= 8  # windows written to their end were checked


def test_replay_notices_a_wrong_stored_memory():
    """The replay check can fail: the memory stored one stride later does not reproduce the window."""
    encoder, buffer, after = _rollout("gru")
    envs = np.zeros(4, np.int64)
    starts = np.array([0, 3, 6, 9])
    s = buffer.windows(envs, starts)
    shifted = buffer.windows(envs, starts + buffer.state_stride)
    with torch.no_grad():
        good, _ = encoder(s.observations[:, :1], s.episode_starts[:, :1], s.states)
        bad, _ = encoder(s.observations[:, :1], s.episode_starts[:, :1], shifted.states)
    checked = 0
    for b in range(4):
        if not s.episode_starts[b, 0]:
            torch.testing.assert_close(good[b, 0], after[starts[b], 0], rtol=0, atol=1e-6)
            assert not torch.allclose(bad[b, 0], after[starts[b], 0], atol=1e-4)
            checked += 1
    assert checked


def test_the_draws_are_seeded_and_travel_with_the_pickled_buffer():
    import pickle

    _, buffer, _ = _rollout("gru")
    copy = pickle.loads(pickle.dumps(buffer))
    a, b = buffer.sample(16), copy.sample(16)
    np.testing.assert_array_equal(a.start, b.start)
    np.testing.assert_array_equal(a.env, b.env)
    assert torch.equal(a.observations, b.observations)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"seq_len": 0}, "seq_len=0"), ({"burn_in": -1}, "burn_in=-1"), ({"state_stride": 0}, "state_stride=0")],
)
def test_bad_arguments_are_one_line_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SequenceReplayBuffer(100, spaces.Box(0, 1, (2,)), spaces.Discrete(2), ((4,),), **kwargs)
    with pytest.raises(ValueError, match="empty"):
        SequenceReplayBuffer(100, spaces.Box(0, 1, (2,)), spaces.Discrete(2), ((4,),)).sample(2)


def test_stored_action_masks_come_back_with_their_steps_across_the_ring():
    """Masks added per step come back at the window positions of those steps (plain-Python reference: the global
    step each ring position last held), after the ring has wrapped; steps added before any mask are all-allowed,
    and a buffer that never got a mask samples none."""
    n_envs, width, steps = 2, 5, 53
    rng = np.random.default_rng(0)
    masks = rng.random((steps, n_envs, width)) < 0.5
    buffer = SequenceReplayBuffer(24, spaces.Box(-np.inf, np.inf, (1,), np.float32), spaces.Discrete(width), ((1,),),
                                  seq_len=3, burn_in=1, state_stride=3, n_envs=n_envs, seed=0)  # fmt: skip
    unmasked = SequenceReplayBuffer(24, buffer.observation_space, buffer.action_space, ((1,),), seq_len=3, burn_in=1, n_envs=n_envs)
    size = buffer.size
    for t in range(steps):
        args = (np.full((n_envs, 1), t), np.zeros(n_envs), np.zeros(n_envs), np.zeros(n_envs), np.zeros(n_envs), np.zeros(n_envs), (np.zeros((n_envs, 1)),))
        buffer.add(*args, action_mask=None if t < 2 else masks[t])
        unmasked.add(*args)
    assert unmasked.sample(4).action_masks is None and unmasked.action_masks is None
    envs, starts = buffer.sample_starts(32)
    batch = buffer.windows(envs, starts)
    for b in range(32):
        for i in range(buffer.window):
            p = (int(starts[b]) + i) % size
            step = p + size * ((steps - 1 - p) // size)  # the last global step written at ring position p
            want = np.ones(width, bool) if step < 2 else masks[step, envs[b]]
            assert batch.observations[b, i, 0].item() == step
            np.testing.assert_array_equal(batch.action_masks[b, i].numpy(), want)


def test_bad_action_masks_are_one_line_value_errors():
    args = (np.zeros((2, 1)), np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2), (np.zeros((2, 1)),))
    buffer = SequenceReplayBuffer(16, spaces.Box(-1, 1, (1,), np.float32), spaces.Discrete(3), ((1,),), seq_len=2, n_envs=2)
    with pytest.raises(ValueError, match=r"action_mask has shape \(2, 4\); expected \(2, 3\) \(n_envs, actions\)"):
        buffer.add(*args, action_mask=np.ones((2, 4)))
    box = SequenceReplayBuffer(16, spaces.Box(-1, 1, (1,), np.float32), spaces.Box(-1, 1, (1,), np.float32), ((1,),), seq_len=2, n_envs=2)
    with pytest.raises(ValueError, match="action masks apply to Discrete actions"):
        box.add(*args, action_mask=np.ones((2, 1)))
