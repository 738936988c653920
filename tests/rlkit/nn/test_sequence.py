"""Sequence encoders (LSTM, GRU, TCN, Transformer): incremental = full, causality, episode masking, oracles."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from gymnasium import spaces
from torch import nn

from rlkit.nn import make_encoder, sequence_encoder_names
from rlkit.nn.tcn import TCN
from rlkit.nn.transformer import TransformerEncoder, sinusoidal_encoding

DIM = 3
SPACE = spaces.Box(-np.inf, np.inf, (DIM,), np.float32)
VARIANTS = {
    "lstm": dict(hidden_size=8, num_layers=2),
    "gru": dict(hidden_size=8, num_layers=2),
    "tcn": dict(channels=[6, 5], kernel_size=3),  # dilations 1, 2: receptive field 13
    "transformer": dict(d_model=8, num_heads=2, num_layers=2, context_len=4),
    "transformer-learned": dict(d_model=8, num_heads=2, num_layers=2, context_len=3, positional="learned", max_len=6),
}


def build(variant):
    name = variant.split("-")[0]
    return make_encoder(name, SPACE, sequence=True, seed=1, **VARIANTS[variant]).eval()


def random_starts(batch, steps, seed, p=0.15):
    g = np.random.default_rng(seed)
    starts = g.random((batch, steps)) < p
    starts[0, 0] = True
    starts[1, :] = False  # one row without any start: continues the initial state
    return torch.as_tensor(starts)


def run_steps(encoder, x, starts, state, sizes):
    """Call the encoder chunk by chunk (sizes sum to T), carrying the state."""
    outs, t = [], 0
    for n in sizes:
        out, state = encoder(x[:, t : t + n], starts[:, t : t + n], state)
        outs.append(out)
        t += n
    return torch.cat(outs, dim=1), state


def nonzero_state(encoder, batch, seed):
    """A state as a previous chunk would leave it (so the tests exercise carried memory)."""
    x = torch.randn(batch, 7, DIM, generator=torch.Generator().manual_seed(seed))
    starts = torch.zeros(batch, 7, dtype=torch.bool)
    starts[:, 0] = True
    return encoder(x, starts, None)[1]


ALL = list(VARIANTS)
assert {v.split("-")[0] for v in ALL} == set(sequence_encoder_names()), "every sequence encoder needs a variant here"


@pytest.mark.parametrize("variant", ALL)
@pytest.mark.parametrize("sizes", [[1] * 16, [5, 11], [16], [3, 1, 9, 3]])
def test_incremental_equals_full_sequence(variant, sizes):
    encoder = build(variant)
    batch, steps = 4, 16
    x = torch.randn(batch, steps, DIM)
    starts = random_starts(batch, steps, seed=len(sizes))
    state = nonzero_state(encoder, batch, seed=2)
    full, full_state = encoder(x, starts, state)
    stepped, stepped_state = run_steps(encoder, x, starts, state, sizes)
    torch.testing.assert_close(stepped, full, atol=1e-5, rtol=1e-5)
    for a, b in zip(stepped_state, full_state):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("variant", ALL)
def test_causal_future_inputs_do_not_change_the_past(variant):
    encoder = build(variant)
    x = torch.randn(3, 12, DIM)
    starts = random_starts(3, 12, seed=4)
    state = nonzero_state(encoder, 3, seed=5)
    base, _ = encoder(x, starts, state)
    for t in (0, 5, 10):
        changed = x.clone()
        changed[:, t + 1 :] += torch.randn_like(changed[:, t + 1 :]) * 3
        out, _ = encoder(changed, starts, state)
        torch.testing.assert_close(out[:, : t + 1], base[:, : t + 1], atol=0, rtol=0)
        assert not torch.allclose(out[:, t + 1 :], base[:, t + 1 :])  # the future does see them


@pytest.mark.parametrize("variant", ALL)
def test_nothing_flows_across_an_episode_start(variant):
    encoder = build(variant)
    batch, steps, s = 3, 12, 6
    x = torch.randn(batch, steps, DIM)
    starts = torch.zeros(batch, steps, dtype=torch.bool)
    starts[:, s] = True
    state = nonzero_state(encoder, batch, seed=6)
    base, base_state = encoder(x, starts, state)
    # The episode starting at s, run alone from an empty memory: the oracle for outputs at >= s.
    alone, alone_state = encoder(x[:, s:], starts[:, s:], None)
    torch.testing.assert_close(base[:, s:], alone, atol=1e-5, rtol=1e-5)
    for a, b in zip(base_state, alone_state):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    # Changing everything before s (inputs and carried state) changes nothing from s on.
    changed = x.clone()
    changed[:, :s] = torch.randn(batch, s, DIM) * 5
    other_state = nonzero_state(encoder, batch, seed=7)
    out, _ = encoder(changed, starts, other_state)
    torch.testing.assert_close(out[:, s:], base[:, s:], atol=0, rtol=0)
    assert not torch.allclose(out[:, :s], base[:, :s])


@pytest.mark.parametrize("variant", ALL)
def test_start_at_first_step_ignores_the_carried_state(variant):
    encoder = build(variant)
    x = torch.randn(2, 5, DIM)
    starts = torch.zeros(2, 5, dtype=torch.bool)
    starts[:, 0] = True
    a, _ = encoder(x, starts, nonzero_state(encoder, 2, seed=8))
    b, _ = encoder(x, starts, None)
    torch.testing.assert_close(a, b, atol=0, rtol=0)


@pytest.mark.parametrize("variant", ALL)
def test_each_row_is_independent_of_the_others(variant):
    """Batch rows take different code paths (an inner start in one row); each equals its own run."""
    encoder = build(variant)
    x = torch.randn(3, 10, DIM)
    starts = random_starts(3, 10, seed=9, p=0.3)
    state = nonzero_state(encoder, 3, seed=10)
    together, _ = encoder(x, starts, state)
    for b in range(3):
        alone, _ = encoder(x[b : b + 1], starts[b : b + 1], tuple(s[b : b + 1] for s in state))
        torch.testing.assert_close(together[b : b + 1], alone, atol=1e-5, rtol=1e-5)


# --- oracles per family ---------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_recurrent_matches_torch_rnn_run_per_episode(cell):
    encoder = build(cell)
    rnn = encoder.core.rnn
    x = torch.randn(3, 14, DIM)
    starts = random_starts(3, 14, seed=11, p=0.25)
    state = nonzero_state(encoder, 3, seed=12)
    out, _ = encoder(x, starts, state)
    for b in range(3):
        hx = tuple(s[b : b + 1].transpose(0, 1).contiguous() for s in state)
        t0 = 0
        bounds = [t for t in range(1, 14) if starts[b, t]] + [14]
        for t1 in bounds:
            if starts[b, t0]:
                hx = tuple(torch.zeros_like(h) for h in hx)
            ref, new = rnn(x[b : b + 1, t0:t1], hx if cell == "lstm" else hx[0])
            hx = new if cell == "lstm" else (new,)
            torch.testing.assert_close(out[b : b + 1, t0:t1], ref, atol=1e-6, rtol=1e-5)
            t0 = t1


def _torch_rnn_per_piece(core, x, starts, state):
    """The oracle: torch's own nn.GRU/nn.LSTM module, cut at every start time, started rows zeroed."""
    hx = tuple(s.transpose(0, 1).contiguous() for s in state)
    cuts = [t for t in range(1, x.shape[1]) if starts[:, t].any()]
    bounds, outs = [0, *cuts, x.shape[1]], []
    for t0, t1 in zip(bounds[:-1], bounds[1:]):
        keep = (~starts[:, t0]).to(x.dtype).view(1, -1, 1)
        hx = tuple(h * keep for h in hx)
        out, new = core.rnn(x[:, t0:t1], hx if core.cell == "lstm" else hx[0])
        hx = new if core.cell == "lstm" else (new,)
        outs.append(out)
    return torch.cat(outs, dim=1), tuple(h.transpose(0, 1) for h in hx)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_recurrent_gradients_match_torch_rnn(cell):
    """Training chunks (GRU: the hand-written backward pass) give torch's gradients for weights, input and state."""
    encoder = make_encoder(cell, SPACE, sequence=True, seed=1, **VARIANTS[cell]).double()
    core = encoder.core
    x = torch.randn(3, 14, DIM, dtype=torch.double, requires_grad=True)
    starts = random_starts(3, 14, seed=14, p=0.25)
    state = tuple(torch.randn(3, *shape, dtype=torch.double, requires_grad=True) for shape in core.state_shapes)
    weight = torch.randn(3, 14, core.output_dim, dtype=torch.double)
    inputs = [x, *state, *core.parameters()]

    def grads(out, new):
        loss = (out * weight).sum() + sum((s * s).sum() for s in new)  # through every output and the final state
        return out, torch.autograd.grad(loss, inputs)

    got_out, got = grads(*core(x, starts, state))
    ref_out, ref = grads(*_torch_rnn_per_piece(core, x, starts, state))
    torch.testing.assert_close(got_out, ref_out, atol=1e-12, rtol=1e-10)
    for name, a, b in zip(["x", "state", "state", *(n for n, _ in core.named_parameters())], got, ref):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-10, msg=name)
    assert all(g.abs().max() > 0 for g in got)  # every input's gradient reaches back


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_recurrent_encoders_run_together_as_each_alone(cell):
    """Sequence PPO runs actor and critic memories in one call (a GRU pair as one batched recurrence)."""
    from rlkit.nn.recurrent import run_recurrent, stackable

    cores = tuple(make_encoder(cell, SPACE, sequence=True, seed=s, **VARIANTS[cell]).core for s in (1, 2))
    assert stackable(cores) and not stackable((cores[0], build("tcn").core))
    x = torch.randn(3, 12, DIM)
    starts = random_starts(3, 12, seed=15, p=0.2)
    states = tuple(nonzero_state(c, 3, seed=16 + i) for i, c in enumerate(cores))
    together, new_states = run_recurrent(cores, x, starts, states)
    together[0].sum().backward()
    for core, out, new, state in zip(cores, together, new_states, states):
        alone, alone_new = core(x, starts, state)
        torch.testing.assert_close(out, alone, atol=1e-6, rtol=1e-5)
        for a, b in zip(new, alone_new):
            torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
    # Each core's gradient is its own: the first's output reaches only the first's weights.
    assert all(p.grad is not None and p.grad.abs().max() > 0 for p in cores[0].parameters())
    assert all(p.grad is None or not p.grad.any() for p in cores[1].parameters())


@pytest.mark.parametrize("variant", ["transformer", "transformer-learned"])
@pytest.mark.parametrize("steps", [1, 12])
def test_transformers_run_together_as_each_alone(variant, steps):
    """Sequence PPO runs actor and critic Transformers as one pass with stacked weights."""
    from rlkit.nn.transformer import run_transformers, stackable_transformers

    cores = tuple(make_encoder("transformer", SPACE, sequence=True, seed=s, **VARIANTS[variant]).core for s in (1, 2))
    other = make_encoder("transformer", SPACE, sequence=True, seed=1, **{**VARIANTS[variant], "context_len": 5}).core
    assert stackable_transformers(cores) and not stackable_transformers((cores[0], other))
    assert not stackable_transformers((cores[0], build("tcn").core))
    x = torch.randn(3, steps, DIM)
    starts = random_starts(3, steps, seed=15, p=0.2)
    # Different caches, the same validity and positions (they follow the episode starts alone).
    states = [list(nonzero_state(c, 3, seed=16 + i)) for i, c in enumerate(cores)]
    states[1][-2:] = states[0][-2:]
    together, new_states = run_transformers(cores, x, starts, tuple(map(tuple, states)))
    together[0].sum().backward()
    for core, out, new, state in zip(cores, together, new_states, states):
        alone, alone_new = core(x, starts, tuple(state))
        torch.testing.assert_close(out, alone, atol=1e-6, rtol=1e-5)
        for a, b in zip(new, alone_new):
            torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
    # Each core's gradient is its own: the first's output reaches only the first's weights.
    assert all(p.grad is not None and p.grad.abs().max() > 0 for p in cores[0].parameters())
    assert all(p.grad is None or not p.grad.any() for p in cores[1].parameters())


def test_fixed_weights_reuses_stacks_within_and_sees_changes_after():
    """Rollouts stack the actor's and critic's Transformer weights once (`fixed_weights`): the same outputs as
    restacking every call, and a weight change made after the context is seen by the next call."""
    from rlkit.nn.transformer import fixed_weights, run_transformers

    cores = tuple(make_encoder("transformer", SPACE, sequence=True, seed=s, **VARIANTS["transformer"]).core for s in (1, 2))
    x = torch.randn(3, 1, DIM)
    starts = torch.zeros(3, 1, dtype=torch.bool)
    states = tuple(c.initial_state(3) for c in cores)
    with torch.no_grad():
        fresh, _ = run_transformers(cores, x, starts, states)
        with fixed_weights():
            first, _ = run_transformers(cores, x, starts, states)
            again, _ = run_transformers(cores, x, starts, states)
        for a, b, c in zip(fresh, first, again):
            torch.testing.assert_close(b, a, atol=0, rtol=0)
            torch.testing.assert_close(c, a, atol=0, rtol=0)
        for core in cores:
            core.blocks[0].ff[3].weight.mul_(-1.0)
        with fixed_weights():
            changed, _ = run_transformers(cores, x, starts, states)
    assert all(not torch.allclose(a, b) for a, b in zip(changed, fresh))


def reference_tcn(tcn: TCN, x: torch.Tensor) -> torch.Tensor:
    """The textbook causal TCN: left-pad each conv with (k - 1) * d zeros (Bai et al.'s Chomp1d), one episode."""
    h = x.transpose(1, 2)  # (B, D, T)
    for block in range(len(tcn.shortcuts)):
        y = h
        for conv in tcn.convs[2 * block : 2 * block + 2]:
            y = F.relu(F.conv1d(F.pad(y, (conv.past_len, 0)), conv.weight, conv.bias, dilation=conv.dilation))
        h = F.relu(y + tcn.shortcuts[block](h))
    return h.transpose(1, 2)


def test_tcn_matches_the_textbook_causal_conv_per_episode():
    encoder = build("tcn")
    x = torch.randn(3, 20, DIM)
    starts = random_starts(3, 20, seed=13, p=0.2)
    starts[:, 0] = True
    out, _ = encoder(x, starts, None)
    for b in range(3):
        bounds = [t for t in range(20) if starts[b, t]] + [20]
        for t0, t1 in zip(bounds[:-1], bounds[1:]):
            ref = reference_tcn(encoder.core, x[b : b + 1, t0:t1])
            torch.testing.assert_close(out[b : b + 1, t0:t1], ref, atol=1e-5, rtol=1e-5)


def test_tcn_fast_path_equals_masked_taps_path():
    encoder = build("tcn")
    x = torch.randn(3, 9, DIM)
    starts = torch.zeros(3, 9, dtype=torch.bool)
    starts[0, 0] = True  # a start at t = 0 only: the plain conv1d path
    state = nonzero_state(encoder, 3, seed=15)
    fast, fast_state = encoder(x, starts, state)
    encoder.core.force_masked_taps = True
    masked, masked_state = encoder(x, starts, state)
    torch.testing.assert_close(masked, fast, atol=1e-5, rtol=1e-5)
    for a, b in zip(masked_state, fast_state):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_tcn_receptive_field_is_exact():
    tcn = TCN(DIM, channels=[4, 4, 4], kernel_size=3)
    assert tcn.receptive_field == 1 + 2 * 2 * (1 + 2 + 4) == TCN.receptive_field_of(3, 3) == 29
    x = torch.randn(1, 40, DIM, requires_grad=True)
    out, _ = tcn(x, torch.zeros(1, 40, dtype=torch.bool), None)
    (out[0, -1] * torch.randn(out.shape[-1])).sum().backward()  # generic direction (LayerNorm-proof)
    reached = (x.grad[0].abs().sum(dim=1) > 0).nonzero().flatten()
    assert reached.min().item() == 40 - tcn.receptive_field and reached.max().item() == 39


def reference_transformer(tr: TransformerEncoder, x: torch.Tensor, starts: torch.Tensor) -> torch.Tensor:
    """Built from nn.MultiheadAttention with an allowed-pairs mask written as loops (no cache, empty initial state)."""
    batch, steps, _ = x.shape
    d, heads = tr.output_dim, tr.blocks[0].attn.num_heads
    allowed = torch.zeros(batch, steps, steps, dtype=torch.bool)
    positions = torch.zeros(batch, steps)
    for b in range(batch):
        episode_start = 0
        for t in range(steps):
            if starts[b, t]:
                episode_start = t
            positions[b, t] = t - episode_start
            for s in range(max(episode_start, t - tr.context_len + 1), t + 1):
                allowed[b, t, s] = True
    if tr.positional == "sinusoidal":
        pe = sinusoidal_encoding(positions, d)
    else:
        pe = tr.position_table.weight[positions.long().clamp(max=tr.max_len - 1)]
    h = tr.input_proj(x) + pe
    for block in tr.blocks:
        mha = nn.MultiheadAttention(d, heads, batch_first=True)
        mha.in_proj_weight.data.copy_(block.attn.in_proj_weight)
        mha.in_proj_bias.data.copy_(block.attn.in_proj_bias)
        mha.out_proj.load_state_dict(block.attn.out_proj.state_dict())
        n = block.norm1(h)
        a, _ = mha(n, n, n, attn_mask=(~allowed).repeat_interleave(heads, dim=0), need_weights=False)
        h = h + a
        h = h + block.ff(block.norm2(h))
    return tr.final_norm(h)


def test_transformer_step_masks_equal_the_chunk_masks_at_one_step():
    """Rollouts (T = 1) build the mask, positions and next validity by a shortcut: the same tensors."""
    tr = build("transformer").core
    g = torch.Generator().manual_seed(17)
    starts = torch.rand(64, 1, generator=g) < 0.3
    cache_valid = torch.rand(64, tr.context_len - 1, generator=g) < 0.6
    position = torch.randint(0, 50, (64, 1), generator=g).float()
    fast, general = tr._step_masks(starts, cache_valid, position), tr._chunk_masks(starts, cache_valid, position)
    for a, b in zip(fast, general):
        assert a.shape == b.shape and a.dtype == b.dtype
        assert torch.equal(a, b)
    assert fast[0].any() and not fast[0].all() and fast[1].any()


@pytest.mark.parametrize("d", [6, 7])
def test_sinusoidal_encoding_is_vaswanis(d):
    positions = torch.tensor([[0.0, 1.0, 5.0], [37.0, 2.0, 0.0]])
    enc = sinusoidal_encoding(positions, d)
    assert enc.shape == (2, 3, d)
    for p in positions.flatten().tolist():
        row = enc[positions == p][0].double()
        for i in range(d):
            angle = p / 10000 ** (2 * (i // 2) / d)
            expected = math.sin(angle) if i % 2 == 0 else math.cos(angle)
            assert abs(row[i].item() - expected) < 1e-5, (p, i)


@pytest.mark.parametrize("variant", ["transformer", "transformer-learned"])
def test_transformer_matches_multihead_attention_oracle(variant):
    encoder = build(variant)
    x = torch.randn(3, 15, DIM)
    starts = random_starts(3, 15, seed=14, p=0.2)
    out, _ = encoder(x, starts, None)
    ref = reference_transformer(encoder.core, x, starts)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-4)


def test_transformer_context_window_bounds_the_receptive_field():
    """With L layers and window W, output t depends on inputs t - L (W - 1) .. t only."""
    encoder = build("transformer")  # L = 2, W = 4: reach 6 steps back
    x = torch.randn(1, 12, DIM, requires_grad=True)
    out, _ = encoder(x, torch.zeros(1, 12, dtype=torch.bool), None)
    (out[0, -1] * torch.randn(out.shape[-1])).sum().backward()  # generic direction (LayerNorm-proof)
    reached = (x.grad[0].abs().sum(dim=1) > 0).nonzero().flatten()
    assert reached.min().item() == 11 - 2 * 3


def test_one_step_cost_does_not_grow_with_the_episode():
    """The rollout path attends over the fixed-size cache: state sizes never depend on elapsed steps."""
    encoder = build("transformer")
    state = encoder.initial_state(2)
    shapes = [s.shape for s in state]
    for t in range(10):
        _, state = encoder(torch.randn(2, 1, DIM), torch.tensor([[t == 0], [False]]), state)
        assert [s.shape for s in state] == shapes
    assert state[-1][:, 0].tolist() == [10.0, 10.0]  # positions since episode start
