"""GridWorld observations: the five modes' spaces and how one cell (or a batch of cells) is observed.

Only the modes whose observation is costly to build per step keep a table per cell (``partial``: the
view around each cell; ``rgb``: the background and each cell's tile with the agent); ``onehot`` is
set in a zero vector, so no ``(S, S)`` matrix is ever made. ``MAX_TABLE_BYTES`` bounds the tables.
"""

from __future__ import annotations

import math

import numpy as np
from gymnasium import spaces
from numba import njit

from envs.gridworld.layouts import GOAL, LAVA, WALL
from envs.gridworld.render import background, paint_agent

OBSERVATIONS = ("onehot", "index", "grid", "partial", "rgb")
MAX_TABLE_BYTES = 1 << 30  # 1 GiB: the most memory the observation tables of one env may take


def rgb_tile(height: int, width: int) -> int:
    """Pixels a cell in ``rgb`` observations: at least 8, and enough for a 36 × 36 picture (SB3's NatureCNN)."""
    return max(8, math.ceil(36 / min(height, width)))


def table_bytes(observation: str, height: int, width: int, view_size: int) -> int:
    """Bytes of the tables that `observation` keeps for an ``height`` × ``width`` layout."""
    n_cells = height * width
    if observation == "grid":
        return 4 * n_cells * 4  # the (4, H, W) float32 map
    if observation == "partial":
        return n_cells * 3 * view_size * view_size * 4  # (S, 3*k*k) float32
    if observation == "rgb":
        return 2 * n_cells * 3 * rgb_tile(height, width) ** 2  # the background and a tile per cell, uint8
    return 0


class Observer:
    """Observations of one layout in one mode: ``space``, ``one(cell)`` and ``batch(cells)`` (a fresh array each)."""

    def __init__(self, grid: np.ndarray, tinted: np.ndarray, observation: str, view_size: int):
        self.grid, self.observation = grid, observation
        self.height, self.width = grid.shape
        self.n_cells = grid.size
        self.table = self.base = self.tiles = None
        self.tile = rgb_tile(self.height, self.width)
        if observation == "onehot":
            self.space = spaces.Box(0.0, 1.0, (self.n_cells,), np.float32)
        elif observation == "index":
            self.space = spaces.Discrete(self.n_cells)
        elif observation == "grid":
            self.space = spaces.Box(0.0, 1.0, (4, self.height, self.width), np.float32)
            channels = [grid == WALL, grid == LAVA, grid == GOAL, np.zeros_like(grid, bool)]
            self.base = np.stack(channels).astype(np.float32)  # (4, H, W); the agent channel is set per step
        elif observation == "partial":
            self.space = spaces.Box(0.0, 1.0, (3 * view_size * view_size,), np.float32)
            self.table = self._views(view_size)
        else:  # rgb
            self.space = spaces.Box(0, 255, (3, self.height * self.tile, self.width * self.tile), np.uint8)
            self.base, self.tiles = self._pictures(tinted)
        self.one = getattr(self, f"_one_{observation}")

    def _views(self, k: int) -> np.ndarray:
        """``(S, 3*k*k)``: the wall, lava and goal channels of the k × k view centred on each cell."""
        half = k // 2
        padded = np.full((self.height + 2 * half, self.width + 2 * half), WALL, dtype=np.uint8)
        padded[half : half + self.height, half : half + self.width] = self.grid
        table = np.empty((self.n_cells, 3, k, k), dtype=np.float32)  # (S, C, k, k)
        for s in range(self.n_cells):
            r, c = divmod(s, self.width)
            view = padded[r : r + k, c : c + k]
            table[s] = (view == WALL), (view == LAVA), (view == GOAL)
        return table.reshape(self.n_cells, -1)

    def _pictures(self, tinted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The background ``(3, H*t, W*t)`` and each cell's tile with the agent ``(S, 3, t, t)``."""
        t = self.tile
        base = np.ascontiguousarray(background(self.grid, tinted, t).transpose(2, 0, 1))
        tiles = np.empty((self.n_cells, 3, t, t), dtype=np.uint8)
        for s in range(self.n_cells):
            r, c = divmod(s, self.width)
            block = base[:, r * t : (r + 1) * t, c * t : (c + 1) * t].transpose(1, 2, 0)  # (t, t, 3)
            tiles[s] = paint_agent(block).transpose(2, 0, 1)
        return base, tiles

    # --- one cell --------------------------------------------------------------------------------

    def _one_onehot(self, cell: int) -> np.ndarray:
        obs = np.zeros(self.n_cells, dtype=np.float32)
        obs[cell] = 1.0
        return obs

    def _one_index(self, cell: int) -> np.int64:
        return np.int64(cell)

    def _one_grid(self, cell: int) -> np.ndarray:
        obs = self.base.copy()
        r, c = divmod(cell, self.width)
        obs[3, r, c] = 1.0
        return obs

    def _one_partial(self, cell: int) -> np.ndarray:
        return self.table[cell].copy()

    def _one_rgb(self, cell: int) -> np.ndarray:
        obs = self.base.copy()
        t = self.tile
        r, c = divmod(cell, self.width)
        obs[:, r * t : (r + 1) * t, c * t : (c + 1) * t] = self.tiles[cell]
        return obs

    # --- a batch of cells --------------------------------------------------------------------------

    def batch(self, cells: np.ndarray) -> np.ndarray:
        """The observations of `cells` ``(N,)`` stacked ``(N, ...)``; equal to ``one`` of each."""
        n = len(cells)
        if self.observation == "onehot":
            obs = np.zeros((n, self.n_cells), dtype=np.float32)
            obs[np.arange(n), cells] = 1.0
            return obs
        if self.observation == "index":
            return cells.copy()
        if self.observation == "partial":
            return self.table[cells]  # fancy indexing: a fresh array
        if self.observation == "grid":
            obs = np.repeat(self.base[None], n, axis=0)  # (N, 4, H, W)
            obs[np.arange(n), 3, cells // self.width, cells % self.width] = 1.0
            return obs
        return _gather_rgb(self.base, self.tiles, cells, self.width, self.tile)  # (N, 3, H*t, W*t)


@njit(cache=True)
def _gather_rgb(base, tiles, cells, width, t):
    n = cells.shape[0]
    out = np.empty((n,) + base.shape, dtype=np.uint8)  # (N, 3, H*t, W*t)
    for i in range(n):
        out[i] = base
        r, c = cells[i] // width, cells[i] % width
        out[i, :, r * t : (r + 1) * t, c * t : (c + 1) * t] = tiles[cells[i]]
    return out
