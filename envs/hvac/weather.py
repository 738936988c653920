"""HVAC weather: the seeded hourly generator and the hourly weather CSV loader."""

from __future__ import annotations

import math
import os
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from envs.csvfile import column_index, read_csv

# Physical validity range of weather inputs. A CSV outside it is an error (80 °C is a unit mix-up,
# e.g. Fahrenheit); the generator's output is clipped to it, which in practice never binds (its
# noise would need > 8 standard deviations). The range makes the observation bounds honest.
TEMP_OUT_RANGE_C = (-50.0, 60.0)
SOLAR_RANGE_W_M2 = (0.0, 1400.0)

CSV_COLUMNS = ("timestamp", "temp_out_c", "solar_w_m2")
# The generator's calendar: a 365-day year whose day 0 (1 January) is a Monday.
DAYS_PER_YEAR = 365

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
    Any malformed row raises a one-line ``ValueError`` naming the file, the row (data rows count
    from 1; the file line is also given), the column and the problem: rows out of order or repeated
    are reported as such before any gap is. Nothing is filled in or skipped. The file is read by
    ``envs.csvfile.read_csv`` (UTF-8 with or without a byte-order mark).
    """
    path, header, body = read_csv(path, f"a header {','.join(CSV_COLUMNS)} and hourly rows")
    index = column_index(path, header, CSV_COLUMNS, f"a header {','.join(CSV_COLUMNS)} (timestamp in ISO 8601, °C, W/m²)")
    if len(body) < 2:
        raise ValueError(f"{path}: need at least 2 hourly rows, got {len(body)}")
    for row, (line, fields) in enumerate(body, start=1):
        if len(fields) != len(header):
            raise ValueError(f"{path}: row {row} (line {line}) has {len(fields)} fields, the header has {len(header)}")
    texts = [fields[index["timestamp"]].strip() for _, fields in body]
    timestamps = _parse_timestamps(path, body, texts)
    _check_hourly(path, body, texts, timestamps)
    values = {column: _parse_values(path, body, column, index[column]) for column in ("temp_out_c", "solar_w_m2")}
    return {"path": path, "timestamps": timestamps, **values}


def _where(path: str, body: list[tuple[int, list[str]]], i: int, column: str) -> str:
    return f"{path}: row {i + 1} (line {body[i][0]}), column {column!r}"


def _parse_timestamps(path: str, body: list[tuple[int, list[str]]], texts: list[str]) -> list[datetime]:
    timestamps: list[datetime] = []
    for i, text in enumerate(texts):
        try:
            stamp = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{_where(path, body, i, 'timestamp')}: {text!r} is not an ISO 8601 time such as 2023-01-01T00:00") from None
        if timestamps and (stamp.tzinfo is None) != (timestamps[0].tzinfo is None):
            raise ValueError(f"{_where(path, body, i, 'timestamp')}: {text!r} mixes times with and without a UTC offset; use one form")
        timestamps.append(stamp)
    return timestamps


def _check_hourly(path: str, body: list[tuple[int, list[str]]], texts: list[str], timestamps: list[datetime]) -> None:
    """Rows strictly increasing (the first repeat or step back is named as such), then exactly 1 hour apart."""
    for i in range(1, len(timestamps)):
        if timestamps[i] <= timestamps[i - 1]:
            repeat = timestamps[i] == timestamps[i - 1]
            problem = "repeats" if repeat else "is earlier than"
            fix = "remove the duplicate row" if repeat else "the rows are not sorted by time: sort the file by timestamp"
            raise ValueError(f"{_where(path, body, i, 'timestamp')}: {texts[i]} {problem} the previous row's {texts[i - 1]}; {fix}")
    for i in range(1, len(timestamps)):
        gap = timestamps[i] - timestamps[i - 1]
        if gap == timedelta(hours=1):
            continue
        where = _where(path, body, i, "timestamp")
        if gap % timedelta(hours=1) == timedelta(0):
            raise ValueError(
                f"{where}: {texts[i]} follows {texts[i - 1]}, {gap // timedelta(hours=1) - 1} hour(s) are missing; "
                "the file must be gap-free hourly data (gaps are not interpolated): fill them from a source"
            )
        raise ValueError(f"{where}: {texts[i]} is {gap} after the previous row; rows must be exactly 1 hour apart")


def _parse_values(path: str, body: list[tuple[int, list[str]]], column: str, index: int) -> np.ndarray:
    (low, high), unit = {"temp_out_c": (TEMP_OUT_RANGE_C, "°C"), "solar_w_m2": (SOLAR_RANGE_W_M2, "W/m²")}[column]
    values = np.empty(len(body))
    for i, (_, fields) in enumerate(body):
        cell = fields[index].strip()
        try:
            value = float(cell)
        except ValueError:
            raise ValueError(f"{_where(path, body, i, column)}: {cell!r} is not a number ({unit}); the value is missing or malformed") from None
        if not math.isfinite(value):
            raise ValueError(f"{_where(path, body, i, column)}: {cell!r} is not a finite number ({unit}); fill the value in the file")
        if not low <= value <= high:
            hint = " (Kelvin or Fahrenheit?)" if column == "temp_out_c" else ""
            raise ValueError(f"{_where(path, body, i, column)}: {value} {unit} is outside the physical range [{low}, {high}]{hint}")
        values[i] = value
    return values


def midnight_rows(weather: dict[str, Any], n_hours: int) -> list[int]:
    """Rows at 00:00 from which ``n_hours`` hourly rows exist: the possible starts of an episode."""
    total = len(weather["timestamps"])
    return [
        i for i, stamp in enumerate(weather["timestamps"])
        if stamp.hour == 0 and stamp.minute == 0 and stamp.second == 0 and i + n_hours <= total
    ]  # fmt: skip


def load_episode_weather(path: Any, n_hours: int, episode_days: int, forecast_h: float) -> tuple[dict[str, Any], list[int]]:
    """An hourly weather CSV and its possible episode starts (`midnight_rows`); a file too short for one
    episode of ``n_hours`` hours (``episode_days`` days plus the ``forecast_h`` forecast) is refused."""
    weather = load_weather_csv(path)
    starts = midnight_rows(weather, n_hours)
    if len(starts) == 0:
        raise ValueError(
            f"{path}: {len(weather['temp_out_c'])} hourly rows hold no midnight followed by "
            f"{n_hours} consecutive hours, which an episode of {episode_days} days plus the "
            f"{forecast_h:g} h forecast needs; use a longer file or a smaller episode_days"
        )
    return weather, starts
