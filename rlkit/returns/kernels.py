"""Numba kernels of ``rlkit.returns``: GAE(λ), discounted, λ- and n-step returns over (n_steps, n_envs)."""

from __future__ import annotations

import numpy as np

from rlkit.jit import cached_njit

# Loops run steps outer (backwards) and envs inner, so each step reads one contiguous row of every
# (n_steps, n_envs) C-order array. All arithmetic is float32 (numba would promote to float64 on
# any float64 operand, hence the explicit np.float32 constants), with SB3's operation order so
# that the results match its NumPy code bit for bit. Each kernel returns whether (or how often) it
# met a non-finite result or an invalid mask; the wrapper turns that into a ValueError.


@cached_njit
def gae_kernel(rewards, values, episode_starts, last_values, dones, gamma, gae_lambda, advantages, returns):
    # The hot path, in three passes over the flat C-order arrays (index i = t * n_envs + e, next step
    # i + n_envs): the TD errors and the returns/validity pass are independent per element and
    # vectorise; only the recurrence A_t = delta_t + c_t * A_{t+1} is sequential, and it runs as
    # n_envs interleaved scalar chains, which beats a per-row inner loop that is too short to
    # vectorise for the common 1-16 envs. Unsigned indices skip Numba's negative-index wraparound
    # code, which otherwise keeps LLVM from vectorising the flat loops (about 1.5x here). The float32
    # operations are SB3's, in its order.
    n_steps, n_envs = rewards.shape
    g = np.float32(gamma)
    # SB3 multiplies the Python floats gamma * gae_lambda first (float64), then casts to float32.
    gl = np.float32(gamma * gae_lambda)
    one = np.float32(1.0)
    flat_rewards, flat_values, flat_starts = rewards.reshape(-1), values.reshape(-1), episode_starts.reshape(-1)
    flat_adv, flat_ret = advantages.reshape(-1), returns.reshape(-1)
    n_env = np.uint64(n_envs)
    n_total = np.uint64(n_steps * n_envs)
    n_inner = n_total - n_env  # every step but the last, which bootstraps from last_values
    for i in range(n_inner):
        j = i + n_env
        next_non_terminal = one - np.float32(flat_starts[j])
        flat_adv[i] = flat_rewards[i] + g * flat_values[j] * next_non_terminal - flat_values[i]
    for e in range(n_env):
        i = n_inner + e
        next_non_terminal = one - np.float32(dones[e])
        delta = flat_rewards[i] + g * last_values[e] * next_non_terminal - flat_values[i]
        flat_adv[i] = delta + gl * next_non_terminal * np.float32(0.0)  # SB3 starts from last_gae_lam = 0
    for k in range(n_inner):
        i = n_inner - np.uint64(1) - k
        j = i + n_env
        flat_adv[i] = flat_adv[i] + gl * (one - np.float32(flat_starts[j])) * flat_adv[j]
    # Returns, and validity from the results: any NaN/inf input reaches an advantage or a return.
    bad = False
    for i in range(n_total):
        adv = flat_adv[i]
        ret = adv + flat_values[i]
        flat_ret[i] = ret
        start = np.float32(flat_starts[i])
        bad |= ((adv - adv + ret - ret) != 0) | (start * start != start)  # non-finite, or a start not 0/1
    return bad


@cached_njit
def gae_truncated_kernel(
    rewards,
    values,
    episode_starts,
    last_values,
    dones,
    truncated,
    truncation_values,
    gamma,
    gae_lambda,
    advantages,
    returns,
):
    n_steps, n_envs = rewards.shape
    g = np.float32(gamma)
    gl = np.float32(gamma * gae_lambda)
    one = np.float32(1.0)
    n_bad = 0
    for t in range(n_steps - 1, -1, -1):
        for e in range(n_envs):
            if t == n_steps - 1:
                next_non_terminal = one - np.float32(dones[e])
                next_value = last_values[e]
                next_adv = np.float32(0.0)
            else:
                start = np.float32(episode_starts[t + 1, e])
                next_non_terminal = one - start
                next_value = values[t + 1, e]
                next_adv = advantages[t + 1, e]
                n_bad += start * start != start
            trunc = np.float32(truncated[t, e])
            # (1 - done) * V_next equals SB3's grouping gamma * V_next * (1 - done) exactly for done in {0, 1}.
            boot = truncation_values[t, e] if trunc != 0 else next_value * next_non_terminal
            delta = rewards[t, e] + g * boot - values[t, e]
            adv = delta + gl * next_non_terminal * next_adv
            advantages[t, e] = adv
            ret = adv + values[t, e]
            returns[t, e] = ret
            n_bad += (adv - adv + ret - ret) != 0
            n_bad += trunc * trunc != trunc  # truncated must be 0 or 1 ...
            n_bad += (trunc != 0) & (next_non_terminal != 0)  # ... and only where the episode ends
    for e in range(n_envs):
        start = np.float32(episode_starts[0, e])
        n_bad += start * start != start
    return n_bad


@cached_njit
def discounted_returns_kernel(rewards, episode_starts, last_values, dones, truncated, truncation_values, gamma, out):
    # truncated.shape[0] == 0 means "no truncation"; one kernel serves both (this is not the hot path).
    n_steps, n_envs = rewards.shape
    has_truncation = truncated.shape[0] > 0
    g = np.float32(gamma)
    one = np.float32(1.0)
    n_bad = 0
    for t in range(n_steps - 1, -1, -1):
        for e in range(n_envs):
            if t == n_steps - 1:
                next_non_terminal = one - np.float32(dones[e])
                next_return = last_values[e]
            else:
                start = np.float32(episode_starts[t + 1, e])
                next_non_terminal = one - start
                next_return = out[t + 1, e]
                n_bad += start * start != start
            boot = next_return * next_non_terminal
            if has_truncation:
                trunc = np.float32(truncated[t, e])
                if trunc != 0:
                    boot = truncation_values[t, e]
                n_bad += trunc * trunc != trunc
                n_bad += (trunc != 0) & (next_non_terminal != 0)
            ret = rewards[t, e] + g * boot
            out[t, e] = ret
            n_bad += (ret - ret) != 0
    for e in range(n_envs):
        start = np.float32(episode_starts[0, e])
        n_bad += start * start != start
    return n_bad


@cached_njit
def lambda_returns_kernel(
    rewards, values, episode_starts, last_values, dones, truncated, truncation_values, gamma, lam, out
):
    # The recursive definition G_t = r_t + gamma * [(1 - lam) V_{t+1} + lam G_{t+1}] within an
    # episode; it equals GAE's advantages + values (a different summation, so equal up to rounding).
    n_steps, n_envs = rewards.shape
    has_truncation = truncated.shape[0] > 0
    g = np.float32(gamma)
    lam32 = np.float32(lam)
    one = np.float32(1.0)
    n_bad = 0
    for t in range(n_steps - 1, -1, -1):
        for e in range(n_envs):
            if t == n_steps - 1:
                next_non_terminal = one - np.float32(dones[e])
                next_target = last_values[e]  # beyond the rollout, the lambda-return is V itself
            else:
                start = np.float32(episode_starts[t + 1, e])
                next_non_terminal = one - start
                next_target = (one - lam32) * values[t + 1, e] + lam32 * out[t + 1, e]
                n_bad += start * start != start
            boot = next_target * next_non_terminal
            if has_truncation:
                trunc = np.float32(truncated[t, e])
                if trunc != 0:
                    boot = truncation_values[t, e]
                n_bad += trunc * trunc != trunc
                n_bad += (trunc != 0) & (next_non_terminal != 0)
            ret = rewards[t, e] + g * boot
            out[t, e] = ret
            n_bad += (ret - ret + values[t, e] - values[t, e]) != 0
    for e in range(n_envs):
        start = np.float32(episode_starts[0, e])
        n_bad += start * start != start
    return n_bad


@cached_njit
def n_step_returns_kernel(
    rewards, values, episode_starts, last_values, dones, truncated, truncation_values, gamma, n, out
):
    # G_t = sum_{k<m} gamma^k r_{t+k} + gamma^m * boot, walking forward until n steps, the episode's
    # end (boot = 0, or the truncation value) or the rollout's end (boot = last_values).
    n_steps, n_envs = rewards.shape
    has_truncation = truncated.shape[0] > 0
    g = np.float32(gamma)
    one = np.float32(1.0)
    n_bad = 0
    for t in range(n_steps):
        for e in range(n_envs):
            acc = np.float32(0.0)
            discount = one
            k = 0
            while True:
                j = t + k
                acc += discount * rewards[j, e]
                discount *= g
                if j == n_steps - 1:
                    done = np.float32(dones[e])
                    next_value = last_values[e]
                else:
                    done = np.float32(episode_starts[j + 1, e])
                    next_value = values[j + 1, e]
                trunc = np.float32(0.0)
                if has_truncation:
                    trunc = np.float32(truncated[j, e])
                if trunc != 0:
                    acc += discount * truncation_values[j, e]
                    break
                if done != 0:
                    break
                if k + 1 == n or j == n_steps - 1:
                    acc += discount * next_value
                    break
                k += 1
            out[t, e] = acc
            n_bad += (acc - acc + values[t, e] - values[t, e]) != 0
    for t in range(n_steps):
        for e in range(n_envs):
            start = np.float32(episode_starts[t, e])
            n_bad += start * start != start
            if has_truncation:
                trunc = np.float32(truncated[t, e])
                n_bad += trunc * trunc != trunc
                done = np.float32(dones[e]) if t == n_steps - 1 else np.float32(episode_starts[t + 1, e])
                n_bad += (trunc != 0) & (done == 0)
    return n_bad
