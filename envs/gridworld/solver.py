"""The exact solver of GridWorld: value iteration over the known model, and the optimal expected return."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from envs.gridworld.env import GridWorldEnv
from envs.gridworld.layouts import FLOOR, GOAL, LAVA, cells_reaching_goal


def value_iteration(
    env: gym.Env, gamma: float = 1.0, tol: float = 1e-10, max_iterations: int = 100_000
) -> tuple[np.ndarray, np.ndarray]:
    """Optimal state values and a greedy optimal policy of a GridWorld, by value iteration over its known model.

    Returns ``(values, policy)``, both of shape ``(H*W,)`` indexed by cell ``row * W + col``:
    ``values[s]`` is the optimal expected (``gamma``-discounted) return from ``s`` ignoring the
    ``max_steps`` truncation, and ``policy[s]`` an optimal action (ties go to the lowest action).
    Walls and terminal cells have value 0 and action 0; a floor cell that cannot reach any
    terminal cell has ``-inf`` when ``gamma == 1``. ``gamma == 1`` (the env's own undiscounted
    objective) needs ``step_reward < 0``; otherwise wandering forever would be as good as arriving.
    """
    env = env.unwrapped
    if not isinstance(env, GridWorldEnv):
        raise ValueError(f"value_iteration: expected a GridWorld env, got {type(env).__name__}")
    if not 0.0 < gamma <= 1.0:
        raise ValueError(f"value_iteration: gamma={gamma} is outside (0, 1]")
    if gamma == 1.0 and env.step_reward >= 0:
        raise ValueError(
            f"value_iteration: gamma=1 needs step_reward < 0 (got {env.step_reward}) so that every optimal policy "
            "reaches a terminal cell; pass gamma < 1"
        )
    moves, p = env.move_table, env.slip_prob  # (S, A)
    cells = env.grid.ravel()
    # Reversible moves: a floor cell reaches a terminal iff its connected floor component touches one.
    active = (cells == FLOOR) & _cells_reaching_terminal(env)
    stuck = (cells == FLOOR) & ~active
    values = np.zeros(env.n_cells)
    if gamma == 1.0:
        values[stuck] = -np.inf
    else:
        values[stuck] = env.step_reward / (1.0 - gamma)
    entry, continues = env.entry_reward[moves], ~env.terminal[moves]  # (S, A)
    for _ in range(max_iterations):
        q = _action_values(values, moves, entry, continues, gamma, p)  # (S, A)
        new = np.where(active, q.max(axis=1), values)
        delta = np.max(np.abs(new[active] - values[active]), initial=0.0)
        values = new
        if delta < tol:
            break
    else:
        raise ValueError(
            f"value_iteration: no convergence to tol={tol} in {max_iterations} iterations; "
            "raise max_iterations or lower gamma"
        )
    q = _action_values(values, moves, entry, continues, gamma, p)
    policy = np.where(active, np.argmax(q, axis=1), 0).astype(np.int64)
    return values, policy


def _action_values(values, moves, entry, continues, gamma, slip_prob) -> np.ndarray:
    # Stuck cells' -inf values make NaNs only in their own rows, which no active cell reads.
    with np.errstate(invalid="ignore"):
        target = entry + gamma * np.where(continues, values[moves], 0.0)  # (S, D): moving in direction D
        # Action a goes a with 1 - p, and a + 1 or a + 3 (a right or left slip) with p / 2 each.
        return (1.0 - slip_prob) * target + (slip_prob * 0.5) * (target[:, [1, 2, 3, 0]] + target[:, [3, 0, 1, 2]])


def _cells_reaching_terminal(env: GridWorldEnv) -> np.ndarray:
    grid = np.where(env.grid == LAVA, GOAL, env.grid)  # lava ends episodes too
    return cells_reaching_goal(grid)


def optimal_return(env: gym.Env, gamma: float = 1.0) -> float:
    """Expected optimal return of an episode: the mean of :func:`value_iteration`'s values over the start cells."""
    env = env.unwrapped
    values, _ = value_iteration(env, gamma)
    return float(values[env.start_cells].mean())
