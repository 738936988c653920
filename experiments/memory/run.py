"""The memory benchmark: MLP-PPO (SB3) and sequence PPO (LSTM, GRU, TCN, Transformer) on three memory tasks.

  python -m experiments.memory.run --workers 15                       # everything, seeds 0 1 2
  python -m experiments.memory.run --only 'groundhog_*' --workers 2
  python -m experiments.memory.run --workers 2 --set total_steps=2048 --set eval.every=1024 --out /tmp/mem   # smoke test

Every row ``<task>_<agent>`` of ``experiments/memory/benchmark.yaml`` (tasks crossed with agents, expanded
by ``rlkit.app.benchmark``) x seed is one ``rlkit.app.training.train`` call in its own
process, run by ``experiments/run_all.py``'s ``run_jobs`` on the executor of ``rlkit train --seeds`` (one CPU core and one torch thread per run,
longest first, a failed run recorded and the rest going on). Written to ``--out`` (default
``experiments/memory/results``):

* ``results.json``: per run and per (env, agent): final evaluation mean ± std over seeds, the
  baselines on the same evaluation episodes, and the seed-mean evaluation curve;
* ``table.md``: one table per env, agents as rows: final return mean ± std over seeds, the env steps
  at which the seed-mean curve first reached 90 % of its final value, and the baselines;
* ``curves.png``: one panel per env, ``eval/mean_reward`` mean ± std over seeds per agent (grouped by
  ``rlkit curves``'s own ``group_curves``), baselines as horizontal lines;
* ``runs.tar.gz``: the run directories (config, TensorBoard events, metrics; no models).

Each run's record keeps its own evaluation curve, so a row can grow by seeds trained later, elsewhere or
after the first runs' directories are gone: train them with ``--out`` elsewhere, then
``--collect LOGDIR --add --only CONFIG`` merges them into the row.

``experiments/memory/write_readme.py``-free: ``--readme`` rewrites the results block of
``experiments/memory/README.md`` (between the ``<!-- results -->`` markers) from ``results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from experiments import run_all

HERE = Path(__file__).resolve().parent


# "groundhog-tuned": the same env as "groundhog" with the hyperparameters tuned on it afterwards (MLP and LSTM);
# "groundhog-easy-long": "groundhog-easy"'s LSTM and MLP given 10x the steps; "groundhog-easy-aux": its GRU with
# reward prediction.
ENV_ORDER = ("groundhog", "groundhog-tuned", "groundhog-easy", "groundhog-easy-long", "groundhog-easy-aux", "partialview",
             "minigrid", "pendulum-po", "pendulum-po-noisy", "hvac-po", "groundhog-easy-dqn")  # the last four: offpolicy.yaml
AGENT_ORDER = ("mlp", "lstm", "gru", "gru-aux", "tcn", "transformer", "sac", "sac-gru", "dqn-gru")
AGENT_LABEL = {"mlp": "MLP-PPO (SB3)", "lstm": "ppo-seq LSTM", "gru": "ppo-seq GRU", "gru-aux": "ppo-seq GRU + reward prediction",
               "tcn": "ppo-seq TCN", "transformer": "ppo-seq Transformer", "sac": "MLP-SAC (SB3)", "sac-gru": "sac-seq GRU",
               "dqn-gru": "dqn-seq GRU"}


BENCHMARK = HERE / "benchmark.yaml"
"""The memory benchmark's rows (the default ``--benchmark``; never reassigned)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1), help="runs in parallel (default: cores - 1)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds of every config (default: 0 1 2)")
    parser.add_argument("--only", action="append", default=None, metavar="GLOB", help="config stems to run, e.g. 'groundhog_*' (default: all)")
    parser.add_argument("--benchmark", default=str(BENCHMARK), metavar="YAML",
                        help="the benchmark file (default: %(default)s; the off-policy section: offpolicy.yaml)")  # fmt: skip
    parser.add_argument("--out", default=None, metavar="DIR",
                        help=f"where results go (default: {HERE / 'results'}, or results/<stem> for another --benchmark)")  # fmt: skip
    parser.add_argument("--logdir", default="runs/memory", metavar="DIR", help="run directories go under DIR/<config>/ (default: %(default)s)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="override a field of every config")
    parser.add_argument("--max-minutes", type=float, default=30.0, help="stop a run at its next evaluation after this many minutes")
    parser.add_argument("--list", action="store_true", help="only list the benchmark's rows (env, algo, encoder, steps)")
    parser.add_argument("--readme", action="store_true", help="only rewrite README.md's results block from --out's results.json")
    parser.add_argument("--collect", metavar="DIR", default=None,
                        help="train nothing: summarize finished runs found as DIR/<config>/<run dir> (e.g. a --logdir of a run "
                             "elsewhere) and merge them into --out's results.json, replacing those configs' rows")  # fmt: skip
    parser.add_argument("--add", action="store_true",
                        help="with --collect: keep the runs results.json already has for those configs, but for the seeds "
                             "found under DIR (adding seeds to a row; their curves from the stored per-run curves)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.add and not args.collect:
        parser.error("--add merges collected runs into results.json; it works with --collect DIR only")
    args.benchmark = Path(args.benchmark)
    if not args.benchmark.is_file():
        parser.error(f"--benchmark {args.benchmark}: no such file")
    is_default = args.benchmark.resolve() == BENCHMARK.resolve()
    if args.readme and not is_default:
        parser.error("--readme fills README.md's block from benchmark.yaml's results; another --benchmark's table is its --out/table.md")
    if args.out is None:
        args.out = str(HERE / "results" if is_default else HERE / "results" / args.benchmark.stem)
    return args


def select(benchmark: Path, patterns: list[str] | None, overrides: list[str] = ()) -> dict:
    """The rows of the benchmark file `benchmark` matching `patterns` (all when None), validated with the
    ``--set`` `overrides`: ``{name: ExperimentConfig}``."""
    from rlkit.app.benchmark import load_benchmark, select_rows
    from rlkit.app.config import load_config

    rows = load_benchmark(benchmark)
    return {name: load_config(None, overrides, base=rows[name]) for name in select_rows(rows, patterns, str(benchmark))}


def run_curve(record: dict) -> dict | None:
    """One run's ``eval/mean_reward`` curve, ``{steps, values}``: read from its TensorBoard events while
    its run directory exists, else the copy stored in its record (`attach_curves`)."""
    from rlkit.tb import read_scalars

    if record.get("run_dir") and Path(record["run_dir"]).is_dir():
        scalars = read_scalars(record["run_dir"], ["eval/mean_reward"])
        if "eval/mean_reward" in scalars:
            steps, values = scalars["eval/mean_reward"]
            return {"steps": [int(s) for s in steps], "values": [float(v) for v in values]}
        return None
    return record.get("curve")


def attach_curves(records: list[dict]) -> None:
    """Store each finished run's curve in its record, so that results.json keeps it once the run
    directory is gone (``--collect --add`` merges new seeds with such runs)."""
    for record in records:
        curve = run_curve(record) if record["status"] == "finished" else None
        if curve:
            record["curve"] = curve


def mean_curve(records: list[dict], experiment: str) -> dict | None:
    """Seed-mean ± std of ``eval/mean_reward`` on the steps every seed reached (`rlkit curves`'s averaging)."""
    from rlkit.app.curves import mean_over_runs

    curves = [c for r in records if r["experiment"] == experiment and (c := run_curve(r))]
    if not curves:
        return None
    steps, mean, std = mean_over_runs([(c["steps"], c["values"]) for c in curves])
    return {"steps": [int(s) for s in steps], "mean": [float(v) for v in mean], "std": [float(v) for v in std]}


def steps_to_reach(curve: dict | None, fraction: float = 0.9) -> int | None:
    """First step where the seed-mean curve reaches `fraction` of the way from its first value to its last."""
    if not curve or not curve["mean"]:
        return None
    first, last = curve["mean"][0], curve["mean"][-1]
    target = first + fraction * (last - first)
    for step, value in zip(curve["steps"], curve["mean"]):
        if (last >= first and value >= target) or (last < first and value <= target):
            return step
    return curve["steps"][-1]


def _eval_episodes(experiment: str) -> int | str:
    """Evaluation episodes of a memory benchmark row, for results.json rows written before rows recorded
    their own ("?" if the row is gone)."""
    from rlkit.app.benchmark import load_benchmark
    from rlkit.app.config import config_from_dict

    rows = load_benchmark(BENCHMARK)
    return config_from_dict(rows[experiment]).eval.episodes if experiment in rows else "?"


def tables_markdown(data: dict) -> str:
    def num(v: float | None) -> str:
        if v is None:
            return "–"
        v = 0.0 if abs(v) < 1e-9 else v  # not 3.2e-17 for equal scores
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"

    out = []
    for env_name in ENV_ORDER:
        rows = [r for r in data["experiments"] if r["experiment"].startswith(env_name + "_")]
        if not rows:
            continue
        first = rows[0]
        env = first["env"] + "".join(f" {k}={v}" for k, v in first["env_kwargs"].items())
        out.append(f"### {env} (`{env_name}_*`)\n")
        episodes = first.get("eval_episodes") or _eval_episodes(first["experiment"])  # older results.json rows lack it
        out.append(f"Final evaluation over {episodes} seeded episodes; each row has its own budget and seeds.\n")
        out.append("| agent | env steps | final return (mean ± std over seeds) | per seed | steps to 90 % of final | minutes |")
        out.append("|---|---:|---:|---|---:|---:|")
        by_agent = {r["experiment"].split("_", 1)[1]: r for r in rows}
        for agent in AGENT_ORDER:
            r = by_agent.get(agent)
            if r is None:
                continue
            score = f"{num(r['mean'])} ± {num(r['std'])}" if r["mean"] is not None else "failed"
            seeds = ", ".join(f"{num(v)} (s{seed})" for seed, v in zip(r["seeds"], r["scores"]))
            reach = r.get("steps_to_90")
            minutes = f"{r['minutes']:.1f}" if r["minutes"] else "–"
            out.append(f"| {AGENT_LABEL[agent]} | {r['steps']:,} | {score} | {seeds} | {f'{reach:,}' if reach else '–'} | {minutes} |")
        baselines = first.get("baselines") or {}
        if baselines:
            out.append("\nBaselines on the same evaluation episodes: " + ", ".join(f"{k} {num(v)}" for k, v in baselines.items()) + ".\n")
        failures = [f"- {r['experiment']}: {f}" for r in rows for f in r["failures"]]
        if failures:
            out.append("Failures:\n\n" + "\n".join(failures) + "\n")
        out.append("")
    return "\n".join(out)


def plot(data: dict, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    envs = [e for e in ENV_ORDER if any(r["experiment"].startswith(e + "_") for r in data["experiments"])]
    fig, axes = plt.subplots(1, len(envs), figsize=(5.5 * len(envs), 4), squeeze=False)
    for ax, env_name in zip(axes.flat, envs):
        rows = {r["experiment"].split("_", 1)[1]: r for r in data["experiments"] if r["experiment"].startswith(env_name + "_")}
        for i, agent in enumerate(AGENT_ORDER):
            curve = rows.get(agent, {}).get("curve")
            if not curve:
                continue
            mean, std = curve["mean"], curve["std"]
            seeds = len(rows[agent]["seeds"])
            ax.plot(curve["steps"], mean, color=f"C{i}", label=f"{AGENT_LABEL[agent]} ({seeds} seed{'s' if seeds > 1 else ''})")
            ax.fill_between(curve["steps"], [m - s for m, s in zip(mean, std)], [m + s for m, s in zip(mean, std)], color=f"C{i}", alpha=0.15)
        first = next(iter(rows.values()))
        for j, (name, value) in enumerate((first.get("baselines") or {}).items()):
            ax.axhline(value, ls=":", lw=1, color=f"C{j + 5}", label=f"{name} {value:.3g}")
        ax.set_title(f"{first['env']} ({env_name})", fontsize="medium")
        ax.set_xlabel("env steps")
        ax.set_ylabel("eval mean return (mean ± std over seeds)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small")
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)


def write_readme(data: dict, readme: Path) -> None:
    text = readme.read_text()
    start, end = "<!-- results -->", "<!-- /results -->"
    if start not in text or end not in text:
        raise ValueError(f"{readme} has no {start} ... {end} block to fill")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    block = f"{start}\n{data['note']}\n\n{tables_markdown(data)}\n![curves](results/curves.png)\n{end}"
    readme.write_text(head + block + tail)


def collect(args: argparse.Namespace) -> int:
    """``--collect DIR``: rows for the configs that have finished runs under DIR, merged into results.json."""
    from rlkit.app.config import read_yaml

    records = []
    configs = select(args.benchmark, args.only, args.overrides)
    for name in configs:
        for run_dir in sorted((Path(args.collect) / name).glob("*/")):
            metrics_file = run_dir / "metrics.json"
            if not metrics_file.is_file():
                continue
            metrics = json.loads(metrics_file.read_text())
            seed = int(read_yaml(run_dir / "config.yaml")["seed"])
            records.append({"experiment": name, "seed": seed, "status": "finished", "run_dir": str(run_dir),
                            "mean_reward": metrics["mean_reward"], "std_reward": metrics["std_reward"], "seconds": 0.0})  # fmt: skip
    found = {name: config for name, config in configs.items() if any(r["experiment"] == name for r in records)}
    if not found:
        raise ValueError(f"--collect {args.collect}: no finished run under <config>/<run dir> for {list(configs)}")
    out = Path(args.out)
    results = out / "results.json"
    data = json.loads(results.read_text()) if results.is_file() else {"note": "", "experiments": [], "runs": []}
    if args.add:
        records += kept_records(data, records)
    attach_curves(records)
    rows = run_all.summarize(found, records)
    for row in rows:
        row["curve"] = mean_curve(records, row["experiment"])
        row["steps_to_90"] = steps_to_reach(row["curve"])
    out.mkdir(parents=True, exist_ok=True)
    stems = {row["experiment"] for row in rows}
    data["experiments"] = [r for r in data["experiments"] if r["experiment"] not in stems] + rows
    data["runs"] = [r for r in data["runs"] if r["experiment"] not in stems] + records
    results.write_text(json.dumps(data, indent=2, default=str) + "\n")
    (out / "table.md").write_text(data["note"] + "\n\n" + tables_markdown(data))
    plot(data, out / "curves.png")
    print(tables_markdown({"experiments": rows}), flush=True)
    return 0


def kept_records(data: dict, found: list[dict]) -> list[dict]:
    """``--add``: results.json's records of the configs in `found` whose seeds are not in `found`. A record
    written before runs stored their own curve gets its row's curve when that row had only its seed."""
    found_keys = {(r["experiment"], r["seed"]) for r in found}
    stems = {r["experiment"] for r in found}
    rows = {row["experiment"]: row for row in data["experiments"]}
    kept = []
    for record in data["runs"]:
        if record["experiment"] not in stems or (record["experiment"], record["seed"]) in found_keys:
            continue
        row = rows.get(record["experiment"])
        if "curve" not in record and not (record.get("run_dir") and Path(record["run_dir"]).is_dir()) and row \
                and row.get("curve") and row["seeds"] == [record["seed"]]:  # fmt: skip
            record = {**record, "curve": {"steps": row["curve"]["steps"], "values": row["curve"]["mean"]}}
        if record["status"] == "finished" and run_curve(record) is None:  # the row's curve would silently leave it out
            raise ValueError(
                f"--add: results.json's {record['experiment']} seed {record['seed']} has no stored curve and its run directory "
                f"{record.get('run_dir')} is gone; collect that run's directory too, or collect without --add to replace the row"
            )
        kept.append(record)
    return kept


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    if args.list:
        for name, config in select(args.benchmark, args.only, args.overrides).items():
            print(f"{name:32} {config.env.id:34} {config.algo:8} {config.policy.encoder:12} {config.total_steps:>10,}")
        return 0
    if args.readme:
        write_readme(json.loads((out / "results.json").read_text()), HERE / "README.md")
        return 0
    if args.collect:
        return collect(args)
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"
    configs = select(args.benchmark, args.only, args.overrides)
    out.mkdir(parents=True, exist_ok=True)
    logdir = Path(args.logdir)
    jobs = []
    for name, config in configs.items():
        cost = config.total_steps * (3 if config.algo == "ppo-seq" else 1)  # longest first
        jobs += [(cost, name, run_all.job_config(config, seed, logdir / name)) for seed in args.seeds]
    jobs.sort(key=lambda job: -job[0])
    print(f"{len(jobs)} runs on {args.workers} workers; runs under {logdir}", flush=True)
    started = time.perf_counter()
    records = run_all.run_jobs(jobs, args.workers, args.max_minutes * 60)
    wall = time.perf_counter() - started
    attach_curves(records)
    rows = run_all.summarize(configs, records)
    for row in rows:
        row["curve"] = mean_curve(records, row["experiment"])
        row["steps_to_90"] = steps_to_reach(row["curve"])
    note = (
        f"{len(records)} runs, seeds {' '.join(map(str, args.seeds))}, {args.workers} workers (one CPU core and one torch thread "
        f"each), {wall / 60:.1f} min wall time. Final evaluation: mean return over each config's "
        "seeded evaluation episodes (seeds 1000, 1001, ...; deterministic policy), mean ± std over seeds. Baselines run on the same episodes."
    )
    if args.overrides:
        note += f" Overrides: {' '.join(args.overrides)}."
    data = {"note": note, "experiments": rows, "runs": records}
    (out / "results.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    (out / "table.md").write_text(note + "\n\n" + tables_markdown(data))
    print((out / "table.md").read_text(), flush=True)
    try:
        plot(data, out / "curves.png")
    except Exception as exc:  # noqa: BLE001  (the table and the tarball still matter)
        print(f"memory/run.py: could not plot: {type(exc).__name__}: {exc}", file=sys.stderr)
    run_all.pack_runs(records, out / "runs.tar.gz")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ValueError as exc:  # bad input (a --collect with nothing to collect, an --add that would lose a curve): one line, exit 2
        print(f"memory/run.py: {exc}", file=sys.stderr)
        sys.exit(2)
