"""Memory agents' full training steps/s: sequence PPO with each encoder vs sb3-contrib's RecurrentPPO.

``rlkit bench train --suite memory``. Every row trains on the same env with the same ``--n-envs``,
rollout length (``n_steps`` 128), minibatch (``batch_size`` 256 steps), epochs (10), network width
(``--width``: the LSTM/GRU hidden size, TCN channels, Transformer ``d_model``; heads ``[width]``)
and seed; torch runs on ``--threads`` CPU threads (1 by default, as the figures in the README).

* ``RecurrentPPO (sb3-contrib)``: the reference, ``MlpLstmPolicy`` with ``lstm_hidden_size=width``
  (its default separate critic LSTM, as sequence PPO's default separate critic encoder);
* ``ppo-seq <encoder>``: `agents.sequence_ppo.SequencePPO`, ``--bptt-len`` (32), Transformer with
  ``--transformer-layers`` layers, ``context_len`` 16 and a ``--transformer-ff``-wide feed-forward (4 × width);
* ``ppo-seq <encoder> (torch.compile)``: the same agent with the policy kwarg ``torch_compile=True``, for the
  encoders given to ``--compiled`` (the Transformer by default: its steps are many small ops, which
  compilation fuses; the LSTM and GRU run one fused recurrence already and compiled were slower);
* ``PPO MLP (SB3)``: feed-forward PPO, what memory costs on top of nothing.

Each figure is one ``learn(--steps)`` wall time, best of ``--repeat`` with the rows interleaved,
after one untimed warm-up ``learn``; each learn goes on training the same model, every row on its own
global random streams (`OwnGlobalRNG`), so a row trains the same whichever other rows run. RecurrentPPO's
cost per step falls as its episodes lengthen, so its figure depends on how far it has trained: a larger
``--repeat`` lets it train longer before its best run. Ratios are against RecurrentPPO measured in the same run, by wall
time and by the process's CPU time (``time.process_time``, also best of ``--repeat``): on a machine
shared with other work, RecurrentPPO's long runs cannot dodge the other processes as a few-second run
can, which inflates the wall-time ratio; CPU time leaves out the time other processes held the core,
so its ratio moves less from run to run (with ``--threads 1`` it is the work itself). When the LSTM agent
is timed, ``time ÷ ppo-seq lstm`` gives each row's wall time over the LSTM agent's (the Transformer's "within
2× of the LSTM" target is a value <= 2 there), and ``time ÷ PPO MLP`` over SB3's feed-forward PPO's (the GRU's
"within 2×" target). The last column, ``ep_rew_mean`` after all of a row's learns (the same number of env steps for every
row), is a rough check that the speed does not come from learning less per step.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.utils import set_random_seed

from agents.sequence_ppo import SequencePPO
from rlkit.app.bench import print_table
from rlkit.app.bench.train import MEMORY_DEFAULTS
from rlkit.checkpoints import capture_rng, preserved_rng, restore_rng

try:
    from sb3_contrib import RecurrentPPO  # the reference; in the bench extra
except ImportError:
    RecurrentPPO = None

REFERENCE = "RecurrentPPO (sb3-contrib)"
MLP = "PPO MLP (SB3)"
SHORT = {"ppo-seq lstm": "ppo-seq lstm", MLP: "PPO MLP"}  # column titles


def _common(width: int) -> dict[str, Any]:
    return dict(n_steps=128, batch_size=256, n_epochs=10, learning_rate=3e-4, gamma=0.99, gae_lambda=0.95, ent_coef=0.0)


def build_models(env_id: str, n_envs: int, width: int, seed: int, encoders: tuple[str, ...], transformer_layers: int = 1,
                 bptt_len: int = 32, compiled: tuple[str, ...] = (), wrapper_class: Any = None,
                 reference: bool = True, mlp: bool = True, transformer_ff: int = 0) -> dict[str, Any]:  # fmt: skip
    """The agents of the comparison, label -> model, each on its own ``DummyVecEnv`` of `env_id` (every env
    wrapped by `wrapper_class` if given); the encoders in `compiled` a second time, their policies under
    ``torch.compile``; RecurrentPPO unless not `reference`, SB3's MLP PPO unless not `mlp`."""

    def env():
        return make_vec_env(env_id, n_envs=n_envs, seed=seed, wrapper_class=wrapper_class)

    models: dict[str, Any] = {}
    if reference:
        if RecurrentPPO is None:
            raise ValueError("bench train --suite memory: sb3-contrib is not installed; pip install 'rlkit[bench]' (or sb3-contrib)")
        models[REFERENCE] = RecurrentPPO(
            "MlpLstmPolicy", env(), seed=seed, device="cpu", policy_kwargs=dict(lstm_hidden_size=width, net_arch=[width]), **_common(width)
        )
    encoder_kwargs = {
        "lstm": {"hidden_size": width},
        "gru": {"hidden_size": width},
        "tcn": {"channels": width},
        "transformer": {"d_model": width, "num_layers": transformer_layers, "context_len": 16, "num_heads": 4,
                        "dim_feedforward": transformer_ff or 4 * width},
    }
    variants = [(name, False) for name in encoders] + [(name, True) for name in compiled]
    for name, torch_compile in variants:
        models[f"ppo-seq {name}" + (" (torch.compile)" if torch_compile else "")] = SequencePPO(
            "SequencePolicy", env(), seed=seed, device="cpu", bptt_len=bptt_len,
            policy_kwargs=dict(encoder=name, encoder_kwargs=encoder_kwargs[name], net_arch=[width], torch_compile=torch_compile),
            **_common(width),
        )  # fmt: skip
    if mlp:
        models[MLP] = PPO("MlpPolicy", env(), seed=seed, device="cpu", policy_kwargs=dict(net_arch=[width]), **_common(width))
    return models


class OwnGlobalRNG:
    """One row's own copy of the global random streams (Python's, NumPy's and torch's: `rlkit.checkpoints.capture_rng`).

    SB3 samples rollout actions from torch's global generator and shuffles minibatches with NumPy's, so with
    the rows' learns interleaved each row would draw from streams the other rows had moved on: which rows run
    would change every row's training, its episode lengths and so its speed (RecurrentPPO's cost per step
    falls as its episodes get longer, since it steps its LSTM one step at a time wherever an episode starts).
    Each row starts from `seed` and keeps its own streams between its learns, so a row's figures do not
    depend on the other rows."""

    def __init__(self, seed: int):
        with preserved_rng():
            set_random_seed(seed)
            self.state = capture_rng()

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        with preserved_rng():
            restore_rng(self.state)
            try:
                yield
            finally:
                self.state = capture_rng()


def time_learns(models: dict[str, Any], steps: int, repeat: int, seed: int) -> tuple[dict[str, float], dict[str, float]]:
    """Each row's best wall and CPU time of a ``steps``-step ``learn`` over `repeat` timed rounds, the rows
    interleaved within a round, after one untimed warm-up learn each (first calls, Numba and torch.compile
    compilation); every row on its own `OwnGlobalRNG` from `seed`."""
    rngs = {label: OwnGlobalRNG(seed) for label in models}
    best = {label: float("inf") for label in models}
    best_cpu = dict(best)
    for label, model in models.items():
        with rngs[label].active():
            model.learn(steps, reset_num_timesteps=False)
    for _ in range(repeat):
        for label, model in models.items():
            with rngs[label].active():
                t0, c0 = time.perf_counter(), time.process_time()
                model.learn(steps, reset_num_timesteps=False)
                best[label] = min(best[label], time.perf_counter() - t0)
                best_cpu[label] = min(best_cpu[label], time.process_time() - c0)
    return best, best_cpu


def table_rows(best: dict[str, float], best_cpu: dict[str, float], steps: int, returns: dict[str, float],
               env_steps: dict[str, int]) -> tuple[list[str], list[list]]:  # fmt: skip
    """The table from each row's best wall and CPU time of a ``steps``-step learn: steps/s, speed-up over
    RecurrentPPO (wall and CPU time) and, for each of the LSTM agent and SB3's MLP PPO that was timed, how
    many times its wall time each row took (the targets "Transformer within 2× of the LSTM" and "GRU
    within 2× of feed-forward PPO")."""
    reference, reference_cpu = best[REFERENCE], best_cpu[REFERENCE]
    against = [(label, best[label]) for label in ("ppo-seq lstm", MLP) if label in best]
    header = ["agent", "steps/s", "× RecurrentPPO", "× RecurrentPPO (CPU time)"] + [f"time ÷ {SHORT[label]}" for label, _ in against]
    rows = []
    for label in best:
        row = [label, steps / best[label], reference / best[label], reference_cpu / best_cpu[label]]
        rows.append(row + [best[label] / time for _, time in against] + [returns[label], env_steps[label]])
    return header + ["ep_rew_mean", "env steps"], rows


def run(args: argparse.Namespace) -> int:
    for dest, default in MEMORY_DEFAULTS.items():
        if getattr(args, dest, None) is None:
            setattr(args, dest, default)
    env_id = args.env or "CartPole-v1"
    n_envs_list = args.n_envs or [8]
    steps, repeat = args.steps, args.repeat  # resolved against --quick by rlkit.app.bench.train.run
    if min(steps, repeat, *n_envs_list, args.width, args.threads, args.transformer_layers, args.bptt_len) < 1:
        raise ValueError(
            f"bench train --suite memory: --steps={steps}, --repeat={repeat}, --n-envs={n_envs_list}, --width={args.width}, "
            f"--threads={args.threads}, --transformer-layers={args.transformer_layers} and --bptt-len={args.bptt_len} must all be >= 1"
        )
    if args.transformer_ff < 0:
        raise ValueError(f"bench train --suite memory: --transformer-ff={args.transformer_ff}; expected >= 1, or 0 for 4 x --width")
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        for n_envs in n_envs_list:
            models = build_models(env_id, n_envs, args.width, args.seed, tuple(args.encoders), args.transformer_layers, args.bptt_len,
                                  tuple(args.compiled), transformer_ff=args.transformer_ff)  # fmt: skip
            best, best_cpu = time_learns(models, steps, repeat, args.seed)
            returns = {label: float(np.mean([info["r"] for info in m.ep_info_buffer])) if m.ep_info_buffer else float("nan")
                       for label, m in models.items()}  # fmt: skip
            header, rows = table_rows(best, best_cpu, steps, returns, {label: int(m.num_timesteps) for label, m in models.items()})
            for model in models.values():
                model.get_env().close()
            print_table(
                f"Memory agents' training on {env_id}: {n_envs} envs, n_steps 128, batch 256, 10 epochs, width {args.width}, "
                f"{args.threads} thread(s), bptt_len {args.bptt_len}; {steps:,} steps per run, best of {repeat}",
                header,
                rows,
            )
    finally:
        torch.set_num_threads(threads)
    return 0
