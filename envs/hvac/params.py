"""HVACEnv's constructor arguments: one frozen dataclass, validated once on construction."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from envs.hvac.splits import SPLITS
from envs.hvac.weather import TEMP_OUT_RANGE_C

CONTROLS = ("power", "setpoint")



@dataclass(frozen=True)
class HVACParams:
    """Every argument of ``HVACEnv`` except ``render_mode`` (see HVACEnv's docstring for their meaning).

    Construction checks every value and raises a one-line ``ValueError`` naming the argument;
    tuples are normalised (floats, sorted weekdays), so an instance is always valid.
    """

    action_type: str = "continuous"
    n_discrete_actions: int = 5
    episode_days: int = 7
    step_minutes: int = 15
    weather_csv: str | os.PathLike | None = None
    comfort_band_c: tuple[float, float] = (20.0, 24.0)
    discomfort_weight: float = 0.1
    comfort_margin_k: float = 0.0
    forecast_hours: tuple[float, ...] = (1, 2, 4, 8)
    # building (2R2C) and heat pump
    capacitance_air_j_per_k: float = 4.0e6
    capacitance_mass_j_per_k: float = 4.0e7
    ua_air_mass_w_per_k: float = 800.0
    ua_air_outdoor_w_per_k: float = 60.0
    ua_mass_outdoor_w_per_k: float = 120.0
    solar_aperture_m2: float = 4.0
    solar_to_air_fraction: float = 0.3
    internal_gain_occupied_w: float = 1200.0
    internal_gain_empty_w: float = 200.0
    max_thermal_power_w: float = 8000.0
    cop_carnot_efficiency: float = 0.5
    max_cop: float = 6.0
    supply_temp_heating_c: float = 35.0
    supply_temp_cooling_c: float = 7.0
    # schedule and tariff
    occupied_hours: tuple[float, float] = (8.0, 18.0)
    occupied_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    tou_prices: tuple[float, float, float] = (0.15, 0.25, 0.40)
    # weather generator (ignored with weather_csv)
    latitude_deg: float = 48.0
    annual_mean_temp_c: float = 10.0
    seasonal_amplitude_c: float = 9.0
    daily_amplitude_c: float = 4.0
    weather_noise_std_c: float = 2.5
    # supervisory setpoint control (control="setpoint") and held-out weeks
    control: str = "power"
    setpoint_range_c: tuple[float, float] = (12.0, 30.0)
    inner_step_s: float = 60.0
    pi_kp_per_k: float = 1.0
    pi_integral_time_s: float = 1800.0
    split: str = "all"

    def __post_init__(self) -> None:
        _check_choices(self)
        _check_physics(self)
        _check_schedule(self)
        _check_climate(self)
        _check_control(self)
        lo, hi = (float(v) for v in self.comfort_band_c)
        set_ = object.__setattr__  # frozen: normalise once, here
        set_(self, "comfort_band_c", (lo, hi))
        set_(self, "forecast_hours", tuple(float(h) for h in self.forecast_hours))
        set_(self, "occupied_hours", tuple(float(h) for h in self.occupied_hours))
        set_(self, "occupied_weekdays", tuple(sorted({int(d) for d in self.occupied_weekdays})))
        set_(self, "tou_prices", tuple(float(p) for p in self.tou_prices))
        set_(self, "setpoint_range_c", tuple(float(v) for v in self.setpoint_range_c))

    @property
    def step_hours(self) -> float:
        return int(self.step_minutes) / 60.0

    @property
    def n_steps(self) -> int:
        """Steps per episode."""
        return int(self.episode_days) * 1440 // int(self.step_minutes)

    @property
    def forecast_steps(self) -> tuple[int, ...]:
        return tuple(int(round(h * 60.0 / int(self.step_minutes))) for h in self.forecast_hours)

    @property
    def cop_params(self) -> dict[str, float]:
        """Keyword arguments of ``heat_pump_cop``."""
        return dict(
            carnot_efficiency=float(self.cop_carnot_efficiency), max_cop=float(self.max_cop),
            supply_heating_c=float(self.supply_temp_heating_c), supply_cooling_c=float(self.supply_temp_cooling_c),
        )  # fmt: skip

    @property
    def climate(self) -> dict[str, float]:
        """Keyword arguments of ``generate_weather`` (after its rng, start hour and length)."""
        return dict(
            latitude_deg=float(self.latitude_deg), annual_mean_temp_c=float(self.annual_mean_temp_c),
            seasonal_amplitude_c=float(self.seasonal_amplitude_c), daily_amplitude_c=float(self.daily_amplitude_c),
            noise_std_c=float(self.weather_noise_std_c),
        )  # fmt: skip


def _check_choices(p: HVACParams) -> None:
    if p.action_type not in ("continuous", "discrete"):
        raise ValueError(f"action_type must be 'continuous' or 'discrete', got {p.action_type!r}")
    if int(p.n_discrete_actions) != p.n_discrete_actions or p.n_discrete_actions < 2:
        raise ValueError(f"n_discrete_actions must be an integer >= 2, got {p.n_discrete_actions!r}")
    step_minutes = p.step_minutes
    if int(step_minutes) != step_minutes or step_minutes < 1 or 1440 % int(step_minutes):
        raise ValueError(f"step_minutes must divide a day (1440 minutes), e.g. 5, 15 or 60; got {step_minutes!r}")
    if int(p.episode_days) != p.episode_days or p.episode_days < 1:
        raise ValueError(f"episode_days must be an integer >= 1, got {p.episode_days!r}")
    lo, hi = (float(v) for v in p.comfort_band_c)
    if not lo < hi:
        raise ValueError(f"comfort_band_c must be (low, high) with low < high in °C, got {p.comfort_band_c!r}")
    if not p.discomfort_weight >= 0:
        raise ValueError(f"discomfort_weight must be >= 0 (€ per K·h), got {p.discomfort_weight!r}")
    if not 0 <= p.comfort_margin_k < (hi - lo) / 2:
        raise ValueError(f"comfort_margin_k must be in [0, {(hi - lo) / 2:g}) K (half of comfort_band_c's width), got {p.comfort_margin_k!r}")
    steps_per_hour = 60.0 / step_minutes
    hours = p.forecast_hours
    if not hours or any(h <= 0 or abs(h * steps_per_hour - round(h * steps_per_hour)) > 1e-9 for h in hours):
        raise ValueError(f"forecast_hours must be positive whole multiples of the {step_minutes}-minute step, got {hours!r}")


def _check_physics(p: HVACParams) -> None:
    positive = ("capacitance_air_j_per_k", "capacitance_mass_j_per_k", "ua_air_mass_w_per_k", "max_thermal_power_w", "cop_carnot_efficiency")
    non_negative = (
        "ua_air_outdoor_w_per_k", "ua_mass_outdoor_w_per_k", "solar_aperture_m2",
        "internal_gain_occupied_w", "internal_gain_empty_w", "weather_noise_std_c",
    )  # fmt: skip
    for name in positive:
        value = getattr(p, name)
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    for name in non_negative:
        value = getattr(p, name)
        if not (np.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    if p.ua_air_outdoor_w_per_k + p.ua_mass_outdoor_w_per_k <= 0:
        raise ValueError("ua_air_outdoor_w_per_k + ua_mass_outdoor_w_per_k must be > 0: a zone with no loss never settles")
    if not 0 <= p.solar_to_air_fraction <= 1:
        raise ValueError(f"solar_to_air_fraction must be in [0, 1], got {p.solar_to_air_fraction!r}")
    if not p.max_cop >= 1:
        raise ValueError(f"max_cop must be >= 1, got {p.max_cop!r}")


def _check_schedule(p: HVACParams) -> None:
    start_h, end_h = (float(v) for v in p.occupied_hours)
    if not 0 <= start_h <= end_h <= 24:
        raise ValueError(f"occupied_hours must be (start, end) with 0 <= start <= end <= 24, got {p.occupied_hours!r}")
    if any(int(d) != d or not 0 <= d <= 6 for d in p.occupied_weekdays):
        raise ValueError(f"occupied_weekdays must be integers 0 (Monday) to 6 (Sunday), got {p.occupied_weekdays!r}")
    prices = p.tou_prices
    if len(prices) != 3 or not all(np.isfinite(v) and v >= 0 for v in prices) or max(prices) <= 0:
        raise ValueError(f"tou_prices must be (off_peak, shoulder, peak) in €/kWh, >= 0, not all 0; got {prices!r}")


def _check_climate(p: HVACParams) -> None:
    if not -90 <= p.latitude_deg <= 90:
        raise ValueError(f"latitude_deg must be in [-90, 90], got {p.latitude_deg!r}")
    spread = abs(p.seasonal_amplitude_c) + abs(p.daily_amplitude_c) + 8 * p.weather_noise_std_c
    extreme_lo, extreme_hi = p.annual_mean_temp_c - spread, p.annual_mean_temp_c + spread
    if p.weather_csv is None and (extreme_lo < TEMP_OUT_RANGE_C[0] or extreme_hi > TEMP_OUT_RANGE_C[1]):
        raise ValueError(
            f"the generated climate (mean {p.annual_mean_temp_c} °C ± {p.seasonal_amplitude_c} seasonal ± "
            f"{p.daily_amplitude_c} daily ± 8 × {p.weather_noise_std_c} noise) leaves {TEMP_OUT_RANGE_C} °C; "
            "use a milder climate or a weather_csv"
        )


def _check_control(p: HVACParams) -> None:
    if p.control not in CONTROLS:
        raise ValueError(f"control must be 'power' (heat-pump power) or 'setpoint' (heating/cooling setpoints), got {p.control!r}")
    if p.control == "setpoint" and p.action_type != "continuous":
        raise ValueError("control='setpoint' takes continuous setpoints in °C; use action_type='continuous'")
    lo, hi = (float(v) for v in p.setpoint_range_c)
    if not 0.0 <= lo < hi <= 40.0:
        raise ValueError(f"setpoint_range_c must be (low, high) in °C with 0 <= low < high <= 40, got {p.setpoint_range_c!r}")
    step_s = int(p.step_minutes) * 60
    inner = p.inner_step_s
    if not (inner > 0 and abs(step_s / inner - round(step_s / inner)) < 1e-9):
        raise ValueError(f"inner_step_s must divide the {step_s} s control step, e.g. 60; got {inner!r}")
    if not (np.isfinite(p.pi_kp_per_k) and p.pi_kp_per_k > 0 and np.isfinite(p.pi_integral_time_s) and p.pi_integral_time_s > 0):
        raise ValueError(f"pi_kp_per_k and pi_integral_time_s must be finite and > 0, got {p.pi_kp_per_k!r}, {p.pi_integral_time_s!r}")
    if p.split not in SPLITS:
        raise ValueError(f"split must be 'all', 'train' (weeks without evaluation days) or 'test' (the evaluation weeks), got {p.split!r}")
