"""GridWorld (``rlkit/GridWorld-v0`` and its variants): the env, its layouts, dynamics, observations,
exact solver, ``"optimal"`` baseline and Numba vector env, one module each; ``envs.gridworld.env``
documents the env."""

from envs.gridworld.baselines import OptimalPolicy
from envs.gridworld.env import GridWorldEnv
from envs.gridworld.layouts import (
    FLOOR,
    GOAL,
    LAVA,
    LAYOUT_CHARS,
    LAYOUTS,
    MAX_CELLS,
    WALL,
    cliff,
    four_rooms,
    make_layout,
    open_room,
    parse_layout,
    random_maze,
)
from envs.gridworld.observations import MAX_TABLE_BYTES, OBSERVATIONS
from envs.gridworld.params import GridWorldParams
from envs.gridworld.render import ACTION_NAMES
from envs.gridworld.solver import optimal_return, value_iteration
from envs.gridworld.vector import GridWorldVectorEnv

__all__ = [
    "ACTION_NAMES", "FLOOR", "GOAL", "LAVA", "LAYOUTS", "LAYOUT_CHARS", "MAX_CELLS", "MAX_TABLE_BYTES",
    "OBSERVATIONS", "WALL", "GridWorldEnv", "GridWorldParams", "GridWorldVectorEnv", "OptimalPolicy",
    "cliff", "four_rooms", "make_layout", "open_room", "optimal_return", "parse_layout", "random_maze",
    "value_iteration",
]  # fmt: skip
