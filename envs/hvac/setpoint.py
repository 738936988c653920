"""The local loop of ``control="setpoint"``: two PI controllers (heating, cooling) on the 2R2C zone.

A supervisory action gives the heating and cooling setpoints for the next control interval; this
loop, as a building's own thermostat would, runs every ``inner_step_s`` seconds within the interval
and turns them into heat-pump power. Each controller outputs a fraction of full power in [0, 1]:
``u = kp · e + I`` with the error ``e`` (setpoint - air for heating, air - setpoint for cooling, K),
``kp = pi_kp_per_k`` (1/K by default: full power at 1 K of error) and ``I += kp / Ti · e · dt``
(``Ti = pi_integral_time_s``, 30 minutes) held within [0, 1] (conditional integration: no wind-up). Net thermal
power is ``(u_heat - u_cool) · max_thermal_power_w``. The exogenous inputs are held over the
control interval (as in the power-controlled env), so with constant power ``n`` inner steps equal
one outer step exactly.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from envs.hvac.physics import discretize_rc

def inner_matrices(model, inner_step_s: float) -> tuple[np.ndarray, np.ndarray]:
    """``(Ad, Bd)`` of the thermal model over one inner step of ``inner_step_s`` seconds."""
    return discretize_rc(model.capacitance, model.conductance, model.heat_input, inner_step_s)


@njit(cache=True)
def pi_interval(
    temp_air, temp_mass, heat_sp, cool_sp, integral_heat, integral_cool,
    ad, b_q, drive_air, drive_mass, max_power_w, kp, ki_dt, step_s, n_inner,
):  # pragma: no cover - compiled  fmt: skip
    """Run ``n_inner`` inner steps; returns (temp_air, temp_mass, integral_heat, integral_cool,
    heating energy J, cooling energy J) where the energies are thermal, over the interval.

    ``ad`` (2, 2) and ``b_q`` (2,) are the inner-step matrices (``b_q`` the power column);
    ``drive_air``/``drive_mass`` the inner-step contribution of the held exogenous inputs; ``ki_dt`` is
    ``ki · step_s`` (per K and inner step).
    """
    heat_j = 0.0
    cool_j = 0.0
    for _ in range(n_inner):
        error_heat = heat_sp - temp_air
        error_cool = temp_air - cool_sp
        u_heat = min(max(kp * error_heat + integral_heat, 0.0), 1.0)
        u_cool = min(max(kp * error_cool + integral_cool, 0.0), 1.0)
        # Conditional integration: integrate only while the output is not saturated the same way.
        if not ((u_heat >= 1.0 and error_heat > 0.0) or (u_heat <= 0.0 and error_heat < 0.0)):
            integral_heat = min(max(integral_heat + ki_dt * error_heat, 0.0), 1.0)
        if not ((u_cool >= 1.0 and error_cool > 0.0) or (u_cool <= 0.0 and error_cool < 0.0)):
            integral_cool = min(max(integral_cool + ki_dt * error_cool, 0.0), 1.0)
        power = (u_heat - u_cool) * max_power_w
        next_air = ad[0, 0] * temp_air + ad[0, 1] * temp_mass + b_q[0] * power + drive_air
        next_mass = ad[1, 0] * temp_air + ad[1, 1] * temp_mass + b_q[1] * power + drive_mass
        temp_air, temp_mass = next_air, next_mass
        heat_j += u_heat * max_power_w * step_s
        cool_j += u_cool * max_power_w * step_s
    return temp_air, temp_mass, integral_heat, integral_cool, heat_j, cool_j
