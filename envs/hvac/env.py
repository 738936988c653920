"""HVACEnv: heating and cooling one building zone with a heat pump, paid in electricity cost and discomfort.

The zone is a linear resistance-capacitance (RC) thermal network (indoor air and building mass)
discretized exactly over the step; weather is a seeded generator or an hourly CSV; occupancy and
a time-of-use tariff follow a weekly calendar. Everything exogenous is precomputed at reset, so a
step is a handful of scalar operations.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.hvac.actions import continuous_power, discrete_index, setpoints_c
from envs.hvac.observation import (
    CURRENT_FEATURES,
    FORECAST_FEATURES,
    SOLAR_SCALE_W_M2,
    TEMP_OFFSET_C,
    TEMP_SCALE_K,
    WEEKDAY_NAMES,
    observation_space,
)
from envs.hvac.params import HVACParams
from envs.hvac.physics import ThermalModel, heat_pump_cop
from envs.hvac.render import render_ansi, render_rgb
from envs.hvac.setpoint import inner_matrices, pi_interval
from envs.hvac.splits import allowed_starts
from envs.signature import env_signature
from envs.hvac.weather import (
    DAYS_PER_YEAR,
    SOLAR_RANGE_W_M2,
    TEMP_OUT_RANGE_C,
    generate_weather,
    load_episode_weather,
)

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
    power, 0 is off: the agent faces the real decision (when to spend energy) with no inner
    controller between it and the heat pump.
    ``action_type="discrete"`` (``rlkit/HVAC-Discrete-v0``): ``Discrete(n_discrete_actions)``, the
    levels ``linspace(-1, 1, n)`` of the same power (5 levels: -8, -4, 0, 4, 8 kW).
    ``control="setpoint"`` (``rlkit/HVAC-Setpoint-v0``, supervisory control as in Sinergym and
    BOPTEST): ``Box(-1, 1, (2,), float32)``, the heating and the cooling setpoint for the next step,
    mapped linearly onto ``setpoint_range_c`` (-1 is 12 °C, 0 is 21 °C, +1 is 30 °C;
    ``env.setpoint_action(heating_c, cooling_c)`` converts; ``info`` reports both in °C); a PI loop per mode, run every ``inner_step_s`` (60 s) on the same
    2R2C physics, turns them into power (``envs.hvac.setpoint``). A cooling setpoint below the heating
    one is taken as equal to it (a zero deadband); that is the only adjustment.
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
    constrained RL, free of the energy term); ``tightened_discomfort_degree_hours``, the same for the band
    narrowed by ``comfort_margin_k`` at each end (a tightened constraint; reward and KPIs keep the band).

    ## Starting State

    The episode starts at midnight of a seeded random day (of the generator's 365-day year, or of
    the CSV), or of ``options["start_day"]`` passed to ``reset``. The indoor air starts uniformly in
    [comfort low - 2 K, comfort high] and the mass within ±1 K of it.

    ## Episode End

    The env owns its length: ``truncated`` after ``episode_days`` days (672 steps for 7 days;
    ``rlkit/HVAC-Year-v0`` runs 365 days, 35,040 steps). There is no terminal state. The last
    step's ``info["episode_metrics"]`` holds the episode's BOPTEST-style KPIs ``energy_kwh``,
    ``cost_eur`` and ``discomfort_Kh`` (the sums of the step infos' ``energy_kwh``, ``cost`` and
    ``discomfort_degree_hours``), ``peak_kw`` (the highest 15-minute mean electric power), and
    ``comfort_violation_fraction`` (occupied steps outside the band over occupied steps).

    ## Splits

    ``split="train"`` and ``split="test"`` give disjoint weeks: every fourth week of the calendar (of
    the generator's year, or of the CSV's days) is an evaluation week, and no training episode reads
    any of its days, forecast included (``envs.hvac.splits``). ``"all"`` (default) uses every day.

    ## Arguments

    ``gymnasium.make("rlkit/HVAC-v0", **kwargs)``: ``render_mode`` and every field of
    ``HVACParams`` (the defaults above), checked once on construction. Weather
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
    the peak price); see ``envs.hvac.baselines``. Their numbers are generated into
    ``experiments/results/hvac_baselines.md`` by ``python -m envs.hvac``.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 8}

    def __init__(self, render_mode: str | None = None, **kwargs: Any):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        self.render_mode = render_mode
        self.params = p = HVACParams(**kwargs)
        self.step_minutes, self.step_hours = int(p.step_minutes), p.step_hours
        self.episode_days, self.n_steps = int(p.episode_days), p.n_steps
        self.forecast_steps, self.forecast_hours = p.forecast_steps, p.forecast_hours
        self.comfort_band_c, self.discomfort_weight, self._margin = p.comfort_band_c, float(p.discomfort_weight), float(p.comfort_margin_k)
        self.max_thermal_power_w = float(p.max_thermal_power_w)
        self.solar_aperture_m2, self.solar_to_air_fraction = float(p.solar_aperture_m2), float(p.solar_to_air_fraction)
        self.internal_gains_w = (float(p.internal_gain_empty_w), float(p.internal_gain_occupied_w))  # (empty, occupied)
        self.cop_params, self.climate = p.cop_params, p.climate
        self.occupied_hours, self.occupied_weekdays, self.tou_prices = p.occupied_hours, p.occupied_weekdays, p.tou_prices
        # Hourly samples an episode reads: its steps, the forecast horizon, and the end point of interpolation.
        self._n_series = self.n_steps + 1 + max(self.forecast_steps)
        self._n_hours = math.ceil((self._n_series - 1) * self.step_hours) + 1
        if p.weather_csv is not None:
            self.weather, self._csv_start_rows = load_episode_weather(p.weather_csv, self._n_hours, self.episode_days, max(self.forecast_hours))
        else:
            self.weather = None

        model = ThermalModel.from_params(p, self.step_minutes * 60.0, TEMP_OUT_RANGE_C, SOLAR_RANGE_W_M2)
        self.capacitance, self.conductance = model.capacitance, model.conductance
        self.A, self.B, self.Ad, self.Bd = model.A, model.B, model.Ad, model.Bd
        self.temp_bounds_c = model.temp_bounds_c
        # Scalars for step(): Python floats are several times faster than NumPy scalars there.
        (self._a_aa, self._a_am), (self._a_ma, self._a_mm) = self.Ad.tolist()
        self._b_aq, self._b_mq = float(self.Bd[0, 1]), float(self.Bd[1, 1])

        self._discrete, self._setpoint = p.action_type == "discrete", p.control == "setpoint"
        if self._setpoint:
            self._init_setpoint_loop(p, model)
        elif self._discrete:
            self.action_space = spaces.Discrete(int(p.n_discrete_actions))
            self.action_levels = np.linspace(-1.0, 1.0, int(p.n_discrete_actions))
        else:
            self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
            self.action_levels = None
        self._level_power_w = None if self.action_levels is None else (self.action_levels * self.max_thermal_power_w).tolist()
        self.observation_space = observation_space(self.temp_bounds_c, len(self.forecast_steps))
        self.feature_names = list(CURRENT_FEATURES) + [f"{name}_{h:g}h" for h in self.forecast_hours for name in FORECAST_FEATURES]
        self._init_start_days(p)
        self._t = None  # step index; None until reset

    def _init_setpoint_loop(self, p: HVACParams, model: ThermalModel) -> None:
        # (heating, cooling) setpoint, normalised: -1 is setpoint_range_c's low end, +1 its high end.
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self.action_levels = None
        self._inner_step_s = float(p.inner_step_s)
        self._n_inner = int(round(self.step_minutes * 60.0 / self._inner_step_s))
        self._inner_ad, inner_bd = inner_matrices(model, self._inner_step_s)
        self._inner_bd = inner_bd
        self._inner_bq = np.ascontiguousarray(inner_bd[:, 1])
        self._kp = float(p.pi_kp_per_k)
        self._ki_dt = self._kp / float(p.pi_integral_time_s) * self._inner_step_s

    def _init_start_days(self, p: HVACParams) -> None:
        """``start_days``: the start days (``options["start_day"]`` values) that ``p.split`` allows."""
        read_days = (self._n_hours - 1) // 24 + 1  # the hourly samples 0 .. n_hours - 1 from the first midnight
        if self.weather is None:
            days, wrap = list(range(DAYS_PER_YEAR)), DAYS_PER_YEAR
        else:
            first = self.weather["timestamps"][0].date()
            days = [(self.weather["timestamps"][row].date() - first).days for row in self._csv_start_rows]
            wrap = None
        self.start_days = allowed_starts(p.split, days, self.episode_days, read_days, wrap)
        self._start_day_set = set(self.start_days)
        if not self.start_days:
            source = "the generator's year" if self.weather is None else str(self.weather["path"])
            raise ValueError(
                f"split={p.split!r} leaves no start day in {source} for an episode of {self.episode_days} days "
                "(evaluation weeks are every fourth week, see envs.hvac.splits); use split='all' or shorter episodes"
            )

    # --- Gymnasium API --------------------------------------------------------------------------

    def step(self, action):
        t = self._t
        if t is None or t >= self.n_steps:
            raise RuntimeError("HVACEnv.step() called before reset() or after the episode ended; call reset()")
        if self._setpoint:
            temp_air_next, temp_mass_next, power_w, energy_kwh = self._setpoint_interval(action, t)
        else:
            if self._discrete:
                power_w = self._level_power_w[discrete_index(self, action)]
            else:
                power_w = continuous_power(self, action) * self.max_thermal_power_w
            temp_air, temp_mass = self._temp_air, self._temp_mass
            temp_air_next = self._a_aa * temp_air + self._a_am * temp_mass + self._b_aq * power_w + self._drive_air[t]
            temp_mass_next = self._a_ma * temp_air + self._a_mm * temp_mass + self._b_mq * power_w + self._drive_mass[t]
            if power_w >= 0.0:
                energy_kwh = power_w * self._kwh_per_w_step / self._cop_heating[t]
            else:
                energy_kwh = -power_w * self._kwh_per_w_step / self._cop_cooling[t]
        if energy_kwh > self._peak_energy_kwh:
            self._peak_energy_kwh = energy_kwh
        cost = energy_kwh * self._price[t]
        violation = margin_violation = 0.0
        if self._occupied[t]:
            lo, hi = self.comfort_band_c
            violation = max(lo - temp_air_next, temp_air_next - hi, 0.0)
            margin_violation = max(lo + self._margin - temp_air_next, temp_air_next - hi + self._margin, 0.0)
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
            "tightened_discomfort_degree_hours": margin_violation * self.step_hours,
        }
        if self._setpoint:
            info["heating_setpoint_c"], info["cooling_setpoint_c"] = self._setpoints_c
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
        start_day = self._start_day(rng, start_day)
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
        self._peak_energy_kwh = 0.0
        self._integral_heat = self._integral_cool = 0.0  # the setpoint loop's PI integrators
        self._power_w = np.zeros(self.n_steps + 1)  # (T+1,) power applied in the step ending at each index
        observation = self._obs_table[0]
        observation[0] = (self._temp_air - TEMP_OFFSET_C) / TEMP_SCALE_K
        observation[1] = (self._temp_mass - TEMP_OFFSET_C) / TEMP_SCALE_K
        return observation, {}

    def _start_day(self, rng: np.random.Generator, start_day: Any) -> int:
        """The episode's start day: ``options["start_day"]`` checked against the split, or drawn from it."""
        if start_day is None:
            return self.start_days[int(rng.integers(len(self.start_days)))]
        n_days = DAYS_PER_YEAR if self.weather is None else len(self._csv_start_rows)
        if int(start_day) != start_day or not 0 <= start_day < n_days:
            where = "day of the generator's 365-day year" if self.weather is None else f"midnight that starts a full episode in {self.weather['path']}"
            raise ValueError(f"options['start_day'] must be an integer in [0, {n_days}) (the {where}), got {start_day!r}")
        if int(start_day) not in self._start_day_set:
            raise ValueError(
                f"options['start_day']={start_day} is not a start of split={self.params.split!r} "
                f"({len(self.start_days)} starts: {self.start_days[:4]}…); see envs.hvac.splits"
            )
        return int(start_day)

    def _setpoint_interval(self, action, t: int) -> tuple[float, float, float, float]:
        """One control interval of the inner PI loop: (air °C, mass °C, mean thermal power W, electricity kWh)."""
        heat_sp, cool_sp = self._setpoints_c = setpoints_c(self, action)
        temp_air, temp_mass, self._integral_heat, self._integral_cool, heat_j, cool_j = pi_interval(
            self._temp_air, self._temp_mass, heat_sp, cool_sp, self._integral_heat, self._integral_cool,
            self._inner_ad, self._inner_bq, self._inner_drive_air[t], self._inner_drive_mass[t],
            self.max_thermal_power_w, self._kp, self._ki_dt, self._inner_step_s, self._n_inner,
        )  # fmt: skip
        energy_kwh = (heat_j / self._cop_heating[t] + cool_j / self._cop_cooling[t]) / 3.6e6
        return temp_air, temp_mass, (heat_j - cool_j) / (self.step_minutes * 60.0), energy_kwh

    def render(self):
        if self.render_mode is None:
            gym.logger.warn(
                "You are calling render method without specifying any render mode. You can specify the render_mode "
                'at initialization, e.g. gym.make("rlkit/HVAC-v0", render_mode="ansi")'
            )
            return None
        if self._t is None:
            raise RuntimeError("HVACEnv.render() called before reset()")
        return render_ansi(self) if self.render_mode == "ansi" else render_rgb(self)

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
        if self._setpoint:  # the same held inputs over one inner step of the PI loop
            inner_drive = self._inner_bd @ exogenous  # (2, T)
            self._inner_drive_air, self._inner_drive_mass = inner_drive[0].tolist(), inner_drive[1].tolist()
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

    def setpoint_action(self, heating_c: float, cooling_c: float) -> np.ndarray:
        """The ``control="setpoint"`` action for setpoints in °C (inside ``setpoint_range_c``)."""
        lo, hi = self.params.setpoint_range_c
        return np.array([2.0 * (heating_c - lo) / (hi - lo) - 1.0, 2.0 * (cooling_c - lo) / (hi - lo) - 1.0], dtype=np.float32)

    def _episode_metrics(self) -> dict[str, float]:
        occupied = self._sum_occupied_steps
        return {
            # BOPTEST-style KPIs: energy, cost, thermal discomfort, peak electric power (15-min mean). The
            # sums of the per-step info's energy_kwh, cost and discomfort_degree_hours, under one name each.
            "energy_kwh": float(self._sum_energy_kwh),
            "cost_eur": float(self._sum_cost),
            "discomfort_Kh": float(self._sum_discomfort),
            "peak_kw": float(self._peak_energy_kwh / self.step_hours),
            "comfort_violation_fraction": float(self._sum_violating_steps / occupied) if occupied else 0.0,
        }


HVACEnv.__init__.__signature__ = env_signature(HVACParams)
