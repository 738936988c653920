"""HVAC baselines: a plain and a schedule-aware thermostat, and the numbers they reach.

``python -m envs.hvac`` writes :func:`baseline_table` of :func:`baseline_numbers` to
``experiments/results/hvac_baselines.md``; a test checks that file against a fresh computation.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from envs.baselines import markdown_table, run_episode
from envs.hvac.env import HVACEnv
from envs.hvac.observation import CURRENT_FEATURES, FORECAST_FEATURES, TEMP_OFFSET_C, TEMP_SCALE_K

class Thermostat:
    """Plain thermostat: proportional control of the indoor air to a deadband, day and night.

    Heats with ``gain`` (fraction of full power per K) below ``heat_setpoint_c`` and cools above
    ``cool_setpoint_c``; off in between. The gain 0.5/K makes the 15-minute loop nearly deadbeat
    (one step of full power moves the air about 1.6 K), at the price of a steady-state offset of
    about 1 K at full load, which is why the setpoints sit inside the 20-24 °C band. Reads only
    the observation; on the discrete variant it takes the nearest power level.
    """

    def __init__(self, env: HVACEnv, heat_setpoint_c: float = 21.5, cool_setpoint_c: float = 22.5, gain: float = 0.5):
        if not heat_setpoint_c <= cool_setpoint_c:
            raise ValueError(f"need heat_setpoint_c <= cool_setpoint_c, got {heat_setpoint_c}, {cool_setpoint_c}")
        self.heat_setpoint_c, self.cool_setpoint_c, self.gain = heat_setpoint_c, cool_setpoint_c, gain
        self.levels = None if env.action_levels is None else np.asarray(env.action_levels)
        self.env = env if env.params.control == "setpoint" else None  # converts setpoints to its actions

    def reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        pass

    def act(self, observation: Any, info: dict):
        return self._command(observation, self.heat_setpoint_c, self.cool_setpoint_c)

    def _command(self, observation, heat_setpoint_c: float, cool_setpoint_c: float):
        """The action for these setpoints: themselves under ``control="setpoint"`` (the env's PI loop
        tracks them), else this controller's proportional power."""
        if self.env is not None:
            return self.env.setpoint_action(heat_setpoint_c, cool_setpoint_c)
        return self._action(self._power(observation, heat_setpoint_c, cool_setpoint_c))

    def _power(self, observation, heat_setpoint_c: float, cool_setpoint_c: float) -> float:
        temp_air = float(observation[0]) * TEMP_SCALE_K + TEMP_OFFSET_C
        heat = min(max(self.gain * (heat_setpoint_c - temp_air), 0.0), 1.0)
        cool = min(max(self.gain * (temp_air - cool_setpoint_c), 0.0), 1.0)
        return heat - cool

    def _action(self, power: float):
        if self.levels is None:
            return np.array([power], dtype=np.float32)
        return int(np.argmin(np.abs(self.levels - power)))


class ScheduleThermostat(Thermostat):
    """Schedule-aware thermostat: the plain one's controller with setpoints chosen from the forecast.

    Reads occupancy now and at the forecast offsets: comfort setpoints (21/23 °C) while occupied or
    when people arrive within ``comfort_lead_hours``; a warm-up (19/26 °C) that starts charging the
    building mass when they arrive within ``warmup_lead_hours``; setback (15/30 °C) otherwise.
    During the peak price while occupied it coasts toward the band edges (20.5/23.5 °C). Reads only
    the observation (so it needs forecast offsets covering the lead times).
    """

    def __init__(
        self,
        env: HVACEnv,
        comfort_c: tuple[float, float] = (21.0, 23.0),
        warmup_c: tuple[float, float] = (19.0, 26.0),
        setback_c: tuple[float, float] = (15.0, 30.0),
        peak_c: tuple[float, float] = (20.5, 23.5),
        comfort_lead_hours: float = 1.0,
        warmup_lead_hours: float = 4.0,
        gain: float = 0.5,
    ):
        super().__init__(env, *comfort_c, gain=gain)
        self.comfort_c, self.warmup_c, self.setback_c, self.peak_c = comfort_c, warmup_c, setback_c, peak_c
        hours = np.asarray(env.forecast_hours)
        occupied_column = len(CURRENT_FEATURES) + FORECAST_FEATURES.index("occupied")
        columns = occupied_column + len(FORECAST_FEATURES) * np.arange(len(hours))
        self.comfort_columns = columns[hours <= comfort_lead_hours].tolist()
        self.warmup_columns = columns[(hours > comfort_lead_hours) & (hours <= warmup_lead_hours)].tolist()
        if not self.comfort_columns or not self.warmup_columns:
            raise ValueError(
                f"ScheduleThermostat needs forecast_hours with offsets <= {comfort_lead_hours} h and in "
                f"({comfort_lead_hours}, {warmup_lead_hours}] h; the env forecasts {env.forecast_hours}"
            )

    def act(self, observation: Any, info: dict):
        occupied_now = observation[6] > 0.5
        if occupied_now and observation[7] >= 1.0:  # the peak price
            setpoints = self.peak_c
        elif occupied_now or any(observation[c] > 0.5 for c in self.comfort_columns):
            setpoints = self.comfort_c
        elif any(observation[c] > 0.5 for c in self.warmup_columns):
            setpoints = self.warmup_c
        else:
            setpoints = self.setback_c
        return self._command(observation, *setpoints)


def thermostat(env: HVACEnv) -> Thermostat:
    return Thermostat(env)


def schedule_thermostat(env: HVACEnv) -> ScheduleThermostat:
    return ScheduleThermostat(env)


class _Off:
    """The heat pump never runs: the free-floating building, for reference in the tables (under
    ``control="setpoint"``: the widest setpoints, so it runs only at the range's ends)."""

    def __init__(self, env: HVACEnv):
        if env.params.control == "setpoint":
            self.action = np.array([-1.0, 1.0], dtype=np.float32)
        elif env.action_levels is None:
            self.action = np.zeros(1, dtype=np.float32)
        else:
            self.action = int(np.argmin(np.abs(env.action_levels)))

    def reset(self, env, observation, info):
        pass

    def act(self, observation, info):
        return self.action


def run_baseline(env: HVACEnv, policy, seed: int, start_day: int | None = None) -> dict[str, float]:
    """One episode of `policy` on the (unwrapped) `env`; its return and ``episode_metrics``."""
    options = None if start_day is None else {"start_day": start_day}
    total, info = run_episode(env, policy, seed, options)
    return {"return": total, **info["episode_metrics"]}


def baseline_numbers(n_weeks: int = 52, seed: int = 0, **env_kwargs) -> dict[str, dict[str, dict[str, float]]]:
    """The published numbers: ``{"week" | "year": {policy: {"return", "energy_kwh", "cost_eur",
    "discomfort_Kh", "peak_kw", "comfort_violation_fraction"}}}`` for ``off``, ``thermostat`` and
    ``schedule_thermostat``. Week: the mean over `n_weeks` 7-day episodes seeded ``seed + i``;
    year: one 365-day episode seeded `seed`."""
    factories = {"off": _Off, "thermostat": thermostat, "schedule_thermostat": schedule_thermostat}
    results: dict[str, dict[str, dict[str, float]]] = {"week": {}, "year": {}}
    week_env = HVACEnv(**{**env_kwargs, "episode_days": 7})
    year_env = HVACEnv(**{**env_kwargs, "episode_days": 365})
    for name, factory in factories.items():
        weeks = [run_baseline(week_env, factory(week_env), seed + i) for i in range(n_weeks)]
        results["week"][name] = {key: float(np.mean([w[key] for w in weeks])) for key in weeks[0]}
        results["year"][name] = run_baseline(year_env, factory(year_env), seed)
    return results


KPIS = ("return", "energy_kwh", "cost_eur", "discomfort_Kh", "peak_kw", "comfort_violation_fraction")


def split_numbers(split: str = "test", seed: int = 0, **env_kwargs) -> dict[str, dict[str, float]]:
    """``{policy: {kpi: mean}}`` of ``off``, ``thermostat`` and ``schedule_thermostat`` over every start
    day of `split` once (episode i seeded ``seed + i``): with ``split="test"``, exactly the evaluation weeks."""
    env = HVACEnv(**{**env_kwargs, "split": split})
    factories = {"off": _Off, "thermostat": thermostat, "schedule_thermostat": schedule_thermostat}
    results = {}
    for name, factory in factories.items():
        runs = [run_baseline(env, factory(env), seed + i, start_day=day) for i, day in enumerate(env.start_days)]
        results[name] = {key: float(np.mean([r[key] for r in runs])) for key in KPIS}
    return results


def split_table(results_by_control: dict[str, dict[str, dict[str, float]]]) -> str:
    """Markdown of :func:`split_numbers` per control mode (``{"power": ..., "setpoint": ...}``), with a caption."""
    header = ("control", "policy", "return", "energy kWh", "cost €", "discomfort K·h", "peak kW", "violation %")
    rows = (
        (control, name, f"{r['return']:.2f}", f"{r['energy_kwh']:.1f}", f"{r['cost_eur']:.2f}", f"{r['discomfort_Kh']:.2f}",
         f"{r['peak_kw']:.2f}", f"{100 * r['comfort_violation_fraction']:.1f}")
        for control, results in results_by_control.items()
        for name, r in results.items()
    )  # fmt: skip
    caption = (
        "The 13 evaluation weeks of `split=\"test\"` (start days 21, 49, …, 357; episode i seeded i), mean per "
        "week. power: `rlkit/HVAC-v0` (the thermostats' own proportional power); setpoint: "
        "`rlkit/HVAC-Setpoint-v0` (the same setpoints, tracked by the env's PI loop)."
    )
    return markdown_table(header, rows) + "\n\n" + caption + "\n"


def baseline_table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    """:func:`baseline_numbers` as a Markdown table with a caption (what ``python -m envs.hvac`` writes)."""
    per_period = ("energy kWh", "cost €", "discomfort K·h", "violation %")
    header = ("policy", "week: return", *per_period, "year: return", *per_period)
    rows = []
    for name in results["week"]:
        cells = [name]
        for period in ("week", "year"):
            r = results[period][name]
            cells += [
                f"{r['return']:.1f}", f"{r['energy_kwh']:.0f}", f"{r['cost_eur']:.2f}",
                f"{r['discomfort_Kh']:.1f}", f"{100 * r['comfort_violation_fraction']:.1f}",
            ]  # fmt: skip
        rows.append(cells)
    caption = (
        "Week: mean of 52 weekly episodes (seeds 0-51, random start days) of `rlkit/HVAC-v0`. Year: one "
        "`rlkit/HVAC-Year-v0` episode (seed 0). `off` is the heat pump never running."
    )
    return markdown_table(header, rows) + "\n\n" + caption + "\n"
