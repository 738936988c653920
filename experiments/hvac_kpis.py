"""KPIs of trained HVAC runs beside the env's baselines on the held-out weeks (issue 19): mean return,
energy, cost, discomfort and peak power per week, the cost change against ``schedule_thermostat``, and
whether each run meets the issue's goal.

  python -m experiments.hvac_kpis RUN_DIR [RUN_DIR ...] --episodes 13 --out FILE.md

Each run's newest agent is loaded as ``rlkit eval`` loads it (its final model.zip, or its newest
checkpoint if it has not finished; its VecNormalize statistics, frozen; deterministic actions) and run
through `rlkit.app.evaluation.Evaluator` on its config's env with ``split="test"``. Episode i is reset
with seed ``--seed + i`` at the i-th start day of that split (``env.start_days``: with 7-day episodes
the 13 evaluation weeks 21, 49, …, 357, see ``envs.hvac.splits``; past the last, the days repeat with
the next seeds, which draw other weather). The seed draws the week's weather and the starting
temperatures, the start day fixes the calendar; ``schedule_thermostat`` and ``thermostat`` run on the
same episodes of the same env. The goal: cost at most 95 % of ``schedule_thermostat``'s at no more
discomfort than its own.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import load_env_creator

import envs  # noqa: F401  (registers rlkit/HVAC-…)
from envs.baselines import load_baseline, run_episode
from envs.hvac import HVACEnv
from rlkit.app.env_factory import resolve_env_id
from rlkit.app.evaluation import Evaluator
from rlkit.app.run_dir import load_agent, read_run_config
from rlkit.atomic_io import atomic_write
from rlkit.checkpoints import CheckpointError

REFERENCE = "schedule_thermostat"
BASELINES = (REFERENCE, "thermostat")
GOAL_COST_RATIO = 0.95
KPIS = ("return", "energy_kwh", "cost_eur", "discomfort_Kh", "peak_kw")
DEFAULT_SEED = 1000  # rlkit's eval.seed default: distinct from training seeds


def _is_hvac(env_id: str) -> bool:
    entry = resolve_env_id(env_id).entry_point
    entry = load_env_creator(entry) if isinstance(entry, str) else entry
    return isinstance(entry, type) and issubclass(entry, HVACEnv)


def held_out_env(run_dir: str | Path) -> Any:
    """The run's env config with ``split="test"``; a one-line ``ValueError`` for a run whose env is not HVAC."""
    config = read_run_config(run_dir)
    if not _is_hvac(config.env.id):
        raise ValueError(
            f"{run_dir}: its env {config.env.id} is not an HVAC env; give runs of rlkit/HVAC-v0, -Discrete-v0, "
            "-Year-v0 or -Setpoint-v0 (their episodes report energy_kwh, cost_eur, discomfort_Kh, peak_kw)"
        )
    return config.env.model_copy(update={"kwargs": {**config.env.kwargs, "split": "test"}})


def start_days(env_config: Any) -> list[int]:
    """The start days (``options["start_day"]``) the env config's split allows."""
    env = gym.make(env_config.id, **env_config.kwargs)
    try:
        return list(env.unwrapped.start_days)
    finally:
        env.close()


def episode_plan(days: list[int], episodes: int, seed: int) -> list[tuple[int, int]]:
    """``[(reset seed, start day)]``: episode i seeded ``seed + i`` at ``days[i]`` (repeating past the last)."""
    return [(seed + i, days[i % len(days)]) for i in range(episodes)]


def run_kpis(run_dir: str | Path, plan: list[tuple[int, int]], device: str = "cpu") -> tuple[dict[str, float], Path]:
    """Mean KPIs per episode of the run's newest agent on `plan`, and the model file it used."""
    model, config, path, normalize = load_agent(run_dir, device=device, env_kwargs={"split": "test"})
    first_seed = plan[0][0]
    if [s for s, _ in plan] != list(range(first_seed, first_seed + len(plan))):
        raise ValueError("episode plan: the Evaluator resets episode i with seed + i; give consecutive seeds")
    evaluator = Evaluator(config, len(plan), first_seed, deterministic=True, normalize_from=normalize,
                          reset_options=[{"start_day": day} for _, day in plan])  # fmt: skip
    try:
        metrics = evaluator(model)
    finally:
        evaluator.close()
    return {"return": metrics["mean_reward"], **{k: metrics[f"env/{k}"] for k in KPIS[1:]}}, path


def baseline_kpis(env_config: Any, name: str, plan: list[tuple[int, int]]) -> dict[str, float]:
    """Mean KPIs per episode of baseline `name` on `plan`, on ``gymnasium.make`` of the env (no wrappers)."""
    env = gym.make(env_config.id, **env_config.kwargs)
    try:
        policy = load_baseline(env_config.id, name, env)
        episodes = []
        for seed, day in plan:
            total, info = run_episode(env, policy, seed, {"start_day": day})
            episodes.append({"return": total, **{k: info["episode_metrics"][k] for k in KPIS[1:]}})
    finally:
        env.close()
    return {k: float(np.mean([e[k] for e in episodes])) for k in KPIS}


def meets_goal(kpis: dict[str, float], reference: dict[str, float]) -> bool:
    """Cost at most `GOAL_COST_RATIO` of the reference's and discomfort no higher than its own."""
    return kpis["cost_eur"] <= GOAL_COST_RATIO * reference["cost_eur"] and kpis["discomfort_Kh"] <= reference["discomfort_Kh"]


def kpi_table(rows: dict[str, dict[str, float]], plan: list[tuple[int, int]], env_config: Any, models: dict[str, Path]) -> str:
    """The Markdown file: a header line on the episodes, one row per run and baseline, the goal's tally."""
    reference = rows[REFERENCE]
    days = sorted({day for _, day in plan})
    lines = [
        f"{env_config.id} {_kwargs(env_config.kwargs)}: {len(plan)} episodes, episode i reset with seed "
        f"{plan[0][0]} + i at the i-th start day of split=test ({len(days)} distinct: {', '.join(map(str, days))}); "
        "every run and baseline on the same episodes; deterministic policies. KPIs are means per episode.",
        "",
        "| policy | return | energy kWh | cost € | discomfort K·h | peak kW | cost vs schedule_thermostat | meets goal |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, k in rows.items():
        change = 100.0 * (k["cost_eur"] / reference["cost_eur"] - 1.0)
        verdict = "reference" if name == REFERENCE else ("yes" if meets_goal(k, reference) else "no")
        lines.append(
            f"| {name} | {k['return']:.3f} | {k['energy_kwh']:.2f} | {k['cost_eur']:.3f} | {k['discomfort_Kh']:.3f} "
            f"| {k['peak_kw']:.3f} | {change:+.1f} % | {verdict} |"
        )
    runs = [name for name in rows if name in models]
    met = sum(meets_goal(rows[name], reference) for name in runs)
    lines += [
        "",
        f"Goal (issue 19): cost ≤ {GOAL_COST_RATIO:g} × {REFERENCE}'s at discomfort ≤ its own, every seed: "
        f"met by {met} of {len(runs)} runs.",
        "",
        *(f"- {name}: {path}" for name, path in models.items()),
    ]
    return "\n".join(lines) + "\n"


def _kwargs(kwargs: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(kwargs.items()))


def collect(run_dirs: list[str], episodes: int | None, seed: int, device: str = "cpu") -> str:
    """The table of :func:`kpi_table` for `run_dirs` (one env, up to split) and the baselines; `episodes`
    None is one per start day of split=test."""
    env_configs = [held_out_env(run_dir) for run_dir in run_dirs]
    first = env_configs[0]
    for run_dir, env_config in zip(run_dirs, env_configs):
        if (env_config.id, env_config.kwargs) != (first.id, first.kwargs):
            raise ValueError(
                f"{run_dir}: its env {env_config.id} {_kwargs(env_config.kwargs)} differs from {run_dirs[0]}'s "
                f"{first.id} {_kwargs(first.kwargs)}; give runs of one env, which the baselines then run on"
            )
    days = start_days(first)
    plan = episode_plan(days, len(days) if episodes is None else episodes, seed)
    rows, models = {}, {}
    for run_dir in run_dirs:
        name = Path(run_dir).resolve().name
        rows[name], models[name] = run_kpis(run_dir, plan, device)
    for baseline in BASELINES:
        rows[baseline] = baseline_kpis(first, baseline, plan)
    return kpi_table(rows, plan, first, models)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run directories of rlkit train on an HVAC env")
    parser.add_argument("--episodes", type=int, default=None, metavar="N",
                        help="episodes (default: one per start day of split=test, 13 weeks with 7-day episodes)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, metavar="N", help=f"seed of episode 0 (default {DEFAULT_SEED})")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.md", help="Markdown file to write (its folder must exist)")
    args = parser.parse_args(argv)
    if args.episodes is not None and args.episodes <= 0:
        parser.error(f"--episodes must be a positive integer, got {args.episodes}")
    if args.seed < 0:
        parser.error(f"--seed must be a non-negative integer (Gymnasium's reset seeds are), got {args.seed}")
    if not args.out.parent.is_dir():
        parser.error(f"--out {args.out}: the folder {args.out.parent} does not exist")
    try:
        text = collect(args.run_dirs, args.episodes, args.seed)
    except (ValueError, OSError, CheckpointError) as exc:
        print(f"hvac_kpis: {exc}", file=sys.stderr)
        return 2
    atomic_write(args.out, text.encode())
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
