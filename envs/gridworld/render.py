"""GridWorld pictures: the RGB image of a layout (renders and ``rgb`` observations) and the ANSI text render."""

from __future__ import annotations

import numpy as np

from envs.gridworld.layouts import FLOOR, GOAL, LAVA, WALL

ACTION_NAMES = ("up", "right", "down", "left")
RENDER_TILE = 32  # pixels a cell in `rgb_array` renders
COLOURS = {  # RGB of each cell kind in `rgb_array` renders and `rgb` observations
    FLOOR: (236, 236, 236),
    WALL: (72, 72, 84),
    LAVA: (232, 96, 36),
    GOAL: (64, 176, 80),
}
START_COLOUR = (206, 220, 244)
AGENT_COLOUR = (40, 84, 216)
_ANSI = {
    FLOOR: "\x1b[2m.\x1b[0m",
    WALL: "\x1b[90m#\x1b[0m",
    LAVA: "\x1b[31m~\x1b[0m",
    GOAL: "\x1b[1;32mG\x1b[0m",
}
_ANSI_START = "\x1b[2mS\x1b[0m"
_ANSI_AGENT = "\x1b[1;33m@\x1b[0m"


def background(grid: np.ndarray, starts: np.ndarray, tile: int) -> np.ndarray:
    """The layout without the agent, ``(H*tile, W*tile, 3)`` uint8, with a thin darker line around each cell.

    `starts` is the flat indices of the cells tinted as start cells (empty for a layout without ``S``).
    """
    height, width = grid.shape
    colours = np.array([COLOURS[k] for k in (FLOOR, WALL, LAVA, GOAL)], dtype=np.uint8)[grid]  # (H, W, 3)
    tinted = np.zeros(grid.size, dtype=bool)
    tinted[starts] = True
    colours[tinted.reshape(grid.shape)] = START_COLOUR
    image = np.repeat(np.repeat(colours, tile, axis=0), tile, axis=1)
    if tile >= 8:
        edge = np.zeros(tile, dtype=bool)
        edge[0] = edge[-1] = True
        line = np.tile(edge, height)[:, None] | np.tile(edge, width)[None, :]
        image[line] = (image[line] * 0.82).astype(np.uint8)
    return image


def paint_agent(tile_image: np.ndarray) -> np.ndarray:
    """A copy of one cell's ``(t, t, 3)`` image with the agent drawn as a disc."""
    t = tile_image.shape[0]
    centre = (t - 1) / 2
    yy, xx = np.mgrid[0:t, 0:t]
    disc = (yy - centre) ** 2 + (xx - centre) ** 2 <= (0.34 * t) ** 2
    out = tile_image.copy()
    out[disc] = AGENT_COLOUR
    return out


def render_rgb(grid: np.ndarray, starts: np.ndarray, cell: int, tile: int = RENDER_TILE) -> np.ndarray:
    """The world with the agent in `cell`, ``(H*tile, W*tile, 3)`` uint8."""
    image = background(grid, starts, tile)
    r, c = divmod(cell, grid.shape[1])
    block = image[r * tile : (r + 1) * tile, c * tile : (c + 1) * tile]
    image[r * tile : (r + 1) * tile, c * tile : (c + 1) * tile] = paint_agent(block)
    return image


def render_text(grid: np.ndarray, starts: np.ndarray, cell: int, status: str) -> str:
    """The world as ANSI-coloured text with the agent (``@``) in `cell`, framed, and a `status` line."""
    height, width = grid.shape
    start_set = set(starts.tolist())
    lines = [_ANSI[WALL] * (width + 2)]
    for r in range(height):
        row = []
        for c in range(width):
            s = r * width + c
            row.append(_ANSI_AGENT if s == cell else _ANSI_START if s in start_set else _ANSI[int(grid[r, c])])
        lines.append(_ANSI[WALL] + "".join(row) + _ANSI[WALL])
    lines.append(_ANSI[WALL] * (width + 2))
    lines.append(status)
    return "\n".join(lines) + "\n"
