"""rlkit/HVAC-Setpoint-v0 and what HVAC gained for supervisory control: the inner PI loop (its step
response, and exactness against the power-controlled env when it saturates), the BOPTEST-style KPIs
(sums of the steps), and disjoint training and evaluation weeks."""

from __future__ import annotations

from datetime import datetime, timedelta

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the ids)
from envs.hvac import HVACEnv
from envs.hvac.baselines import run_baseline, schedule_thermostat, split_numbers
from envs.hvac.splits import is_test_day


def constant_weather_csv(path, temp_c=5.0, days=40, start=datetime(2023, 1, 2)):
    lines = ["timestamp,temp_out_c,solar_w_m2"]
    lines += [f"{(start + timedelta(hours=i)).isoformat()},{temp_c},0" for i in range(24 * days)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_inner_loop_follows_a_setpoint_step_within_a_tenth_of_a_kelvin(tmp_path):
    """Constant 5 °C outside, no sun, nobody in: hold 20 °C (zero deadband) for 6 hours, then step the
    heating setpoint to 23 °C. The PI loop settles within 0.1 K in two hours, overshoots by less than
    0.2 K, and holds within 0.05 K thereafter."""
    env = HVACEnv(control="setpoint", weather_csv=constant_weather_csv(tmp_path / "w.csv"), occupied_weekdays=())
    env.reset(seed=0, options={"start_day": 0})
    air = []
    for k in range(4 * 18):
        env.step(env.setpoint_action(20.0, 20.0) if k < 24 else env.setpoint_action(23.0, 28.0))
        air.append(env.temp_air_c)
    air = np.array(air)
    assert abs(air[23] - 20.0) < 0.05, air[:24]  # settled before the step
    after = air[24:]
    assert after[0] < 22.0  # a step response, not a jump
    assert np.all(np.abs(after[8:] - 23.0) < 0.1), after[:12]  # within 0.1 K two hours after the step
    assert after.max() < 23.2
    assert np.all(np.abs(after[16:] - 23.0) < 0.05)


def test_a_saturated_loop_equals_full_power_of_the_power_env():
    """Asking for 30 °C from a zone below 24 °C saturates the heating PI at full power for the first
    intervals: the inner steps compose to the exact outer step, so states and bills equal HVAC-v0's at +1."""
    setpoint, power = HVACEnv(control="setpoint"), HVACEnv()
    for env in (setpoint, power):
        env.reset(seed=3, options={"start_day": 10})
    for _ in range(2):
        _, r_set, _, _, i_set = setpoint.step(np.array([1.0, 1.0], dtype=np.float32))  # 30 °C
        _, r_pow, _, _, i_pow = power.step(np.array([1.0], dtype=np.float32))
        assert setpoint.temp_air_c == pytest.approx(power.temp_air_c, abs=1e-9)
        assert setpoint.temp_mass_c == pytest.approx(power.temp_mass_c, abs=1e-9)
        assert i_set["energy_kwh"] == pytest.approx(i_pow["energy_kwh"], rel=1e-12) and r_set == pytest.approx(r_pow)


@pytest.mark.parametrize("action", [[-1.1, 0.0], [0.0, 1.01], [np.nan, 0.0], [0.0], [[0.0, 0.3]], "warm"])
def test_a_setpoint_outside_the_range_is_a_value_error(action):
    env = gym.make("rlkit/HVAC-Setpoint-v0")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"setpoint") as excinfo:
        env.step(np.asarray(action, dtype=np.float32) if not isinstance(action, str) else action)
    assert "\n" not in str(excinfo.value)


def test_a_cooling_setpoint_below_the_heating_one_is_a_zero_deadband():
    a, b = HVACEnv(control="setpoint"), HVACEnv(control="setpoint")
    for env in (a, b):
        env.reset(seed=1, options={"start_day": 200})
    for _ in range(20):
        _, _, _, _, info = a.step(a.setpoint_action(22.0, 18.0))
        b.step(b.setpoint_action(22.0, 22.0))
    assert info["heating_setpoint_c"] == pytest.approx(22.0, abs=1e-5) == info["cooling_setpoint_c"]
    assert a.temp_air_c == b.temp_air_c


@pytest.mark.parametrize("env_id", ["rlkit/HVAC-v0", "rlkit/HVAC-Setpoint-v0", "rlkit/HVAC-Discrete-v0"])
def test_episode_kpis_are_the_sums_of_the_steps(env_id):
    env = gym.make(env_id, episode_days=2)
    env.reset(seed=4)
    rng = np.random.default_rng(0)
    energy, cost, discomfort, peak = [], [], [], 0.0
    done = False
    while not done:
        _, _, terminated, truncated, info = env.step(env.action_space.sample() if rng.random() < 0.5 else env.action_space.sample())
        energy.append(info["energy_kwh"])
        cost.append(info["cost"])
        discomfort.append(info["discomfort_degree_hours"])
        peak = max(peak, info["energy_kwh"] / 0.25)  # kWh in a 15-minute step -> mean kW
        done = terminated or truncated
    kpis = info["episode_metrics"]
    assert kpis["energy_kwh"] == pytest.approx(sum(energy), rel=1e-12)
    assert set(kpis) == {"energy_kwh", "cost_eur", "discomfort_Kh", "peak_kw", "comfort_violation_fraction"}  # one env/ tag each
    assert kpis["cost_eur"] == pytest.approx(sum(cost), rel=1e-12)
    assert kpis["discomfort_Kh"] == pytest.approx(sum(discomfort), rel=1e-12, abs=1e-12)
    assert kpis["peak_kw"] == pytest.approx(peak, rel=1e-12) and kpis["peak_kw"] > 0


def _days_read(env, start_day):
    read_days = (env._n_hours - 1) // 24 + 1
    return {(start_day + k) % 365 for k in range(read_days)}


def test_training_weeks_never_read_an_evaluation_day():
    train, test = HVACEnv(split="train"), HVACEnv(split="test")
    evaluation_days = {(d + k) % 365 for d in test.start_days for k in range(7)}
    assert evaluation_days == {d for d in range(365) if is_test_day(d)} and len(test.start_days) == 13
    for day in train.start_days:
        assert not _days_read(train, day) & evaluation_days, day
    # And resets draw only from their split (the start days a fresh seed gives).
    drawn = {train.reset(seed=s)[0] is not None and train.start_day for s in range(300)}
    assert drawn <= set(train.start_days) and len(drawn) > 100
    assert {test.reset(seed=s)[0] is not None and test.start_day for s in range(100)} == set(test.start_days)
    with pytest.raises(ValueError, match="not a start of split='test'"):
        test.reset(seed=0, options={"start_day": 0})
    with pytest.raises(ValueError, match="leaves no start day"):
        HVACEnv(split="train", episode_days=365)


def test_a_weather_csv_splits_by_its_own_days(tmp_path):
    csv = constant_weather_csv(tmp_path / "w.csv", days=120)
    train, test = HVACEnv(weather_csv=csv, split="train"), HVACEnv(weather_csv=csv, split="test")
    assert test.start_days == [21, 49, 77, 105] and train.start_days and max(train.start_days) < 120
    evaluation = {d + k for d in test.start_days for k in range(7)}
    read_days = (train._n_hours - 1) // 24 + 1
    assert all(not {d + k for k in range(read_days)} & evaluation for d in train.start_days)


def test_baselines_run_on_exactly_the_evaluation_weeks():
    """An episode is a function of the split and the seed, so a baseline and an agent evaluated with
    the same split and seeds meet the same weeks and weather; split_numbers runs each week once."""
    env = HVACEnv(split="test", control="setpoint")
    assert env.start_days == [21 + 28 * k for k in range(13)]
    a = run_baseline(env, schedule_thermostat(env), seed=5)
    week, weather = env.start_day, env.temp_out_c.copy()
    other = HVACEnv(split="test", control="setpoint")
    b = run_baseline(other, schedule_thermostat(other), seed=5)
    assert a == b and other.start_day == week and np.array_equal(other.temp_out_c, weather)
    numbers = split_numbers("test", control="setpoint")
    assert set(numbers) == {"off", "thermostat", "schedule_thermostat"}
    assert numbers["schedule_thermostat"]["cost_eur"] < numbers["thermostat"]["cost_eur"]


def test_published_evaluation_week_table_matches_split_numbers():
    """experiments/results/hvac_eval_weeks.md (python -m envs.hvac) is what split_numbers computes now."""
    from pathlib import Path

    from envs.hvac.baselines import split_table

    published = (Path(__file__).parents[2] / "experiments" / "results" / "hvac_eval_weeks.md").read_text()
    assert published == split_table({control: split_numbers("test", control=control) for control in ("power", "setpoint")})
