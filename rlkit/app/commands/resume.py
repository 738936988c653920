"""Continue a stopped run from its newest checkpoint to its configured total steps, or extend it.

  rlkit resume runs/rlkit-GridWorld-v0__ppo__default__s0__20250101-120000
  rlkit resume RUN --steps 200000     train on to a new total (a finished run too); saved in its config.yaml

Everything comes back from the checkpoint (weights, optimizer, step counter and schedules,
normalization statistics, replay buffer, env state, RNG states), so the run continues as if it had
never stopped; its TensorBoard curves continue on the same step axis.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN", help="the run directory to continue")
    parser.add_argument("--device", default=argparse.SUPPRESS, help="torch device to continue on (default: the run's)")
    parser.add_argument("--steps", type=int, default=argparse.SUPPRESS, metavar="N",
                        help="new total env steps, above those already trained; extends the run and is written to its "
                             "config.yaml (default: the run's total_steps)")  # fmt: skip
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS,
                        help="show a progress bar (default: when stderr is a terminal)")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from rlkit.app.commands.train import _progress, report
    from rlkit.app.run_dir import read_run_config
    from rlkit.app.training import resume

    config = read_run_config(args.run_dir)
    steps = getattr(args, "steps", None)
    total = config.total_steps if steps is None else steps

    def started(run_dir, step: int) -> None:
        print(f"resuming {run_dir} ({config.algo} on {config.env.id}) from step {step:,} to {total:,}", flush=True)

    result = resume(args.run_dir, device=getattr(args, "device", None), steps=steps, progress_bar=_progress(args), on_start=started)
    if result.status == "finished" and result.message.startswith("already finished"):
        print(f"rlkit resume: {args.run_dir} {result.message} (--steps N trains on to a new total)")
    return report(result, config, "resume")
