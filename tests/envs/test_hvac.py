"""rlkit/HVAC-v0: physics against independent oracles (SciPy's matrix exponential, a fine RK4
integration, the analytic free response), energy and cost bookkeeping, the calendar, the weather
CSV's validation, action validation, and the baselines. The Gymnasium/SB3 checkers, determinism
and render types are covered for every HVAC id by tests/envs/test_all_envs.py."""

import math
import re
from datetime import datetime, timedelta
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the ids)
from envs.hvac import (
    CURRENT_FEATURES,
    FORECAST_FEATURES,
    TEMP_OUT_RANGE_C,
    HVACEnv,
    ScheduleThermostat,
    Thermostat,
    baseline_numbers,
    discretize_rc,
    heat_pump_cop,
    load_weather_csv,
    run_baseline,
)

HVAC_IDS = [i for i in envs.ENV_IDS if i.startswith("rlkit/HVAC")]


def write_weather(path, temps, solar, start=datetime(2023, 1, 2), fmt="%Y-%m-%dT%H:%M"):
    """An hourly weather CSV starting at `start` (2 Jan 2023 is a Monday)."""
    lines = ["timestamp,temp_out_c,solar_w_m2"]
    for i, (t, s) in enumerate(zip(temps, solar, strict=True)):
        lines.append(f"{(start + timedelta(hours=i)).strftime(fmt)},{t},{s}")
    path.write_text("\n".join(lines) + "\n")
    return path


def rollout(env, actions, seed=0, start_day=None):
    """States before each step, per-step infos and rewards of `actions` (float64 states from the env)."""
    env.reset(seed=seed, options=None if start_day is None else {"start_day": start_day})
    states, infos, rewards = [(env.temp_air_c, env.temp_mass_c)], [], []
    for a in actions:
        _, reward, _, truncated, info = env.step(a)
        states.append((env.temp_air_c, env.temp_mass_c))
        infos.append(info)
        rewards.append(reward)
    return np.array(states), infos, np.array(rewards)


# --- physics -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dt_s", [60.0, 900.0, 3600.0])
@pytest.mark.parametrize("n_nodes", [2, 3])
def test_discretization_equals_scipy_expm_of_the_block_matrix(n_nodes, dt_s):
    linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(n_nodes)
    capacitance = rng.uniform(1e5, 5e7, n_nodes)
    coupling = np.triu(rng.uniform(10.0, 1000.0, (n_nodes, n_nodes)), 1)
    coupling = coupling + coupling.T
    to_outside = rng.uniform(0.0, 200.0, n_nodes)
    conductance = np.diag(coupling.sum(1) + to_outside) - coupling
    heat_input = np.column_stack([to_outside, rng.uniform(0, 1, (n_nodes, 2))])
    ad, bd = discretize_rc(capacitance, conductance, heat_input, dt_s)

    a = -conductance / capacitance[:, None]
    b = heat_input / capacitance[:, None]
    block = np.zeros((n_nodes + 3, n_nodes + 3))
    block[:n_nodes, :n_nodes], block[:n_nodes, n_nodes:] = a, b
    reference = linalg.expm(block * dt_s)
    np.testing.assert_allclose(ad, reference[:n_nodes, :n_nodes], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(bd, reference[:n_nodes, n_nodes:], rtol=1e-10, atol=1e-14)


def test_env_uses_the_exact_discretization_of_its_documented_ode():
    linalg = pytest.importorskip("scipy.linalg")
    env = HVACEnv()
    # Rebuild A and B from the documented equations and the constructor's defaults.
    c_air, c_mass, ua_am, ua_ao, ua_mo, aperture, f = 4e6, 4e7, 800.0, 60.0, 120.0, 4.0, 0.3
    a = np.array([[-(ua_am + ua_ao) / c_air, ua_am / c_air], [ua_am / c_mass, -(ua_am + ua_mo) / c_mass]])
    b = np.array([[ua_ao / c_air, 1 / c_air, f * aperture / c_air, 1 / c_air], [ua_mo / c_mass, 0, (1 - f) * aperture / c_mass, 0]])
    block = np.zeros((6, 6))
    block[:2, :2], block[:2, 2:] = a, b
    reference = linalg.expm(block * 900.0)
    np.testing.assert_allclose(env.Ad, reference[:2, :2], rtol=1e-12)
    np.testing.assert_allclose(env.Bd, reference[:2, 2:], rtol=1e-12)


def test_with_hvac_off_the_zone_relaxes_to_a_constant_outdoor_temperature(tmp_path):
    linalg = pytest.importorskip("scipy.linalg")
    hours = 24 * 22
    csv = write_weather(tmp_path / "constant.csv", [5.0] * hours, [0.0] * hours)
    env = HVACEnv(weather_csv=csv, episode_days=21, internal_gain_occupied_w=0.0, internal_gain_empty_w=0.0)
    states, _, _ = rollout(env, [np.zeros(1, np.float32)] * env.n_steps)

    # The analytic free response x(t) = T_out + expm(A t) (x0 - T_out), at every step.
    times = np.arange(env.n_steps + 1) * 900.0
    expected = np.array([5.0 + linalg.expm(env.A * t) @ (states[0] - 5.0) for t in times])
    np.testing.assert_allclose(states, expected, atol=1e-9)
    distance = np.abs(states - 5.0).max(axis=1)
    assert np.all(np.diff(distance) <= 1e-12), "the zone must approach the outdoor temperature monotonically"
    assert distance[-1] < 0.05 and distance[0] > 10.0  # slowest time constant ≈ 70 h, 21 days ≈ 7 of them


def test_heating_warms_and_cooling_cools_from_the_same_state():
    finals = []
    for power in (-1.0, -0.5, 0.0, 0.5, 1.0):
        states, _, _ = rollout(HVACEnv(), [np.array([power], np.float32)] * 8, seed=3)
        finals.append(states[-1])
    finals = np.array(finals)
    assert np.all(np.diff(finals[:, 0]) > 0.5) and np.all(np.diff(finals[:, 1]) > 0)


def _rk4_step_with_loss(x, u, a, b, k_loss, dt, substeps):
    """Integrate dx/dt = A x + B u over dt with RK4; also integrate the heat lost to outdoors (J)."""
    h = dt / substeps

    def rhs(state):
        x_, _ = state
        return (a @ x_ + b @ u, k_loss @ x_ - k_loss.sum() * u[0])

    loss = 0.0
    for _ in range(substeps):
        k1 = rhs((x, loss))
        k2 = rhs((x + 0.5 * h * k1[0], 0))
        k3 = rhs((x + 0.5 * h * k2[0], 0))
        k4 = rhs((x + h * k3[0], 0))
        x = x + h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        loss += h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
    return x, loss


def test_energy_balance_closes_and_bills_follow_the_heat_pump():
    env = HVACEnv(episode_days=2)
    rng = np.random.default_rng(0)
    actions = [rng.uniform(-1, 1, 1).astype(np.float32) for _ in range(env.n_steps)]
    states, infos, rewards = rollout(env, actions, seed=7)
    ua_ao, ua_mo = 60.0, 120.0
    k_loss = np.array([ua_ao, ua_mo])  # W/K from each node to outdoors
    dt = 900.0

    x, stored_in, lost = states[0].copy(), 0.0, 0.0
    for k, action in enumerate(actions):
        power = float(action[0]) * env.max_thermal_power_w
        u = np.array([env.temp_out_c[k], power, env.solar_w_m2[k], env.internal_gain_w[k]])
        x, loss = _rk4_step_with_loss(x, u, env.A, env.B, k_loss, dt, substeps=30)
        stored_in += (power + env.solar_gain_w[k] + env.internal_gain_w[k]) * dt
        lost += loss
        # The exact discretization and a fine RK4 agree on every state.
        np.testing.assert_allclose(x, states[k + 1], atol=1e-6)

        # Electricity = thermal power / COP, cost = energy x price, reward = -(cost + λ discomfort).
        cop = env.cop_heating[k] if power >= 0 else env.cop_cooling[k]
        assert infos[k]["energy_kwh"] == pytest.approx(abs(power) * dt / 3.6e6 / cop, rel=1e-12)
        assert infos[k]["cost"] == pytest.approx(infos[k]["energy_kwh"] * env.price_per_kwh[k], rel=1e-12)
        lo, hi = env.comfort_band_c
        temp = states[k + 1][0]
        violation = max(lo - temp, temp - hi, 0.0) if env.occupied[k] else 0.0
        assert infos[k]["comfort_violation"] == pytest.approx(violation, abs=1e-12)
        assert infos[k]["discomfort_degree_hours"] == pytest.approx(violation * 0.25, abs=1e-12)
        assert rewards[k] == pytest.approx(-(infos[k]["cost"] + 0.1 * violation * 0.25), rel=1e-12, abs=1e-15)

    stored_change = float(env.capacitance @ (states[-1] - states[0]))
    assert stored_change == pytest.approx(stored_in - lost, rel=1e-6, abs=1e-6 * stored_in)
    assert abs(stored_change) > 1e7 and lost > 0.1 * stored_in  # every term matters: not 0 = 0


@pytest.mark.parametrize("power", [-1.0, 0.0, 1.0, "random"])
def test_a_year_at_any_action_stays_finite_and_inside_the_observation_space(power):
    env = gym.make("rlkit/HVAC-Year-v0")
    space = env.observation_space
    rng = np.random.default_rng(1)
    observation, _ = env.reset(seed=11)
    observations, rewards, steps, truncated = [observation], [], 0, False
    while not truncated:
        action = rng.uniform(-1, 1, 1) if power == "random" else np.array([power])
        observation, reward, terminated, truncated, info = env.step(action.astype(np.float32))
        assert not terminated
        observations.append(observation)
        rewards.append(reward)
        steps += 1
    observations = np.array(observations)
    assert steps == 365 * 96
    assert np.isfinite(observations).all() and np.isfinite(rewards).all()
    assert np.all(observations >= space.low) and np.all(observations <= space.high)
    assert all(math.isfinite(v) for v in info["episode_metrics"].values())


@pytest.mark.parametrize("extreme", ["hot", "cold"])
def test_observation_bounds_are_honest_under_extreme_weather_and_power(tmp_path, extreme):
    """Hold the weather at the edge of its range and the heat pump at full power for 40 days: the
    temperatures approach the declared bound (within a few K, the bound is not loose) but never pass it."""
    hours = 24 * 41
    temp, solar, power = (TEMP_OUT_RANGE_C[1], 1400.0, 1.0) if extreme == "hot" else (TEMP_OUT_RANGE_C[0], 0.0, -1.0)
    csv = write_weather(tmp_path / f"{extreme}.csv", [temp] * hours, [solar] * hours)
    env = HVACEnv(weather_csv=csv, episode_days=40, occupied_weekdays=tuple(range(7)))
    observation, _ = env.reset(seed=0)
    observations = [observation]
    for _ in range(env.n_steps):
        observations.append(env.step(np.array([power], np.float32))[0])
    observations = np.array(observations)
    space = env.observation_space
    assert np.all(observations >= space.low) and np.all(observations <= space.high)
    bound = space.high if extreme == "hot" else space.low
    assert np.all(np.abs(observations[-1, :2] - bound[:2]) < 0.5)  # within 5 K


def test_heat_pump_cop_is_a_fraction_of_carnot():
    heating, cooling = heat_pump_cop(np.array([-10.0, 7.0, 35.0]))
    np.testing.assert_allclose(heating[:2], [0.5 * 313.15 / 55.0, 0.5 * 313.15 / 38.0])
    assert cooling[2] == pytest.approx(0.5 * 275.15 / 43.0)
    assert heating[2] == 6.0 and cooling[0] == 6.0  # clipped at max_cop
    assert np.all(np.diff(heat_pump_cop(np.linspace(-30, 20, 51))[0]) >= 0)  # warmer source, better heating


# --- calendar, observation, episode ---------------------------------------------------------------


def test_calendar_occupancy_price_and_forecast_columns():
    env = HVACEnv()
    observation, _ = env.reset(seed=0, options={"start_day": 0})  # day 0 is a Monday
    observations = [observation.copy()]
    for _ in range(env.n_steps):
        observations.append(env.step(np.zeros(1, np.float32))[0].copy())
    obs = np.array(observations[:-1])  # (T, D): the observation each step was decided on
    hour = np.arange(env.n_steps) * 0.25 % 24
    day = np.arange(env.n_steps) // 96
    workday = day < 5
    np.testing.assert_array_equal(obs[:, 6], workday & (hour >= 8) & (hour < 18))
    expected_price = np.where(workday & (hour >= 17) & (hour < 21), 0.40, np.where(workday & (hour >= 7) & (hour < 23), 0.25, 0.15))
    np.testing.assert_allclose(obs[:, 7] * 0.40, expected_price, rtol=1e-6)
    np.testing.assert_allclose(obs[:, 4], np.sin(2 * np.pi * hour / 24), atol=1e-6)
    np.testing.assert_allclose(obs[:, 2] * 10 + 20, env.temp_out_c, atol=1e-4)
    # A forecast h hours ahead is the current feature 4h steps later.
    current = {"temp_out": 2, "solar": 3, "occupied": 6, "price": 7}
    for j, hours_ahead in enumerate(env.forecast_hours):
        shift = int(hours_ahead * 4)
        for f, name in enumerate(FORECAST_FEATURES):
            column = len(CURRENT_FEATURES) + 4 * j + f
            np.testing.assert_allclose(obs[:-shift, column], obs[shift:, current[name]], atol=1e-6)
    assert env.feature_names[8] == "temp_out_1h" and len(env.feature_names) == obs.shape[1]


def test_temperatures_in_the_observation_follow_the_documented_scaling():
    env = HVACEnv()
    observation, _ = env.reset(seed=5)
    for _ in range(3):
        assert observation[0] == np.float32((env.temp_air_c - 20) / 10)
        assert observation[1] == np.float32((env.temp_mass_c - 20) / 10)
        observation = env.step(np.array([0.7], np.float32))[0]


def test_episode_length_truncation_and_metrics_are_the_sums_of_the_steps():
    env = gym.make("rlkit/HVAC-v0")
    env.reset(seed=2)
    rng = np.random.default_rng(0)
    infos, flags = [], []
    for _ in range(672):
        _, _, terminated, truncated, info = env.step(rng.uniform(-1, 1, 1).astype(np.float32))
        infos.append(info)
        flags.append((terminated, truncated))
    assert flags[-1] == (False, True) and not any(t or tr for t, tr in flags[:-1])
    metrics = infos[-1]["episode_metrics"]
    for key, step_key in (("energy_kwh", "energy_kwh"), ("cost_eur", "cost"), ("discomfort_Kh", "discomfort_degree_hours")):
        assert metrics[key] == pytest.approx(sum(i[step_key] for i in infos), rel=1e-9)
    occupied = env.unwrapped.occupied
    violating = np.array([i["comfort_violation"] > 0 for i in infos])
    assert metrics["comfort_violation_fraction"] == pytest.approx(violating[occupied].mean())
    with pytest.raises(RuntimeError, match="reset"):
        env.unwrapped.step(np.zeros(1, np.float32))


def test_seed_and_start_day_control_the_weather():
    env = HVACEnv()
    env.reset(seed=1)
    first = env.temp_out_c.copy()
    env.reset(seed=1)
    np.testing.assert_array_equal(first, env.temp_out_c)
    env.reset(seed=2)
    assert not np.array_equal(first, env.temp_out_c)
    env.reset(seed=1, options={"start_day": 15})  # mid-January: cold
    january = env.temp_out_c.mean()
    env.reset(seed=1, options={"start_day": 196})  # mid-July: warm
    assert env.temp_out_c.mean() > january + 10
    with pytest.raises(ValueError, match="start_day"):
        env.reset(seed=1, options={"start_day": 365})
    with pytest.raises(ValueError, match="unknown reset options"):
        env.reset(seed=1, options={"start_hour": 3})


def test_discrete_variant_maps_levels_to_power():
    env = gym.make("rlkit/HVAC-Discrete-v0")
    assert env.action_space == gym.spaces.Discrete(5)
    np.testing.assert_allclose(env.unwrapped.action_levels, [-1, -0.5, 0, 0.5, 1])
    env.reset(seed=0)
    info = env.step(np.int64(4))[4]
    cop = env.unwrapped.cop_heating[0]
    assert info["energy_kwh"] == pytest.approx(8000 * 900 / 3.6e6 / cop)


@pytest.mark.parametrize("margin_k", [0.0, 0.5])
def test_the_tightened_discomfort_is_the_degree_hours_outside_the_band_narrowed_by_the_margin(margin_k):
    """A plain-Python reference on a random two-day rollout that spends occupied steps on both sides of
    both band edges; with no margin the tightened cost is the discomfort itself."""
    env = HVACEnv(episode_days=2, comfort_margin_k=margin_k)
    rng = np.random.default_rng(1)
    actions = [rng.uniform(-1, 1, 1).astype(np.float32) for _ in range(env.n_steps)]
    states, infos, rewards = rollout(env, actions, seed=3)
    lo, hi = env.comfort_band_c
    tightened = [max(lo + margin_k - t, t - hi + margin_k, 0.0) * 0.25 if env.occupied[k] else 0.0 for k, t in enumerate(states[1:, 0])]
    np.testing.assert_allclose([i["tightened_discomfort_degree_hours"] for i in infos], tightened, atol=1e-12)
    plain = np.array([i["discomfort_degree_hours"] for i in infos])
    if margin_k == 0.0:
        np.testing.assert_array_equal(plain, tightened)
    else:
        tightened, outside = np.array(tightened), plain > 0
        assert outside.any() and ((plain == 0) & (tightened > 0)).any()  # inside the band, within the margin of an edge
        np.testing.assert_allclose(tightened[outside], plain[outside] + margin_k * 0.25, atol=1e-12)
    assert rewards == pytest.approx([-(i["cost"] + 0.1 * i["discomfort_degree_hours"]) for i in infos])  # the reward keeps the band


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "env_id, action",
    [
        ("rlkit/HVAC-v0", np.array([1.5], np.float32)),
        ("rlkit/HVAC-v0", np.array([np.nan], np.float32)),
        ("rlkit/HVAC-v0", np.array([0.1, 0.2], np.float32)),
        ("rlkit/HVAC-v0", np.float32(0.5)),
        ("rlkit/HVAC-v0", "heat"),
        ("rlkit/HVAC-Discrete-v0", 5),
        ("rlkit/HVAC-Discrete-v0", -1),
        ("rlkit/HVAC-Discrete-v0", 2.0),
        ("rlkit/HVAC-Discrete-v0", np.array([2])),
    ],
)
def test_an_action_outside_the_space_is_a_value_error_naming_the_space(env_id, action):
    env = gym.make(env_id)
    env.reset(seed=0)
    with pytest.raises(ValueError) as excinfo:
        env.step(action)
    assert str(env.action_space) in str(excinfo.value) and "\n" not in str(excinfo.value)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"action_type": "multi"}, "action_type"),
        ({"step_minutes": 7}, "step_minutes"),
        ({"comfort_band_c": (24, 20)}, "comfort_band_c"),
        ({"forecast_hours": (0.1,)}, "forecast_hours"),
        ({"capacitance_air_j_per_k": -1.0}, "capacitance_air_j_per_k"),
        ({"tou_prices": (0.1, 0.2)}, "tou_prices"),
        ({"annual_mean_temp_c": 45.0}, "climate"),
        ({"occupied_weekdays": (7,)}, "occupied_weekdays"),
        ({"comfort_margin_k": 2.0}, "comfort_margin_k"),
        ({"comfort_margin_k": -0.1}, "comfort_margin_k"),
    ],
)
def test_bad_constructor_arguments_are_value_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HVACEnv(**kwargs)


def test_a_weather_csv_drives_the_episode_hour_by_hour(tmp_path):
    hours = 24 * 8
    temps = [round(10 + 5 * math.sin(i / 7), 3) for i in range(hours)]
    solar = [max(0.0, round(600 * math.sin(math.pi * ((i % 24) - 6) / 12), 1)) for i in range(hours)]
    # Start at 18:00 on Sunday: the first midnight (a Monday) is the only day a full week fits.
    csv = write_weather(tmp_path / "weather.csv", temps, solar, start=datetime(2023, 1, 1, 18))
    env = HVACEnv(weather_csv=csv)
    observation, _ = env.reset(seed=0)
    assert env.start_label == "2023-01-02T00:00:00"
    np.testing.assert_allclose(env.temp_out_c[::4], temps[6 : 6 + 168])  # hourly points exactly
    np.testing.assert_allclose(env.temp_out_c[1], 0.75 * temps[6] + 0.25 * temps[7])  # linear in between
    np.testing.assert_allclose(env.solar_w_m2[::4], solar[6 : 6 + 168])
    assert env.occupied[8 * 4] and not env.occupied[5 * 96 + 8 * 4]  # Monday 08:00 yes, Saturday no
    with pytest.raises(ValueError, match="start_day"):
        env.reset(seed=0, options={"start_day": 1})


def test_a_weather_csv_too_short_for_an_episode_is_a_value_error(tmp_path):
    csv = write_weather(tmp_path / "short.csv", [5.0] * 48, [0.0] * 48)
    with pytest.raises(ValueError, match=r"short\.csv.*episode_days"):
        HVACEnv(weather_csv=csv)


def _edit(rows, index, field, value):
    parts = rows[index].split(",")
    parts[field] = value
    rows[index] = ",".join(parts)


@pytest.mark.parametrize(
    "defect, index, column",
    [
        (lambda rows: rows.pop(6), 6, "timestamp"),  # a missing hour (the row after the gap is named)
        (lambda rows: rows.insert(6, rows[5]), 6, "timestamp"),  # a duplicate
        (lambda rows: _edit(rows, 6, 0, "2023-01-02T01:00"), 6, "timestamp"),  # unsorted
        (lambda rows: _edit(rows, 9, 1, "nan"), 9, "temp_out_c"),
        (lambda rows: _edit(rows, 9, 1, ""), 9, "temp_out_c"),
        (lambda rows: _edit(rows, 12, 2, "bright"), 12, "solar_w_m2"),
        (lambda rows: _edit(rows, 12, 2, "-3"), 12, "solar_w_m2"),
        (lambda rows: _edit(rows, 3, 1, "283.15"), 3, "temp_out_c"),  # Kelvin
        (lambda rows: _edit(rows, 4, 0, "yesterday"), 4, "timestamp"),
    ],
)
def test_malformed_weather_csv_names_file_row_and_column(tmp_path, defect, index, column):
    path = write_weather(tmp_path / "bad.csv", [5.0] * 24 * 10, [0.0] * 24 * 10)
    header, *rows = path.read_text().splitlines()
    defect(rows)
    path.write_text("\n".join([header, *rows]) + "\n")
    with pytest.raises(ValueError) as excinfo:
        load_weather_csv(path)
    message = str(excinfo.value)
    row = index + 1  # data rows count from 1; the header is line 1
    assert str(path) in message and f"row {row} (line {row + 1})" in message and f"column {column!r}" in message, message
    with pytest.raises(ValueError):
        HVACEnv(weather_csv=path)


def test_a_weather_csv_without_the_required_columns_is_a_value_error(tmp_path):
    path = tmp_path / "columns.csv"
    path.write_text("time,temp,solar\n2023-01-01T00:00,1,0\n2023-01-01T01:00,1,0\n")
    with pytest.raises(ValueError, match=r"columns\.csv.*timestamp, temp_out_c, solar_w_m2"):
        load_weather_csv(path)


def test_a_weather_csv_with_a_utf8_byte_order_mark_is_read(tmp_path):
    plain = write_weather(tmp_path / "plain.csv", [5.0] * 48, [0.0] * 48)
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())  # what spreadsheet programs write as "CSV UTF-8"
    np.testing.assert_array_equal(load_weather_csv(bom)["temp_out_c"], load_weather_csv(plain)["temp_out_c"])


def test_two_swapped_rows_are_reported_as_unsorted_not_as_a_gap(tmp_path):
    path = write_weather(tmp_path / "swapped.csv", [5.0] * 48, [0.0] * 48)
    header, *rows = path.read_text().splitlines()
    rows[5], rows[6] = rows[6], rows[5]
    path.write_text("\n".join([header, *rows]) + "\n")
    with pytest.raises(ValueError) as excinfo:
        load_weather_csv(path)
    message = str(excinfo.value)
    assert "swapped.csv: row 7 (line 8), column 'timestamp'" in message and "not sorted" in message, message
    assert "missing" not in message and "\n" not in message


def test_a_directory_or_an_undecodable_file_is_one_line_naming_it(tmp_path):
    with pytest.raises(ValueError, match=r"^" + re.escape(str(tmp_path)) + r": is a directory; expected a CSV file"):
        HVACEnv(weather_csv=tmp_path)
    path = write_weather(tmp_path / "latin1.csv", [5.0] * 48, [0.0] * 48)
    path.write_bytes(path.read_bytes().replace(b"5.0", b"5.0\x80", 1))  # the first data row, file line 2
    with pytest.raises(ValueError) as excinfo:
        load_weather_csv(path)
    message = str(excinfo.value)
    assert message.startswith(f"{path}: line 2: byte 0x80 is not UTF-8") and "\n" not in message, message
    with pytest.raises(ValueError, match="no such file"):
        load_weather_csv(tmp_path / "missing.csv")


def test_check_env_passes_with_a_weather_csv(tmp_path):
    from gymnasium.utils.env_checker import check_env

    csv = write_weather(tmp_path / "w.csv", [3.0 + (i % 24) / 4 for i in range(24 * 30)], [100.0] * (24 * 30))
    check_env(HVACEnv(weather_csv=csv), skip_render_check=True)


# --- baselines -----------------------------------------------------------------------------------


def test_schedule_thermostat_beats_the_plain_thermostat_over_a_year():
    env = HVACEnv(episode_days=365)
    plain = run_baseline(env, Thermostat(env), seed=0)
    schedule = run_baseline(env, ScheduleThermostat(env), seed=0)
    assert schedule["return"] > plain["return"] + 0.15 * abs(plain["return"])
    assert schedule["energy_kwh"] < 0.85 * plain["energy_kwh"]
    # Sane numbers: a few MWh a year for a ~150 m² zone, nearly always comfortable.
    assert 1000 < plain["energy_kwh"] < 6000 and plain["comfort_violation_fraction"] < 0.01
    assert schedule["comfort_violation_fraction"] < 0.10 and schedule["discomfort_Kh"] < 50


@pytest.mark.parametrize("start_day", [10, 100, 200, 300])
def test_schedule_thermostat_beats_the_plain_thermostat_in_every_season(start_day):
    for env in (HVACEnv(), HVACEnv(action_type="discrete")):
        plain = run_baseline(env, Thermostat(env), seed=start_day, start_day=start_day)
        schedule = run_baseline(env, ScheduleThermostat(env), seed=start_day, start_day=start_day)
        assert schedule["return"] > plain["return"], (start_day, env.action_space, plain, schedule)


def test_published_baseline_table_matches_baseline_numbers():
    """The numbers in experiments/results/hvac_baselines.md (written by python -m envs.hvac) are what
    baseline_numbers() computes now."""
    table = baseline_numbers()
    doc = (Path(__file__).parents[2] / "experiments" / "results" / "hvac_baselines.md").read_text()
    for name, week_year in zip(table["week"], zip(table["week"].values(), table["year"].values(), strict=True)):
        line = re.search(rf"^\s*\| {name} \|(.*)\|\s*$", doc, re.MULTILINE)
        assert line, f"no published row for {name}"
        published = [float(cell) for cell in line.group(1).split("|")]
        computed = []
        for r in week_year:
            computed += [r["return"], r["energy_kwh"], r["cost_eur"], r["discomfort_Kh"], 100 * r["comfort_violation_fraction"]]
        np.testing.assert_allclose(published, computed, atol=0.51, err_msg=name)
