"""Hyperparameter search with Optuna (TPE sampler, median pruning on the evaluations during training).

  rlkit sweep --config experiments/sweeps/ppo_hvac.yaml --space experiments/sweeps/ppo_hvac.space.yaml --trials 30
  rlkit sweep --config C.yaml --space S.yaml --trials 50 --workers 2          two trials at a time
  rlkit sweep ... --storage postgresql://user:pass@db:5432/optuna             one study, several machines
  rlkit sweep ... --backend ray --ray-address ray://head:10001                trials as tasks on a Ray cluster

The space file maps config fields (dotted, as --set takes them) to distributions:

  algo_kwargs.learning_rate: {type: float, low: 1.0e-4, high: 3.0e-3, log: true}
  algo_kwargs.n_steps: {type: categorical, choices: [32, 64, 128]}

Each trial is an ordinary run in <dir>/trial_NNNN/ (TensorBoard's HParams view compares them:
tensorboard --logdir <dir>); the objective is the final evaluation's mean return. The study is kept
in <dir>/study.db, so running the same command again continues it up to --trials finished trials.
At the end, the best config is written to <dir>/best.yaml, ready for `rlkit train --config`.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="FILE", help="base experiment config (YAML)")
    parser.add_argument("--space", required=True, metavar="FILE", help="search space (YAML): config field -> distribution")
    parser.add_argument("--trials", type=int, default=50, metavar="N", help="finished trials the study should hold (a continued study counts its earlier ones)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a field of the base config, value parsed as YAML; repeatable (e.g. --set total_steps=20000)")  # fmt: skip
    parser.add_argument("--dir", default=None, metavar="DIR",
                        help="sweep directory: trials' runs, study.db, best.yaml (default: sweeps/<space file name without .space.yaml>)")  # fmt: skip
    parser.add_argument("--storage", default=None, metavar="URL",
                        help="Optuna storage URL shared by several machines, e.g. postgresql://user:pass@host/db (default: sqlite:///<dir>/study.db)")  # fmt: skip
    parser.add_argument("--study-name", default=None, help="name of the study in the storage (default: the sweep directory's name)")
    parser.add_argument("--workers", type=int, default=1, metavar="N", help="trials run at a time on this machine (processes, or Ray tasks)")
    parser.add_argument("--backend", choices=("local", "ray"), default="local", help="local processes, or Ray tasks (pip install 'rlkit[ray]')")
    parser.add_argument("--ray-address", default=None, metavar="ADDR", help="address of an existing Ray cluster (default: start a local Ray instance)")
    parser.add_argument("--sampler-seed", type=int, default=0, metavar="N", help="seed of the TPE sampler: trial N is drawn with seed + N (default: %(default)s)")
    parser.add_argument("--no-prune", dest="prune", action="store_false", help="run every trial to the end (no median pruning)")
    parser.add_argument("--top", type=int, default=10, metavar="N", help="rows in the table of best trials")


def default_dir(space_path: str) -> str:
    from pathlib import Path

    name = Path(space_path).name
    for suffix in (".space.yaml", ".space.yml", ".yaml", ".yml"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return str(Path("sweeps") / name)


def run(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from rlkit.app.config import load_config
    from rlkit.app.sweeps import BEST_CONFIG_FILE, counts, load_space, run_sweep, top_trials, write_best_config

    if args.top < 1:
        raise ValueError(f"--top must be a positive integer, got {args.top}")
    config = load_config(args.config, args.overrides)
    space = load_space(args.space, config)
    directory = Path(args.dir or default_dir(args.space))
    start = time.perf_counter()

    def on_trial(trial, outcome) -> None:
        value = f"{trial.value:.4g}" if trial.value is not None else "-"
        note = f" ({outcome['message']})" if outcome["status"] not in ("finished", "stopped") and outcome.get("message") else ""
        params = ", ".join(f"{k}={_short(v)}" for k, v in trial.params.items())
        print(f"trial {trial.number}: {trial.state.name.lower()} value {value} [{params}]{note}", flush=True)

    print(f"sweep of {config.algo} on {config.env.id}: {args.trials} trials, {args.workers} worker(s) ({args.backend}); directory {directory}", flush=True)
    try:
        study = run_sweep(config, space, args.trials, directory, storage=args.storage, study_name=args.study_name,
                          workers=args.workers, backend=args.backend, ray_address=args.ray_address,
                          seed=args.sampler_seed, prune=args.prune, on_trial=on_trial)  # fmt: skip
    except KeyboardInterrupt:
        print(f"rlkit sweep: interrupted; continue with the same command (the study is kept in {directory})", flush=True)
        return 130
    elapsed = time.perf_counter() - start
    _print_top(top_trials(study, args.top), list(space))
    tally = counts(study)
    print(f"{sum(tally.values())} trials: " + ", ".join(f"{n} {state}" for state, n in sorted(tally.items())) + f"; this session took {elapsed:.0f} s")
    best_path = directory / BEST_CONFIG_FILE
    write_best_config(study, config, best_path)
    print(f"best trial {study.best_trial.number}: {study.best_value:.4g}; config: {best_path} (rlkit train --config {best_path})")
    print(f"TensorBoard (HParams view): tensorboard --logdir {directory}")
    return 0


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _print_top(rows: list[dict], params: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Best trials (final eval/mean_reward)")
    short = [p.rsplit(".", 1)[-1] for p in params]
    names = short if len(set(short)) == len(short) else params  # n_steps, not algo_kwargs.n_steps, where unambiguous
    header = ["trial", "value", *names, "seconds"]
    for name in header:
        table.add_column(name, justify="right", no_wrap=True, min_width=len(name))
    for row in rows:
        table.add_row(str(row["trial"]), f"{row['value']:.4g}", *[_short(row["params"].get(p)) for p in params], f"{row['seconds']:.0f}")
    Console(width=max(100, sum(max(len(n), 9) + 3 for n in header) + 4)).print(table)
