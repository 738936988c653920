"""LSTM and GRU encoders over ``(B, T, D)`` with an explicit state and episode-start resets.

torch's cuDNN/fused ``nn.LSTM``/``nn.GRU`` run a whole sequence per call but cannot reset the
state in the middle of one, so a chunk is cut at the time steps where any row starts an
episode: one fused call per piece, the starting rows' state zeroed between pieces. A chunk with
no start after t = 0 (the usual case in rollouts, T = 1) is a single call; a training chunk costs
one call per distinct start time, never one per step (sb3-contrib's RecurrentPPO loops per step
as soon as any start is present).

On CPU, GRU training chunks run through `_GRUSequence`, a GRU layer with a hand-written backward pass:
PyTorch has oneDNN kernels for the CPU LSTM (forward and backward) but runs the CPU GRU as a loop
of small cell ops that autograd records one by one, ten nodes per step, so a GRU's backward cost
several times an LSTM's and GRU training ran at half the LSTM's speed. Its recurrence, forward and
backward, is a Numba loop each (`rlkit.nn.gru_kernels`: per step, torch ops cost more in dispatch than
in arithmetic at these sizes). `run_recurrent` also runs several GRUs over the same input as one
batched recurrence (sequence PPO's actor and critic encoders: one loop instead of two).
"""

from __future__ import annotations

import torch
from torch import nn

from rlkit.nn.gru_kernels import as_array, gru_backward, gru_forward
from rlkit.nn.sequence import SequenceModule, reset_rows

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU}
NUMBA_MAX_STEP_PRODUCT = 2**22  # multiply-adds of one step's recurrent product, K x B x 3H x H


class RecurrentEncoder(SequenceModule):
    """Stacked LSTM or GRU; see ``rlkit.nn.sequence`` for the call convention.

    Input ``x (B, T, input_dim)``, ``episode_starts (B, T)``, ``state``; output
    ``(B, T, hidden_size)`` and the new state: ``(h, c)`` each ``(B, num_layers, hidden_size)``
    for an LSTM, ``(h,)`` for a GRU.

    :param input_dim: per-step input size.
    :param hidden_size: state width = ``output_dim``.
    :param num_layers: stacked layers.
    :param cell: ``"lstm"`` or ``"gru"``.
    :param dropout: between stacked layers (torch's semantics; needs ``num_layers > 1``).
    """

    def __init__(
        self, input_dim: int, hidden_size: int = 64, num_layers: int = 1, cell: str = "lstm", dropout: float = 0.0
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"got cell={cell!r}; expected one of {sorted(CELLS)}")
        self.cell = cell
        self.rnn = CELLS[cell](input_dim, hidden_size, num_layers, batch_first=True, dropout=dropout)
        self.input_dim = int(input_dim)
        self.output_dim = int(hidden_size)
        self.num_layers = int(num_layers)

    @property
    def state_shapes(self) -> tuple[tuple[int, ...], ...]:
        shape = (self.num_layers, self.output_dim)
        return (shape, shape) if self.cell == "lstm" else (shape,)

    def _run(self, x: torch.Tensor, state: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        rnn = self.rnn
        if x.shape[1] == 1 and not (rnn.training and rnn.dropout > 0):
            return self._step(x, state)
        # Our state is batch-first (B, L, H); torch's is (L, B, H).
        hx = tuple(s.transpose(0, 1).contiguous() for s in state)
        # torch's fused kernel itself, with the arguments nn.LSTM/nn.GRU.forward pass it: their Python
        # wrapper re-validates shapes we have checked already and costs several times the kernel's own
        # time at rollout sizes (B = n_envs, T = 1). Same op, same weights, bit-identical results.
        weights = [w for layer in rnn.all_weights for w in layer]
        if self.cell == "lstm":
            out, h, c = torch.lstm(x, hx, weights, rnn.bias, rnn.num_layers, rnn.dropout, rnn.training, False, True)
            new = (h, c)
        else:
            out, h = torch.gru(x, hx[0], weights, rnn.bias, rnn.num_layers, rnn.dropout, rnn.training, False, True)
            new = (h,)
        return out, tuple(s.transpose(0, 1) for s in new)

    def _step(self, x: torch.Tensor, state: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """One time step (rollouts: T = 1) by torch's cell ops, layer by layer.

        On CPU ``torch.lstm`` runs a float32 LSTM through oneDNN, whose per-call setup costs about twice
        the native cell at T = 1 (86 vs 31 us per call at B = 8, H = 64); ``lstm_cell``/``gru_cell`` are
        the ops ``nn.LSTMCell``/``nn.GRUCell`` call. Same maths as a sequence call, equal up to float
        rounding (the tests compare them at 1e-5)."""
        rnn, inp = self.rnn, x[:, 0]  # (B, D)
        hs, cs = [], []
        for layer, weights in enumerate(rnn.all_weights):
            if self.cell == "lstm":
                inp, c = torch.lstm_cell(inp, (state[0][:, layer], state[1][:, layer]), *weights)
                cs.append(c)
            else:
                inp = torch.gru_cell(inp, state[0][:, layer], *weights)
            hs.append(inp)
        new = (torch.stack(hs, dim=1),) if not cs else (torch.stack(hs, dim=1), torch.stack(cs, dim=1))
        return inp.unsqueeze(1), new  # (B, 1, H), each (B, L, H)

    def forward(
        self, x: torch.Tensor, episode_starts: torch.Tensor, state: tuple[torch.Tensor, ...] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        starts, state = self.check_inputs(x, episode_starts, state)
        (features,), (state,) = run_recurrent((self,), x, starts, (state,))
        return features, state


def stackable(cores: tuple[nn.Module, ...]) -> bool:
    """Whether `run_recurrent` can run these modules together: RecurrentEncoders of one cell and shape."""
    first = cores[0]
    return all(
        isinstance(c, RecurrentEncoder) and c.cell == first.cell and c.input_dim == first.input_dim
        and c.output_dim == first.output_dim and c.num_layers == first.num_layers and c.rnn.bias == first.rnn.bias
        for c in cores
    )  # fmt: skip


def run_recurrent(
    cores: tuple[RecurrentEncoder, ...], x: torch.Tensor, starts: torch.Tensor, states: tuple[tuple[torch.Tensor, ...], ...]
) -> tuple[tuple[torch.Tensor, ...], tuple[tuple[torch.Tensor, ...], ...]]:
    """`stackable` recurrent encoders, each with its own state, over the same checked input ``x (B, T, D)``
    and bool ``starts (B, T)``: per core, features ``(B, T, H)`` and the new state."""
    steps = x.shape[1]
    # Time steps (after 0) where some row begins an episode: the chunk is cut there (none when T = 1,
    # every rollout step: skip the host sync).
    cuts = torch.nonzero(starts[:, 1:].any(dim=0)).flatten().add(1).tolist() if steps > 1 else []
    bounds = [0, *cuts, steps]
    outputs: list[list[torch.Tensor]] = [[] for _ in cores]
    for t0, t1 in zip(bounds[:-1], bounds[1:]):
        reset = starts[:, t0]
        if bool(reset.any()):
            states = tuple(reset_rows(state, reset) for state in states)
        piece = x[:, t0:t1]
        first = cores[0]
        # CPU only: on a GPU, cuDNN's fused GRU (forward and backward) is the fast path.
        if first.cell == "gru" and t1 - t0 > 1 and x.device.type == "cpu" and not (first.rnn.training and first.rnn.dropout > 0):
            outs, states = _gru_stacked(cores, piece, states)
        else:
            runs = [core._run(piece, state) for core, state in zip(cores, states)]  # (B, t1 - t0, H) each
            outs, states = tuple(r[0] for r in runs), tuple(r[1] for r in runs)
        for out, collected in zip(outs, outputs):
            collected.append(out)
    features = tuple(o[0] if len(o) == 1 else torch.cat(o, dim=1) for o in outputs)  # (B, T, H) each
    return features, states


def _gru_stacked(
    cores: tuple[RecurrentEncoder, ...], x: torch.Tensor, states: tuple[tuple[torch.Tensor, ...], ...]
) -> tuple[tuple[torch.Tensor, ...], tuple[tuple[torch.Tensor, ...], ...]]:
    """K GRUs of one shape over ``x (B, T, D)``, stacked on a leading member axis, layer by layer."""
    batch, steps, _ = x.shape
    k, hidden = len(cores), cores[0].output_dim
    rnns = [core.rnn for core in cores]
    inp = None  # (T, K, B, H): the previous layer's outputs
    finals = []
    for layer in range(cores[0].num_layers):
        weights = [rnn.all_weights[layer] for rnn in rnns]  # w_ih, w_hh[, b_ih, b_hh] per member
        w_ih = torch.stack([w[0] for w in weights])  # (K, 3H, D_in)
        w_hh = torch.stack([w[1] for w in weights])  # (K, 3H, H)
        if len(weights[0]) == 4:
            b_ih, b_hh = torch.stack([w[2] for w in weights]), torch.stack([w[3] for w in weights])  # (K, 3H)
        else:
            b_ih = b_hh = x.new_zeros(k, 3 * hidden)
        if inp is None:  # every member reads x: one matmul for all of them
            gi = torch.addmm(b_ih.reshape(-1), x.transpose(0, 1).reshape(steps * batch, -1), w_ih.reshape(k * 3 * hidden, -1).t())
            gi = gi.view(steps, batch, k, 3 * hidden).transpose(1, 2).contiguous()  # (T, K, B, 3H)
        else:
            gi = torch.matmul(inp, w_ih.transpose(1, 2)) + b_ih.unsqueeze(1)  # (T, K, B, 3H)
        h0 = torch.stack([state[0][:, layer] for state in states])  # (K, B, H)
        # The Numba kernels' products are plain loops: per step they beat torch's few-microsecond dispatches at
        # small sizes, and lose to MKL's GEMM at large ones (K = 2: ahead at B x H = 8 x 64 to 32 x 128, behind at
        # 16 x 256, where a step's product is 2^22.6 multiply-adds).
        recurrence = _GRUSequence if k * batch * 3 * hidden * hidden <= NUMBA_MAX_STEP_PRODUCT else _GRUSequenceOps
        inp, h = recurrence.apply(gi, h0, w_hh, b_hh)  # (T, K, B, H), (K, B, H)
        finals.append(h)
    h_n = torch.stack(finals, dim=2)  # (K, B, L, H)
    return tuple(inp[:, i].transpose(0, 1) for i in range(k)), tuple((h_n[i],) for i in range(k))


class _GRUSequence(torch.autograd.Function):
    """K single-layer GRUs (torch's equations and gate order r, z, n) over T steps, backward by hand.

    ``gi (T, K, B, 3H)``: the input projections ``x W_ih^T + b_ih``; ``h0 (K, B, H)``; ``w_hh (K, 3H, H)``;
    ``b_hh (K, 3H)``. Returns every step's hidden state ``(T, K, B, H)`` and the last ``(K, B, H)``.

    Both recurrences run in `rlkit.nn.gru_kernels` (the forward pass keeps what the backward pass needs);
    W_hh's and b_hh's gradients are one batched matrix product and one sum over all steps. Float32 uses
    the kernels' polynomial exp, float64 libm's.
    """

    @staticmethod
    def forward(ctx, gi, h0, w_hh, b_hh):  # type: ignore[override]
        steps, k, batch, three_h = gi.shape
        hidden, rows = three_h // 3, steps * k * batch
        gi, h0, w_hh, b_hh = gi.contiguous(), h0.contiguous(), w_hh.contiguous(), b_hh.contiguous()
        out, z, dn_pre = (gi.new_empty(steps, k, batch, hidden) for _ in range(3))
        coef = gi.new_empty(steps, k, batch, 3 * hidden)
        flat = [as_array(x.view(rows, -1)) for x in (out, z, coef, dn_pre)]
        gru_forward(as_array(gi.view(rows, three_h)), as_array(h0.view(k * batch, hidden)),
                    as_array(w_hh.transpose(1, 2).contiguous()), as_array(b_hh), *flat, gi.dtype != torch.float32)  # fmt: skip
        ctx.save_for_backward(h0, w_hh, out, z, coef, dn_pre)
        return out, out[-1].clone()

    @staticmethod
    def backward(ctx, grad_out, grad_h):  # type: ignore[override]
        h0, w_hh, out, z, coef, dn_pre = ctx.saved_tensors
        steps, k, batch, hidden = out.shape
        dh = out.new_zeros(steps + 1, k, batch, hidden)  # dh[t + 1]: dL/dh_t; dh[0]: dL/dh0
        if grad_out is not None:
            dh[1:] = grad_out
        if grad_h is not None:
            dh[steps] += grad_h
        dgi, dgh = out.new_empty(steps, k, batch, 3 * hidden), out.new_empty(k, steps * batch, 3 * hidden)
        gru_backward(as_array(w_hh), *(as_array(x.view(-1, x.shape[-1])) for x in (z, coef, dn_pre, dh, dgi, dgh)))
        dw_hh = db_hh = None
        if ctx.needs_input_grad[2]:
            h_prev = torch.cat([h0.unsqueeze(0), out[:-1]]).transpose(0, 1).reshape(k, steps * batch, hidden)
            dw_hh = torch.bmm(dgh.transpose(1, 2), h_prev)  # (K, 3H, H)
        if ctx.needs_input_grad[3]:
            db_hh = dgh.sum(dim=1)
        return dgi, dh[0], dw_hh, db_hh


class _GRUSequenceOps(torch.autograd.Function):
    """`_GRUSequence` as torch ops per step, for recurrent products too large for the Numba kernels (see
    `_gru_stacked`); same arguments and results.

    The forward pass is the same few ops per step as torch's cell, with the gates kept; the backward
    pass needs three ops per step (the recurrence through ``h``), everything else is computed for all
    steps at once: a third of the op count autograd would record, and no per-node engine overhead.
    """

    @staticmethod
    def forward(ctx, gi, h0, w_hh, b_hh):  # type: ignore[override]
        steps, k, batch, three_h = gi.shape
        hidden = three_h // 3
        rz, n, gh, out = (gi.new_empty(steps, k, batch, size) for size in (2 * hidden, hidden, three_h, hidden))
        gi_rz, gi_n = gi[..., : 2 * hidden].unbind(0), gi[..., 2 * hidden :].unbind(0)
        gh_t, gh_rz, gh_n = gh.unbind(0), gh[..., : 2 * hidden].unbind(0), gh[..., 2 * hidden :].unbind(0)
        rz_t, r_t, z_t = rz.unbind(0), rz[..., :hidden].unbind(0), rz[..., hidden:].unbind(0)
        n_t, out_t = n.unbind(0), out.unbind(0)
        w_hh_t, bias = w_hh.transpose(1, 2), b_hh.unsqueeze(1)  # (K, H, 3H), (K, 1, 3H)
        h = h0
        for t in range(steps):
            torch.baddbmm(bias, h, w_hh_t, out=gh_t[t])
            torch.add(gi_rz[t], gh_rz[t], out=rz_t[t]).sigmoid_()
            n_now = torch.addcmul(gi_n[t], r_t[t], gh_n[t], out=n_t[t]).tanh_()
            h = torch.addcmul(n_now, h - n_now, z_t[t], out=out_t[t])  # (1 - z) n + z h
        ctx.save_for_backward(h0, w_hh, rz, n, gh, out)
        return out, h.clone()

    @staticmethod
    def backward(ctx, grad_out, grad_h):  # type: ignore[override]
        h0, w_hh, rz, n, gh, out = ctx.saved_tensors
        steps, k, batch, hidden = out.shape
        r, z = rz[..., :hidden], rz[..., hidden:]
        h_prev = torch.cat([h0.unsqueeze(0), out[:-1]])  # (T, K, B, H)
        dn_pre = (1 - z) * (1 - n * n)  # d(pre-tanh n) / dh_t
        # d(hidden-side gate pre-activations r, z, n) / dh_t, for all steps at once: (T, K, B, 3, H)
        coef = torch.stack([dn_pre * gh[..., 2 * hidden :] * r * (1 - r), (h_prev - n) * z * (1 - z), dn_pre * r], dim=-2)
        dh = out.new_zeros(steps + 1, k, batch, hidden)  # dh[t + 1]: dL/dh_t; dh[0]: dL/dh0
        if grad_out is not None:
            dh[1:] = grad_out
        if grad_h is not None:
            dh[steps] += grad_h
        dgh = out.new_empty(steps, k, batch, 3, hidden)
        dh_t, dh_row, coef_t, dgh_t, z_t = dh.unbind(0), dh.unsqueeze(-2).unbind(0), coef.unbind(0), dgh.unbind(0), z.unbind(0)
        dgh_flat = dgh.view(steps, k, batch, 3 * hidden).unbind(0)
        for t in range(steps - 1, -1, -1):
            torch.mul(coef_t[t], dh_row[t + 1], out=dgh_t[t])
            dh_t[t].addcmul_(dh_t[t + 1], z_t[t]).baddbmm_(dgh_flat[t], w_hh)
        dgh = dgh.view(steps, k, batch, 3 * hidden)
        dgi = torch.cat([dgh[..., : 2 * hidden], dh[1:] * dn_pre], dim=-1)  # (T, K, B, 3H)
        dw_hh = torch.einsum("tkbg,tkbh->kgh", dgh, h_prev) if ctx.needs_input_grad[2] else None
        db_hh = dgh.sum(dim=(0, 2)) if ctx.needs_input_grad[3] else None
        return dgi, dh[0], dw_hh, db_hh


class LSTMEncoder(RecurrentEncoder):
    """``RecurrentEncoder`` with ``cell="lstm"``; state ``(h, c)``, each ``(B, num_layers, hidden_size)``."""

    def __init__(self, input_dim: int, hidden_size: int = 64, num_layers: int = 1, dropout: float = 0.0) -> None:
        super().__init__(input_dim, hidden_size, num_layers, "lstm", dropout)


class GRUEncoder(RecurrentEncoder):
    """``RecurrentEncoder`` with ``cell="gru"``; state ``(h,)``, ``(B, num_layers, hidden_size)``."""

    def __init__(self, input_dim: int, hidden_size: int = 64, num_layers: int = 1, dropout: float = 0.0) -> None:
        super().__init__(input_dim, hidden_size, num_layers, "gru", dropout)
