"""Off-policy memory agents' full training steps/s: ``sac-seq`` per encoder vs SB3's SAC with an MLP.

``rlkit bench train --suite offpolicy``. Every row trains on the same env (``--env``, default
``Pendulum-v1``) with the same ``--n-envs``, ``--train-freq``, ``--gradient-steps``, batch (256 steps:
SAC's 256 transitions, sac-seq's ``256 / --seq-len`` windows), ``learning_starts`` (100), buffer size,
head width (``[width, width]`` for actor and critics, ``--width``, default 256 as SB3's SAC) and seed;
torch runs on ``--threads`` CPU threads (1 by default).

* ``SAC MLP (SB3)``: the reference, ``MlpPolicy``;
* ``sac-seq <encoder>``: `agents.sequence_sac.SequenceSAC` with the encoder's width ``--width`` (LSTM/GRU hidden
  size, TCN channels, Transformer ``d_model`` with context 16), ``--seq-len`` training steps and ``--burn-in``
  burn-in steps per window.

Each figure is one ``learn(--steps)`` wall time, best of ``--repeat`` with the rows interleaved, after one
untimed warm-up ``learn`` of the same length (which also fills the buffer past ``learning_starts``). The
``cost × SAC`` column is the row's time per step over SAC's (the issue's target: at most 3).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

REFERENCE = "SAC MLP (SB3)"
ENCODER_KWARGS = {
    "lstm": lambda w: {"hidden_size": w},
    "gru": lambda w: {"hidden_size": w},
    "tcn": lambda w: {"channels": w},
    "transformer": lambda w: {"d_model": w, "num_heads": 4, "num_layers": 1, "context_len": 16},
}
DEFAULTS: dict[str, Any] = {"train_freq": 1, "gradient_steps": 1, "seq_len": 16, "burn_in": 8}
# The memory suite's options this suite reads (the others are refused).
SHARED_MEMORY_OPTIONS = {"width", "threads", "encoders"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This suite's own options (``--env``, ``--n-envs``, ``--steps``, ``--repeat``, ``--seed``, ``--width``,
    ``--threads``, ``--encoders`` are shared)."""
    d = DEFAULTS
    parser.add_argument("--train-freq", type=int, default=None, metavar="N", help=f"offpolicy suite: env steps between updates (default: {d['train_freq']})")
    parser.add_argument("--gradient-steps", type=int, default=None, metavar="N",
                        help=f"offpolicy suite: gradient steps per update (default: {d['gradient_steps']})")  # fmt: skip
    parser.add_argument("--seq-len", type=int, default=None, metavar="N", help=f"offpolicy suite: sac-seq's training steps per window (default: {d['seq_len']})")
    parser.add_argument("--burn-in", type=int, default=None, metavar="N", help=f"offpolicy suite: sac-seq's burn-in steps (default: {d['burn_in']})")


def given_offpolicy_options(args: argparse.Namespace) -> list[str]:
    """This suite's options that the command line set."""
    return ["--" + dest.replace("_", "-") for dest in DEFAULTS if getattr(args, dest, None) is not None]


def build_models(env_id: str, n_envs: int, width: int, seed: int, encoders: list[str], train_freq: int,
                 gradient_steps: int, seq_len: int, burn_in: int) -> dict[str, Any]:  # fmt: skip
    """label -> model, each on its own ``DummyVecEnv`` of `env_id`."""
    from stable_baselines3 import SAC
    from stable_baselines3.common.env_util import make_vec_env

    from agents.sequence_sac import SequenceSAC

    common = dict(batch_size=256, learning_starts=100, buffer_size=100_000, train_freq=train_freq,
                  gradient_steps=gradient_steps, seed=seed, device="cpu")  # fmt: skip
    models = {REFERENCE: SAC("MlpPolicy", make_vec_env(env_id, n_envs, seed=seed), policy_kwargs={"net_arch": [width, width]}, **common)}
    for name in encoders:
        policy_kwargs = {"encoder": name, "encoder_kwargs": ENCODER_KWARGS[name](width), "net_arch": [width, width]}
        models[f"sac-seq {name}"] = SequenceSAC("SequencePolicy", make_vec_env(env_id, n_envs, seed=seed), seq_len=seq_len,
                                                burn_in=burn_in, policy_kwargs=policy_kwargs, **common)  # fmt: skip
    return models


def run(args: argparse.Namespace) -> int:
    import torch

    from rlkit.app.bench import print_table
    from rlkit.app.bench.train import MEMORY_DEFAULTS, given_memory_options

    refused = [o for o in given_memory_options(args) if o[2:].replace("-", "_") not in SHARED_MEMORY_OPTIONS]
    if refused:
        raise ValueError(f"bench train --suite offpolicy: {', '.join(refused)} apply to --suite memory only; drop them")
    opts = {key: getattr(args, key) if getattr(args, key, None) is not None else value for key, value in DEFAULTS.items()}
    width = args.width if args.width is not None else 256
    threads = args.threads if args.threads is not None else MEMORY_DEFAULTS["threads"]
    encoders = args.encoders or ["gru"]
    steps = args.steps if args.steps is not None else 500 if args.quick else 2_000
    repeat = args.repeat if args.repeat is not None else 1 if args.quick else 3
    n_envs = (args.n_envs or [1])[0]
    env_id = args.env or "Pendulum-v1"
    numbers = {"--steps": steps, "--repeat": repeat, "--n-envs": n_envs, "--width": width, "--threads": threads,
               **{"--" + k.replace("_", "-"): v for k, v in opts.items()}}  # fmt: skip
    low = {"--burn-in": 0}
    bad = [f"{name}={value}" for name, value in numbers.items() if value < low.get(name, 1)]
    if bad:
        raise ValueError(f"bench train --suite offpolicy: {', '.join(bad)}; expected positive integers (--burn-in may be 0)")

    torch.set_num_threads(threads)
    models = build_models(env_id, n_envs, width, args.seed, encoders, **opts)
    for model in models.values():
        model.learn(steps)  # warm-up: torch's first calls, the buffer past learning_starts
    best = {label: float("inf") for label in models}
    for _ in range(repeat):  # rows interleaved, so that load from other processes hits them alike
        for label, model in models.items():
            start = time.perf_counter()
            model.learn(steps, reset_num_timesteps=False)
            best[label] = min(best[label], time.perf_counter() - start)
    rows = [[label, steps / seconds, seconds / best[REFERENCE]] for label, seconds in best.items()]
    print_table(
        f"Off-policy training on {env_id}: {n_envs} env(s), width {width}, train_freq {opts['train_freq']}, gradient_steps "
        f"{opts['gradient_steps']}, batch 256 steps (sac-seq: seq_len {opts['seq_len']}, burn_in {opts['burn_in']}); "
        f"{steps:,} steps per run, best of {repeat}, {threads} thread(s)",
        ["agent", "steps/s", "cost × SAC"],
        rows,
    )
    return 0
