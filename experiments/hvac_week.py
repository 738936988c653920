"""Plot one evaluation week of HVAC under setpoint control, for a baseline or a trained run: indoor
and outdoor temperature with the heating and cooling setpoints over the occupied comfort band, the
heat pump's electric power, and the price. Issue 19 asks for this picture of a winter week.

  python experiments/hvac_week.py --baseline schedule_thermostat --out docs/img/hvac_week.png
  python experiments/hvac_week.py --run runs/<run dir> --start-day 21 --out week.png

The week is ``split="test"``'s (``--start-day``, default 21: 22-28 January of the generator's
year), reset with ``--seed``; the printed line gives the week's KPIs (energy, cost, discomfort, peak).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import gymnasium as gym
import matplotlib
import numpy as np

import envs
from envs.baselines import load_baseline

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the file backend)

ENV_ID = "rlkit/HVAC-Setpoint-v0"


def run_week(act, env: gym.Env, start_day: int, seed: int) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Per-step series and the episode's KPIs of the policy `act(observation, info)` on one week."""
    observation, info = env.reset(seed=seed, options={"start_day": start_day})
    hvac = env.unwrapped
    rows = []
    done = False
    while not done:
        observation, _, terminated, truncated, info = env.step(act(observation, info))
        rows.append((hvac.temp_air_c, info["heating_setpoint_c"], info["cooling_setpoint_c"], info["energy_kwh"] / hvac.step_hours))
        done = terminated or truncated
    air, heat, cool, power = (np.array(column) for column in zip(*rows))
    series = {"air": air, "heat": heat, "cool": cool, "electric_kw": power, "outdoor": hvac.temp_out_c,
              "price": hvac.price_per_kwh, "occupied": hvac.occupied, "hours": np.arange(1, len(air) + 1) * hvac.step_hours}  # fmt: skip
    return series, info["episode_metrics"]


def policy_of(args: argparse.Namespace, env: gym.Env):
    if args.baseline:
        baseline = load_baseline(ENV_ID, args.baseline, env)
        return lambda observation, info: baseline.act(observation, info), args.baseline
    from rlkit.app.run_dir import load_agent

    model, _, _, normalize = load_agent(args.run, device="cpu", env_kwargs={"split": "test"})

    def act(observation, info):
        if normalize is not None and normalize.norm_obs:
            observation = normalize.normalize_obs(observation)
        return model.predict(observation, deterministic=True)[0]

    return act, Path(args.run).name


def plot(series: dict[str, np.ndarray], title: str, out: Path) -> None:
    hours = series["hours"]
    figure, (top, middle, bottom) = plt.subplots(3, 1, figsize=(11, 7), sharex=True, height_ratios=(3, 1.3, 1))
    top.fill_between(hours, 20, 24, where=series["occupied"].astype(bool), color="tab:green", alpha=0.15, step="pre",
                     label="comfort band, occupied")  # fmt: skip
    top.plot(hours, series["outdoor"], color="tab:blue", lw=1, label="outdoor")
    top.plot(hours, series["air"], color="tab:red", lw=1.5, label="indoor air")
    top.step(hours, series["heat"], color="darkorange", lw=1, where="pre", label="heating setpoint")
    top.step(hours, series["cool"], color="tab:purple", lw=1, where="pre", label="cooling setpoint")
    top.set_ylabel("°C")
    top.legend(loc="upper right", fontsize=8, ncol=3)
    top.set_title(title, fontsize=10)
    middle.step(hours, series["electric_kw"], where="pre", color="black", lw=1)
    middle.set_ylabel("electric kW")
    bottom.step(hours, series["price"], where="pre", color="tab:gray")
    bottom.set_ylabel("€/kWh")
    bottom.set_xlabel("hours since the week's first midnight")
    bottom.set_xticks(np.arange(0, hours[-1] + 1, 24))
    figure.tight_layout()
    figure.savefig(out, dpi=90)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--baseline", help=f"a baseline of {ENV_ID}: {', '.join(envs.BASELINES[ENV_ID])}")
    source.add_argument("--run", help="a run directory of rlkit train on rlkit/HVAC-Setpoint-v0")
    parser.add_argument("--start-day", type=int, default=21, help="an evaluation week's first day (default 21)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="PNG file to write (its folder must exist)")
    args = parser.parse_args(argv)
    if not args.out.parent.is_dir():
        parser.error(f"--out {args.out}: the folder {args.out.parent} does not exist")
    try:
        env = gym.make(ENV_ID, split="test")
        act, name = policy_of(args, env)
        series, kpis = run_week(act, env, args.start_day, args.seed)
    except ValueError as exc:
        print(f"hvac_week: {exc}", file=sys.stderr)
        return 2
    line = ", ".join(f"{k} {kpis[k]:.2f}" for k in ("energy_kwh", "cost_eur", "discomfort_Kh", "peak_kw"))
    plot(series, f"{name} on {ENV_ID}, the evaluation week from day {args.start_day}\n{line}", args.out)
    print(f"wrote {args.out}: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
