"""Continue a stopped run from its newest checkpoint to its configured total steps, or extend it.

  rlkit resume runs/rlkit-GridWorld-v0__ppo__default__s0__20250101-120000
  rlkit resume RUN --steps 200000     train on to a new total (a finished run too); saved in its config.yaml
  rlkit resume RUN --from RUN/checkpoints/ckpt_000000008192.zip   from an older checkpoint (the newest is damaged)

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
    parser.add_argument("--from", dest="from_checkpoint", default=argparse.SUPPRESS, metavar="CHECKPOINT",
                        help="continue from this checkpoint (its ckpt_*.zip path or its step) rather than the newest; "
                             "newer ones are set aside, renamed *.set-aside (default: the newest)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=argparse.SUPPRESS, metavar="N",
                        help="torch CPU threads to continue with, 0 = torch's default (default: the run's threads)")  # fmt: skip
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS,
                        help="show a progress bar (default: when stderr is a terminal)")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from rlkit.app.commands.train import EvalPrinter, _progress, report, threads_text
    from rlkit.app.run_dir import read_run_config
    from rlkit.app.training import resume

    config = read_run_config(args.run_dir)
    steps = getattr(args, "steps", None)
    total = config.total_steps if steps is None else steps

    threads = getattr(args, "threads", None)
    if threads is not None and threads < 0:
        raise ValueError(f"--threads must be 0 (torch's default) or a positive number of threads, got {threads}")
    printer = EvalPrinter()

    def started(run_dir, step: int, plan) -> None:
        print(f"resuming {run_dir} ({config.algo} on {config.env.id}, {threads_text(config.threads if threads is None else threads)}) "
              f"from step {step:,} to {plan.describe()}", flush=True)  # fmt: skip
        printer.start(step)

    result = resume(args.run_dir, device=getattr(args, "device", None), steps=steps, progress_bar=_progress(args),
                    on_start=started, on_eval=printer, threads=threads,
                    from_checkpoint=getattr(args, "from_checkpoint", None))  # fmt: skip
    if result.status == "finished" and result.message.startswith("already finished"):
        print(f"rlkit resume: {args.run_dir} {result.message} (--steps N trains on to a new total)")
    return report(result, config, "resume")
