"""HVAC: heating and cooling one building zone with a heat pump (``rlkit/HVAC-v0`` and variants).

One file per idea: ``env`` (the Gymnasium env), ``params`` (its constructor arguments, validated),
``physics`` (the RC network and the heat pump), ``weather`` (generator and CSV loader),
``observation`` (feature scaling and bounds), ``render``, and ``baselines`` (thermostats and their
published numbers). The names below are the package's public interface.
"""

from envs.hvac.baselines import (
    ScheduleThermostat,
    Thermostat,
    baseline_numbers,
    baseline_table,
    run_baseline,
    schedule_thermostat,
    thermostat,
)
from envs.hvac.env import HVACEnv
from envs.hvac.observation import (
    CURRENT_FEATURES,
    FORECAST_FEATURES,
    SOLAR_SCALE_W_M2,
    TEMP_OFFSET_C,
    TEMP_SCALE_K,
)
from envs.hvac.params import HVACParams
from envs.hvac.physics import ThermalModel, discretize_rc, heat_pump_cop
from envs.hvac.weather import (
    CSV_COLUMNS,
    DAYS_PER_YEAR,
    SOLAR_RANGE_W_M2,
    TEMP_OUT_RANGE_C,
    generate_weather,
    load_weather_csv,
)

__all__ = [
    "CSV_COLUMNS", "CURRENT_FEATURES", "DAYS_PER_YEAR", "FORECAST_FEATURES", "SOLAR_RANGE_W_M2", "SOLAR_SCALE_W_M2",
    "TEMP_OFFSET_C", "TEMP_OUT_RANGE_C", "TEMP_SCALE_K", "HVACEnv", "HVACParams", "ScheduleThermostat",
    "ThermalModel", "Thermostat", "baseline_numbers", "baseline_table", "discretize_rc", "generate_weather",
    "heat_pump_cop", "load_weather_csv", "run_baseline", "schedule_thermostat", "thermostat",
]  # fmt: skip
