"""Argument checks of ``rlkit.returns``: a ``ValueError`` naming the argument, what it got and what it expected."""

from __future__ import annotations

import numpy as np

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


def check_rollout(
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


def check_dones(fn: str, dones: object, n_envs: int) -> np.ndarray:
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


def check_out(fn: str, name: str, array: np.ndarray | None, shape: tuple[int, ...], inputs: tuple) -> np.ndarray:
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


def truncation_or_empty(truncated, truncation_values):
    # The non-GAE kernels take (0, 0) arrays for "no truncation" (one compiled variant fewer).
    if truncated is None:
        return _NO_TRUNCATION_MASK, _NO_TRUNCATION_VALUES
    return truncated, truncation_values


def _where(mask: np.ndarray) -> str:
    t, e = np.argwhere(mask)[0]
    return f"[step {t}, env {e}] (and {int(mask.sum()) - 1} more)" if mask.sum() > 1 else f"[step {t}, env {e}]"


def diagnose(
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


def check_unit_interval(fn: str, name: str, x: float) -> float:
    x = float(x)
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"{fn}: {name}={x}; expected a number in [0, 1].")
    return x
