"""LSTM and GRU encoders over ``(B, T, D)`` with an explicit state and episode-start resets.

torch's cuDNN/fused ``nn.LSTM``/``nn.GRU`` run a whole sequence per call but cannot reset the
state in the middle of one, so a chunk is cut at the time steps where any row starts an
episode: one fused call per piece, the starting rows' state zeroed between pieces. A chunk with
no start after t = 0 (the usual case in rollouts, T = 1) is a single call; a training chunk costs
one call per distinct start time, never one per step (sb3-contrib's RecurrentPPO loops per step
as soon as any start is present).
"""

from __future__ import annotations

import torch
from torch import nn

from rlkit.nn.sequence import SequenceModule, reset_rows

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU}


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
        steps = x.shape[1]
        # Time steps (after 0) where some row begins an episode: the chunk is cut there (none when T = 1,
        # every rollout step: skip the host sync).
        cuts = torch.nonzero(starts[:, 1:].any(dim=0)).flatten().add(1).tolist() if steps > 1 else []
        bounds = [0, *cuts, steps]
        outputs = []
        for t0, t1 in zip(bounds[:-1], bounds[1:]):
            state = reset_rows(state, starts[:, t0])
            out, state = self._run(x[:, t0:t1], state)  # (B, t1 - t0, H)
            outputs.append(out)
        features = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=1)  # (B, T, H)
        return features, state


class LSTMEncoder(RecurrentEncoder):
    """``RecurrentEncoder`` with ``cell="lstm"``; state ``(h, c)``, each ``(B, num_layers, hidden_size)``."""

    def __init__(self, input_dim: int, hidden_size: int = 64, num_layers: int = 1, dropout: float = 0.0) -> None:
        super().__init__(input_dim, hidden_size, num_layers, "lstm", dropout)


class GRUEncoder(RecurrentEncoder):
    """``RecurrentEncoder`` with ``cell="gru"``; state ``(h,)``, ``(B, num_layers, hidden_size)``."""

    def __init__(self, input_dim: int, hidden_size: int = 64, num_layers: int = 1, dropout: float = 0.0) -> None:
        super().__init__(input_dim, hidden_size, num_layers, "gru", dropout)
