"""Gymnasium ``VectorEnv`` → stable-baselines3 ``VecEnv``.

SB3 steps N env copies through its own ``VecEnv`` API (``DummyVecEnv`` = N Python envs stepped in a
loop). An env whose Gymnasium registration has a batched ``vector_entry_point`` (rlkit's GridWorld
steps all copies in one Numba kernel) is far faster stepped as one ``VectorEnv``; SB3 has no adapter
for that (DLR-RM/stable-baselines3#1745), so this module is one. It translates:

* autoreset: SB3 expects the done step to return the *reset* observation, with the last observation
  in ``info["terminal_observation"]``. A vector env in ``SAME_STEP`` mode does exactly that
  (``final_obs`` / ``final_info``); in ``NEXT_STEP`` or ``DISABLED`` mode the adapter resets the done
  copies itself with ``reset(options={"reset_mask": done})`` right after the step;
* infos: Gymnasium's dict of arrays with ``_key`` masks → SB3's list of per-copy dicts (nested dicts,
  e.g. ``episode_metrics``, included), plus ``TimeLimit.truncated`` for SB3's value bootstrapping;
* seeding: SB3's ``seed(s)`` gives copy i the seed ``s + i`` at the next reset, which is Gymnasium's
  convention for ``VectorEnv.reset(seed=s)``.

Episode statistics (``info["episode"]`` for ``rollout/ep_rew_mean``) come from wrapping the adapter
in SB3's ``VecMonitor``, as `make_vector_env` does.
"""

from __future__ import annotations

from typing import Any, Sequence

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn


class VectorEnvAdapter(VecEnv):
    """Present a Gymnasium `VectorEnv` as an SB3 `VecEnv` (same observations, rewards, dones and infos
    that a ``DummyVecEnv`` of the single env would give with the same seeds)."""

    def __init__(self, vector_env: gym.vector.VectorEnv):
        self.vector_env = vector_env
        mode = vector_env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        self.autoreset_mode = AutoresetMode(mode) if not isinstance(mode, AutoresetMode) else mode
        self._actions: np.ndarray | None = None
        super().__init__(vector_env.num_envs, vector_env.single_observation_space, vector_env.single_action_space)

    # --- the VecEnv API -------------------------------------------------------------------------

    def reset(self) -> VecEnvObs:
        seed = _vector_seed(self._seeds)
        options = self._options[0] if self._options and all(o == self._options[0] for o in self._options) else None
        if options is None and any(self._options):
            raise ValueError("VectorEnvAdapter: per-copy reset options differ; a Gymnasium VectorEnv takes one options dict")
        obs, info = self.vector_env.reset(seed=seed, options=options or None)
        self.reset_infos = unbatch_info(info, self.num_envs)
        self._reset_seeds()
        self._reset_options()
        return _copy_obs(obs)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        obs, rewards, terminated, truncated, info = self.vector_env.step(self._actions)
        terminated = np.asarray(terminated, dtype=bool)
        truncated = np.asarray(truncated, dtype=bool)
        dones = terminated | truncated
        obs = _copy_obs(obs)
        infos = unbatch_info(info, self.num_envs)
        if dones.any():
            if self.autoreset_mode == AutoresetMode.SAME_STEP:
                final_obs = info["final_obs"]
                final_infos = unbatch_info(info.get("final_info", {}), self.num_envs)
                for i in np.flatnonzero(dones):
                    # The step's own info is final_info; the top-level info of a done copy is its reset info.
                    self.reset_infos[i] = infos[i]
                    infos[i] = {**final_infos[i], "terminal_observation": final_obs[i]}
            else:
                reset_obs, reset_info = self.vector_env.reset(options={"reset_mask": dones})
                reset_infos = unbatch_info(reset_info, self.num_envs)
                for i in np.flatnonzero(dones):
                    infos[i]["terminal_observation"] = _index_obs(obs, i)
                    self.reset_infos[i] = reset_infos[i]
                obs = _merge_obs(obs, _copy_obs(reset_obs), dones)
        for i in range(self.num_envs):  # on every step, as DummyVecEnv does
            infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        # float32 rewards, as DummyVecEnv returns them.
        return obs, np.asarray(rewards, dtype=np.float32), dones, infos

    def close(self) -> None:
        self.vector_env.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        frames = self.vector_env.render()
        if frames is None:
            return [None] * self.num_envs
        return list(frames)

    def has_attr(self, attr_name: str) -> bool:
        return hasattr(self.vector_env, attr_name)

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        indices = list(self._get_indices(indices))
        if hasattr(self.vector_env, "envs"):  # SyncVectorEnv: per-copy attributes
            return [getattr(self.vector_env.envs[i], attr_name) for i in indices]
        value = getattr(self.vector_env, attr_name)
        return [value for _ in indices]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        if hasattr(self.vector_env, "envs"):
            for i in self._get_indices(indices):
                setattr(self.vector_env.envs[i], attr_name, value)
        else:
            setattr(self.vector_env, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list[Any]:
        indices = list(self._get_indices(indices))
        if hasattr(self.vector_env, "envs"):
            return [getattr(self.vector_env.envs[i], method_name)(*method_args, **method_kwargs) for i in indices]
        result = getattr(self.vector_env, method_name)(*method_args, **method_kwargs)
        return [result for _ in indices]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        indices = list(self._get_indices(indices))
        if hasattr(self.vector_env, "envs"):
            from stable_baselines3.common.env_util import is_wrapped

            return [is_wrapped(self.vector_env.envs[i], wrapper_class) for i in indices]
        return [False for _ in indices]


def make_vector_env(env_id: str, n_envs: int, env_kwargs: dict[str, Any] | None = None, require_same_step: bool = False) -> VecEnv | None:
    """``gymnasium.make_vec`` through the env's ``vector_entry_point``, adapted to SB3 and monitored.

    Asks for ``autoreset_mode=SAME_STEP`` where the vector env takes that argument (rlkit's do). A vector
    env in another mode must support ``reset(options={"reset_mask": …})``; with `require_same_step`,
    such an env is closed and None returned instead (Gymnasium's ``CartPoleVectorEnv``, for one, resets
    every copy on any reset).
    """
    from stable_baselines3.common.vec_env import VecMonitor

    kwargs = dict(env_kwargs or {})
    try:
        vector_env = gym.make_vec(
            env_id, num_envs=n_envs, vectorization_mode="vector_entry_point", autoreset_mode=AutoresetMode.SAME_STEP, **kwargs
        )
    except TypeError as exc:
        if "autoreset_mode" not in str(exc):
            raise
        vector_env = gym.make_vec(env_id, num_envs=n_envs, vectorization_mode="vector_entry_point", **kwargs)
    mode = vector_env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
    if require_same_step and AutoresetMode(mode) != AutoresetMode.SAME_STEP:
        vector_env.close()
        return None
    return VecMonitor(VectorEnvAdapter(vector_env))


# --- helpers ---------------------------------------------------------------------------------------


def unbatch_info(info: dict[str, Any], num_envs: int) -> list[dict[str, Any]]:
    """Gymnasium's batched info (arrays + ``_key`` masks, nested for dict values) → one dict per copy.

    A key without a mask is taken as present for every copy (custom vector envs may omit masks).
    """
    out: list[dict[str, Any]] = [{} for _ in range(num_envs)]
    if not info:
        return out  # most steps of most envs: nothing to unbatch
    for key, value in info.items():
        if key.startswith("_") and key[1:] in info:
            continue  # a mask
        mask = info.get("_" + key)
        present = np.ones(num_envs, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        if isinstance(value, dict):
            per_env = unbatch_info(value, num_envs)
            for i in np.flatnonzero(present):
                out[i][key] = per_env[i]
        else:
            for i in np.flatnonzero(present):
                item = value[i]
                out[i][key] = item.item() if isinstance(item, np.generic) else item
    return out


def _vector_seed(seeds: list[int | None]) -> int | list[int | None] | None:
    if all(s is None for s in seeds):
        return None
    first = seeds[0]
    if first is not None and all(s == first + i for i, s in enumerate(seeds)):
        return first  # Gymnasium seeds copy i with first + i
    return list(seeds)


def _copy_obs(obs: Any) -> Any:
    # A vector env may hand out its internal buffer; SB3 keeps the previous observation while stepping.
    if isinstance(obs, dict):
        return {key: np.array(value, copy=True) for key, value in obs.items()}
    if isinstance(obs, tuple):
        return tuple(np.array(value, copy=True) for value in obs)
    return np.array(obs, copy=True)


def _index_obs(obs: Any, i: int) -> Any:
    if isinstance(obs, dict):
        return {key: value[i].copy() for key, value in obs.items()}
    return obs[i].copy()


def _merge_obs(obs: Any, reset_obs: Any, mask: np.ndarray) -> Any:
    if isinstance(obs, dict):
        for key in obs:
            obs[key][mask] = reset_obs[key][mask]
        return obs
    obs[mask] = reset_obs[mask]
    return obs
