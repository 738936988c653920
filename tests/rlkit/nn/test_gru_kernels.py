"""The Numba GRU kernels behind training chunks: their float32 exp, and the float32 GRU against torch's own."""

import numpy as np
import pytest
import torch

from rlkit.nn.gru_kernels import _exp_into
from rlkit.nn import recurrent
from rlkit.nn.recurrent import _GRUSequence, _GRUSequenceOps

ULP = 2.0**-23  # float32's relative spacing at 1


def _exp32(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    _exp_into(x, out, np.empty(x.size, np.int32), False)
    return out


def test_float32_exp_is_within_three_ulp_of_exact():
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-87, 88, 200_001), rng.normal(0, 3, 100_000), [0.0, -0.0, 1e-30, -1e-30]]).astype(np.float32)
    exact = np.exp(x.astype(np.float64))
    relative = np.abs(_exp32(x) / exact - 1)
    assert relative.max() <= 3 * ULP, f"worst relative error {relative.max() / ULP:.2f} ulp at x={x[relative.argmax()]}"


def test_float32_exp_saturates_and_keeps_nan():
    got = _exp32(np.array([-1000.0, -87.0, 88.0, 1000.0, np.nan, np.inf, -np.inf], np.float32))
    assert np.all(np.isfinite(got[:4])) and np.all(got[:4] > 0)  # clamped: no overflow to inf, no denormal 0
    np.testing.assert_allclose(got[[1, 2]], np.exp([-87.0, 88.0]), rtol=3 * ULP)
    assert np.isnan(got[4])  # a diverged network shows as NaN, as with torch's exp
    assert np.isfinite(got[5]) and np.isfinite(got[6])


def _torch_gru_stacked(gi, h0, w_hh, b_hh):
    """The oracle: torch's GRU cell per member and step, from the same input projections (b_ih folded into gi)."""
    outs, hs = [], []
    for k in range(gi.shape[1]):
        h, out_k = h0[k], []
        for t in range(gi.shape[0]):
            gh = h @ w_hh[k].T + b_hh[k]
            i_r, i_z, i_n = gi[t, k].chunk(3, dim=-1)
            h_r, h_z, h_n = gh.chunk(3, dim=-1)
            r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
            n = torch.tanh(i_n + r * h_n)
            h = (1 - z) * n + z * h
            out_k.append(h)
        outs.append(torch.stack(out_k))
        hs.append(h)
    return torch.stack(outs, dim=1), torch.stack(hs)


@pytest.mark.parametrize("recurrence", [_GRUSequence, _GRUSequenceOps])  # Numba kernels; torch ops (large products)
@pytest.mark.parametrize("scale", [1.0, 30.0])  # 30: saturated gates
def test_float32_gru_matches_torch_cell_forward_and_backward(recurrence, scale):
    """Outputs and every gradient of K = 2 stacked float32 GRUs against torch's float32 maths."""
    g = torch.Generator().manual_seed(3)
    steps, k, batch, hidden = 9, 2, 5, 16
    inputs = [
        torch.randn(steps, k, batch, 3 * hidden, generator=g) * scale,
        torch.randn(k, batch, hidden, generator=g),
        torch.randn(k, 3 * hidden, hidden, generator=g) * 0.3,
        torch.randn(k, 3 * hidden, generator=g),
    ]
    weight = torch.randn(steps, k, batch, hidden, generator=g)

    def run(fn):
        leaves = [x.clone().requires_grad_() for x in inputs]
        out, h = fn(*leaves)
        ((out * weight).sum() + (h * h).sum()).backward()
        return out, h, [x.grad for x in leaves]

    got_out, got_h, got_grads = run(recurrence.apply)
    ref_out, ref_h, ref_grads = run(_torch_gru_stacked)
    torch.testing.assert_close(got_out, ref_out, atol=2e-6, rtol=1e-5)
    torch.testing.assert_close(got_h, ref_h, atol=2e-6, rtol=1e-5)
    for name, a, b in zip(["gi", "h0", "w_hh", "b_hh"], got_grads, ref_grads):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4, msg=name)
        assert a.abs().max() > 0, name


@pytest.mark.parametrize("limit, expected", [(recurrent.NUMBA_MAX_STEP_PRODUCT, _GRUSequence), (0, _GRUSequenceOps)])
def test_stacked_gru_uses_the_numba_kernels_up_to_the_size_limit(monkeypatch, limit, expected):
    monkeypatch.setattr(recurrent, "NUMBA_MAX_STEP_PRODUCT", limit)
    used = []
    monkeypatch.setattr(expected, "apply", lambda *args, _apply=expected.apply: used.append(expected) or _apply(*args))
    encoder = recurrent.RecurrentEncoder(3, 8, cell="gru")
    encoder(torch.randn(2, 5, 3), torch.zeros(2, 5, dtype=torch.bool), None)
    assert used == [expected]


def test_nan_input_gives_nan_from_that_step_on():
    """As torch's GRU: a NaN reaching the recurrence is not clamped into a finite state."""
    torch.manual_seed(0)
    encoder = recurrent.RecurrentEncoder(3, 8, cell="gru")
    x = torch.randn(2, 6, 3)
    x[0, 3, 1] = float("nan")
    out, _ = encoder(x, torch.zeros(2, 6, dtype=torch.bool), None)
    assert torch.isnan(out[0, 3:]).all() and torch.isfinite(out[0, :3]).all() and torch.isfinite(out[1]).all()
