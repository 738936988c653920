"""GridWorld dynamics: the transition and reward tables of a layout.

Starts and slips draw from a splitmix64 stream (``GridWorldEnv._uniform``, mirrored by the vector
env's Numba kernel); ``TWO_POW_M53`` turns its top 53 bits into a uniform in [0, 1).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from envs.gridworld.layouts import GOAL, LAVA, MOVES, WALL

TWO_POW_M53 = 2.0**-53  # turns the top 53 bits of a uint64 into a uniform in [0, 1)


class Tables(NamedTuple):
    """A layout's model, indexed by flat cell ``row * W + col`` (S cells, A = 4 actions)."""

    move_table: np.ndarray  # (S, A) int64: the cell each action leads to without a slip
    entry_reward: np.ndarray  # (S,) float64: the reward of a step into each cell
    terminal: np.ndarray  # (S,) bool: goal or lava
    is_goal: np.ndarray  # (S,) bool


def transition_tables(grid: np.ndarray, step_reward: float, goal_reward: float, lava_reward: float) -> Tables:
    """The tables of `grid` ``(H, W)``: moves into walls and off the edge stay in place."""
    height, width = grid.shape
    n_cells = height * width
    cells = grid.ravel()
    rows, cols = np.divmod(np.arange(n_cells), width)
    move_table = np.empty((n_cells, 4), dtype=np.int64)
    for a, (dr, dc) in enumerate(MOVES):
        nr, nc = rows + dr, cols + dc
        inside = (nr >= 0) & (nr < height) & (nc >= 0) & (nc < width)
        target = np.where(inside, nr * width + nc, np.arange(n_cells))
        blocked = cells[np.clip(target, 0, n_cells - 1)] == WALL
        move_table[:, a] = np.where(blocked, np.arange(n_cells), target)
    bonus = np.where(cells == GOAL, goal_reward, np.where(cells == LAVA, lava_reward, 0.0))
    terminal = (cells == GOAL) | (cells == LAVA)
    return Tables(move_table, step_reward + bonus, terminal, cells == GOAL)
