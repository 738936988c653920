"""Numba kernels of the GRU recurrence over time: the sequential part of `rlkit.nn.recurrent._GRUSequence`.

A training chunk's GRU is T dependent steps on tiny tensors (K members × B rows × H units). As torch
ops, every step is seven dispatches of several microseconds each, far more than the arithmetic. Here
each direction of the recurrence is one compiled loop whose passes LLVM vectorizes: the matrix
products as plain loops over a contiguous inner axis (no BLAS call per step), and the gates' exp as
a polynomial (`_exp_into`), because Numba's scalar ``math.exp`` is a libm call per element that no
compiler vectorizes without Intel's SVML. What is not sequential stays in torch.
"""

from __future__ import annotations

import math

import numpy as np

from rlkit.jit import cached_njit

__all__ = ["as_array", "gru_backward", "gru_forward"]

# Cephes' expf: exp(x) = 2^k * exp(r), k = round(x / ln 2), |r| <= ln(2) / 2, exp(r) by a degree-7 polynomial
# (measured: under 1 float32 ulp over [-87, 88]; tests/rlkit/nn/test_gru_kernels.py holds it to 3).
_LOG2E = np.float32(1.44269504088896341)
_LN2_HI = np.float32(0.693359375)
_LN2_LO = np.float32(-2.12194440e-4)
_P0, _P1, _P2 = np.float32(1.9875691500e-4), np.float32(1.3981999507e-3), np.float32(8.3334519073e-3)
_P3, _P4, _P5 = np.float32(4.1665795894e-2), np.float32(1.6666665459e-1), np.float32(5.0000001201e-1)
_HALF, _ONE, _TWO = np.float32(0.5), np.float32(1.0), np.float32(2.0)
_X_MIN, _X_MAX = np.float32(-87.0), np.float32(88.0)


@cached_njit
def _exp_into(x, out, scale, exact):  # pragma: no cover - compiled
    """``out[i] = exp(x[i])`` over 1-D arrays; `scale`: an int32 scratch array as long as `x`. ``exact``: libm's exp
    (float64 inputs, where the polynomial's float32 accuracy is not enough)."""
    if exact:
        for i in range(x.size):
            out[i] = math.exp(x[i])
        return
    for i in range(x.size):
        v = x[i]  # clamped so that 2^k is a normal float32; written so that a NaN stays NaN, as in torch
        v = _X_MIN if v < _X_MIN else v
        v = _X_MAX if v > _X_MAX else v
        k = np.floor(v * _LOG2E + _HALF)
        r = v - k * _LN2_HI - k * _LN2_LO
        p = ((((_P0 * r + _P1) * r + _P2) * r + _P3) * r + _P4) * r + _P5
        out[i] = p * r * r + r + _ONE
        scale[i] = (np.int32(k) + 127) << 23  # the bits of the float32 2^k
    power = scale.view(np.float32)
    for i in range(x.size):
        out[i] *= power[i]


@cached_njit
def gru_forward(gi, h0, w_hh_t, b_hh, out, z, coef, dn_pre, exact):  # pragma: no cover - compiled
    """torch's GRU (gate order r, z, n; ``h = n + z (h_prev - n)``) for K members over T steps, on rows ``(t, k, b)``
    (row ``(t K + k) B + b``): input projections ``gi (T K B, 3H)``, ``h0 (K B, H)``, ``w_hh_t (K, H, 3H)``
    (W_hh transposed), ``b_hh (K, 3H)``. Fills ``out (T K B, H)`` and, for `gru_backward`, ``z (T K B, H)``,
    ``coef (T K B, 3H)`` (the derivatives of the hidden-side pre-activations of r, z, n by ``h_t``) and
    ``dn_pre (T K B, H)`` (that of n's input-side pre-activation). Two-dimensional arrays: with fewer
    indices Numba compiles this in a third of the time, at the same speed."""
    rows, gates = gi.shape
    hidden, members, kb = gates // 3, b_hh.shape[0], h0.shape[0]
    batch, steps = kb // members, rows // kb
    gh = np.empty((kb, gates), gi.dtype)  # the hidden-side pre-activations of one step
    pre, pre_n = np.empty(kb * 2 * hidden, gi.dtype), np.empty(kb * hidden, gi.dtype)  # exp arguments: r, z; n
    ex, ex_n, r = np.empty_like(pre), np.empty_like(pre_n), np.empty_like(pre_n)  # r: the reset gate, for the last pass
    scale = np.empty(pre.size, np.int32)
    h_prev = h0.copy()
    for t in range(steps):
        base = t * kb
        if t > 0:
            for row in range(kb):
                for i in range(hidden):
                    h_prev[row, i] = out[base - kb + row, i]
        for k in range(members):
            for b in range(batch):
                for g in range(gates):
                    gh[k * batch + b, g] = b_hh[k, g]
            for j in range(hidden):  # rows inside: each row of W_hh^T is read once per step, from L1
                w_row = w_hh_t[k, j]
                for b in range(batch):
                    h_j, gh_row = h_prev[k * batch + b, j], gh[k * batch + b]
                    for g in range(gates):
                        gh_row[g] += h_j * w_row[g]
        for row in range(kb):
            for g in range(2 * hidden):
                pre[row * 2 * hidden + g] = -(gi[base + row, g] + gh[row, g])
        _exp_into(pre, ex, scale, exact)
        for row in range(kb):
            for i in range(hidden):  # tanh(v) = 1 - 2 / (exp(2v) + 1)
                r_i = _ONE / (_ONE + ex[row * 2 * hidden + i])
                r[row * hidden + i] = r_i
                pre_n[row * hidden + i] = _TWO * (gi[base + row, 2 * hidden + i] + r_i * gh[row, 2 * hidden + i])
        _exp_into(pre_n, ex_n, scale, exact)
        for row in range(kb):
            for i in range(hidden):
                r_i = r[row * hidden + i]
                z_i = _ONE / (_ONE + ex[row * 2 * hidden + hidden + i])
                n_i = _ONE - _TWO / (ex_n[row * hidden + i] + _ONE)
                h_i = h_prev[row, i]
                out[base + row, i] = n_i + z_i * (h_i - n_i)
                z[base + row, i] = z_i
                dn = (_ONE - z_i) * (_ONE - n_i * n_i)
                dn_pre[base + row, i] = dn
                coef[base + row, i] = dn * gh[row, 2 * hidden + i] * r_i * (_ONE - r_i)
                coef[base + row, hidden + i] = (h_i - n_i) * z_i * (_ONE - z_i)
                coef[base + row, 2 * hidden + i] = dn * r_i


@cached_njit
def gru_backward(w_hh, z, coef, dn_pre, dh, dgi, dgh):  # pragma: no cover - compiled
    """The recurrence of `gru_forward`'s backward pass, from the last step to the first, on its rows.

    ``dh ((T + 1) K B, H)`` holds the gradients reaching each step's output from outside (rows of step ``t`` at
    block ``t + 1``); on return block ``t + 1`` is the whole ``dL/dh_t`` and block 0 is ``dL/dh0``. Fills
    ``dgi (T K B, 3H)``, the gradient of ``gi``, and ``dgh (K T B, 3H)``, that of the hidden-side pre-activations
    (row ``(k T + t) B + b``), from which the caller gets W_hh's and b_hh's gradients as one batched matrix
    product and one sum (BLAS does the product faster than a loop here). ``w_hh (K, 3H, H)``."""
    rows, hidden = z.shape
    members = w_hh.shape[0]
    kb = dh.shape[0] - rows
    batch, steps = kb // members, rows // kb
    for t in range(steps - 1, -1, -1):
        base = t * kb
        for k in range(members):
            for b in range(batch):
                row = base + k * batch + b
                d_out, d_in, grad_gi, grad_gh = dh[kb + row], dh[row], dgi[row], dgh[(k * steps + t) * batch + b]
                coef_row, dn_row, z_row = coef[row], dn_pre[row], z[row]
                for i in range(hidden):
                    d = d_out[i]
                    for g in range(3):
                        grad_gh[g * hidden + i] = coef_row[g * hidden + i] * d
                    grad_gi[2 * hidden + i] = d * dn_row[i]
                    d_in[i] += d * z_row[i]
                for g in range(2 * hidden):
                    grad_gi[g] = grad_gh[g]
                for g in range(3 * hidden):
                    d = grad_gh[g]
                    w_row = w_hh[k, g]
                    for i in range(hidden):
                        d_in[i] += d * w_row[i]


def as_array(tensor) -> np.ndarray:
    """A contiguous CPU tensor's memory as a NumPy array (no copy)."""
    return tensor.detach().numpy()
