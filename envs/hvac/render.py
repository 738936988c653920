"""HVACEnv's render modes: an ANSI status line and an RGB strip chart drawn with NumPy."""

from __future__ import annotations

import numpy as np

from envs.hvac.observation import TEMP_OFFSET_C, TEMP_SCALE_K, WEEKDAY_NAMES


def render_ansi(env) -> str:
    """One status line: time, temperatures, occupancy, power, price and running totals."""
    t = env._t
    minutes = t * env.step_minutes
    weekday = (env._start_weekday + minutes // 1440) % 7
    row = env._obs_table[t]  # the exogenous columns hold time t's values for every t in [0, T]
    return (
        f"day {minutes // 1440} {WEEKDAY_NAMES[weekday]} {(minutes // 60) % 24:02d}:{minutes % 60:02d} | "
        f"air {env._temp_air:5.1f} °C mass {env._temp_mass:5.1f} °C "
        f"out {row[2] * TEMP_SCALE_K + TEMP_OFFSET_C:5.1f} °C | {'occupied' if row[6] > 0.5 else 'empty   '} | "
        f"HVAC {env._power_w[t] / 1000:+5.1f} kW | {row[7] * max(env.tou_prices):.2f} €/kWh | "
        f"energy {env._sum_energy_kwh:7.2f} kWh, cost {env._sum_cost:6.2f} €, discomfort {env._sum_discomfort:6.2f} K·h"
    )


def render_rgb(env, height: int = 240, width: int = 480) -> np.ndarray:
    """Strip chart of the episode so far: air (red) and outdoor (blue) temperature over the comfort
    band (green while occupied), and heat-pump power below (red heating, blue cooling). Drawn with
    NumPy because envs may not import matplotlib."""
    image = np.full((height, width, 3), 255, dtype=np.uint8)  # (H, W, 3)
    t = env._t
    temp_top, temp_bottom = 8, int(height * 0.68)
    power_mid, power_half = int(height * 0.85), int(height * 0.12)
    t_min, t_max = -15.0, 40.0
    columns = (np.arange(t + 1) * (width - 1)) // max(env.n_steps, 1)  # (t+1,)

    def rows_of(temp):
        frac = (np.clip(temp, t_min, t_max) - t_min) / (t_max - t_min)
        return (temp_bottom - frac * (temp_bottom - temp_top)).astype(np.int64)

    lo_row, hi_row = rows_of(np.array([env.comfort_band_c[0], env.comfort_band_c[1]]))
    band = columns[:t][env.occupied[:t]] if t else columns[:0]
    image[hi_row : lo_row + 1, :][:, band] = (200, 235, 200)
    image[[temp_top - 1, temp_bottom + 1], :] = 180
    image[power_mid, :] = 180
    temp_air = np.concatenate([[env._obs_table[0, 0]], env._obs_table[1 : t + 1, 0]]) * TEMP_SCALE_K + TEMP_OFFSET_C
    temp_out = np.append(env.temp_out_c, env.temp_out_c[-1])[: t + 1]
    for series, color in ((temp_out, (40, 90, 220)), (temp_air, (220, 40, 40))):
        rows = rows_of(series)
        image[rows, columns] = color
        image[np.minimum(rows + 1, temp_bottom), columns] = color
    power = env._power_w[1 : t + 1] / env.max_thermal_power_w  # (t,)
    if t:
        offsets = np.arange(-power_half, power_half + 1)[:, None]  # (P, 1)
        heights = np.round(power * power_half)[None, :]  # (1, t)
        mask = ((offsets < 0) & (offsets >= -heights)) | ((offsets > 0) & (offsets <= -heights))  # (P, t)
        rows, steps = np.nonzero(mask)
        colors = np.where((power[steps] > 0)[:, None], [[220, 40, 40]], [[40, 90, 220]]).astype(np.uint8)
        image[power_mid + offsets[rows, 0], columns[1:][steps]] = colors
    return image

