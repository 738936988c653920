"""TradingEnv's RGB rendering helpers, drawn with NumPy (envs do not depend on matplotlib)."""

from __future__ import annotations

import numpy as np


def render_rgb(env, height: int = 320, width: int = 480) -> np.ndarray:
    """Top: closes since the episode start (each asset divided by its first close), green/red
    marks where a target weight rose/fell; bottom: portfolio value, grey line at initial cash.

    Drawn with NumPy because envs depend on gymnasium/numpy/numba only (no matplotlib here).
    """
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    margin = 8
    top = (margin, int(height * 0.62))
    bottom = (int(height * 0.62) + margin, height - margin)
    for y0, y1 in (top, bottom):
        image[y0, margin : width - margin] = image[y1, margin : width - margin] = 200
        image[y0 : y1 + 1, margin] = image[y0 : y1 + 1, width - margin - 1] = 200
    k = env._steps
    bars = np.arange(env._start_bar, env._start_bar + k + 1)
    xs = margin + 2 + (width - 2 * margin - 4) * np.arange(k + 1) / max(env.episode_length, 1)
    closes = env.market.close[bars] / env.market.close[bars[0]]  # (k+1, A)
    palette = np.array([[31, 119, 180], [255, 127, 14], [148, 103, 189], [140, 86, 75], [23, 190, 207]])
    price_y = scale_to(closes, *top)
    for a in range(env.n_assets):
        draw_polyline(image, xs, price_y[:, a], palette[a % len(palette)])
        change = np.diff(np.vstack([np.zeros((1, env.n_assets)), env._targets[:k]])[:, a])
        for step in np.flatnonzero(np.abs(change) > 1e-9):
            color = (44, 160, 44) if change[step] > 0 else (214, 39, 40)
            draw_marker(image, xs[step + 1], price_y[step + 1, a], color)
    values = env._values[: k + 1]
    value_y = scale_to(np.append(values, env.initial_cash)[:, None], *bottom)[:, 0]
    image[int(round(value_y[-1])), margin + 1 : width - margin - 1] = 170
    draw_polyline(image, xs, value_y[:-1], np.array([0, 0, 0]))
    return image


def scale_to(y: np.ndarray, y_top: int, y_bottom: int) -> np.ndarray:
    """Map values to pixel rows of a panel (larger values higher), with a 6-pixel inner margin."""
    lo, hi = float(np.min(y)), float(np.max(y))
    span = hi - lo if hi > lo else 1.0
    return (y_bottom - 6) - (y - lo) / span * (y_bottom - y_top - 12)


def draw_polyline(image: np.ndarray, xs: np.ndarray, ys: np.ndarray, color) -> None:
    """A 2-pixel polyline through (xs, ys), sampled at least once per pixel along each segment."""
    if len(xs) == 1:
        draw_marker(image, xs[0], ys[0], color, radius=1)
        return
    dx, dy = np.diff(xs), np.diff(ys)
    counts = np.maximum(np.ceil(np.maximum(np.abs(dx), np.abs(dy))).astype(np.int64), 1)  # samples per segment
    segment = np.repeat(np.arange(len(dx)), counts)
    fraction = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)) / np.repeat(counts, counts)
    px = np.rint(np.append(xs[segment] + fraction * dx[segment], xs[-1])).astype(np.int64)
    py = np.rint(np.append(ys[segment] + fraction * dy[segment], ys[-1])).astype(np.int64)
    height, width = image.shape[:2]
    for offset in (0, 1):
        image[np.clip(py + offset, 0, height - 1), np.clip(px, 0, width - 1)] = color


def draw_marker(image: np.ndarray, x: float, y: float, color, radius: int = 3) -> None:
    height, width = image.shape[:2]
    x, y = int(round(x)), int(round(y))
    image[max(y - radius, 0) : min(y + radius + 1, height), max(x - radius, 0) : min(x + radius + 1, width)] = color
