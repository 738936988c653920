"""Heating and cooling one building zone with a heat pump, paid in electricity cost and discomfort.

The zone is a linear resistance-capacitance (RC) thermal network (indoor air and building mass)
discretized exactly over the step; weather is a seeded generator or an hourly CSV; occupancy and
a time-of-use tariff follow a weekly calendar. Everything exogenous is precomputed at reset, so a
step is a handful of scalar operations. Baseline controllers and the function that produces their
published numbers (:func:`baseline_numbers`) are at the bottom of this module.
"""

from __future__ import annotations

import csv
import math
import os
from datetime import datetime, timedelta
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

# Observation scaling (see HVACEnv's Observation Space): temperatures as (T - 20 °C) / 10 K,
# irradiance as GHI / 1000 W/m², price as a fraction of the highest tariff price.
TEMP_OFFSET_C = 20.0
TEMP_SCALE_K = 10.0
SOLAR_SCALE_W_M2 = 1000.0

# Physical validity range of weather inputs. A CSV outside it is an error (80 °C is a unit mix-up,
# e.g. Fahrenheit); the generator's output is clipped to it, which in practice never binds (its
# noise would need > 8 standard deviations). The range makes the observation bounds honest.
TEMP_OUT_RANGE_C = (-50.0, 60.0)
SOLAR_RANGE_W_M2 = (0.0, 1400.0)

CSV_COLUMNS = ("timestamp", "temp_out_c", "solar_w_m2")
# The generator's calendar: a 365-day year whose day 0 (1 January) is a Monday.
DAYS_PER_YEAR = 365
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Per forecast offset, these exogenous features are observed (in this order).
FORECAST_FEATURES = ("temp_out", "solar", "occupied", "price")
CURRENT_FEATURES = ("temp_air", "temp_mass", "temp_out", "solar", "hour_sin", "hour_cos", "occupied", "price")


class HVACEnv(gym.Env):
    """
    ## Description

    A building zone (about 150 m² of office floor) heated and cooled by an air-to-water heat pump.
    The agent sets the heat pump's thermal power every step (15 minutes by default) and pays for
    the electricity at a time-of-use price; people in the zone during office hours are
    uncomfortable when the indoor air leaves a comfort band. Good control sets the building back
    when it is empty, pre-heats (or pre-cools) the thermal mass before people arrive, and shifts
    consumption away from the peak price and toward mild hours where the heat pump's COP is high.

    **Thermal model** (a 2R2C network, plus the direct air-to-outdoor conductance of windows and
    ventilation; all parameters are constructor arguments, in SI units):

        C_air  dT_air/dt  = UA_am (T_mass - T_air) + UA_ao (T_out - T_air) + Q_hvac + f Q_solar + Q_internal
        C_mass dT_mass/dt = UA_am (T_air - T_mass) + UA_mo (T_out - T_mass) + (1 - f) Q_solar

    with C in J/K, UA in W/K, Q in W and T in °C. Defaults: C_air = 4 MJ/K (air, furniture and
    light partitions), C_mass = 40 MJ/K (concrete slab and heavy walls), UA_am = 800 W/K
    (surface convection), UA_ao = 60 W/K (windows, infiltration), UA_mo = 120 W/K (opaque
    envelope); the overall loss is 164 W/K, so the design load at -10 °C is about 5.1 kW against a
    heat pump of 8 kW thermal. Time constants: about 1.3 h (air) and 63 h (mass). The linear system
    ``dx/dt = A x + B u`` (``env.A``, ``env.B``) with ``u = [T_out °C, Q_hvac W, GHI W/m², Q_internal W]``
    (``Q_solar = solar_aperture_m2 · GHI``) held constant over a step (zero-order hold) is
    discretized exactly with the matrix exponential (no Euler error): ``x[k+1] = Ad x[k] + Bd u[k]``
    (``env.Ad``, ``env.Bd``), computed once at construction (:func:`discretize_rc`).

    **Heat pump.** ``Q_hvac`` (W, thermal; > 0 heats, < 0 cools) draws electric power
    ``|Q_hvac| / COP``. The COP is a fraction (``cop_carnot_efficiency``, 0.5) of the Carnot COP
    between the outdoor air and a fixed water supply temperature (35 °C heating, 7 °C cooling) with
    5-10 K heat-exchanger approaches, clipped to [1, ``max_cop``] (:func:`heat_pump_cop`): heating
    COP 2.85 at -10 °C and 4.1 at 7 °C, cooling COP 3.2 at 35 °C. The thermal capacity does not
    depend on temperature.

    **Exogenous inputs.** Hourly weather is either generated (seeded: a seasonal cycle coldest on
    20 January, a daily cycle warmest at 15:00, AR(1) noise with a 48 h correlation time; clear-sky
    irradiance from solar geometry at ``latitude_deg`` times an AR(1) cloudiness; see
    :func:`generate_weather`) or read from ``weather_csv`` (see below), and linearly interpolated to
    the step. Solar gain is ``solar_aperture_m2`` × global horizontal irradiance (W). The zone is
    occupied on ``occupied_weekdays`` (Mon-Fri) between ``occupied_hours`` (08:00-18:00), with
    internal gains of 1200 W occupied and 200 W empty. The price (€/kWh, any currency) is
    ``tou_prices`` = (off-peak 0.15, shoulder 0.25, peak 0.40): on weekdays peak 17:00-21:00,
    shoulder 07:00-17:00 and 21:00-23:00, off-peak otherwise; weekends are off-peak all day.

    ## Action Space

    ``action_type="continuous"`` (default): ``Box(-1, 1, (1,), float32)``, the heat pump's thermal
    power as a fraction of ``max_thermal_power_w`` (8 kW): +1 heats at full power, -1 cools at full
    power, 0 is off. Power rather than a setpoint, so the agent faces the real decision (when to
    spend energy) instead of tuning an inner controller we would have to invent; the thermostat
    baselines below are exactly such setpoint controllers.
    ``action_type="discrete"`` (``rlkit/HVAC-Discrete-v0``): ``Discrete(n_discrete_actions)``, the
    levels ``linspace(-1, 1, n)`` of the same power (5 levels: -8, -4, 0, 4, 8 kW).
    An action outside the space raises a ``ValueError`` naming the space; nothing is clipped.

    ## Observation Space

    ``Box(float32)`` of ``8 + 4 * len(forecast_hours)`` values (24 by default), roughly unit scale:

    | index | value | scaling |
    |---|---|---|
    | 0 | indoor air temperature | (T - 20 °C) / 10 K |
    | 1 | building mass temperature | (T - 20 °C) / 10 K |
    | 2 | outdoor temperature | (T - 20 °C) / 10 K |
    | 3 | global horizontal irradiance | GHI / 1000 W/m² |
    | 4, 5 | time of day | sin, cos of 2π · hour / 24 |
    | 6 | occupied now | 0 or 1 |
    | 7 | electricity price now | price / max(tou_prices) |
    | 8 + 4j ... 11 + 4j | perfect forecast at ``forecast_hours[j]`` (1, 2, 4, 8 h) ahead | outdoor temperature, irradiance, occupied, price, scaled as above |

    Bounds are honest: weather is bounded by ``TEMP_OUT_RANGE_C`` and ``SOLAR_RANGE_W_M2``, and the
    indoor and mass temperatures by the fixed points of the discrete system under the extreme
    inputs (the RC network is a positive system, so that box is invariant).

    ## Rewards

    ``reward = -(cost + discomfort_weight * discomfort_degree_hours)`` per step, where ``cost`` is
    the step's electricity bill (€) and ``discomfort_degree_hours`` is the distance (K) of the
    indoor air temperature at the end of the step outside ``comfort_band_c`` (20-24 °C), times the
    step length in hours, counted only when the zone is occupied during the step. Both terms are in
    euros: ``discomfort_weight`` λ = 0.1 €/(K·h) is about the typical hourly energy cost of the
    plain thermostat (0.07 €/h averaged over the year, 0.15 €/h in January, 0.02-0.05 €/h in
    summer), so one degree-hour of discomfort costs about as much as an hour of conditioning and
    neither term drowns the other. It still outweighs what discomfort saves (1 K less in winter
    saves about 164 W of heat, some 0.015 €/h), so comfort is worth keeping. Per-step rewards are of
    order 0.01-0.1 (a 15-minute step 4 K outside the band costs 0.1); no normalization is needed.

    ``info`` on every step: ``energy_kwh`` (electricity), ``cost`` (€), ``discomfort_degree_hours``
    and ``comfort_violation`` (K outside the band while occupied, else 0: the constraint signal for
    constrained RL, free of the energy term).

    ## Starting State

    The episode starts at midnight of a seeded random day (of the generator's 365-day year, or of
    the CSV), or of ``options["start_day"]`` passed to ``reset``. The indoor air starts uniformly in
    [comfort low - 2 K, comfort high] and the mass within ±1 K of it.

    ## Episode End

    The env owns its length: ``truncated`` after ``episode_days`` days (672 steps for 7 days;
    ``rlkit/HVAC-Year-v0`` runs 365 days, 35,040 steps). There is no terminal state. The last
    step's ``info["episode_metrics"]`` holds the episode's ``energy_kwh``, ``cost``,
    ``discomfort_degree_hours`` and ``comfort_violation_fraction`` (occupied steps outside the band
    over occupied steps).

    ## Arguments

    ``gymnasium.make("rlkit/HVAC-v0", **kwargs)``; every argument of ``__init__`` below. Weather
    CSV (``weather_csv``): a header with the columns ``timestamp,temp_out_c,solar_w_m2`` (in any
    order; other columns are ignored), one row per hour, ISO 8601 timestamps (``2023-01-01T00:00``
    or ``2023-01-01 00:00``, all naive or all with a UTC offset), strictly consecutive hours; air
    temperature in °C and global horizontal irradiance in W/m². A gap, a repeated or unsorted
    timestamp, an empty or non-numeric cell, NaN, or a value outside the physical range is a
    ``ValueError`` naming the file, the row and the column: nothing is interpolated across gaps or
    filled in. The file must cover at least one episode plus the forecast horizon from a midnight.

    ## Baselines

    ``envs.BASELINES``: ``thermostat`` (proportional heating below 21.5 °C and cooling above
    22.5 °C, all the time) and ``schedule_thermostat`` (reads the occupancy forecast: sets back to
    15/30 °C when the zone is empty, warms the mass up to 19 °C from four hours before people
    arrive, holds 21/23 °C once they are within an hour, and coasts toward the band edges during
    the peak price). Numbers from :func:`baseline_numbers` (``python -m envs.hvac``), default env:

    | policy | week: return | energy kWh | cost € | discomfort K·h | violation % | year: return | energy kWh | cost € | discomfort K·h | violation % |
    |---|---|---|---|---|---|---|---|---|---|---|
    | off | -20.2 | 0 | 0.00 | 202.0 | 82.0 | -1632.1 | 0 | 0.00 | 16320.9 | 83.2 |
    | thermostat | -12.0 | 58 | 11.97 | 0.0 | 0.0 | -617.5 | 2987 | 617.51 | 0.0 | 0.0 |
    | schedule_thermostat | -7.8 | 36 | 7.77 | 0.1 | 2.4 | -450.3 | 2067 | 448.95 | 13.9 | 4.6 |

    Week: mean of 52 weekly episodes (seeds 0-51, random start days). Year: one
    ``rlkit/HVAC-Year-v0`` episode (seed 0). ``off`` is the heat pump never running.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 8}

    def __init__(
        self,
        action_type: str = "continuous",
        n_discrete_actions: int = 5,
        episode_days: int = 7,
        step_minutes: int = 15,
        weather_csv: str | os.PathLike | None = None,
        comfort_band_c: tuple[float, float] = (20.0, 24.0),
        discomfort_weight: float = 0.1,
        forecast_hours: tuple[float, ...] = (1, 2, 4, 8),
        # building (2R2C) and heat pump
        capacitance_air_j_per_k: float = 4.0e6,
        capacitance_mass_j_per_k: float = 4.0e7,
        ua_air_mass_w_per_k: float = 800.0,
        ua_air_outdoor_w_per_k: float = 60.0,
        ua_mass_outdoor_w_per_k: float = 120.0,
        solar_aperture_m2: float = 4.0,
        solar_to_air_fraction: float = 0.3,
        internal_gain_occupied_w: float = 1200.0,
        internal_gain_empty_w: float = 200.0,
        max_thermal_power_w: float = 8000.0,
        cop_carnot_efficiency: float = 0.5,
        max_cop: float = 6.0,
        supply_temp_heating_c: float = 35.0,
        supply_temp_cooling_c: float = 7.0,
        # schedule and tariff
        occupied_hours: tuple[float, float] = (8.0, 18.0),
        occupied_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4),
        tou_prices: tuple[float, float, float] = (0.15, 0.25, 0.40),
        # weather generator (ignored with weather_csv)
        latitude_deg: float = 48.0,
        annual_mean_temp_c: float = 10.0,
        seasonal_amplitude_c: float = 9.0,
        daily_amplitude_c: float = 4.0,
        weather_noise_std_c: float = 2.5,
        render_mode: str | None = None,
    ):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        self.render_mode = render_mode
        if action_type not in ("continuous", "discrete"):
            raise ValueError(f"action_type must be 'continuous' or 'discrete', got {action_type!r}")
        if int(n_discrete_actions) != n_discrete_actions or n_discrete_actions < 2:
            raise ValueError(f"n_discrete_actions must be an integer >= 2, got {n_discrete_actions!r}")
        if int(step_minutes) != step_minutes or step_minutes < 1 or 1440 % int(step_minutes):
            raise ValueError(f"step_minutes must divide a day (1440 minutes), e.g. 5, 15 or 60; got {step_minutes!r}")
        if int(episode_days) != episode_days or episode_days < 1:
            raise ValueError(f"episode_days must be an integer >= 1, got {episode_days!r}")
        lo, hi = (float(v) for v in comfort_band_c)
        if not lo < hi:
            raise ValueError(f"comfort_band_c must be (low, high) with low < high in °C, got {comfort_band_c!r}")
        if not discomfort_weight >= 0:
            raise ValueError(f"discomfort_weight must be >= 0 (€ per K·h), got {discomfort_weight!r}")
        positive = {
            "capacitance_air_j_per_k": capacitance_air_j_per_k,
            "capacitance_mass_j_per_k": capacitance_mass_j_per_k,
            "ua_air_mass_w_per_k": ua_air_mass_w_per_k,
            "max_thermal_power_w": max_thermal_power_w,
            "cop_carnot_efficiency": cop_carnot_efficiency,
        }
        non_negative = {
            "ua_air_outdoor_w_per_k": ua_air_outdoor_w_per_k,
            "ua_mass_outdoor_w_per_k": ua_mass_outdoor_w_per_k,
            "solar_aperture_m2": solar_aperture_m2,
            "internal_gain_occupied_w": internal_gain_occupied_w,
            "internal_gain_empty_w": internal_gain_empty_w,
            "weather_noise_std_c": weather_noise_std_c,
        }
        for name, value in positive.items():
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
        for name, value in non_negative.items():
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if ua_air_outdoor_w_per_k + ua_mass_outdoor_w_per_k <= 0:
            raise ValueError("ua_air_outdoor_w_per_k + ua_mass_outdoor_w_per_k must be > 0: a zone with no loss never settles")
        if not 0 <= solar_to_air_fraction <= 1:
            raise ValueError(f"solar_to_air_fraction must be in [0, 1], got {solar_to_air_fraction!r}")
        if not max_cop >= 1:
            raise ValueError(f"max_cop must be >= 1, got {max_cop!r}")
        start_h, end_h = (float(v) for v in occupied_hours)
        if not 0 <= start_h <= end_h <= 24:
            raise ValueError(f"occupied_hours must be (start, end) with 0 <= start <= end <= 24, got {occupied_hours!r}")
        if any(int(d) != d or not 0 <= d <= 6 for d in occupied_weekdays):
            raise ValueError(f"occupied_weekdays must be integers 0 (Monday) to 6 (Sunday), got {occupied_weekdays!r}")
        if len(tou_prices) != 3 or not all(np.isfinite(p) and p >= 0 for p in tou_prices) or max(tou_prices) <= 0:
            raise ValueError(f"tou_prices must be (off_peak, shoulder, peak) in €/kWh, >= 0, not all 0; got {tou_prices!r}")
        steps_per_hour = 60.0 / step_minutes
        if not forecast_hours or any(h <= 0 or abs(h * steps_per_hour - round(h * steps_per_hour)) > 1e-9 for h in forecast_hours):
            raise ValueError(
                f"forecast_hours must be positive whole multiples of the {step_minutes}-minute step, got {forecast_hours!r}"
            )
        if not -90 <= latitude_deg <= 90:
            raise ValueError(f"latitude_deg must be in [-90, 90], got {latitude_deg!r}")
        extreme_lo = annual_mean_temp_c - abs(seasonal_amplitude_c) - abs(daily_amplitude_c) - 8 * weather_noise_std_c
        extreme_hi = annual_mean_temp_c + abs(seasonal_amplitude_c) + abs(daily_amplitude_c) + 8 * weather_noise_std_c
        if weather_csv is None and (extreme_lo < TEMP_OUT_RANGE_C[0] or extreme_hi > TEMP_OUT_RANGE_C[1]):
            raise ValueError(
                f"the generated climate (mean {annual_mean_temp_c} °C ± {seasonal_amplitude_c} seasonal ± {daily_amplitude_c} "
                f"daily ± 8 × {weather_noise_std_c} noise) leaves {TEMP_OUT_RANGE_C} °C; use a milder climate or a weather_csv"
            )

        self.step_minutes = int(step_minutes)
        self.step_hours = self.step_minutes / 60.0
        self.episode_days = int(episode_days)
        self.n_steps = self.episode_days * 1440 // self.step_minutes
        self.forecast_steps = tuple(int(round(h * steps_per_hour)) for h in forecast_hours)
        self.forecast_hours = tuple(float(h) for h in forecast_hours)
        self.comfort_band_c = (lo, hi)
        self.discomfort_weight = float(discomfort_weight)
        self.max_thermal_power_w = float(max_thermal_power_w)
        self.solar_aperture_m2 = float(solar_aperture_m2)
        self.solar_to_air_fraction = float(solar_to_air_fraction)
        self.internal_gains_w = (float(internal_gain_empty_w), float(internal_gain_occupied_w))  # (empty, occupied)
        self.cop_params = dict(
            carnot_efficiency=float(cop_carnot_efficiency), max_cop=float(max_cop),
            supply_heating_c=float(supply_temp_heating_c), supply_cooling_c=float(supply_temp_cooling_c),
        )  # fmt: skip
        self.occupied_hours = (start_h, end_h)
        self.occupied_weekdays = tuple(sorted({int(d) for d in occupied_weekdays}))
        self.tou_prices = tuple(float(p) for p in tou_prices)
        self.climate = dict(
            latitude_deg=float(latitude_deg), annual_mean_temp_c=float(annual_mean_temp_c),
            seasonal_amplitude_c=float(seasonal_amplitude_c), daily_amplitude_c=float(daily_amplitude_c),
            noise_std_c=float(weather_noise_std_c),
        )  # fmt: skip
        # Hourly samples an episode reads: its steps, the forecast horizon, and the end point of interpolation.
        self._n_series = self.n_steps + 1 + max(self.forecast_steps)
        self._n_hours = math.ceil((self._n_series - 1) * self.step_hours) + 1
        self.weather = None
        if weather_csv is not None:
            self.weather = load_weather_csv(weather_csv)
            self._csv_start_rows = _midnight_rows(self.weather, self._n_hours)
            if len(self._csv_start_rows) == 0:
                raise ValueError(
                    f"{weather_csv}: {len(self.weather['temp_out_c'])} hourly rows hold no midnight followed by "
                    f"{self._n_hours} consecutive hours, which an episode of {self.episode_days} days plus the "
                    f"{max(self.forecast_hours):g} h forecast needs; use a longer file or a smaller episode_days"
                )

        # Thermal network: state x = [T_air, T_mass] (°C), input u = [T_out, Q_hvac, Q_solar, Q_internal].
        capacitance = np.array([capacitance_air_j_per_k, capacitance_mass_j_per_k], dtype=np.float64)  # (2,)
        conductance = np.array(
            [[ua_air_mass_w_per_k + ua_air_outdoor_w_per_k, -ua_air_mass_w_per_k],
             [-ua_air_mass_w_per_k, ua_air_mass_w_per_k + ua_mass_outdoor_w_per_k]], dtype=np.float64,
        )  # (2, 2) fmt: skip
        heat_input = np.array(
            [[ua_air_outdoor_w_per_k, 1.0, solar_to_air_fraction * solar_aperture_m2, 1.0],
             [ua_mass_outdoor_w_per_k, 0.0, (1.0 - solar_to_air_fraction) * solar_aperture_m2, 0.0]], dtype=np.float64,
        )  # (2, 4) W per unit of u; Q_solar enters as irradiance (W/m²) times the aperture fmt: skip
        self.capacitance = capacitance
        self.conductance = conductance
        self.A = -conductance / capacitance[:, None]  # (2, 2)
        self.B = heat_input / capacitance[:, None]  # (2, 4), u = [T_out °C, Q_hvac W, GHI W/m², Q_internal W]
        self.Ad, self.Bd = discretize_rc(capacitance, conductance, heat_input, self.step_minutes * 60.0)
        # Scalars for step(): Python floats are several times faster than NumPy scalars there.
        (self._a_aa, self._a_am), (self._a_ma, self._a_mm) = self.Ad.tolist()
        self._b_aq, self._b_mq = float(self.Bd[0, 1]), float(self.Bd[1, 1])

        # Invariant temperature box: fixed points of x = Ad x + Bd u at the extreme inputs. Ad and Bd
        # are elementwise non-negative (A is Metzler), so the map is monotone and the box is invariant.
        gain_lo, gain_hi = min(self.internal_gains_w), max(self.internal_gains_w)
        u_lo = np.array([TEMP_OUT_RANGE_C[0], -self.max_thermal_power_w, SOLAR_RANGE_W_M2[0], gain_lo])
        u_hi = np.array([TEMP_OUT_RANGE_C[1], self.max_thermal_power_w, SOLAR_RANGE_W_M2[1], gain_hi])
        identity = np.eye(2)
        temp_lo = np.linalg.solve(identity - self.Ad, self.Bd @ u_lo)  # (2,)
        temp_hi = np.linalg.solve(identity - self.Ad, self.Bd @ u_hi)  # (2,)
        self.temp_bounds_c = (temp_lo - 1.0, temp_hi + 1.0)  # 1 K margin for rounding

        if action_type == "continuous":
            self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
            self.action_levels = None
        else:
            self.action_space = spaces.Discrete(int(n_discrete_actions))
            self.action_levels = np.linspace(-1.0, 1.0, int(n_discrete_actions))
        self._discrete = action_type == "discrete"
        self._level_power_w = None if self.action_levels is None else (self.action_levels * self.max_thermal_power_w).tolist()

        def scaled(t):
            return (np.asarray(t) - TEMP_OFFSET_C) / TEMP_SCALE_K

        current_lo = [*scaled(self.temp_bounds_c[0]), scaled(TEMP_OUT_RANGE_C[0]), 0.0, -1.0, -1.0, 0.0, 0.0]
        current_hi = [*scaled(self.temp_bounds_c[1]), scaled(TEMP_OUT_RANGE_C[1]), SOLAR_RANGE_W_M2[1] / SOLAR_SCALE_W_M2, 1.0, 1.0, 1.0, 1.0]
        forecast_lo = [scaled(TEMP_OUT_RANGE_C[0]), 0.0, 0.0, 0.0]
        forecast_hi = [scaled(TEMP_OUT_RANGE_C[1]), SOLAR_RANGE_W_M2[1] / SOLAR_SCALE_W_M2, 1.0, 1.0]
        n_forecasts = len(self.forecast_steps)
        self.observation_space = spaces.Box(
            low=np.array(current_lo + forecast_lo * n_forecasts, dtype=np.float32),
            high=np.array(current_hi + forecast_hi * n_forecasts, dtype=np.float32),
            dtype=np.float32,
        )
        self.feature_names = list(CURRENT_FEATURES) + [
            f"{name}_{h:g}h" for h in self.forecast_hours for name in FORECAST_FEATURES
        ]
        self._t = None  # step index; None until reset

    # --- Gymnasium API --------------------------------------------------------------------------

    def step(self, action):
        t = self._t
        if t is None or t >= self.n_steps:
            raise RuntimeError("HVACEnv.step() called before reset() or after the episode ended; call reset()")
        if self._discrete:
            power_w = self._level_power_w[self._discrete_action(action)]
        else:
            power_w = self._continuous_action(action) * self.max_thermal_power_w
        temp_air, temp_mass = self._temp_air, self._temp_mass
        temp_air_next = self._a_aa * temp_air + self._a_am * temp_mass + self._b_aq * power_w + self._drive_air[t]
        temp_mass_next = self._a_ma * temp_air + self._a_mm * temp_mass + self._b_mq * power_w + self._drive_mass[t]
        if power_w >= 0.0:
            energy_kwh = power_w * self._kwh_per_w_step / self._cop_heating[t]
        else:
            energy_kwh = -power_w * self._kwh_per_w_step / self._cop_cooling[t]
        cost = energy_kwh * self._price[t]
        violation = 0.0
        if self._occupied[t]:
            lo, hi = self.comfort_band_c
            if temp_air_next < lo:
                violation = lo - temp_air_next
            elif temp_air_next > hi:
                violation = temp_air_next - hi
            self._sum_occupied_steps += 1
            if violation > 0.0:
                self._sum_violating_steps += 1
        discomfort = violation * self.step_hours
        self._sum_energy_kwh += energy_kwh
        self._sum_cost += cost
        self._sum_discomfort += discomfort

        t += 1
        self._t = t
        self._temp_air, self._temp_mass = temp_air_next, temp_mass_next
        self._power_w[t] = power_w
        observation = self._obs_table[t]
        observation[0] = (temp_air_next - TEMP_OFFSET_C) / TEMP_SCALE_K
        observation[1] = (temp_mass_next - TEMP_OFFSET_C) / TEMP_SCALE_K
        info = {
            "energy_kwh": energy_kwh,
            "cost": cost,
            "discomfort_degree_hours": discomfort,
            "comfort_violation": violation,
        }
        truncated = t == self.n_steps
        if truncated:
            info["episode_metrics"] = self._episode_metrics()
        return observation, -(cost + self.discomfort_weight * discomfort), False, truncated, info

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = dict(options or {})
        start_day = options.pop("start_day", None)
        if options:
            raise ValueError(f"unknown reset options {sorted(options)}; HVACEnv.reset accepts only 'start_day'")
        rng = self.np_random
        n_days = DAYS_PER_YEAR if self.weather is None else len(self._csv_start_rows)
        if start_day is None:
            start_day = int(rng.integers(n_days))
        elif int(start_day) != start_day or not 0 <= start_day < n_days:
            where = "day of the generator's 365-day year" if self.weather is None else f"midnight that starts a full episode in {self.weather['path']}"
            raise ValueError(f"options['start_day'] must be an integer in [0, {n_days}) (the {where}), got {start_day!r}")
        start_day = int(start_day)
        lo, hi = self.comfort_band_c
        self._temp_air = float(rng.uniform(lo - 2.0, hi))
        self._temp_mass = self._temp_air + float(rng.uniform(-1.0, 1.0))

        if self.weather is None:
            temp_hourly, solar_hourly = generate_weather(rng, start_day * 24, self._n_hours, **self.climate)
            start_weekday = start_day % 7
            self.start_label = f"day {start_day} ({WEEKDAY_NAMES[start_weekday]})"
        else:
            row = self._csv_start_rows[start_day]
            temp_hourly = self.weather["temp_out_c"][row : row + self._n_hours]
            solar_hourly = self.weather["solar_w_m2"][row : row + self._n_hours]
            start_weekday = self.weather["timestamps"][row].weekday()
            self.start_label = self.weather["timestamps"][row].isoformat()
        self._build_episode(temp_hourly, solar_hourly, start_weekday)
        self._start_weekday = start_weekday
        self.start_day = start_day

        self._t = 0
        self._sum_energy_kwh = self._sum_cost = self._sum_discomfort = 0.0
        self._sum_occupied_steps = self._sum_violating_steps = 0
        self._power_w = np.zeros(self.n_steps + 1)  # (T+1,) power applied in the step ending at each index
        observation = self._obs_table[0]
        observation[0] = (self._temp_air - TEMP_OFFSET_C) / TEMP_SCALE_K
        observation[1] = (self._temp_mass - TEMP_OFFSET_C) / TEMP_SCALE_K
        return observation, {}

    def render(self):
        if self.render_mode is None:
            gym.logger.warn(
                "You are calling render method without specifying any render mode. You can specify the render_mode "
                'at initialization, e.g. gym.make("rlkit/HVAC-v0", render_mode="ansi")'
            )
            return None
        if self._t is None:
            raise RuntimeError("HVACEnv.render() called before reset()")
        return self._render_ansi() if self.render_mode == "ansi" else self._render_rgb()

    def close(self):
        pass

    # --- state and episode series, readable by tests and oracles ---------------------------------

    @property
    def temp_air_c(self) -> float:
        """Indoor air temperature now (°C, float64)."""
        return self._temp_air

    @property
    def temp_mass_c(self) -> float:
        """Building mass temperature now (°C, float64)."""
        return self._temp_mass

    @property
    def step_index(self) -> int:
        return self._t

    # --- internals -----------------------------------------------------------------------------

    def _build_episode(self, temp_hourly: np.ndarray, solar_hourly: np.ndarray, start_weekday: int) -> None:
        """Interpolate hourly weather to the step grid and precompute every exogenous series (vectorized)."""
        n_series = self._n_series
        hours = np.arange(n_series) * self.step_hours  # (S,) hours since the episode's midnight
        temp_out = np.interp(hours, np.arange(len(temp_hourly)), temp_hourly)  # (S,)
        ghi = np.interp(hours, np.arange(len(solar_hourly)), solar_hourly)  # (S,)
        hour_of_day = np.mod(hours, 24.0)  # (S,)
        weekday = (start_weekday + np.floor_divide(hours, 24.0).astype(np.int64)) % 7  # (S,)
        workday = np.isin(weekday, (0, 1, 2, 3, 4))
        occupied = np.isin(weekday, self.occupied_weekdays) & (hour_of_day >= self.occupied_hours[0]) & (
            hour_of_day < self.occupied_hours[1]
        )  # (S,)
        off_peak, shoulder, peak = self.tou_prices
        shoulder_hours = (hour_of_day >= 7.0) & (hour_of_day < 23.0)
        peak_hours = (hour_of_day >= 17.0) & (hour_of_day < 21.0)
        price = np.where(workday & peak_hours, peak, np.where(workday & shoulder_hours, shoulder, off_peak))  # (S,)
        internal_gain = np.where(occupied, self.internal_gains_w[1], self.internal_gains_w[0])  # (S,)
        cop_heating, cop_cooling = heat_pump_cop(temp_out, **self.cop_params)  # (S,), (S,)

        # Episode inputs per step (public, for analysis, oracles and tests): the values held during step k.
        n = self.n_steps
        self.temp_out_c = temp_out[:n]
        self.solar_w_m2 = ghi[:n]
        self.solar_gain_w = ghi[:n] * self.solar_aperture_m2
        self.internal_gain_w = internal_gain[:n]
        self.occupied = occupied[:n]
        self.price_per_kwh = price[:n]
        self.cop_heating = cop_heating[:n]
        self.cop_cooling = cop_cooling[:n]
        self.hour_of_day = hour_of_day[:n]
        self.weekday = weekday[:n]

        # The state-independent part of x[k+1] = Ad x[k] + Bd u[k]; step() adds Ad x and the HVAC column.
        exogenous = np.stack([temp_out[:n], np.zeros(n), ghi[:n], internal_gain[:n]])  # (4, T)
        drive = self.Bd @ exogenous  # (2, T)
        self._drive_air = drive[0].tolist()
        self._drive_mass = drive[1].tolist()
        self._cop_heating = cop_heating[:n].tolist()
        self._cop_cooling = cop_cooling[:n].tolist()
        self._price = price[:n].tolist()
        self._occupied = occupied[:n].tolist()
        self._kwh_per_w_step = self.step_hours / 1000.0

        # Observation rows 0..T, exogenous columns filled now, temperatures by reset/step. A new table per
        # episode, so an observation handed out earlier is never overwritten.
        temp_norm = (temp_out - TEMP_OFFSET_C) / TEMP_SCALE_K  # (S,)
        solar_norm = ghi / SOLAR_SCALE_W_M2  # (S,)
        price_norm = price / max(self.tou_prices)  # (S,)
        table = np.empty((n + 1, self.observation_space.shape[0]), dtype=np.float32)  # (T+1, D)
        angle = 2.0 * np.pi * hour_of_day[: n + 1] / 24.0
        table[:, 2] = temp_norm[: n + 1]
        table[:, 3] = solar_norm[: n + 1]
        table[:, 4] = np.sin(angle)
        table[:, 5] = np.cos(angle)
        table[:, 6] = occupied[: n + 1]
        table[:, 7] = price_norm[: n + 1]
        for j, ahead in enumerate(self.forecast_steps):
            column = len(CURRENT_FEATURES) + len(FORECAST_FEATURES) * j
            table[:, column] = temp_norm[ahead : ahead + n + 1]
            table[:, column + 1] = solar_norm[ahead : ahead + n + 1]
            table[:, column + 2] = occupied[ahead : ahead + n + 1]
            table[:, column + 3] = price_norm[ahead : ahead + n + 1]
        self._obs_table = table

    def _continuous_action(self, action) -> float:
        if type(action) is np.ndarray and action.shape == (1,) and action.dtype.kind == "f":
            value = float(action[0])
        else:
            try:
                array = np.asarray(action)
            except Exception:
                raise self._action_error(action) from None
            if array.shape != (1,) or array.dtype.kind not in "fiu":
                raise self._action_error(action)
            value = float(array[0])
        if not -1.0 <= value <= 1.0:  # also rejects NaN
            raise self._action_error(action)
        return value

    def _discrete_action(self, action) -> int:
        if type(action) is int or isinstance(action, np.integer):
            index = int(action)
        elif isinstance(action, np.ndarray) and action.shape == () and action.dtype.kind in "iu":
            index = int(action)
        else:
            raise self._action_error(action)
        if not 0 <= index < self.action_space.n:
            raise self._action_error(action)
        return index

    def _action_error(self, action) -> ValueError:
        if self._discrete:
            expected = f"an integer in [0, {self.action_space.n}) indexing the power levels {self.action_levels.tolist()}"
        else:
            expected = (
                "a float array of shape (1,) in [-1, 1]: thermal power as a fraction of max_thermal_power_w, "
                "negative cools; clip or squash the policy's output (SB3 clips Box actions for you)"
            )
        return ValueError(f"action {action!r} is outside the action space {self.action_space}; expected {expected}")

    def _episode_metrics(self) -> dict[str, float]:
        occupied = self._sum_occupied_steps
        return {
            "energy_kwh": float(self._sum_energy_kwh),
            "cost": float(self._sum_cost),
            "discomfort_degree_hours": float(self._sum_discomfort),
            "comfort_violation_fraction": float(self._sum_violating_steps / occupied) if occupied else 0.0,
        }

    def _render_ansi(self) -> str:
        t = self._t
        minutes = t * self.step_minutes
        weekday = (self._start_weekday + minutes // 1440) % 7
        row = self._obs_table[t]  # the exogenous columns hold time t's values for every t in [0, T]
        return (
            f"day {minutes // 1440} {WEEKDAY_NAMES[weekday]} {(minutes // 60) % 24:02d}:{minutes % 60:02d} | "
            f"air {self._temp_air:5.1f} °C mass {self._temp_mass:5.1f} °C "
            f"out {row[2] * TEMP_SCALE_K + TEMP_OFFSET_C:5.1f} °C | {'occupied' if row[6] > 0.5 else 'empty   '} | "
            f"HVAC {self._power_w[t] / 1000:+5.1f} kW | {row[7] * max(self.tou_prices):.2f} €/kWh | "
            f"energy {self._sum_energy_kwh:7.2f} kWh, cost {self._sum_cost:6.2f} €, discomfort {self._sum_discomfort:6.2f} K·h"
        )

    def _render_rgb(self, height: int = 240, width: int = 480) -> np.ndarray:
        """Strip chart of the episode so far: air (red) and outdoor (blue) temperature over the comfort
        band (green while occupied), and heat-pump power below (red heating, blue cooling). Drawn with
        NumPy because envs may not import matplotlib."""
        image = np.full((height, width, 3), 255, dtype=np.uint8)  # (H, W, 3)
        t = self._t
        temp_top, temp_bottom = 8, int(height * 0.68)
        power_mid, power_half = int(height * 0.85), int(height * 0.12)
        t_min, t_max = -15.0, 40.0
        columns = (np.arange(t + 1) * (width - 1)) // max(self.n_steps, 1)  # (t+1,)

        def rows_of(temp):
            frac = (np.clip(temp, t_min, t_max) - t_min) / (t_max - t_min)
            return (temp_bottom - frac * (temp_bottom - temp_top)).astype(np.int64)

        lo_row, hi_row = rows_of(np.array([self.comfort_band_c[0], self.comfort_band_c[1]]))
        band = columns[:t][self.occupied[:t]] if t else columns[:0]
        image[hi_row : lo_row + 1, :][:, band] = (200, 235, 200)
        image[[temp_top - 1, temp_bottom + 1], :] = 180
        image[power_mid, :] = 180
        temp_air = np.concatenate([[self._obs_table[0, 0]], self._obs_table[1 : t + 1, 0]]) * TEMP_SCALE_K + TEMP_OFFSET_C
        temp_out = np.append(self.temp_out_c, self.temp_out_c[-1])[: t + 1]
        for series, color in ((temp_out, (40, 90, 220)), (temp_air, (220, 40, 40))):
            rows = rows_of(series)
            image[rows, columns] = color
            image[np.minimum(rows + 1, temp_bottom), columns] = color
        power = self._power_w[1 : t + 1] / self.max_thermal_power_w  # (t,)
        if t:
            offsets = np.arange(-power_half, power_half + 1)[:, None]  # (P, 1)
            heights = np.round(power * power_half)[None, :]  # (1, t)
            mask = ((offsets < 0) & (offsets >= -heights)) | ((offsets > 0) & (offsets <= -heights))  # (P, t)
            rows, steps = np.nonzero(mask)
            colors = np.where((power[steps] > 0)[:, None], [[220, 40, 40]], [[40, 90, 220]]).astype(np.uint8)
            image[power_mid + offsets[rows, 0], columns[1:][steps]] = colors
        return image


# --- physics -------------------------------------------------------------------------------------


def discretize_rc(
    capacitance: np.ndarray, conductance: np.ndarray, heat_input: np.ndarray, dt_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Exact zero-order-hold discretization of the RC network ``C dx/dt = -K x + H u``.

    Returns ``(Ad, Bd)`` with ``x[k+1] = Ad x[k] + Bd u[k]`` for ``u`` held constant over ``dt_s``
    seconds: ``Ad = expm(A dt)`` and ``Bd = ∫₀^dt expm(A s) ds · B`` with ``A = -C⁻¹K``, ``B = C⁻¹H``
    (what ``scipy.linalg.expm`` of the block matrix ``[[A, B], [0, 0]] dt`` gives).

    Computed by hand rather than with SciPy, which envs may not depend on: ``K`` (conductances,
    W/K) is symmetric, so ``A`` is similar to the symmetric ``S = -C^-1/2 K C^-1/2``, whose
    eigendecomposition ``numpy.linalg.eigh`` gives exactly and stably (real eigenvalues, orthogonal
    eigenvectors). Then ``expm(A t) = C^-1/2 Q exp(Λt) Qᵀ C^1/2`` and the integral is the same with
    ``(exp(λ dt) - 1) / λ`` per eigenvalue (``dt`` where λ = 0). Works for any number of nodes.
    """
    capacitance = np.asarray(capacitance, dtype=np.float64)  # (N,)
    conductance = np.asarray(conductance, dtype=np.float64)  # (N, N)
    heat_input = np.asarray(heat_input, dtype=np.float64)  # (N, M)
    if not np.allclose(conductance, conductance.T):
        raise ValueError("discretize_rc: the conductance matrix must be symmetric (heat flows both ways)")
    inv_sqrt_c = 1.0 / np.sqrt(capacitance)  # (N,)
    symmetric = -(inv_sqrt_c[:, None] * conductance * inv_sqrt_c[None, :])  # (N, N)
    eigenvalues, eigenvectors = np.linalg.eigh(symmetric)  # (N,), (N, N)
    scaled_dt = eigenvalues * dt_s
    with np.errstate(divide="ignore", invalid="ignore"):
        integral = np.where(np.abs(scaled_dt) < 1e-12, dt_s, np.expm1(scaled_dt) / eigenvalues)  # (N,)
    left = inv_sqrt_c[:, None] * eigenvectors  # (N, N)  C^-1/2 Q
    right = eigenvectors.T * np.sqrt(capacitance)[None, :]  # (N, N)  Qᵀ C^1/2
    ad = left @ (np.exp(scaled_dt)[:, None] * right)  # (N, N)
    bd = left @ (integral[:, None] * right) @ (heat_input / capacitance[:, None])  # (N, M)
    return ad, bd


def heat_pump_cop(
    temp_out_c: np.ndarray,
    carnot_efficiency: float = 0.5,
    max_cop: float = 6.0,
    supply_heating_c: float = 35.0,
    supply_cooling_c: float = 7.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Heating and cooling COP of an air-to-water heat pump at outdoor temperature ``temp_out_c`` (°C).

    A fixed fraction of the Carnot COP between the outdoor air and the water supply: heating
    condenses 5 K above the supply and evaporates 5 K below the outdoor air; cooling evaporates
    5 K below the chilled-water supply and condenses 10 K above the outdoor air. The temperature
    lift is floored at 10 K and the COP clipped to ``[1, max_cop]``.
    """
    temp_out_c = np.asarray(temp_out_c, dtype=np.float64)
    hot = supply_heating_c + 5.0 + 273.15
    lift = np.maximum(hot - (temp_out_c - 5.0 + 273.15), 10.0)
    cop_heating = np.clip(carnot_efficiency * hot / lift, 1.0, max_cop)
    cold = supply_cooling_c - 5.0 + 273.15
    lift = np.maximum(temp_out_c + 10.0 + 273.15 - cold, 10.0)
    cop_cooling = np.clip(carnot_efficiency * cold / lift, 1.0, max_cop)
    return cop_heating, cop_cooling


# --- weather -------------------------------------------------------------------------------------


def generate_weather(
    rng: np.random.Generator,
    start_hour: int,
    n_hours: int,
    latitude_deg: float = 48.0,
    annual_mean_temp_c: float = 10.0,
    seasonal_amplitude_c: float = 9.0,
    daily_amplitude_c: float = 4.0,
    noise_std_c: float = 2.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Hourly outdoor temperature (°C) and global horizontal irradiance (W/m²), ``(n_hours,)`` each.

    Hour 0 is ``start_hour`` hours after midnight of 1 January of a 365-day year (the year wraps).
    Temperature: ``mean - seasonal · cos(2π (day - 20) / 365) + daily · cos(2π (hour - 15) / 24)``
    plus AR(1) noise (48 h correlation time, stationary std ``noise_std_c``). Irradiance: Haurwitz's
    clear-sky model ``1098 sin(e) exp(-0.057 / sin(e))`` at solar elevation ``e`` (declination by
    Cooper's formula, local solar time) times a clearness index in [0.25, 1] driven by AR(1)
    cloudiness (18 h correlation time). Both are clipped to the physical ranges of the CSV format.
    """
    hours = start_hour + np.arange(n_hours, dtype=np.float64)  # (H,)
    day = np.mod(hours / 24.0, DAYS_PER_YEAR)  # (H,) fractional day of year from 0
    hour_of_day = np.mod(hours, 24.0)
    temp = (
        annual_mean_temp_c
        - seasonal_amplitude_c * np.cos(2.0 * np.pi * (day - 20.0) / DAYS_PER_YEAR)
        + daily_amplitude_c * np.cos(2.0 * np.pi * (hour_of_day - 15.0) / 24.0)
    )
    temp = temp + _ar1(rng, n_hours, correlation_hours=48.0, std=noise_std_c)

    declination = np.radians(23.45) * np.sin(2.0 * np.pi * (284.0 + np.floor(day) + 1.0) / DAYS_PER_YEAR)
    hour_angle = np.radians(15.0 * (hour_of_day - 12.0))
    latitude = np.radians(latitude_deg)
    sin_elevation = np.sin(latitude) * np.sin(declination) + np.cos(latitude) * np.cos(declination) * np.cos(hour_angle)
    daylight = sin_elevation > 1e-3
    clear_sky = np.where(daylight, 1098.0 * sin_elevation * np.exp(-0.057 / np.where(daylight, sin_elevation, 1.0)), 0.0)
    cloudiness = _ar1(rng, n_hours, correlation_hours=18.0, std=1.5)
    clearness = 0.25 + 0.75 / (1.0 + np.exp(-(cloudiness + 0.8)))
    ghi = clear_sky * clearness
    return np.clip(temp, *TEMP_OUT_RANGE_C), np.clip(ghi, *SOLAR_RANGE_W_M2)


def _ar1(rng: np.random.Generator, n: int, correlation_hours: float, std: float) -> np.ndarray:
    """Stationary AR(1) series of hourly samples, ``(n,)``. A plain loop: it runs once per reset,
    and a few thousand float operations do not pay for Numba's compilation."""
    phi = math.exp(-1.0 / correlation_hours)
    shocks = (rng.standard_normal(n) * (std * math.sqrt(1.0 - phi * phi))).tolist()
    out = [0.0] * n
    value = float(rng.standard_normal()) * std
    for i in range(n):
        value = phi * value + shocks[i]
        out[i] = value
    return np.array(out)


def load_weather_csv(path: str | os.PathLike) -> dict[str, Any]:
    """Read an hourly weather CSV (``timestamp,temp_out_c,solar_w_m2``; see HVACEnv's Arguments).

    Returns ``{"path", "timestamps" (list[datetime]), "temp_out_c" (N,), "solar_w_m2" (N,)}``.
    Any malformed row raises a ``ValueError`` naming the file, the row (data rows count from 1;
    the file line is also given) and the column. Nothing is filled in or skipped.
    """
    path = os.fspath(path)
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise ValueError(f"{path}: file is empty; expected a header {','.join(CSV_COLUMNS)} and hourly rows")
    header = [name.strip() for name in rows[0]]
    missing = [name for name in CSV_COLUMNS if name not in header]
    if missing:
        raise ValueError(
            f"{path}: header {','.join(header)} lacks column(s) {', '.join(missing)}; "
            f"expected {','.join(CSV_COLUMNS)} (timestamp in ISO 8601, °C, W/m²)"
        )
    index = {name: header.index(name) for name in CSV_COLUMNS}
    body = rows[1:]
    if len(body) < 2:
        raise ValueError(f"{path}: need at least 2 hourly rows, got {len(body)}")
    timestamps: list[datetime] = []
    previous_text = ""
    temp = np.empty(len(body))
    solar = np.empty(len(body))
    limits = {"temp_out_c": (TEMP_OUT_RANGE_C, "°C"), "solar_w_m2": (SOLAR_RANGE_W_M2, "W/m²")}
    for i, fields in enumerate(body):
        row, line = i + 1, i + 2

        def where(column, row=row, line=line):
            return f"{path}: row {row} (line {line}), column {column!r}"

        if len(fields) != len(header):
            raise ValueError(f"{path}: row {row} (line {line}) has {len(fields)} fields, the header has {len(header)}")
        text = fields[index["timestamp"]].strip()
        try:
            stamp = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{where('timestamp')}: {text!r} is not an ISO 8601 time such as 2023-01-01T00:00") from None
        if timestamps:
            previous = timestamps[-1]
            if (stamp.tzinfo is None) != (previous.tzinfo is None):
                raise ValueError(f"{where('timestamp')}: {text!r} mixes times with and without a UTC offset; use one form")
            gap = stamp - previous
            if gap != timedelta(hours=1):
                if gap <= timedelta(0):
                    problem = "repeats" if gap == timedelta(0) else "is earlier than"
                    fix = "remove the duplicate row" if gap == timedelta(0) else "sort the file by timestamp"
                    raise ValueError(f"{where('timestamp')}: {text} {problem} the previous row's {previous_text}; {fix}")
                if gap > timedelta(hours=1) and gap % timedelta(hours=1) == timedelta(0):
                    missing_hours = gap // timedelta(hours=1) - 1
                    raise ValueError(
                        f"{where('timestamp')}: {text} follows {previous_text}, {missing_hours} hour(s) are missing; "
                        "the file must be gap-free hourly data (gaps are not interpolated): fill them from a source"
                    )
                raise ValueError(f"{where('timestamp')}: {text} is {gap} after the previous row; rows must be exactly 1 hour apart")
        timestamps.append(stamp)
        previous_text = text
        for column, target in (("temp_out_c", temp), ("solar_w_m2", solar)):
            cell = fields[index[column]].strip()
            (low, high), unit = limits[column]
            try:
                value = float(cell)
            except ValueError:
                raise ValueError(f"{where(column)}: {cell!r} is not a number ({unit}); the value is missing or malformed") from None
            if not math.isfinite(value):
                raise ValueError(f"{where(column)}: {cell!r} is not a finite number ({unit}); fill the value in the file")
            if not low <= value <= high:
                hint = " (Kelvin or Fahrenheit?)" if column == "temp_out_c" else ""
                raise ValueError(f"{where(column)}: {value} {unit} is outside the physical range [{low}, {high}]{hint}")
            target[i] = value
    return {"path": path, "timestamps": timestamps, "temp_out_c": temp, "solar_w_m2": solar}


def _midnight_rows(weather: dict[str, Any], n_hours: int) -> list[int]:
    """Rows at 00:00 from which ``n_hours`` hourly rows exist: the possible starts of an episode."""
    total = len(weather["timestamps"])
    return [
        i for i, stamp in enumerate(weather["timestamps"])
        if stamp.hour == 0 and stamp.minute == 0 and stamp.second == 0 and i + n_hours <= total
    ]  # fmt: skip


# --- baselines -----------------------------------------------------------------------------------


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

    def reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        pass

    def act(self, observation: Any, info: dict):
        return self._action(self._power(observation, self.heat_setpoint_c, self.cool_setpoint_c))

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
        return self._action(self._power(observation, *setpoints))


def thermostat(env: HVACEnv) -> Thermostat:
    return Thermostat(env)


def schedule_thermostat(env: HVACEnv) -> ScheduleThermostat:
    return ScheduleThermostat(env)


class _Off:
    """The heat pump never runs: the free-floating building, for reference in the tables."""

    def __init__(self, env: HVACEnv):
        self.action = np.zeros(1, dtype=np.float32) if env.action_levels is None else int(np.argmin(np.abs(env.action_levels)))

    def reset(self, env, observation, info):
        pass

    def act(self, observation, info):
        return self.action


def run_baseline(env: HVACEnv, policy, seed: int, start_day: int | None = None) -> dict[str, float]:
    """One episode of `policy` on the (unwrapped) `env`; its return and ``episode_metrics``."""
    options = None if start_day is None else {"start_day": start_day}
    observation, info = env.reset(seed=seed, options=options)
    policy.reset(env, observation, info)
    total, done = 0.0, False
    while not done:
        observation, reward, terminated, truncated, info = env.step(policy.act(observation, info))
        total += reward
        done = terminated or truncated
    return {"return": total, **info["episode_metrics"]}


def baseline_numbers(n_weeks: int = 52, seed: int = 0, **env_kwargs) -> dict[str, dict[str, dict[str, float]]]:
    """The published numbers: ``{"week" | "year": {policy: {"return", "energy_kwh", "cost",
    "discomfort_degree_hours", "comfort_violation_fraction"}}}`` for ``off``, ``thermostat`` and
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


def baseline_table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    """Markdown rows of :func:`baseline_numbers` as in HVACEnv's docstring."""
    lines = []
    for name in results["week"]:
        cells = [name]
        for period in ("week", "year"):
            r = results[period][name]
            cells += [
                f"{r['return']:.1f}", f"{r['energy_kwh']:.0f}", f"{r['cost']:.2f}",
                f"{r['discomfort_degree_hours']:.1f}", f"{100 * r['comfort_violation_fraction']:.1f}",
            ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m envs.hvac: print the baseline table of the docstring
    print(baseline_table(baseline_numbers()))
