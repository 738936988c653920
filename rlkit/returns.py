"""Returns and advantages of on-policy rollouts: Numba kernels over arrays shaped ``(n_steps, n_envs)``.

Every function here reads a rollout laid out as stable-baselines3's ``RolloutBuffer`` stores it
(C-order ``(n_steps, n_envs)``, float32) and has the same inputs and semantics as SB3's
``RolloutBuffer.compute_returns_and_advantage``:

* ``rewards`` (n_steps, n_envs) float32: the reward of the transition taken at step ``t``.
* ``values`` (n_steps, n_envs) float32: the critic's ``V(s_t)`` of the observation acted on.
* ``episode_starts`` (n_steps, n_envs) float32 0/1 or bool: 1 where ``s_t`` is the first
  observation of an episode, i.e. transition ``t - 1`` ended one (SB3's ``episode_starts``).
* ``last_values`` (n_envs,) float32: ``V(s_{n_steps})``, the value of the observation after the
  rollout's last step (SB3's ``last_values``).
* ``dones`` (n_envs,) bool or 0/1: whether the rollout's last transition ended an episode (SB3's
  ``dones``); where it did, ``last_values`` is not used.
* ``truncated`` (n_steps, n_envs) bool or float32 0/1, optional: transition ``t`` ended its
  episode by truncation (a time limit), not by reaching a terminal state. It must be an episode
  end too (``episode_starts[t + 1]``, or ``dones`` at the last step).
* ``truncation_values`` (n_steps, n_envs) float32, with ``truncated``: the critic's value of the
  final observation of that truncated episode (SB3's ``info["terminal_observation"]``,
  Gymnasium's ``info["final_obs"]``). Read only where ``truncated`` is set; fill the rest with
  anything (NaN is a good choice).

With ``done_t`` the end of an episode after transition ``t`` (``episode_starts[t + 1]``, or
``dones`` for the last step) and ``V_next`` the value of the next observation (``values[t + 1]``,
or ``last_values``), every kernel bootstraps each transition from

    boot_t = truncation_values[t]        if truncated[t]
             (1 - done_t) * V_next       otherwise

and never carries a return or advantage across an episode end.

Truncation (time limits)
------------------------
A time limit ends the *data collection*, not the task: the clock is not part of the observation,
so the state where the episode was cut is an ordinary state of the MDP, and the return an agent
would have collected from it is ``V(s)``, not 0. Using 0 there (treating truncation as
termination) gives the critic two different targets for the same observation depending on a
clock it cannot see, a biased and state-aliased target (Pardo et al., 2018, "Time Limits in
Reinforcement Learning"). So at a truncated step the kernels bootstrap from the critic's value of
the episode's *final* observation (the one the env returned with ``truncated=True``; the next
``values`` row already belongs to the new episode after the auto-reset). If the remaining time is
part of the observation, the env should report ``terminated`` instead, and no bootstrap applies.

SB3 handles the same case differently but equivalently: ``collect_rollouts`` adds
``gamma * V(terminal_observation)`` into the stored reward of a truncated step and then treats the
step as terminal. Since ``delta_t = r_t + gamma * boot_t - V(s_t)``, that is the same sum grouped
differently; the results agree up to float32 rounding of ``r_t + gamma * V``. Keeping the value
out of the reward (as here) leaves the rewards the env's own and lets a caller re-bootstrap with a
newer critic. With SB3's PPO (``NumbaRolloutBuffer``) the truncation value is already in the
reward, so pass no ``truncated`` there.

Validation
----------
Each public function is a thin Python wrapper that checks shapes and dtypes (``ValueError``
naming the argument, what it got and what it expected) and hands the arrays to an
``@njit(cache=True)`` kernel. NaN/inf inputs are caught from the results: a non-finite input
always reaches a non-finite advantage or return, which the kernel checks (in the loop, or in one
flat pass over its cache-hot output); only then does the wrapper search the inputs to name the
culprit, so the fast path makes no extra pass over the inputs. Results are never returned when an input was bad (an ``*_out`` array given by the caller
may have been written to by then).

JIT cache
---------
Kernels are compiled on first use and cached on disk (Numba's ``cache=True``): under
``$NUMBA_CACHE_DIR`` if set, else in the package's ``__pycache__`` if writable, else in the
user-wide cache (``~/.cache/numba``). Where none is writable (a read-only install and no writable home), the
kernels still work, compiled per process, with a warning that says to set ``NUMBA_CACHE_DIR``.
"""

from __future__ import annotations

import warnings
from typing import Callable

import numba
import numpy as np

__all__ = ["cached_njit", "discounted_returns", "gae_advantages", "lambda_returns", "n_step_returns"]

_warned_no_cache = False


def cached_njit(fn: Callable) -> Callable:
    """``numba.njit(cache=True, nogil=True)``; without a writable cache directory, an uncached JIT and a warning.

    Numba raises at decoration time when no cache locator can write (read-only package directory,
    no writable home, no ``NUMBA_CACHE_DIR``); an import must not fail for that.
    """
    global _warned_no_cache
    try:
        return numba.njit(cache=True, nogil=True)(fn)
    except RuntimeError as exc:
        if "no locator available" not in str(exc):
            raise
        if not _warned_no_cache:
            warnings.warn(
                "rlkit.returns: no writable Numba cache directory (read-only install and no writable "
                "home); kernels are compiled in every process. Set NUMBA_CACHE_DIR to a writable "
                "directory to cache them.",
                RuntimeWarning,
                stacklevel=2,
            )
            _warned_no_cache = True
        return numba.njit(cache=False, nogil=True)(fn)


# --- kernels ----------------------------------------------------------------------------------
# Loops run steps outer (backwards) and envs inner, so each step reads one contiguous row of every
# (n_steps, n_envs) C-order array. All arithmetic is float32 (numba would promote to float64 on
# any float64 operand, hence the explicit np.float32 constants), with SB3's operation order so
# that the results match its NumPy code bit for bit. Each kernel returns whether (or how often) it
# met a non-finite result or an invalid mask; the wrapper turns that into a ValueError.


@cached_njit
def _gae_kernel(rewards, values, episode_starts, last_values, dones, gamma, gae_lambda, advantages, returns):
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
def _gae_truncated_kernel(
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
def _discounted_returns_kernel(rewards, episode_starts, last_values, dones, truncated, truncation_values, gamma, out):
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
def _lambda_returns_kernel(
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
def _n_step_returns_kernel(
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


# --- validation -------------------------------------------------------------------------------

_NO_TRUNCATION_MASK = np.zeros((0, 0), dtype=np.bool_)
_NO_TRUNCATION_VALUES = np.zeros((0, 0), dtype=np.float32)
_F32 = np.dtype(np.float32)
_BOOL = np.dtype(np.bool_)


def _fast_f32(array: object, shape: tuple[int, ...]) -> bool:
    # The common case in a few attribute reads; anything else goes to _check_array for a message.
    return type(array) is np.ndarray and array.dtype is _F32 and array.shape == shape and array.flags.c_contiguous


def _check_array(fn: str, name: str, array: object, shape: tuple[int, ...], masks_ok: bool = False) -> None:
    shape_text = "(n_envs,)" if len(shape) == 1 else "(n_steps, n_envs)"
    kinds = "bool or float32 (0/1)" if masks_ok else "float32"
    if not isinstance(array, np.ndarray):
        raise ValueError(
            f"{fn}: {name} is a {type(array).__name__}; expected a {kinds} numpy array of shape "
            f"{shape_text}={shape}. Convert it with np.asarray({name}, dtype=np.float32)."
        )
    if not (array.dtype == np.float32 or (masks_ok and array.dtype == np.bool_)):
        raise ValueError(
            f"{fn}: {name} has dtype {array.dtype}; expected {kinds} of shape {shape_text}={shape}. "
            f"Convert it with {name}.astype(np.float32)."
        )
    if array.shape != shape:
        raise ValueError(
            f"{fn}: {name} has shape {array.shape}; expected {shape_text}={shape}, matching rewards "
            f"(n_steps, n_envs). Rollout arrays are step-major, as in SB3's RolloutBuffer."
        )
    if not array.flags.c_contiguous:
        raise ValueError(
            f"{fn}: {name} is not C-contiguous (a strided view?); expected a C-order {shape_text} array. "
            f"Pass np.ascontiguousarray({name})."
        )


def _check_rollout(
    fn: str, rewards, values, episode_starts, last_values, truncated, truncation_values
) -> tuple[int, int]:
    """Shapes and dtypes of the rollout arrays; returns (n_steps, n_envs)."""
    if not isinstance(rewards, np.ndarray) or rewards.ndim != 2 or rewards.size == 0:
        got = f"shape {rewards.shape}" if isinstance(rewards, np.ndarray) else f"a {type(rewards).__name__}"
        raise ValueError(
            f"{fn}: rewards is {got}; expected a float32 array of shape (n_steps, n_envs) with at least one "
            f"step and env, as SB3's RolloutBuffer.rewards (for one env use rewards[:, None])."
        )
    shape = rewards.shape
    if not _fast_f32(rewards, shape):
        _check_array(fn, "rewards", rewards, shape)
    if values is not None and not _fast_f32(values, shape):
        _check_array(fn, "values", values, shape)
    if not (
        type(episode_starts) is np.ndarray
        and (episode_starts.dtype is _F32 or episode_starts.dtype is _BOOL)
        and episode_starts.shape == shape
        and episode_starts.flags.c_contiguous
    ):
        _check_array(fn, "episode_starts", episode_starts, shape, masks_ok=True)
    if not _fast_f32(last_values, (shape[1],)):
        _check_array(fn, "last_values", last_values, (shape[1],))
    if (truncated is None) != (truncation_values is None):
        missing = "truncation_values" if truncation_values is None else "truncated"
        raise ValueError(
            f"{fn}: truncated and truncation_values go together, but {missing} is None; pass both "
            f"(a bool mask and float32 values of shape (n_steps, n_envs)={shape}) or neither."
        )
    if truncated is not None:
        _check_array(fn, "truncated", truncated, shape, masks_ok=True)
        _check_array(fn, "truncation_values", truncation_values, shape)
    return shape


def _check_dones(fn: str, dones: object, n_envs: int) -> np.ndarray:
    """dones for the kernels: bool as is (a VecEnv's dones), other 0/1 numbers as float32."""
    if type(dones) is np.ndarray and dones.dtype is _BOOL and dones.shape == (n_envs,):
        return dones
    if not isinstance(dones, np.ndarray):
        raise ValueError(
            f"{fn}: dones is a {type(dones).__name__}; expected a numpy array of shape (n_envs,)=({n_envs},) "
            f"of bools or 0/1 (the VecEnv's dones). Convert it with np.asarray(dones)."
        )
    if dones.shape != (n_envs,):
        raise ValueError(f"{fn}: dones has shape {dones.shape}; expected (n_envs,)=({n_envs},), one per env.")
    if dones.dtype == np.bool_:
        return np.ascontiguousarray(dones)
    if dones.dtype.kind not in "fiu":
        raise ValueError(f"{fn}: dones has dtype {dones.dtype}; expected bool or numbers 0/1, shape ({n_envs},).")
    as_float = dones.astype(np.float32)
    if not np.all((as_float == 0) | (as_float == 1)):
        raise ValueError(f"{fn}: dones has values {np.unique(dones)[:5]}; expected only 0 and 1 (or bools).")
    return as_float


def _check_out(fn: str, name: str, array: np.ndarray | None, shape: tuple[int, ...], inputs: tuple) -> np.ndarray:
    if array is None:
        return np.empty(shape, dtype=np.float32)
    if not _fast_f32(array, shape):
        _check_array(fn, name, array, shape)
    if not array.flags.writeable:
        raise ValueError(f"{fn}: {name} is read-only; pass a writable float32 array of shape {shape}.")
    for other_name, other in inputs:
        if other is not None and np.may_share_memory(array, other):
            raise ValueError(
                f"{fn}: {name} shares memory with {other_name}; the kernel reads {other_name} after "
                f"writing {name}, so pass a separate float32 array of shape {shape}."
            )
    return array


def _truncation_or_empty(truncated, truncation_values):
    # The non-GAE kernels take (0, 0) arrays for "no truncation" (one compiled variant fewer).
    if truncated is None:
        return _NO_TRUNCATION_MASK, _NO_TRUNCATION_VALUES
    return truncated, truncation_values


def _where(mask: np.ndarray) -> str:
    t, e = np.argwhere(mask)[0]
    return f"[step {t}, env {e}] (and {int(mask.sum()) - 1} more)" if mask.sum() > 1 else f"[step {t}, env {e}]"


def _diagnose(
    fn: str, rewards, values, episode_starts, last_values, kernel_dones, truncated, truncation_values
) -> ValueError:
    """The kernel counted a bad value: find the argument to blame (slow path, errors only)."""
    n_steps, n_envs = rewards.shape
    checks = [("rewards", rewards), ("values", values)]
    for name, array in checks:
        if array is not None and not np.all(np.isfinite(array)):
            bad = ~np.isfinite(array)
            return ValueError(
                f"{fn}: {name} has non-finite value {array[bad][0]} at {_where(bad)}; expected finite float32 "
                f"(n_steps, n_envs)={rewards.shape}. Check the env's rewards and the critic's outputs."
            )
    for name, array in (("episode_starts", episode_starts), ("truncated", truncated)):
        if array is not None and array.dtype != np.bool_:
            bad = (array != 0) & (array != 1)
            if bad.any():
                return ValueError(
                    f"{fn}: {name} has value {array[bad][0]} at {_where(bad)}; expected only 0 or 1 "
                    f"(or a bool array) of shape {rewards.shape}."
                )
    done_after = np.empty((n_steps, n_envs), dtype=bool)  # done_t: the episode ends after transition t
    done_after[:-1] = episode_starts[1:] != 0
    done_after[-1] = kernel_dones != 0
    if truncated is not None:
        is_trunc = truncated != 0
        bad = is_trunc & ~done_after
        if bad.any():
            return ValueError(
                f"{fn}: truncated is set at {_where(bad)} but the episode does not end there "
                f"(episode_starts[t + 1] / dones is 0); a truncated step must also be an episode end."
            )
        bad = is_trunc & ~np.isfinite(truncation_values)
        if bad.any():
            return ValueError(
                f"{fn}: truncation_values is non-finite at truncated step {_where(bad)}; expected the critic's "
                f"finite value of the episode's final observation there."
            )
    if not np.all(np.isfinite(last_values)):
        bad = ~np.isfinite(last_values)
        return ValueError(
            f"{fn}: last_values has non-finite value {last_values[bad][0]} at env {int(np.argmax(bad))}; "
            f"expected finite float32 of shape (n_envs,)=({n_envs},)."
        )
    return ValueError(
        f"{fn}: finite inputs gave non-finite results (float32 overflow); expected rewards and values "
        f"well below 3e38 in magnitude. Scale the rewards (e.g. VecNormalize)."
    )


def _gamma(fn: str, name: str, x: float) -> float:
    x = float(x)
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"{fn}: {name}={x}; expected a number in [0, 1].")
    return x


# --- public API ---------------------------------------------------------------------------------


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
    shape = _check_rollout(fn, rewards, values, episode_starts, last_values, truncated, truncation_values)
    kernel_dones = _check_dones(fn, dones, shape[1])
    gamma = _gamma(fn, "gamma", gamma)
    gae_lambda = _gamma(fn, "gae_lambda", gae_lambda)
    inputs = (
        ("rewards", rewards), ("values", values), ("episode_starts", episode_starts),
        ("truncation_values", truncation_values),
    )  # fmt: skip
    advantages = _check_out(fn, "advantages_out", advantages_out, shape, inputs)
    returns = _check_out(fn, "returns_out", returns_out, shape, (*inputs, ("advantages_out", advantages)))
    if truncated is None:
        n_bad = _gae_kernel(
            rewards, values, episode_starts, last_values, kernel_dones, gamma, gae_lambda, advantages, returns
        )
    else:
        n_bad = _gae_truncated_kernel(
            rewards, values, episode_starts, last_values, kernel_dones, truncated, truncation_values,
            gamma, gae_lambda, advantages, returns,
        )  # fmt: skip
    if n_bad:
        raise _diagnose(fn, rewards, values, episode_starts, last_values, kernel_dones, truncated, truncation_values)
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
    shape = _check_rollout(fn, rewards, None, episode_starts, last_values, truncated, truncation_values)
    kernel_dones = _check_dones(fn, dones, shape[1])
    gamma = _gamma(fn, "gamma", gamma)
    out = _check_out(fn, "out", out, shape, (("rewards", rewards), ("truncation_values", truncation_values)))
    mask, tvalues = _truncation_or_empty(truncated, truncation_values)
    n_bad = _discounted_returns_kernel(rewards, episode_starts, last_values, kernel_dones, mask, tvalues, gamma, out)
    if n_bad:
        raise _diagnose(fn, rewards, None, episode_starts, last_values, kernel_dones, truncated, truncation_values)
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
    shape = _check_rollout(fn, rewards, values, episode_starts, last_values, truncated, truncation_values)
    kernel_dones = _check_dones(fn, dones, shape[1])
    gamma = _gamma(fn, "gamma", gamma)
    lam = _gamma(fn, "lam", lam)
    out = _check_out(
        fn, "out", out, shape, (("rewards", rewards), ("values", values), ("truncation_values", truncation_values))
    )
    mask, tvalues = _truncation_or_empty(truncated, truncation_values)
    n_bad = _lambda_returns_kernel(
        rewards, values, episode_starts, last_values, kernel_dones, mask, tvalues, gamma, lam, out
    )
    if n_bad:
        raise _diagnose(fn, rewards, values, episode_starts, last_values, kernel_dones, truncated, truncation_values)
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
    shape = _check_rollout(fn, rewards, values, episode_starts, last_values, truncated, truncation_values)
    kernel_dones = _check_dones(fn, dones, shape[1])
    gamma = _gamma(fn, "gamma", gamma)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n_step_returns: n={n!r}; expected an integer >= 1 (the number of reward steps).")
    out = _check_out(
        fn, "out", out, shape, (("rewards", rewards), ("values", values), ("truncation_values", truncation_values))
    )
    mask, tvalues = _truncation_or_empty(truncated, truncation_values)
    n_bad = _n_step_returns_kernel(
        rewards, values, episode_starts, last_values, kernel_dones, mask, tvalues, gamma, int(n), out
    )
    if n_bad:
        raise _diagnose(fn, rewards, values, episode_starts, last_values, kernel_dones, truncated, truncation_values)
    return out
