"""HVACEnv's observation: the scaling of its features, their names and the honest bounds."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from envs.hvac.weather import SOLAR_RANGE_W_M2, TEMP_OUT_RANGE_C

# Observation scaling (see HVACEnv's Observation Space): temperatures as (T - 20 °C) / 10 K,
# irradiance as GHI / 1000 W/m², price as a fraction of the highest tariff price.
TEMP_OFFSET_C = 20.0
TEMP_SCALE_K = 10.0
SOLAR_SCALE_W_M2 = 1000.0
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Per forecast offset, these exogenous features are observed (in this order).
FORECAST_FEATURES = ("temp_out", "solar", "occupied", "price")
CURRENT_FEATURES = ("temp_air", "temp_mass", "temp_out", "solar", "hour_sin", "hour_cos", "occupied", "price")


def observation_space(temp_bounds_c: tuple[np.ndarray, np.ndarray], n_forecasts: int) -> spaces.Box:
    """The honest observation box: current features, then ``n_forecasts`` forecast blocks (see HVACEnv)."""

    def scaled(t):
        return (np.asarray(t) - TEMP_OFFSET_C) / TEMP_SCALE_K

    solar_hi = SOLAR_RANGE_W_M2[1] / SOLAR_SCALE_W_M2
    current_lo = [*scaled(temp_bounds_c[0]), scaled(TEMP_OUT_RANGE_C[0]), 0.0, -1.0, -1.0, 0.0, 0.0]
    current_hi = [*scaled(temp_bounds_c[1]), scaled(TEMP_OUT_RANGE_C[1]), solar_hi, 1.0, 1.0, 1.0, 1.0]
    forecast_lo = [scaled(TEMP_OUT_RANGE_C[0]), 0.0, 0.0, 0.0]
    forecast_hi = [scaled(TEMP_OUT_RANGE_C[1]), solar_hi, 1.0, 1.0]
    return spaces.Box(
        low=np.array(current_lo + forecast_lo * n_forecasts, dtype=np.float32),
        high=np.array(current_hi + forecast_hi * n_forecasts, dtype=np.float32),
        dtype=np.float32,
    )
