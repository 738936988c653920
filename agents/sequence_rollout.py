"""What the sequence agents read from their envs while collecting a rollout: action masks from infos, the critic's
value of a time-limited episode's final observation, observations given a time axis, and ``predict``'s memory."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper


def innermost(env: VecEnv) -> VecEnv:
    """The VecEnv under every wrapper (the one holding ``reset_infos``)."""
    while isinstance(env, VecEnvWrapper):
        env = env.venv
    return env


def with_time_axis(obs: Any) -> Any:
    """``(n, *shape)`` tensors (or a dict or tuple of them) -> ``(n, 1, *shape)``."""
    if isinstance(obs, dict):
        return {key: value.unsqueeze(1) for key, value in obs.items()}
    if isinstance(obs, tuple):
        return tuple(value.unsqueeze(1) for value in obs)
    return obs.unsqueeze(1)


def predict_memory(policy: Any, state: Any, episode_start: Any, n: int, device: torch.device) -> tuple[tuple, np.ndarray]:
    """``predict``'s memory and episode starts for `n` observations, checked: `state` (None: the policy's empty
    memory) as tensors of the policy's ``state_shapes``, and `episode_start` as an ``(n,)`` bool array."""
    if state is None:
        memory = policy.initial_state(n)
    else:
        memory = tuple(torch.as_tensor(np.asarray(s) if not isinstance(s, torch.Tensor) else s, device=device) for s in state)
        expected = tuple((n, *shape) for shape in policy.state_shapes)
        if tuple(tuple(m.shape) for m in memory) != expected:
            raise ValueError(
                f"predict: state has shapes {tuple(tuple(m.shape) for m in memory)}; expected {expected} "
                f"for {n} observation(s); pass state=None to start with an empty memory"
            )
    starts = np.zeros(n, dtype=bool) if episode_start is None else np.asarray(episode_start, dtype=bool).reshape(-1)
    if starts.shape != (n,):
        raise ValueError(f"predict: episode_start has {starts.size} entries; expected one per observation ({n})")
    return memory, starts


def env_memory(policy: Any, last_memory: Any, n_envs: int, device: torch.device) -> tuple:
    """The memory the envs' next step starts from: `last_memory` (kept across ``learn`` calls and checkpoints)
    as tensors, or the policy's empty memory where there is none for these `n_envs` envs and this policy."""
    if last_memory is None or len(last_memory) != len(policy.state_shapes) or last_memory[0].shape[0] != n_envs:
        return policy.initial_state(n_envs)
    return tuple(torch.as_tensor(np.asarray(m) if not isinstance(m, torch.Tensor) else m, device=device) for m in last_memory)


def stack_obs(observations: list[Any]) -> Any:
    """Single observations (arrays, dicts or tuples of arrays) stacked into one batch."""
    if isinstance(observations[0], dict):
        return {key: np.stack([o[key] for o in observations]) for key in observations[0]}
    if isinstance(observations[0], tuple):
        return tuple(np.stack([o[i] for o in observations]) for i in range(len(observations[0])))
    return np.stack(observations)


def read_masks(infos: list[dict[str, Any]], width: int, action_space: spaces.Space, dones: np.ndarray | None = None,
               reset_infos: list[dict[str, Any]] | None = None) -> np.ndarray | None:  # fmt: skip
    """``(n_envs, width)`` bool masks of the envs' current observations from ``info["action_mask"]`` (all allowed
    where an env gives none), or None if no env gives one.

    For an env that just finished an episode (``dones``) the current observation is the reset one, whose info
    the VecEnv keeps in ``reset_infos`` (SB3's convention)."""
    rows, found = [], False
    for i, info in enumerate(infos):
        if dones is not None and dones[i] and reset_infos is not None:
            info = reset_infos[i]
        mask = info.get("action_mask")
        found |= mask is not None
        rows.append(mask)
    if not found:
        return None
    out = np.ones((len(rows), width), dtype=bool)
    for i, mask in enumerate(rows):
        if mask is not None:
            mask = np.asarray(mask)
            if mask.shape != (width,):
                raise ValueError(f"info['action_mask'] of env {i} has shape {mask.shape}; expected ({width},) for {action_space}")
            out[i] = mask.astype(bool)
    return out


def truncation_bootstrap(policy: Any, infos: list[dict[str, Any]], dones: np.ndarray, memory: tuple[torch.Tensor, ...]):
    """Per env: whether the step ended the episode by a time limit, and the critic's value of its final
    observation (read with the memory after the step, as if the episode went on); ``(None, None)`` if no env
    is done."""
    if not dones.any():
        return None, None
    truncated = np.array(
        [bool(d and info.get("TimeLimit.truncated", False) and info.get("terminal_observation") is not None)
         for d, info in zip(dones, infos)]
    )  # fmt: skip
    values = np.zeros(len(dones), dtype=np.float32)
    if truncated.any():
        index = np.flatnonzero(truncated)
        final_t, _ = policy.obs_to_tensor(stack_obs([infos[i]["terminal_observation"] for i in index]))
        rows = torch.as_tensor(index, device=policy.device)
        with torch.no_grad():
            no_start = torch.zeros(len(index), 1, dtype=torch.bool, device=policy.device)
            v = policy.predict_values(with_time_axis(final_t), no_start, tuple(m[rows] for m in memory))
        values[index] = v[:, 0].cpu().numpy()
    return truncated, values
