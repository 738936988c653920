"""POPGym's Easy tasks with rlkit's memory agents, beside the published GRU: train, then tabulate.

  pip install 'rlkit[popgym]'
  python -m experiments.popgym.run train --workers 16                      # 9 tasks x 5 agents x 3 seeds, 2M steps
  python -m experiments.popgym.run train --tasks RepeatPreviousEasy --agents gru mlp --seeds 0 --steps 100000
  python -m experiments.popgym.run results                                  # table.md (+ curves.png) from the runs

``train`` runs each (task, agent) as one ``rlkit train --seeds`` group (``rlkit.app.sweeps.run_seeds``,
its process pool) of ``base.yaml`` with the agent's keys from ``axes.yaml`` over it (an agent's ``policy``
and ``algo_kwargs`` replace the base's whole, other keys merge), in ``--out/<task>/<agent>/``. ``results`` reads every run below
``--out``:

* **MMER**, POPGym's measure: the maximum over training of ``rollout/ep_rew_batch_mean``, the mean return
  of the episodes that ended in one training batch (POPGym's returns lie in [-1, 1]);
* **eval**: the final deterministic evaluation's mean return (``metrics.json``, ``eval.episodes`` episodes);
* both as mean ± std over seeds, with the env steps and wall time per run (from the run directory's
  ``config.yaml`` to its ``metrics.json``), beside ``axes.yaml``'s published figures.

It writes ``table.md`` and, with ``rlkit curves``, ``curves.png`` (MMER's curve, mean ± std over seeds).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent

from rlkit.app.config import config_from_dict, deep_update, read_config_file

TAG = "rollout/ep_rew_batch_mean"


def load_axes() -> dict:
    return yaml.safe_load((HERE / "axes.yaml").read_text())


def task_config(task: str, agent: str, axes: dict, overrides: dict) -> dict:
    """base.yaml with the task's env id and the agent's keys (its ``policy``/``algo_kwargs`` replace the base's)."""
    data = copy.deepcopy(read_config_file(HERE / "base.yaml"))
    spec = copy.deepcopy(axes["agents"][agent])
    for key in ("policy", "algo_kwargs"):
        if key in spec:
            data[key] = spec.pop(key)
    data = deep_update(data, spec)
    data["env"]["id"] = f"popgym.envs:popgym-{task}-v0"
    return deep_update(data, overrides)


def train(args: argparse.Namespace) -> int:
    from rlkit.app.sweeps import run_seeds

    axes = load_axes()
    overrides: dict = {"logdir": str(args.out)}
    if args.steps is not None:
        overrides["total_steps"] = args.steps
        overrides["eval"] = {"every": max(args.steps // 4, 1)}
    failed = 0
    for task in args.tasks or axes["tasks"]:
        for agent in args.agents or list(axes["agents"]):
            config = config_from_dict(task_config(task, agent, axes, overrides), f"{task}/{agent}")
            print(f"{task} {agent}: {config.total_steps:,} steps x seeds {args.seeds}", flush=True)
            group = run_seeds(config, args.seeds, workers=args.workers, directory=Path(args.out) / task / agent)
            failed += sum(r["status"] != "finished" for r in group.runs)
    return 1 if failed else 0


def run_record(run_dir: Path) -> dict:
    from rlkit.tb import read_scalars

    metrics = json.loads((run_dir / "metrics.json").read_text())
    scalars = read_scalars(run_dir, [TAG])
    _, values = scalars.get(TAG, (np.zeros(0), np.zeros(0)))
    wall = (run_dir / "metrics.json").stat().st_mtime - (run_dir / "config.yaml").stat().st_mtime
    return {"mmer": float(values.max()) if len(values) else float("nan"), "eval": float(metrics["mean_reward"]),
            "steps": int(metrics["steps"]), "wall_s": wall, "seed": metrics.get("seed")}  # fmt: skip


def collect(out: Path) -> dict[str, dict[str, list[dict]]]:
    """``{task: {agent: [run record, …]}}`` from ``out/<task>/<agent>/**/metrics.json``."""
    found: dict[str, dict[str, list[dict]]] = {}
    for metrics in sorted(out.glob("*/*/**/metrics.json")):
        task, agent = metrics.relative_to(out).parts[:2]
        found.setdefault(task, {}).setdefault(agent, []).append(run_record(metrics.parent))
    return found


def _cell(values: list[float]) -> str:
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}" if len(values) > 1 else f"{values[0]:.3f}"


def table_markdown(found: dict, axes: dict) -> str:
    lines = [
        "| task | agent | seeds | steps | MMER | det. eval | wall time / run | published GRU (15M) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for task in [t for t in axes["tasks"] if t in found]:
        published = axes.get("published", {}).get(task, {})
        pub = ", ".join(f"{k} {v:g}" for k, v in published.items()) or "—"
        for agent in [a for a in axes["agents"] if a in found[task]]:
            runs = found[task][agent]
            lines.append(
                f"| {task} | {agent} | {len(runs)} | {min(r['steps'] for r in runs):,} | {_cell([r['mmer'] for r in runs])} "
                f"| {_cell([r['eval'] for r in runs])} | {np.mean([r['wall_s'] for r in runs]) / 60:.1f} min | {pub} |"
            )
    return "\n".join(lines) + "\n"


def results(args: argparse.Namespace) -> int:
    out = Path(args.out)
    found = collect(out)
    if not found:
        print(f"no finished runs under {out}", file=sys.stderr)
        return 2
    table = table_markdown(found, load_axes())
    (out / "table.md").write_text(table)
    print(table)
    if args.png:
        from rlkit.app.cli import main as rlkit

        rlkit(["curves", str(out), "--tag", TAG, "--png", str(out / "curves.png")])
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("train", help="train (task, agent) groups over seeds")
    run.add_argument("--tasks", nargs="+", default=None, help="tasks from axes.yaml (default: all)")
    run.add_argument("--agents", nargs="+", default=None, help="agents from axes.yaml (default: all)")
    run.add_argument("--seeds", type=int, nargs="+", default=None, help="seeds (default: axes.yaml's)")
    run.add_argument("--steps", type=int, default=None, help="env steps per run (default: base.yaml's total_steps)")
    run.add_argument("--workers", type=int, default=None, help="runs at a time (default: one per CPU core)")
    res = sub.add_parser("results", help="table.md (and curves.png) from the runs under --out")
    res.add_argument("--png", action="store_true", help="also plot the MMER curves with rlkit curves")
    for p in (run, res):
        p.add_argument("--out", type=Path, default=HERE / "results", help="runs and tables (default: experiments/popgym/results)")
    args = parser.parse_args(argv)
    if args.command == "train" and args.seeds is None:
        args.seeds = load_axes()["seeds"]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return train(args) if args.command == "train" else results(args)


if __name__ == "__main__":
    sys.exit(main())
