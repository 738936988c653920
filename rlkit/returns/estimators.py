"""The public functions of ``rlkit.returns``: check the arguments, run the kernel, name a bad input."""

from __future__ import annotations

import numpy as np

from rlkit.returns.checks import (
    check_dones,
    check_out,
    check_rollout,
    diagnose,
    check_unit_interval,
    truncation_or_empty,
)
from rlkit.returns.kernels import (
    discounted_returns_kernel,
    gae_kernel,
    gae_truncated_kernel,
    lambda_returns_kernel,
    n_step_returns_kernel,
)

def gae_advantages(
    rewards: np.ndarray,
    values: np.ndarray,
    episode_starts: np.ndarray,
    last_values: np.ndarray,
    dones: np.ndarray,
    gamma: float = 0.99,
    gae_lambda: float = 0.95,
    *,
    truncated: np.ndarray | None = None,
    truncation_values: np.ndarray | None = None,
    advantages_out: np.ndarray | None = None,
    returns_out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """GAE(λ) advantages and λ-returns, as SB3's ``RolloutBuffer.compute_returns_and_advantage``.

    ``delta_t = r_t + gamma * boot_t - V(s_t)``, ``A_t = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}``,
    ``returns = A + V`` (the TD(λ) target). Without ``truncated`` the result equals SB3's bit for bit.

    :param rewards: (n_steps, n_envs) float32.
    :param values: (n_steps, n_envs) float32, ``V(s_t)``.
    :param episode_starts: (n_steps, n_envs) float32 0/1 or bool.
    :param last_values: (n_envs,) float32, ``V(s_{n_steps})``.
    :param dones: (n_envs,) bool or 0/1, whether the last transition ended an episode.
    :param gamma: discount factor in [0, 1].
    :param gae_lambda: λ in [0, 1]; 1 gives Monte-Carlo advantages, 0 one-step TD.
    :param truncated: optional (n_steps, n_envs) bool/0-1: episode ended by a time limit after step t.
    :param truncation_values: (n_steps, n_envs) float32 with ``truncated``: V of the final observation
        of each truncated episode (read only where ``truncated``); see the module docstring for why.
    :param advantages_out: optional (n_steps, n_envs) float32 array to write the advantages into.
    :param returns_out: optional (n_steps, n_envs) float32 array to write the returns into.
    :return: ``(advantages, returns)``, each (n_steps, n_envs) float32.
    """
    fn = "gae_advantages"
    shape = check_rollout(fn, rewards, values, episode_starts, last_values, truncated, truncation_values)
    kernel_dones = check_dones(fn, dones, shape[1])
    gamma = check_unit_interval(fn, "gamma", gamma)
    gae_lambda = check_unit_interval(fn, "gae_lambda", gae_lambda)
    inputs = (
        ("rewards", rewards), ("values", values), ("episode_starts", episode_starts),
        ("truncation_values", truncation_values),
    )  # fmt: skip
    advantages = check_out(fn, "advantages_out", advantages_out, shape, inputs)
    returns = check_out(fn, "returns_out", returns_out, shape, (*inputs, ("advantages_out", advantages)))
    if truncated is None:
        n_bad = gae_kernel(
            rewards, values, episode_starts, last_values, kernel_dones, gamma, gae_lambda, advantages, returns
        )
    else:
        n_bad = gae_truncated_kernel(
            rewards, values, episode_starts, last_values, kernel_dones, truncated, truncation_values,
            gamma, gae_lambda, advantages, returns,
        )  # fmt: skip
    if n_bad:
        raise diagnose(fn, rewards, values, episode_starts, last_values, kernel_dones, truncated, truncation_values)
    return advantages, returns


def discounted_returns(
    rewards: np.ndarray,
    episode_starts: np.ndarray,
    last_values: np.ndarray,
    dones: np.ndarray,
    gamma: float = 0.99,
    *,
    truncated: np.ndarray | None = None,
    truncation_values: np.ndarray | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Discounted return ``G_t = r_t + gamma * boot_t`` with ``G`` carried back within each episode.

    Episodes still running at the rollout's end are bootstrapped with ``last_values`` (pass zeros
    for a pure Monte-Carlo return cut at the horizon); truncated ones with ``truncation_values``.
    Arguments as :func:`gae_advantages`; returns (n_steps, n_envs) float32.
    """
    fn = "discounted_returns"
    shape = check_rollout(fn, rewards, None, episode_starts, last_values, truncated, truncation_values)
    kernel_dones = check_dones(fn, dones, shape[1])
    gamma = check_unit_interval(fn, "gamma", gamma)
    out = check_out(fn, "out", out, shape, (("rewards", rewards), ("truncation_values", truncation_values)))
    mask, tvalues = truncation_or_empty(truncated, truncation_values)
    n_bad = discounted_returns_kernel(rewards, episode_starts, last_values, kernel_dones, mask, tvalues, gamma, out)
    if n_bad:
        raise diagnose(fn, rewards, None, episode_starts, last_values, kernel_dones, truncated, truncation_values)
    return out


def lambda_returns(
    rewards: np.ndarray,
    values: np.ndarray,
    episode_starts: np.ndarray,
    last_values: np.ndarray,
    dones: np.ndarray,
    gamma: float = 0.99,
    lam: float = 0.95,
    *,
    truncated: np.ndarray | None = None,
    truncation_values: np.ndarray | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """λ-returns by their recursive definition, ``G_t = r_t + gamma * [(1 - λ) V_{t+1} + λ G_{t+1}]``.

    Equal to the ``returns`` of :func:`gae_advantages` up to float32 rounding (a different sum);
    useful where a target is wanted without advantages (e.g. a critic trained on λ-returns).
    Arguments as :func:`gae_advantages`; returns (n_steps, n_envs) float32.
    """
    fn = "lambda_returns"
    shape = check_rollout(fn, rewards, values, episode_starts, last_values, truncated, truncation_values)
    kernel_dones = check_dones(fn, dones, shape[1])
    gamma = check_unit_interval(fn, "gamma", gamma)
    lam = check_unit_interval(fn, "lam", lam)
    out = check_out(
        fn, "out", out, shape, (("rewards", rewards), ("values", values), ("truncation_values", truncation_values))
    )
    mask, tvalues = truncation_or_empty(truncated, truncation_values)
    n_bad = lambda_returns_kernel(
        rewards, values, episode_starts, last_values, kernel_dones, mask, tvalues, gamma, lam, out
    )
    if n_bad:
        raise diagnose(fn, rewards, values, episode_starts, last_values, kernel_dones, truncated, truncation_values)
    return out


def n_step_returns(
    rewards: np.ndarray,
    values: np.ndarray,
    episode_starts: np.ndarray,
    last_values: np.ndarray,
    dones: np.ndarray,
    gamma: float = 0.99,
    n: int = 5,
    *,
    truncated: np.ndarray | None = None,
    truncation_values: np.ndarray | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """n-step returns ``G_t = sum_{k<m} gamma^k r_{t+k} + gamma^m V(s_{t+m})``, ``m <= n``.

    ``m`` stops early at an episode's end (no bootstrap after a termination; ``truncation_values``
    after a truncation) and at the rollout's end (bootstrap ``last_values``). ``n=1`` is the TD(0)
    target; ``n >= n_steps`` the discounted return bootstrapped at the horizon. Cost O(n_steps *
    n_envs * n). Arguments as :func:`gae_advantages`; returns (n_steps, n_envs) float32.
    """
    fn = "n_step_returns"
    shape = check_rollout(fn, rewards, values, episode_starts, last_values, truncated, truncation_values)
    kernel_dones = check_dones(fn, dones, shape[1])
    gamma = check_unit_interval(fn, "gamma", gamma)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n_step_returns: n={n!r}; expected an integer >= 1 (the number of reward steps).")
    out = check_out(
        fn, "out", out, shape, (("rewards", rewards), ("values", values), ("truncation_values", truncation_values))
    )
    mask, tvalues = truncation_or_empty(truncated, truncation_values)
    n_bad = n_step_returns_kernel(
        rewards, values, episode_starts, last_values, kernel_dones, mask, tvalues, gamma, int(n), out
    )
    if n_bad:
        raise diagnose(fn, rewards, values, episode_starts, last_values, kernel_dones, truncated, truncation_values)
    return out
