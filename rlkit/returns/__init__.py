"""Returns and advantages of on-policy rollouts: Numba kernels over arrays shaped ``(n_steps, n_envs)``.

Inputs are laid out as stable-baselines3's ``RolloutBuffer`` stores them (C-order, float32) and mean
what they mean there:

* ``rewards``, ``values`` (n_steps, n_envs): the reward of transition ``t`` and the critic's ``V(s_t)``.
* ``episode_starts`` (n_steps, n_envs), float32 0/1 or bool: ``s_t`` is the first observation of an episode.
* ``last_values`` (n_envs,): ``V(s_{n_steps})``; ``dones`` (n_envs,): the last transition ended an episode.
* ``truncated`` (n_steps, n_envs), optional: transition ``t`` ended its episode by a time limit; it must be
  an episode end too. ``truncation_values``: the critic's value of that episode's final observation, read
  only where ``truncated`` is set.

Each transition bootstraps from ``truncation_values[t]`` where truncated, else ``(1 - done_t) * V_next``,
and no return or advantage crosses an episode end. Bad input is a ``ValueError`` naming the argument;
results are never returned when an input was non-finite. Why truncations bootstrap, how this relates to
SB3's handling, and where the JIT cache lives: the docs' "Returns and advantages" page.
"""

from rlkit.returns.estimators import discounted_returns, gae_advantages, lambda_returns, n_step_returns

__all__ = ["discounted_returns", "gae_advantages", "lambda_returns", "n_step_returns"]
