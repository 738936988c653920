"""Potential-based reward shaping for HVAC that values the heat held in the zone's air (a probe; see README.md).

Under a feedback controller such as the cloned thermostat, cutting the heat pump's power for one step
saves its cost now, and the controller buys most of the heat back over the next steps: on the teacher's
trajectories a one-step cut of 0.1 (800 W for 15 minutes) gains 0.0107 € at once but only 0.0019 € of
discounted return. A critic learns that pay-back only through the slope of its bootstrapped value in the
air temperature. Shaping with the potential ``phi(s) = m * k * C_air * (T_air - ref)`` (the heat in the
air, over ``ref``, at ``k`` € per thermal kWh; ``m`` = +1 when heating is the season's mode, -1 when
cooling) books that value at the step that changes the temperature: ``r' = r + gamma * phi(s') - phi(s)``.
Ng, Harada & Russell (1999): with the agent's ``gamma`` this changes no policy's advantages, so the
optimal policy is the env's own; evaluation returns are the env's rewards (rlkit's ``Monitor`` sits
inside the wrappers).

Use: ``PYTHONPATH=experiments/pretraining rlkit train --config experiments/pretraining/hvac_sac_bcreg_shaped.yaml …``
(``env.wrappers: [{name: 'hvac_shaping:StoredHeatShaping', kwargs: {k: 0.035}}]``).
"""

from __future__ import annotations

import gymnasium as gym

from envs.hvac import TEMP_OFFSET_C, TEMP_SCALE_K

C_AIR_KWH_PER_K = 4e6 / 3.6e6  # HVACEnv's default air capacity, 4 MJ/K, in kWh per K


class StoredHeatShaping(gym.Wrapper):
    """``r' = r + gamma * phi(s') - phi(s)`` with ``phi`` the value of the air's heat (module docstring).

    :param k: € per thermal kWh (about the price over the COP: 0.25 / 3.5 = 0.07; 0.035 probed best).
    :param gamma: the agent's discount (the shaping preserves optimal policies only with it).
    :param ref_c: the temperature whose heat is worth nothing (°C): the band's middle, so that the
        potential is continuous where the mode flips.
    :param balance_c: outdoor temperature (°C) below which heat is an asset (heating), above which a liability.
    """

    def __init__(self, env: gym.Env, k: float = 0.035, gamma: float = 0.99, ref_c: float = 22.0, balance_c: float = 15.0):
        super().__init__(env)
        self.k, self.gamma, self.ref_c, self.balance_c = float(k), float(gamma), float(ref_c), float(balance_c)
        self._phi = 0.0

    def potential(self, observation) -> float:
        temp_air = TEMP_OFFSET_C + TEMP_SCALE_K * float(observation[0])
        temp_out = TEMP_OFFSET_C + TEMP_SCALE_K * float(observation[2])
        mode = 1.0 if temp_out < self.balance_c else -1.0
        return mode * self.k * C_AIR_KWH_PER_K * (temp_air - self.ref_c)

    def reset(self, **kwargs):
        observation, info = self.env.reset(**kwargs)
        self._phi = self.potential(observation)
        return observation, info

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(action)
        phi = 0.0 if terminated else self.potential(observation)
        reward = float(reward) + self.gamma * phi - self._phi
        self._phi = phi
        return observation, reward, terminated, truncated, info
