"""The zone's physics: exact discretization of the RC thermal network and the heat pump's COP."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def discretize_rc(
    capacitance: np.ndarray, conductance: np.ndarray, heat_input: np.ndarray, dt_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Exact zero-order-hold discretization of the RC network ``C dx/dt = -K x + H u``.

    Returns ``(Ad, Bd)`` with ``x[k+1] = Ad x[k] + Bd u[k]`` for ``u`` held constant over ``dt_s``
    seconds: ``Ad = expm(A dt)`` and ``Bd = ∫₀^dt expm(A s) ds · B`` with ``A = -C⁻¹K``, ``B = C⁻¹H``
    (what ``scipy.linalg.expm`` of the block matrix ``[[A, B], [0, 0]] dt`` gives).

    Computed by hand rather than with SciPy, which envs may not depend on: ``K`` (conductances,
    W/K) is symmetric, so ``A`` is similar to the symmetric ``S = -C^-1/2 K C^-1/2``, whose
    eigendecomposition ``numpy.linalg.eigh`` gives exactly and stably (real eigenvalues, orthogonal
    eigenvectors). Then ``expm(A t) = C^-1/2 Q exp(Λt) Qᵀ C^1/2`` and the integral is the same with
    ``(exp(λ dt) - 1) / λ`` per eigenvalue (``dt`` where λ = 0). Works for any number of nodes.
    """
    capacitance = np.asarray(capacitance, dtype=np.float64)  # (N,)
    conductance = np.asarray(conductance, dtype=np.float64)  # (N, N)
    heat_input = np.asarray(heat_input, dtype=np.float64)  # (N, M)
    if not np.allclose(conductance, conductance.T):
        raise ValueError("discretize_rc: the conductance matrix must be symmetric (heat flows both ways)")
    inv_sqrt_c = 1.0 / np.sqrt(capacitance)  # (N,)
    symmetric = -(inv_sqrt_c[:, None] * conductance * inv_sqrt_c[None, :])  # (N, N)
    eigenvalues, eigenvectors = np.linalg.eigh(symmetric)  # (N,), (N, N)
    scaled_dt = eigenvalues * dt_s
    with np.errstate(divide="ignore", invalid="ignore"):
        integral = np.where(np.abs(scaled_dt) < 1e-12, dt_s, np.expm1(scaled_dt) / eigenvalues)  # (N,)
    left = inv_sqrt_c[:, None] * eigenvectors  # (N, N)  C^-1/2 Q
    right = eigenvectors.T * np.sqrt(capacitance)[None, :]  # (N, N)  Qᵀ C^1/2
    ad = left @ (np.exp(scaled_dt)[:, None] * right)  # (N, N)
    bd = left @ (integral[:, None] * right) @ (heat_input / capacitance[:, None])  # (N, M)
    return ad, bd


def heat_pump_cop(
    temp_out_c: np.ndarray,
    carnot_efficiency: float = 0.5,
    max_cop: float = 6.0,
    supply_heating_c: float = 35.0,
    supply_cooling_c: float = 7.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Heating and cooling COP of an air-to-water heat pump at outdoor temperature ``temp_out_c`` (°C).

    A fixed fraction of the Carnot COP between the outdoor air and the water supply: heating
    condenses 5 K above the supply and evaporates 5 K below the outdoor air; cooling evaporates
    5 K below the chilled-water supply and condenses 10 K above the outdoor air. The temperature
    lift is floored at 10 K and the COP clipped to ``[1, max_cop]``.
    """
    temp_out_c = np.asarray(temp_out_c, dtype=np.float64)
    hot = supply_heating_c + 5.0 + 273.15
    lift = np.maximum(hot - (temp_out_c - 5.0 + 273.15), 10.0)
    cop_heating = np.clip(carnot_efficiency * hot / lift, 1.0, max_cop)
    cold = supply_cooling_c - 5.0 + 273.15
    lift = np.maximum(temp_out_c + 10.0 + 273.15 - cold, 10.0)
    cop_cooling = np.clip(carnot_efficiency * cold / lift, 1.0, max_cop)
    return cop_heating, cop_cooling


@dataclass(frozen=True, eq=False)
class ThermalModel:
    """The 2R2C zone of an ``HVACParams``: continuous and discrete matrices and the invariant box.

    State ``x = [T_air, T_mass]`` (°C), input ``u = [T_out °C, Q_hvac W, GHI W/m², Q_internal W]``;
    ``dx/dt = A x + B u`` and, over a step of ``dt_s`` seconds, ``x[k+1] = Ad x[k] + Bd u[k]``.
    ``temp_bounds_c`` = (low, high) per node: the fixed points of the discrete system at the extreme
    inputs, 1 K wider (Ad and Bd are non-negative, so the map is monotone and the box is invariant).
    """

    capacitance: np.ndarray  # (2,) J/K
    conductance: np.ndarray  # (2, 2) W/K
    heat_input: np.ndarray  # (2, 4) W per unit of u
    A: np.ndarray  # (2, 2)
    B: np.ndarray  # (2, 4)
    Ad: np.ndarray  # (2, 2)
    Bd: np.ndarray  # (2, 4)
    temp_bounds_c: tuple[np.ndarray, np.ndarray]

    @classmethod
    def from_params(cls, p, dt_s: float, temp_out_range_c, solar_range_w_m2) -> ThermalModel:
        capacitance = np.array([p.capacitance_air_j_per_k, p.capacitance_mass_j_per_k], dtype=np.float64)
        ua_am, ua_ao, ua_mo = p.ua_air_mass_w_per_k, p.ua_air_outdoor_w_per_k, p.ua_mass_outdoor_w_per_k
        conductance = np.array([[ua_am + ua_ao, -ua_am], [-ua_am, ua_am + ua_mo]], dtype=np.float64)
        f, aperture = p.solar_to_air_fraction, p.solar_aperture_m2
        heat_input = np.array(
            [[ua_ao, 1.0, f * aperture, 1.0],
             [ua_mo, 0.0, (1.0 - f) * aperture, 0.0]], dtype=np.float64,
        )  # fmt: skip  Q_solar enters as irradiance (W/m²) times the aperture
        ad, bd = discretize_rc(capacitance, conductance, heat_input, dt_s)
        gains = (float(p.internal_gain_empty_w), float(p.internal_gain_occupied_w))
        power = float(p.max_thermal_power_w)
        u_lo = np.array([temp_out_range_c[0], -power, solar_range_w_m2[0], min(gains)])
        u_hi = np.array([temp_out_range_c[1], power, solar_range_w_m2[1], max(gains)])
        temp_lo = np.linalg.solve(np.eye(2) - ad, bd @ u_lo)  # (2,)
        temp_hi = np.linalg.solve(np.eye(2) - ad, bd @ u_hi)  # (2,)
        return cls(
            capacitance=capacitance, conductance=conductance, heat_input=heat_input,
            A=-conductance / capacitance[:, None], B=heat_input / capacitance[:, None], Ad=ad, Bd=bd,
            temp_bounds_c=(temp_lo - 1.0, temp_hi + 1.0),  # 1 K margin for rounding
        )  # fmt: skip
