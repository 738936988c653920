"""Sequence encoders: rollout steps with state/caches and training chunks vs the references they replace.

  rollout rows   one step (T = 1) for a batch of envs at the end of a full context, with the
                 state/KV cache, vs recomputing the whole context from the episode start (what a
                 policy without a cache must do); both give the same features.
  chunk rows     a training chunk with episode starts inside it: LSTM vs sb3-contrib's
                 RecurrentPPO ``_process_sequence`` (loops per step when a chunk holds a start);
                 TCN and Transformer vs calling them one step at a time; TCN's conv1d fast path
                 vs its masked-taps path on a chunk without starts.

Every row prints the max |difference| between the two outputs next to the timings, so a speedup
can never come from computing something else. Run as ``rlkit bench nn``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--batch", type=int, default=16, help="envs (rollout) / sequences (chunks)")
    parser.add_argument("--chunk", type=int, default=64, help="training chunk length T")
    parser.add_argument("--context", type=int, default=64, help="transformer context_len")
    parser.add_argument("--dim", type=int, default=32, help="per-step input size")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: steadier on a shared machine)")
    parser.add_argument("--repeat", type=int, default=5, help="best-of repeats per timing")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random inputs and the encoders' weights")


def _max_diff(a: "torch.Tensor", b: "torch.Tensor") -> float:
    return float((a - b).abs().max())


def run(args: argparse.Namespace) -> int:
    import torch  # here, not at the top: `rlkit --help` imports this module and must stay fast

    from gymnasium import spaces
    from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy

    from rlkit.app.bench import best_time, print_table
    from rlkit.nn import make_encoder

    sizes = {"--batch": args.batch, "--chunk": args.chunk, "--context": args.context, "--dim": args.dim,
             "--threads": args.threads, "--repeat": args.repeat}  # fmt: skip
    if min(sizes.values()) < 1:
        raise ValueError(f"bench nn: {', '.join(f'{k}={v}' for k, v in sizes.items())} must all be >= 1")
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(args.seed)
    space = spaces.Box(-np.inf, np.inf, (args.dim,), np.float32)
    B, T, D = args.batch, args.chunk, args.dim
    rows: list[list[object]] = []

    def time_pair(label, ours, reference, reference_name):
        with torch.inference_mode():
            a, b = ours(), reference()
            diff = _max_diff(a, b)
            t_ours = best_time(ours, repeat=args.repeat, min_time=0.05)
            t_ref = best_time(reference, repeat=args.repeat, min_time=0.05)
        rows.append([label, reference_name, t_ours * 1e3, t_ref * 1e3, t_ref / t_ours, f"{diff:.1e}"])

    # --- rollout: one step at the end of a full context -------------------------------------
    transformer = make_encoder("transformer", space, sequence=True, seed=args.seed, context_len=args.context).eval()
    tcn = make_encoder("tcn", space, sequence=True, seed=args.seed, num_blocks=5).eval()
    for name, enc, history in (
        ("transformer", transformer, args.context),
        ("tcn", tcn, tcn.core.receptive_field),
    ):
        x = torch.randn(B, history, D, generator=g)
        starts = torch.zeros(B, history, dtype=torch.bool)
        starts[:, 0] = True
        with torch.inference_mode():
            _, state = enc(x[:, :-1], starts[:, :-1], None)  # the state a rollout has before the last step
        last_x, last_start = x[:, -1:], starts[:, -1:]

        def ours(enc=enc, last_x=last_x, last_start=last_start, state=state):
            return enc(last_x, last_start, state)[0][:, -1]

        def reference(enc=enc, x=x, starts=starts):
            return enc(x, starts, None)[0][:, -1]

        span = "context" if name == "transformer" else "receptive field"
        time_pair(f"{name} step, {span} {history}", ours, reference, "recompute context")

    # --- training chunks with episode starts ------------------------------------------------
    starts = torch.rand(B, T, generator=g) < 0.02
    starts[:, 0] = True
    x = torch.randn(B, T, D, generator=g)
    lstm = make_encoder("lstm", space, sequence=True, seed=args.seed, hidden_size=64).eval()
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

    time_pair("lstm chunk, starts 2%", lstm_ours, lstm_sb3_contrib, "sb3-contrib RecurrentPPO")

    for name, enc in (("tcn", tcn), ("transformer", transformer)):
        def chunk(enc=enc):
            return enc(x, starts, None)[0]

        def stepped(enc=enc):
            s, outs = None, []
            for t in range(T):
                out, s = enc(x[:, t : t + 1], starts[:, t : t + 1], s)
                outs.append(out)
            return torch.cat(outs, dim=1)

        time_pair(f"{name} chunk, starts 2%", chunk, stepped, "one step at a time")

    only_first = torch.zeros(B, T, dtype=torch.bool)
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

    time_pair("tcn chunk, no inner start", tcn_fast, tcn_masked, "tcn masked-taps path")

    print_table(
        f"rlkit.nn sequence encoders: batch {B}, chunk T={T}, input {D}, torch {torch.__version__}, "
        f"{args.threads} thread(s); speedup = reference / rlkit",
        ["case", "reference", "rlkit ms", "reference ms", "speedup", "max |diff|"],
        rows,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rlkit.app.bench.nn", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
