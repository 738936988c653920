"""Run every experiment in experiments/*.yaml over several seeds, then table, plot and pack the results.

  python -m experiments.run_all --workers 15 --out results/exp       # everything, seeds 0 1 2
  python -m experiments.run_all --only 'ppo_*' --seeds 0 --workers 2
  python -m experiments.run_all --workers 2 --set total_steps=3000 --out /tmp/smoke   # a smoke test

Every (YAML, seed) pair is one `rlkit.app.training.train` call in its own process, on the executor that
``rlkit train --seeds`` uses (spawned processes), torch and OpenMP held to one thread each, so ``--workers N`` uses N cores.
Runs are forced to ``device: cpu`` unless the YAML names a device: these MLPs are faster on one CPU
core than through CUDA launches, and 15 processes must not share one GPU. A run that fails is
recorded as failed and the others go on. Jobs start longest first (by the throughput measured on
one core, ``STEPS_PER_SECOND``), so that a second wave of short runs fills the cores the long ones
leave; ``--max-minutes`` stops a run at its next periodic evaluation once it has trained that long
(a safety net: the step budgets are chosen to finish well before it, and a stopped run fails).

Written to ``--out DIR``:

* ``results.md``: one row per experiment: env, algo, steps, final evaluation mean ± std over seeds,
  how many seeds reach ``expected.score``, the env's baselines on the same evaluation episodes, and
  for runs trained on ``split=train`` (Trading's bars or markets, HVAC's weeks) the same policy
  evaluated on ``split=test``;
* ``results.json``: the same, per run (for ``experiments/write_readme.py``);
* ``curves.png``: one panel per experiment, mean ± std over seeds of ``eval/mean_reward``, with the
  baselines and the expected score as horizontal lines; ``curves.md``: ``rlkit curves``'s table;
* ``runs.tar.gz``: the run directories without models and checkpoints (config, events, metrics).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import tarfile
import time
import traceback
from concurrent.futures import as_completed
from pathlib import Path

EXPERIMENTS_DIR = Path(__file__).resolve().parent

# Env steps per second of each experiment on one CPU core with torch at one thread, measured with
# the YAML's settings (evaluation included) on a shared 2-core machine; used only to order the jobs.
STEPS_PER_SECOND = {
    "ppo_gridworld": 2400,
    "dqn_gridworld": 700,
    "ppo_cartpole": 2100,
    "ppo_groundhog": 3900,
    "ppo_hvac": 4400,
    "ppo_hvac_setpoint_constrained": 1200,  # a 20k-step run's wall time, start-up and final evaluation included
    "sac_hvac": 110,
    "ppo_trading": 870,
    "ppo_seq_groundhog_easy": 1500,
    "ppo_seq_groundhog": 2000,
}
DEFAULT_STEPS_PER_SECOND = 200


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1),
                        help="runs in parallel, one core each (default: cores - 1)")  # fmt: skip
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds of every experiment (default: 0 1 2)")
    parser.add_argument("--only", action="append", default=None, metavar="GLOB",
                        help="run only experiments whose file stem matches GLOB, e.g. 'ppo_*'; repeatable (default: all)")  # fmt: skip
    parser.add_argument("--out", default="experiments/results/latest", metavar="DIR",
                        help="where results.md, results.json, curves.png, curves.md and runs.tar.gz go (default: %(default)s)")  # fmt: skip
    parser.add_argument("--logdir", default=None, metavar="DIR",
                        help="run directories go under DIR/<experiment>/ (default: runs/experiments, outside --out so that "
                             "models and replay buffers stay out of it)")  # fmt: skip
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config field of every experiment, as `rlkit train --set` (e.g. total_steps=3000 for a smoke test)")
    parser.add_argument("--max-minutes", type=float, default=8.0,
                        help="stop a run at its next periodic evaluation after this many minutes of training (default: 8)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    if args.max_minutes <= 0:
        parser.error(f"--max-minutes must be positive, got {args.max_minutes}")
    return args


def select_experiments(patterns: list[str] | None) -> list[Path]:
    paths = sorted(EXPERIMENTS_DIR.glob("*.yaml"))
    if patterns:
        paths = [p for p in paths if any(fnmatch.fnmatch(p.stem, pattern) for pattern in patterns)]
        if not paths:
            names = ", ".join(p.stem for p in sorted(EXPERIMENTS_DIR.glob("*.yaml")))
            raise ValueError(f"--only {' '.join(patterns)} matches no experiment; experiments: {names}")
    return paths


def job_config(config, seed: int, logdir: Path) -> dict:
    """One run's config (as a dict, for the worker process): `config` with its seed and logdir, on
    ``device: cpu`` unless the experiment names a device."""
    update = {"seed": seed, "logdir": str(logdir)}
    if "device" not in config.model_fields_set:
        update["device"] = "cpu"
    return config.model_copy(update=update).to_dict()


def run_jobs(jobs: list[tuple], workers: int, max_seconds: float) -> list[dict]:
    """Run `jobs` (``(cost, experiment, config dict)``, in the given order) up to `workers` at a time on
    the executor that ``rlkit train --seeds`` and ``rlkit sweep`` use (spawned processes), printing a
    line as each ends; a run whose worker died is recorded as failed and the others go on."""
    from rlkit.app.sweeps import make_executor

    started = time.perf_counter()
    executor = make_executor("local", workers)
    records = []
    try:
        futures = {executor.submit(run_one, name, data, max_seconds): (name, data["seed"]) for _, name, data in jobs}
        for future in as_completed(futures):
            name, seed = futures[future]
            try:
                record = future.result()
            except BaseException as exc:  # the worker process itself died (killed, out of memory)
                record = {"experiment": name, "seed": seed, "status": "error", "run_dir": None,
                          "message": f"worker died: {type(exc).__name__}: {exc}", "seconds": 0.0}  # fmt: skip
            records.append(record)
            score = f"{record['mean_reward']:.4g}" if "mean_reward" in record else "-"
            print(f"[{time.perf_counter() - started:6.0f}s] {name} seed {seed}: {record['status']} (return {score}, "
                  f"{record['seconds']:.0f}s) {record.get('message', '') if record['status'] != 'finished' else ''}", flush=True)  # fmt: skip
    finally:
        executor.shutdown()
    return records


# --- in the worker processes ------------------------------------------------------------------------


def _trains_on_a_split(env_id: str, env_kwargs: dict) -> bool:
    """Whether the run trained on ``split="train"`` of an env with held-out data (Trading's bars or
    markets, HVAC's evaluation weeks), so that ``split="test"`` evaluates it on data it has not seen."""
    import inspect

    import gymnasium as gym

    from rlkit.app.env_factory import resolve_env_id

    spec = resolve_env_id(env_id)
    entry = spec.entry_point
    if isinstance(entry, str):
        import importlib

        module, _, name = entry.partition(":")
        entry = getattr(importlib.import_module(module), name)
    if not (isinstance(entry, type) and issubclass(entry, gym.Env)):
        return False
    parameter = inspect.signature(entry.__init__).parameters.get("split")
    return parameter is not None and {**spec.kwargs, **env_kwargs}.get("split", parameter.default) == "train"


def run_one(experiment: str, config_data: dict, max_seconds: float) -> dict:
    """Train one (experiment, seed) from its config dict; never raises: a failure is returned as ``status: error``."""
    started = time.perf_counter()
    record: dict = {"experiment": experiment, "seed": config_data["seed"], "status": "error", "run_dir": None}
    try:
        import torch

        torch.set_num_threads(1)  # parallel runs share the cores instead of fighting over them
        from rlkit.app.config import config_from_dict
        from rlkit.app.evaluation import Evaluator
        from rlkit.app.run_dir import load_agent
        from rlkit.app.training import train

        config = config_from_dict(config_data, experiment)
        record.update(env=config.env.id, algo=config.algo, total_steps=config.total_steps)

        def on_eval(step: int, metrics: dict) -> bool:
            return time.perf_counter() - started < max_seconds

        result = train(config, on_eval=on_eval, handle_signals=False)
        record.update(status=result.status, message=result.message, run_dir=str(result.run_dir), steps=result.steps)
        if result.metrics is not None:
            record.update(mean_reward=result.metrics["mean_reward"], std_reward=result.metrics["std_reward"])
        if result.status == "stopped":
            record["message"] = f"stopped by --max-minutes at step {result.steps} of {config.total_steps}"
        if result.status == "finished" and _trains_on_a_split(config.env.id, dict(config.env.kwargs)):
            model, test_config, _, normalize = load_agent(result.run_dir, device="cpu", env_kwargs={"split": "test"})
            evaluator = Evaluator(test_config, normalize_from=normalize)
            try:
                test = evaluator(model)
            finally:
                evaluator.close()
            record.update(test_mean_reward=test["mean_reward"], test_std_reward=test["std_reward"])
    except BaseException as exc:  # a failed run is a result, not the end of the sweep
        lines = traceback.format_exception_only(type(exc), exc)
        record.update(status="error", message=lines[-1].strip(), traceback=traceback.format_exc())
    record["seconds"] = round(time.perf_counter() - started, 1)
    return record


# --- baselines --------------------------------------------------------------------------------------


def baselines_for(config, split: str | None = None) -> dict[str, float]:
    """Mean return of every baseline of the config's env (and a seeded random policy) on the same
    episodes the evaluation uses (reset seeds ``eval.seed + i``) and with the same env kwargs."""
    from envs.baselines import score_baselines
    from rlkit.app.env_factory import make_env

    env_config = config.env
    if split is not None:
        env_config = env_config.model_copy(update={"kwargs": {**env_config.kwargs, "split": split}})
    return score_baselines(
        config.env.id, config.eval.episodes, seed=config.eval.seed, make_env=lambda: make_env(env_config), random_seed=0
    )


# --- results ----------------------------------------------------------------------------------------


def summarize(configs: dict, records: list[dict]) -> list[dict]:
    """One row per experiment of `configs` (name -> ExperimentConfig) from the run `records`."""
    import numpy as np

    rows = []
    for name, config in configs.items():
        runs = sorted((r for r in records if r["experiment"] == name), key=lambda r: r["seed"])
        finished = [r for r in runs if r["status"] == "finished"]
        scores = np.array([r["mean_reward"] for r in finished])
        row = {
            "experiment": name,
            "env": config.env.id,
            "env_kwargs": dict(config.env.kwargs),
            "algo": config.algo,
            "steps": config.total_steps,
            "eval_episodes": config.eval.episodes,
            "seeds": [r["seed"] for r in runs],
            "finished": len(finished),
            "scores": scores.tolist(),
            "mean": float(scores.mean()) if len(scores) else None,
            "std": float(scores.std()) if len(scores) else None,
            "expected": config.expected.score if config.expected else None,
            "failures": [f"seed {r['seed']}: {r['status']}: {r.get('message', '')}" for r in runs if r["status"] != "finished"],
            "minutes": max((r["seconds"] for r in runs), default=0.0) / 60,
        }
        row["reached"] = sum(1 for s in scores if row["expected"] is not None and s >= row["expected"])
        row["passed"] = bool(runs) and row["reached"] == len(runs)
        try:
            row["baselines"] = baselines_for(config)
        except Exception as exc:  # noqa: BLE001  (a broken baseline must not lose the table)
            row["baselines"] = {}
            row["failures"].append(f"baselines: {type(exc).__name__}: {exc}")
        if any("test_mean_reward" in r for r in finished):
            test = np.array([r["test_mean_reward"] for r in finished if "test_mean_reward" in r])
            row["test_mean"], row["test_std"] = float(test.mean()), float(test.std())
            try:
                row["test_baselines"] = baselines_for(config, split="test")
            except Exception as exc:  # noqa: BLE001
                row["test_baselines"] = {}
                row["failures"].append(f"test baselines: {type(exc).__name__}: {exc}")
        rows.append(row)
    return rows


def _num(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def results_markdown(rows: list[dict], header_note: str) -> str:
    lines = [
        "| experiment | env | algo | steps | final eval (mean ± std over seeds) | expected | seeds ≥ expected | baselines (same episodes) | test split | minutes |",  # noqa: E501
        "|---|---|---|---:|---:|---:|---:|---|---|---:|",
    ]
    for row in rows:
        env = row["env"] + "".join(f" {k}={v}" for k, v in row["env_kwargs"].items())
        score = f"{_num(row['mean'])} ± {_num(row['std'])}" if row["mean"] is not None else "failed"
        verdict = f"{row['reached']}/{len(row['seeds'])} {'pass' if row['passed'] else 'FAIL'}"
        baselines = ", ".join(f"{k} {_num(v)}" for k, v in row["baselines"].items()) or "–"
        test = "–"
        if "test_mean" in row:
            test = f"{_num(row['test_mean'])} ± {_num(row['test_std'])} (" + ", ".join(
                f"{k} {_num(v)}" for k, v in row.get("test_baselines", {}).items()
            ) + ")"
        lines.append(
            f"| {row['experiment']} | {env} | {row['algo']} | {row['steps']:,} | {score} | {_num(row['expected'])} "
            f"| {verdict} | {baselines} | {test} | {row['minutes']:.1f} |"
        )
    failures = [f"- {row['experiment']}: {f}" for row in rows for f in row["failures"]]
    text = header_note + "\n\n" + "\n".join(lines) + "\n"
    if failures:
        text += "\nFailures:\n\n" + "\n".join(failures) + "\n"
    return text


def plot_panels(rows: list[dict], records: list[dict], png: Path) -> None:
    """One panel per experiment: ``eval/mean_reward`` mean ± std over seeds (grouped and interpolated
    by `rlkit curves`'s own `group_curves`), baselines and the expected score as horizontal lines."""
    import math

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rlkit.app.curves import group_curves
    from rlkit.tb import read_scalars

    n = len(rows)
    cols = min(3, n)
    fig, axes = plt.subplots(math.ceil(n / cols), cols, figsize=(5 * cols, 3.6 * math.ceil(n / cols)), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax, row in zip(axes.flat, rows):
        curves = {}
        for record in records:
            if record["experiment"] != row["experiment"] or not record.get("run_dir") or not Path(record["run_dir"]).is_dir():
                continue
            scalars = read_scalars(record["run_dir"], ["eval/mean_reward"])
            if "eval/mean_reward" in scalars:
                curves[Path(record["run_dir"])] = ("eval/mean_reward", *scalars["eval/mean_reward"])
        for group in group_curves(curves) if curves else []:
            (line,) = ax.plot(group["steps"], group["mean"], label=f"{row['algo']} ({group['runs']} seeds)")
            ax.fill_between(group["steps"], group["mean"] - group["std"], group["mean"] + group["std"], color=line.get_color(), alpha=0.2)
        for i, (name, value) in enumerate(row["baselines"].items()):
            ax.axhline(value, ls=":", lw=1, color=f"C{i + 2}", label=f"{name} {_num(value)}")
        if row["expected"] is not None:
            ax.axhline(row["expected"], ls="--", lw=1, color="k", label=f"expected {_num(row['expected'])}")
        ax.set_title(f"{row['experiment']}: {row['env']}", fontsize="medium")
        ax.set_xlabel("env steps")
        ax.set_ylabel("eval mean return")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small")
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)


def pack_runs(records: list[dict], tar_path: Path) -> None:
    """The run directories without model.zip, vecnormalize.pkl and checkpoints/ (config, events, metrics)."""
    skip = {"model.zip", "vecnormalize.pkl", "checkpoints"}

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        return None if Path(info.name).name in skip else info

    with tarfile.open(tar_path, "w:gz") as tar:
        for record in records:
            run_dir = record.get("run_dir")
            if run_dir and Path(run_dir).is_dir():
                tar.add(run_dir, arcname=f"{record['experiment']}/{Path(run_dir).name}", filter=keep)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Before torch is imported anywhere (spawned workers inherit the environment).
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"
    paths = select_experiments(args.only)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    logdir = Path(args.logdir) if args.logdir else Path("runs/experiments")

    from rlkit.app.config import load_config

    configs = {path.stem: load_config(path, args.overrides) for path in paths}  # a bad YAML or --set fails here, before any run
    jobs = []
    for name, config in configs.items():
        seconds = config.total_steps / STEPS_PER_SECOND.get(name, DEFAULT_STEPS_PER_SECOND)
        jobs += [(seconds, name, job_config(config, seed, logdir / name)) for seed in args.seeds]
    jobs.sort(key=lambda job: -job[0])  # longest first
    print(f"{len(jobs)} runs ({len(paths)} experiments x seeds {args.seeds}) on {args.workers} workers; runs under {logdir}", flush=True)

    started = time.perf_counter()
    records = run_jobs(jobs, args.workers, args.max_minutes * 60)
    wall = time.perf_counter() - started

    rows = summarize(configs, records)
    note = (
        f"{len(records)} runs, seeds {' '.join(map(str, args.seeds))}, {args.workers} workers (one CPU core and one torch "
        f"thread each), {wall / 60:.1f} min wall time. Final evaluation: mean return over `eval.episodes` seeded episodes "
        "(seeds 1000, 1001, …; deterministic policy), averaged over seeds. Baselines are run on the same episodes."
    )
    if args.overrides:
        note += f" Overrides: {' '.join(args.overrides)}."
    (out / "results.md").write_text(results_markdown(rows, note))
    (out / "results.json").write_text(json.dumps({"note": note, "experiments": rows, "runs": records}, indent=2, default=str) + "\n")
    print((out / "results.md").read_text(), flush=True)

    run_dirs = [r["run_dir"] for r in records if r.get("run_dir") and Path(r["run_dir"]).is_dir()]
    try:
        plot_panels(rows, records, out / "curves.png")
    except Exception as exc:  # noqa: BLE001  (the table and the tarball still matter)
        print(f"run_all: could not plot curves.png: {type(exc).__name__}: {exc}", file=sys.stderr)
    if run_dirs:
        table = subprocess.run([sys.executable, "-m", "rlkit.app.cli", "curves", *run_dirs],
                               capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})  # fmt: skip
        (out / "curves.md").write_text("`rlkit curves` over every run (tag eval/mean_reward):\n\n```\n" + table.stdout + table.stderr + "```\n")
    pack_runs(records, out / "runs.tar.gz")
    print(f"wrote {out}/results.md, results.json, curves.png, curves.md, runs.tar.gz", flush=True)
    return 0 if all(row["passed"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
