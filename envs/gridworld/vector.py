"""GridWorldVectorEnv: many GridWorlds stepped together by one Numba kernel (the ``vector_entry_point``)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.error import ResetNeeded
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from numba import njit

from envs._checks import check_int, short
from envs.gridworld.dynamics import TWO_POW_M53
from envs.gridworld.env import NO_RENDER_MODE, GridWorldEnv

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_U30, _U27, _U31, _U11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_NEXT_STEP, _SAME_STEP, _DISABLED = 0, 1, 2
_MODE_CODES = {
    AutoresetMode.NEXT_STEP: _NEXT_STEP,
    AutoresetMode.SAME_STEP: _SAME_STEP,
    AutoresetMode.DISABLED: _DISABLED,
}


@njit(cache=True)
def _uniform_nb(rng, i):
    """`GridWorldEnv._uniform` for sub-env `i`; uint64 arithmetic wraps like the Python version's `& (2**64 - 1)`."""
    s = rng[i] + _GOLDEN
    rng[i] = s
    z = (s ^ (s >> _U30)) * _MIX1
    z = (z ^ (z >> _U27)) * _MIX2
    z = z ^ (z >> _U31)
    return np.float64(z >> _U11) * TWO_POW_M53


@njit(cache=True)
def _draw_start(rng, i, start_cells):
    n = start_cells.shape[0]
    if n > 1:
        return start_cells[np.int64(_uniform_nb(rng, i) * n)]
    return start_cells[0]


@njit(cache=True)
def _reset_kernel(mask, cells, steps, needs_reset, rng, start_cells):
    for i in range(cells.shape[0]):
        if mask[i]:
            cells[i] = _draw_start(rng, i, start_cells)
            steps[i] = 0
            needs_reset[i] = False


@njit(cache=True)
def _step_kernel(
    actions, cells, steps, needs_reset, rng,  # state, updated in place
    move_table, entry_reward, terminal, is_goal, start_cells, slip_prob, max_steps, mode,  # model
    rewards, terminated, truncated, ended, success, length, final_cells,  # outputs
):  # fmt: skip
    """One step of every sub-env, with the same draws in the same order as `GridWorldEnv.step`/`reset`.

    Returns False, changing nothing, if an action is outside 0..3.
    """
    for i in range(actions.shape[0]):
        if actions[i] < 0 or actions[i] > 3:
            return False
    half = slip_prob * 0.5
    for i in range(actions.shape[0]):
        ended[i] = False
        success[i] = 0.0
        length[i] = 0.0
        if needs_reset[i]:  # NEXT_STEP autoreset: this step only resets (DISABLED is refused before the call)
            cells[i] = _draw_start(rng, i, start_cells)
            steps[i] = 0
            needs_reset[i] = False
            rewards[i] = 0.0
            terminated[i] = False
            truncated[i] = False
            continue
        a = actions[i]
        if slip_prob > 0.0:
            u = _uniform_nb(rng, i)
            if u < half:
                a = (a + 1) & 3
            elif u < slip_prob:
                a = (a + 3) & 3
        cell = move_table[cells[i], a]
        steps[i] += 1
        term = terminal[cell]
        trunc = (not term) and steps[i] >= max_steps
        rewards[i] = entry_reward[cell]
        terminated[i] = term
        truncated[i] = trunc
        cells[i] = cell
        if term or trunc:
            ended[i] = True
            success[i] = 1.0 if is_goal[cell] else 0.0
            length[i] = steps[i]
            final_cells[i] = cell
            if mode == 1:  # SAME_STEP: reset now, the final observation goes in the info
                cells[i] = _draw_start(rng, i, start_cells)
                steps[i] = 0
            else:
                needs_reset[i] = True
    return True


class GridWorldVectorEnv(VectorEnv):
    """``num_envs`` GridWorlds stepped together by one Numba kernel (``vector_entry_point`` of every GridWorld id).

    ``gymnasium.make_vec("rlkit/GridWorld-v0", num_envs=1024, vectorization_mode="vector_entry_point")``.
    Takes GridWorldEnv's arguments plus ``autoreset_mode`` (``AutoresetMode`` or its value; default
    ``NEXT_STEP``, Gymnasium's default; ``SAME_STEP`` puts ``final_obs``/``final_info`` in the info;
    ``DISABLED`` needs ``reset(options={"reset_mask": mask})``). ``reset(seed=s)`` seeds sub-env ``i``
    with ``s + i`` (or ``seed`` may be a list), as ``SyncVectorEnv`` does, and then every observation,
    reward, flag and info equals that of a ``SyncVectorEnv`` of ``GridWorldEnv`` given the same actions.
    """

    def __init__(self, num_envs: int = 1, autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP, **kwargs: Any):
        check_int("GridWorld", "num_envs", num_envs, 1, "the number of sub-environments")
        try:
            self.autoreset_mode = AutoresetMode(autoreset_mode)
        except ValueError:
            raise ValueError(
                f"GridWorld: autoreset_mode={autoreset_mode!r} is not one of {[m.value for m in AutoresetMode]}"
            ) from None
        self.env = GridWorldEnv(**kwargs)  # the model, spaces and renderer shared by all sub-envs
        self.num_envs = int(num_envs)
        self.render_mode = self.env.render_mode
        self.metadata = {**GridWorldEnv.metadata, "autoreset_mode": self.autoreset_mode}
        self.single_action_space = self.env.action_space
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.single_observation_space = self.env.observation_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)

        n = self.num_envs
        self._cells = np.full(n, -1, dtype=np.int64)
        self._steps = np.zeros(n, dtype=np.int64)
        self._needs_reset = np.zeros(n, dtype=np.bool_)
        self._rng = np.zeros(n, dtype=np.uint64)
        self._rng_seeded = np.zeros(n, dtype=np.bool_)
        self._last_actions = np.full(n, -1, dtype=np.int64)
        self._mode = _MODE_CODES[self.autoreset_mode]

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict | None = None):
        n = self.num_envs
        options = dict(options or {})
        mask = options.pop("reset_mask", None)
        if options:
            raise ValueError(f"GridWorld: reset() takes only the option 'reset_mask', got {sorted(options)}")
        if mask is None:
            mask = np.ones(n, dtype=np.bool_)
        elif not (isinstance(mask, np.ndarray) and mask.dtype == np.bool_ and mask.shape == (n,) and mask.any()):
            raise ValueError(
                f"GridWorld: options['reset_mask'] must be a bool array of shape ({n},) with at least one True, "
                f"got {short(mask)}"
            )
        if seed is None:
            seeds = [None] * n
        elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            super().reset(seed=int(seed))
            seeds = [int(seed) + i for i in range(n)]
        elif isinstance(seed, (list, tuple)) and len(seed) == n:
            seeds = list(seed)
        else:
            raise ValueError(
                f"GridWorld: seed={short(seed)} is not None, an int, or a list of {n} ints/None (one per sub-env)"
            )
        for i in np.flatnonzero(mask):
            if seeds[i] is not None:
                # What GridWorldEnv.reset(seed=seeds[i]) does: np_random from the seed, then the stream from it.
                generator, _ = seeding.np_random(seeds[i])
                self._rng[i] = generator.integers(0, 2**64, dtype=np.uint64)
                self._rng_seeded[i] = True
            elif not self._rng_seeded[i]:
                self._rng[i] = self.np_random.integers(0, 2**64, dtype=np.uint64)
                self._rng_seeded[i] = True
        _reset_kernel(mask, self._cells, self._steps, self._needs_reset, self._rng, self.env.start_cells)
        self._last_actions[mask] = -1
        return self._observe(self._cells), {}

    def step(self, actions: np.ndarray):
        actions = self._check_actions(actions)
        if self._cells[0] < 0:
            raise ResetNeeded("GridWorld: call reset() before step()")
        if self._mode == _DISABLED and self._needs_reset.any():
            raise ResetNeeded(
                f"GridWorld (autoreset_mode=Disabled): sub-envs {np.flatnonzero(self._needs_reset).tolist()} ended; "
                "reset them with reset(options={'reset_mask': mask}) before stepping"
            )
        n = self.num_envs
        rewards = np.empty(n, dtype=np.float64)
        terminated = np.empty(n, dtype=np.bool_)
        truncated = np.empty(n, dtype=np.bool_)
        ended = np.empty(n, dtype=np.bool_)
        success = np.empty(n, dtype=np.float64)
        length = np.empty(n, dtype=np.float64)
        final_cells = np.zeros(n, dtype=np.int64)
        env = self.env
        last_actions = np.where(self._needs_reset, -1, actions)  # for the text render; -1: a reset step
        valid = _step_kernel(
            actions, self._cells, self._steps, self._needs_reset, self._rng,
            env.move_table, env.entry_reward, env.terminal, env.is_goal, env.start_cells,
            env.slip_prob, env.max_steps, self._mode,
            rewards, terminated, truncated, ended, success, length, final_cells,
        )  # fmt: skip
        if not valid:
            raise self._action_error(actions)
        self._last_actions = last_actions
        obs = self._observe(self._cells)
        if not ended.any():
            return obs, rewards, terminated, truncated, {}
        # The info layout of SyncVectorEnv (VectorEnv._add_info): value arrays plus `_key` masks.
        metrics = {"success": success, "_success": ended.copy(), "length": length, "_length": ended.copy()}
        if self._mode == _SAME_STEP:
            final_obs = np.full(n, None, dtype=object)
            for i in np.flatnonzero(ended):
                final_obs[i] = env._observe(int(final_cells[i]))
            infos = {
                "final_obs": final_obs,
                "_final_obs": ended.copy(),
                "final_info": {"episode_metrics": metrics, "_episode_metrics": ended.copy()},
                "_final_info": ended.copy(),
            }
        else:
            infos = {"episode_metrics": metrics, "_episode_metrics": ended.copy()}
        return obs, rewards, terminated, truncated, infos

    def render(self) -> tuple[str | np.ndarray, ...] | None:
        if self.render_mode is None:
            gym.logger.warn(NO_RENDER_MODE)
            return None
        if self._cells[0] < 0:
            raise ResetNeeded("GridWorld: call reset() before render()")
        if self.render_mode == "ansi":
            return tuple(
                self.env.render_text(int(c), int(t), None if a < 0 else int(a))
                for c, t, a in zip(self._cells, self._steps, self._last_actions)
            )
        return tuple(self.env.render_rgb(int(c)) for c in self._cells)

    def close_extras(self, **kwargs: Any) -> None:
        self.env.close()

    def _check_actions(self, actions: Any) -> np.ndarray:
        """Shape and dtype; the kernel checks the values (0..3) before it changes anything."""
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,) or actions.dtype.kind not in "iu":
            raise self._action_error(actions)
        return actions.astype(np.int64, copy=False)

    def _action_error(self, actions: np.ndarray) -> ValueError:
        return ValueError(
            f"GridWorld: actions {short(actions)} are not in the action space {self.action_space}; "
            f"expected {self.num_envs} integers 0..3 (0 up, 1 right, 2 down, 3 left)"
        )

    def _observe(self, cells: np.ndarray) -> np.ndarray:
        return self.env._observer.batch(cells)
