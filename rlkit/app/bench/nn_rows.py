"""The rows of ``rlkit bench nn``: each times an rlkit sequence encoder against the reference it replaces."""

from __future__ import annotations

import argparse
from typing import Callable

import numpy as np
import torch
from gymnasium import spaces
from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy

from rlkit.app.bench import best_time, print_table
from rlkit.nn import make_encoder
from rlkit.nn.encoders import SequenceEncoder


class Rows:
    """Collects table rows: each times `ours` and `reference` and records their max |difference|."""

    def __init__(self, repeat: int) -> None:
        self.repeat = repeat
        self.rows: list[list[object]] = []

    def time_pair(
        self, label: str, ours: Callable[[], torch.Tensor], reference: Callable[[], torch.Tensor], reference_name: str
    ) -> None:
        with torch.inference_mode():
            diff = float((ours() - reference()).abs().max())
            t_ours = best_time(ours, repeat=self.repeat, min_time=0.05)
            t_ref = best_time(reference, repeat=self.repeat, min_time=0.05)
        self.rows.append([label, reference_name, t_ours * 1e3, t_ref * 1e3, t_ref / t_ours, f"{diff:.1e}"])


def rollout_rows(rows: Rows, encoders: dict[str, SequenceEncoder], history: dict[str, int], batch: int,
                 g: torch.Generator) -> None:  # fmt: skip
    """One step at the end of a full context, with the state/KV cache, vs recomputing the context."""
    for name, enc in encoders.items():
        dim = enc.core.input_dim
        x = torch.randn(batch, history[name], dim, generator=g)
        starts = torch.zeros(batch, history[name], dtype=torch.bool)
        starts[:, 0] = True
        with torch.inference_mode():
            _, state = enc(x[:, :-1], starts[:, :-1], None)  # the state a rollout has before the last step
        last_x, last_start = x[:, -1:], starts[:, -1:]

        def ours(enc=enc, last_x=last_x, last_start=last_start, state=state):
            return enc(last_x, last_start, state)[0][:, -1]

        def reference(enc=enc, x=x, starts=starts):
            return enc(x, starts, None)[0][:, -1]

        span = "context" if name == "transformer" else "receptive field"
        rows.time_pair(f"{name} step, {span} {history[name]}", ours, reference, "recompute context")


def lstm_row(rows: Rows, space: spaces.Box, x: torch.Tensor, starts: torch.Tensor, seed: int,
             g: torch.Generator) -> None:  # fmt: skip
    """An LSTM training chunk with episode starts inside it vs sb3-contrib's RecurrentPPO ``_process_sequence``."""
    B, T, D = x.shape
    lstm = make_encoder("lstm", space, sequence=True, seed=seed, hidden_size=64).eval()
    state = tuple(torch.randn(B, *s, generator=g) for s in lstm.state_shapes)
    # sb3-contrib's LSTMs are sequence-first; same weights, other layout.
    seq_first = torch.nn.LSTM(D, 64)
    seq_first.load_state_dict(lstm.core.rnn.state_dict())

    def lstm_ours():
        return lstm(x, starts, state)[0]

    def lstm_sb3_contrib():
        hx = tuple(s.transpose(0, 1).contiguous() for s in state)  # (L, B, H)
        out, _ = RecurrentActorCriticPolicy._process_sequence(
            x.reshape(B * T, D), hx, starts.reshape(B * T).float(), seq_first
        )  # (B * T, H), batch-major
        return out.reshape(B, T, -1)

    rows.time_pair("lstm chunk, starts 2%", lstm_ours, lstm_sb3_contrib, "sb3-contrib RecurrentPPO")


def chunk_rows(rows: Rows, encoders: dict[str, SequenceEncoder], x: torch.Tensor, starts: torch.Tensor) -> None:
    """A training chunk with episode starts inside it vs calling the encoder one step at a time."""
    T = x.shape[1]
    for name, enc in encoders.items():

        def chunk(enc=enc):
            return enc(x, starts, None)[0]

        def stepped(enc=enc):
            s, outs = None, []
            for t in range(T):
                out, s = enc(x[:, t : t + 1], starts[:, t : t + 1], s)
                outs.append(out)
            return torch.cat(outs, dim=1)

        rows.time_pair(f"{name} chunk, starts 2%", chunk, stepped, "one step at a time")


def tcn_paths_row(rows: Rows, tcn: SequenceEncoder, x: torch.Tensor) -> None:
    """TCN's conv1d fast path vs its masked-taps path on a chunk without starts inside it."""
    only_first = torch.zeros(x.shape[:2], dtype=torch.bool)
    only_first[:, 0] = True

    def tcn_fast():
        tcn.core.force_masked_taps = False
        return tcn(x, only_first, None)[0]

    def tcn_masked():
        tcn.core.force_masked_taps = True
        try:
            return tcn(x, only_first, None)[0]
        finally:
            tcn.core.force_masked_taps = False

    rows.time_pair("tcn chunk, no inner start", tcn_fast, tcn_masked, "tcn masked-taps path")


def run_rows(args: argparse.Namespace) -> int:
    """Every row, then the table."""
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(args.seed)
    space = spaces.Box(-np.inf, np.inf, (args.dim,), np.float32)
    B, T, D = args.batch, args.chunk, args.dim
    rows = Rows(args.repeat)

    transformer = make_encoder("transformer", space, sequence=True, seed=args.seed, context_len=args.context).eval()
    tcn = make_encoder("tcn", space, sequence=True, seed=args.seed, num_blocks=5).eval()
    history = {"transformer": args.context, "tcn": tcn.core.receptive_field}
    rollout_rows(rows, {"transformer": transformer, "tcn": tcn}, history, B, g)

    starts = torch.rand(B, T, generator=g) < 0.02
    starts[:, 0] = True
    x = torch.randn(B, T, D, generator=g)
    lstm_row(rows, space, x, starts, args.seed, g)
    chunk_rows(rows, {"tcn": tcn, "transformer": transformer}, x, starts)
    tcn_paths_row(rows, tcn, x)

    print_table(
        f"rlkit.nn sequence encoders: batch {B}, chunk T={T}, input {D}, torch {torch.__version__}, "
        f"{args.threads} thread(s); speedup = reference / rlkit",
        ["case", "reference", "rlkit ms", "reference ms", "speedup", "max |diff|"],
        rows.rows,
    )
    return 0
