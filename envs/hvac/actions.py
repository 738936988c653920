"""HVACEnv's actions: checking one against the space and reading it as power or setpoints.

Nothing is clipped: an action outside the space is a one-line ``ValueError`` naming the space and
what it expects (SB3 clips Box actions itself before they reach the env).
"""

from __future__ import annotations

import numpy as np

from envs._checks import in_discrete_space


def continuous_power(env, action) -> float:
    """The power fraction in [-1, 1] of a continuous action; a ValueError naming the space otherwise."""
    if type(action) is np.ndarray and action.shape == (1,) and action.dtype.kind == "f":
        value = float(action[0])
    else:
        try:
            array = np.asarray(action)
        except Exception:
            raise action_error(env, action) from None
        if array.shape != (1,) or array.dtype.kind not in "fiu":
            raise action_error(env, action)
        value = float(array[0])
    if not -1.0 <= value <= 1.0:  # also rejects NaN
        raise action_error(env, action)
    return value


def setpoints_c(env, action) -> tuple[float, float]:
    """(heating, cooling) setpoint in °C of a normalised action; the cooling one at least the heating one."""
    try:
        array = np.asarray(action)
    except Exception:
        raise action_error(env, action) from None
    if array.shape != (2,) or array.dtype.kind not in "fiu":
        raise action_error(env, action)
    a_heat, a_cool = float(array[0]), float(array[1])
    if not (-1.0 <= a_heat <= 1.0 and -1.0 <= a_cool <= 1.0):  # also rejects NaN
        raise action_error(env, action)
    lo, hi = env.params.setpoint_range_c
    heat, cool = lo + 0.5 * (a_heat + 1.0) * (hi - lo), lo + 0.5 * (a_cool + 1.0) * (hi - lo)
    return heat, max(cool, heat)  # a cooling setpoint below the heating one: zero deadband


def discrete_index(env, action) -> int:
    """The power level index of a discrete action; a ValueError naming the space otherwise."""
    if not in_discrete_space(action, env.action_space):  # the rule of every env: no bools
        raise action_error(env, action)
    return int(action)


def action_error(env, action) -> ValueError:
    """The one-line error for an action outside ``env.action_space``, saying what it expects."""
    if env._discrete:
        expected = f"an integer in [0, {env.action_space.n}) indexing the power levels {env.action_levels.tolist()}"
    elif env._setpoint:
        lo, hi = env.params.setpoint_range_c
        expected = (
            f"a float array of shape (2,) in [-1, 1]: the heating and the cooling setpoint, -1 = {lo:g} °C and "
            f"+1 = {hi:g} °C (env.setpoint_action converts °C); clip or squash the policy's output"
        )
    else:
        expected = (
            "a float array of shape (1,) in [-1, 1]: thermal power as a fraction of max_thermal_power_w, "
            "negative cools; clip or squash the policy's output (SB3 clips Box actions for you)"
        )
    return ValueError(f"action {action!r} is outside the action space {env.action_space}; expected {expected}")
