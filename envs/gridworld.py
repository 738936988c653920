"""GridWorld: the classic RL teaching world, fast, exactly solvable, with a Numba-batched vector env.

Description:
    An agent walks on a grid of cells towards a goal. Cells are floor (``.``), wall (``#``), lava or
    pit (``L``), goal (``G``) or start (``S``, a floor cell where an episode may begin). The world
    is given either as one of the named layouts or as ASCII text in those five characters, e.g.::

        S...
        .##.
        ..LG

    Named layouts (``layout=`` argument; ``size`` sets their side, ``maze_seed`` the maze):

    * ``"open"``: an empty ``size`` × ``size`` room, start top-left, goal bottom-right (default 6).
    * ``"four_rooms"``: Sutton, Precup & Singh's four rooms joined by four doorways (default 11).
    * ``"maze"``: a perfect maze from a seeded randomized depth-first search (default size 11, odd);
      every cell is connected, so every maze it emits is solvable. ``maze_seed`` picks the maze.
    * ``"cliff"``: Sutton & Barto's cliff walk, 4 rows × ``size`` columns (default 12), with a row
      of lava between start and goal.

    The edge of the grid acts as a wall, so layouts need no border. Moves can slip: with
    probability ``slip_prob`` the agent moves to one side of the chosen direction instead (half
    the time to its left, half to its right). The model is known, so :func:`value_iteration`
    solves any layout exactly; its greedy policy is the ``"optimal"`` baseline and the tests'
    oracle.

    ``GridWorldVectorEnv`` (the ``vector_entry_point``) steps many copies in one Numba call and
    gives, for the same seeds and actions, exactly the observations, rewards and infos that
    Gymnasium's ``SyncVectorEnv`` of single envs gives.

Action Space:
    ``Discrete(4)``: 0 up, 1 right, 2 down, 3 left (clockwise, so a slip turns by ±1).
    An action outside the space raises a ``ValueError`` naming the space.

Observation Space (``observation=`` argument; each a single ``Box`` or ``Discrete``):
    * ``"onehot"`` (default): ``Box(0, 1, (H*W,), float32)``, the one-hot of the agent's cell
      ``row * W + col``; for MLPs and tabular methods.
    * ``"index"``: ``Discrete(H*W)``, the agent's cell ``row * W + col``; for tabular methods.
    * ``"grid"``: ``Box(0, 1, (4, H, W), float32)``, a symbolic map with channels wall, lava,
      goal, agent; for a CNN over symbolic grids (SB3 treats a float Box as a non-image and
      passes it unscaled; its ``check_env`` warns that it is not a ≥ 36×36 uint8 image, which it
      deliberately is not, so no registered variant uses it: pass ``observation="grid"``).
    * ``"partial"``: ``Box(0, 1, (3*k*k,), float32)``, an egocentric ``k`` × ``k`` view centred on
      the agent (``view_size=k``, odd, default 5) with channels wall, lava, goal, flattened from
      ``(3, k, k)`` in C order; cells beyond the edge read as wall. A POMDP, for memory encoders.
    * ``"rgb"``: ``Box(0, 255, (3, H*t, W*t), uint8)``, the rendered picture channels-first, with
      ``t = max(8, ceil(36 / min(H, W)))`` pixels a cell so that it is at least 36 × 36 (what
      SB3's NatureCNN needs); for image encoders.

Rewards:
    Every step costs ``step_reward`` (default -0.01); entering a goal adds ``goal_reward``
    (default 1) and entering lava adds ``lava_reward`` (default -1). The default room's optimal
    return is therefore 1 - 10 × 0.01 = 0.90.

Starting State:
    A uniformly drawn ``S`` cell; a layout without ``S`` starts on a uniformly drawn floor cell.

Episode End:
    Terminated on entering a goal or lava; truncated after ``max_steps`` steps (default
    ``4 * H * W``). The final step's ``info["episode_metrics"]`` is
    ``{"success": 1.0 if a goal was reached else 0.0, "length": steps}``.

Arguments:
    ``gymnasium.make("rlkit/GridWorld-v0", layout="open", size=None, maze_seed=None,
    slip_prob=0.0, step_reward=-0.01, goal_reward=1.0, lava_reward=-1.0, max_steps=None,
    observation="onehot", view_size=None, render_mode=None)``; see ``GridWorldEnv``.
    Render modes: ``"ansi"`` (coloured text) and ``"rgb_array"`` (32 pixels a cell).

Randomness:
    ``reset(seed=s)`` seeds ``np_random`` (Gymnasium's convention) and draws from it the state
    of a splitmix64 stream; starts and slips then draw from that stream, which continues across
    ``reset()`` calls without a seed. The vector env keeps one such 64-bit state per sub-env and
    runs the same arithmetic in Numba, which is what makes the single and batched envs agree
    bit for bit (a NumPy ``Generator`` cannot be stepped from inside a Numba kernel).
"""

from __future__ import annotations

import math
import operator
from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from numba import njit

# Cell codes of `GridWorldEnv.grid`.
FLOOR, WALL, LAVA, GOAL = 0, 1, 2, 3
LAYOUT_CHARS = {".": FLOOR, "S": FLOOR, "#": WALL, "L": LAVA, "G": GOAL}
LAYOUTS = ("open", "four_rooms", "maze", "cliff")
OBSERVATIONS = ("onehot", "index", "grid", "partial", "rgb")
ACTION_NAMES = ("up", "right", "down", "left")
# (row, col) step of each action; clockwise, so action + 1 is a right turn and action + 3 a left turn.
_MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))
_DEFAULT_SIZE = {"open": 6, "four_rooms": 11, "maze": 11, "cliff": 12}
_RENDER_TILE = 32
_TWO_POW_M53 = 2.0**-53  # turns the top 53 bits of a uint64 into a uniform in [0, 1)
_NO_RENDER_MODE = 'GridWorld: render() called without a render mode; make it with render_mode="ansi" or "rgb_array"'

_COLOURS = {  # RGB of each cell kind in `rgb_array` renders and `rgb` observations
    FLOOR: (236, 236, 236),
    WALL: (72, 72, 84),
    LAVA: (232, 96, 36),
    GOAL: (64, 176, 80),
}
_START_COLOUR = (206, 220, 244)
_AGENT_COLOUR = (40, 84, 216)
_ANSI = {
    FLOOR: "\x1b[2m.\x1b[0m",
    WALL: "\x1b[90m#\x1b[0m",
    LAVA: "\x1b[31m~\x1b[0m",
    GOAL: "\x1b[1;32mG\x1b[0m",
}
_ANSI_START = "\x1b[2mS\x1b[0m"
_ANSI_AGENT = "\x1b[1;33m@\x1b[0m"


# ------------------------------------------------------------------------------------------------
# Layouts
# ------------------------------------------------------------------------------------------------


def open_room(size: int = 6) -> str:
    """An empty ``size`` × ``size`` room: start top-left, goal bottom-right."""
    _check_int("size", size, 2, "the side of the open room")
    rows = [["."] * size for _ in range(size)]
    rows[0][0], rows[-1][-1] = "S", "G"
    return "\n".join("".join(r) for r in rows)


def four_rooms(size: int = 11) -> str:
    """Four rooms of a ``size`` × ``size`` square split by a wall cross with one doorway per arm."""
    _check_int("size", size, 5, "the side of the four-rooms square")
    mid = size // 2
    rows = [["."] * size for _ in range(size)]
    for i in range(size):
        rows[i][mid] = rows[mid][i] = "#"
    for door in (mid // 2, mid + 1 + (size - mid - 1) // 2):
        rows[door][mid] = rows[mid][door] = "."
    rows[0][0], rows[-1][-1] = "S", "G"
    return "\n".join("".join(r) for r in rows)


def cliff(width: int = 12) -> str:
    """Sutton & Barto's cliff walk: 4 rows, start and goal at the bottom corners, lava between."""
    _check_int("size", width, 3, "the width of the cliff walk")
    rows = ["." * width] * 3 + ["S" + "L" * (width - 2) + "G"]
    return "\n".join(rows)


def random_maze(size: int = 11, seed: int = 0) -> str:
    """A perfect ``size`` × ``size`` maze (``size`` odd) from a seeded randomized depth-first search.

    Rooms sit on even (row, col); carving removes the wall between a room and an unvisited
    neighbour until every room is visited, so every room connects to every other one and the
    maze (start top-left, goal bottom-right) is always solvable. Same seed, same maze.
    """
    _check_int("size", size, 3, "the side of the maze")
    if size % 2 == 0:
        raise ValueError(
            f"GridWorld maze: size={size} is even; "
            f"a maze needs an odd side (rooms on even cells), e.g. {size + 1}"
        )
    _check_int("maze_seed", seed, 0, "the seed of the maze generator")
    rng = np.random.default_rng(seed)
    grid = np.full((size, size), "#")
    n_rooms = (size + 1) // 2
    visited = np.zeros((n_rooms, n_rooms), dtype=bool)
    stack = [(0, 0)]
    visited[0, 0] = True
    grid[0, 0] = "."
    while stack:
        r, c = stack[-1]
        unvisited = [
            (r + dr, c + dc)
            for dr, dc in _MOVES
            if 0 <= r + dr < n_rooms and 0 <= c + dc < n_rooms and not visited[r + dr, c + dc]
        ]
        if not unvisited:
            stack.pop()
            continue
        nr, nc = unvisited[rng.integers(len(unvisited))]
        visited[nr, nc] = True
        grid[2 * nr, 2 * nc] = "."
        grid[r + nr, c + nc] = "."  # the wall between the two rooms, at (2r + 2nr) / 2
        stack.append((nr, nc))
    grid[0, 0], grid[-1, -1] = "S", "G"
    return "\n".join("".join(row) for row in grid)


def make_layout(layout: str = "open", size: int | None = None, maze_seed: int | None = None) -> str:
    """The ASCII text of a named layout, or `layout` itself (validated) if it is ASCII text."""
    if not isinstance(layout, str):
        raise ValueError(
            f"GridWorld: layout must be a str, got {type(layout).__name__}; "
            f"pass one of {LAYOUTS} or ASCII text"
        )
    if "\n" in layout:
        if size is not None:
            raise ValueError(
                f"GridWorld: size={size} given with an ASCII layout, whose text already fixes the size; "
                "drop size"
            )
        if maze_seed is not None:
            raise ValueError(
                f"GridWorld: maze_seed={maze_seed} given with an ASCII layout; "
                "maze_seed only applies to layout='maze'"
            )
        return layout
    if layout not in LAYOUTS:
        raise ValueError(
            f"GridWorld: unknown layout {layout!r}; expected one of {LAYOUTS} or ASCII text with one row per line "
            f"(characters {''.join(LAYOUT_CHARS)})"
        )
    if maze_seed is not None and layout != "maze":
        raise ValueError(
            f"GridWorld: maze_seed={maze_seed} given with layout={layout!r}; "
            "maze_seed only applies to layout='maze'"
        )
    size = _DEFAULT_SIZE[layout] if size is None else size
    if layout == "open":
        return open_room(size)
    if layout == "four_rooms":
        return four_rooms(size)
    if layout == "cliff":
        return cliff(size)
    return random_maze(size, 0 if maze_seed is None else maze_seed)


def parse_layout(text: str) -> tuple[np.ndarray, np.ndarray]:
    """``(grid, start_cells)``: cell codes ``(H, W)`` uint8 and the flat indices of the start cells.

    Blank lines and the whitespace around each row are ignored. A layout without ``S`` starts on
    any floor cell. Every start must be able to reach a goal without crossing lava.
    """
    rows = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not rows:
        raise ValueError("GridWorld: the ASCII layout is empty; give one row of '#.SGL' characters per line")
    width = len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != width:
            raise ValueError(
                f"GridWorld: layout row {i} has {len(row)} characters but row 0 has {width}; "
                "all rows must be equally long"
            )
        bad = sorted(set(row) - set(LAYOUT_CHARS))
        if bad:
            raise ValueError(
                f"GridWorld: layout row {i} ({row!r}) has unknown characters {bad}; "
                "use # wall, . floor, S start, G goal, L lava"
            )
    grid = np.array([[LAYOUT_CHARS[ch] for ch in row] for row in rows], dtype=np.uint8)
    marked = [r * width + c for r, row in enumerate(rows) for c, ch in enumerate(row) if ch == "S"]
    starts = np.array(marked, dtype=np.int64)
    if not (grid == GOAL).any():
        raise ValueError("GridWorld: the layout has no goal; mark at least one cell 'G'")
    if starts.size == 0:
        starts = np.flatnonzero(grid.ravel() == FLOOR).astype(np.int64)
        if starts.size == 0:
            raise ValueError("GridWorld: the layout has no floor cell to start on; add an 'S' or '.' cell")
    reaches_goal = _cells_reaching_goal(grid)
    for s in starts:
        if not reaches_goal[s]:
            r, c = divmod(int(s), width)
            raise ValueError(
                f"GridWorld: start cell (row {r}, col {c}) cannot reach a goal without crossing lava; "
                "open a path, or (for a layout without 'S') wall off the unreachable floor with '#'"
            )
    return grid, starts


def _cells_reaching_goal(grid: np.ndarray) -> np.ndarray:
    """Flat bool mask of the cells from which some path over floor cells enters a goal (moves are reversible)."""
    height, width = grid.shape
    reach = np.zeros(height * width, dtype=bool)
    queue = deque(int(g) for g in np.flatnonzero(grid.ravel() == GOAL))
    for g in queue:
        reach[g] = True
    while queue:
        r, c = divmod(queue.popleft(), width)
        for dr, dc in _MOVES:
            nr, nc = r + dr, c + dc
            if 0 <= nr < height and 0 <= nc < width and grid[nr, nc] == FLOOR and not reach[nr * width + nc]:
                reach[nr * width + nc] = True
                queue.append(nr * width + nc)
    return reach


def _short(value: Any) -> str:
    """A one-line description of a value for error messages (array reprs span lines)."""
    if isinstance(value, np.ndarray) and value.ndim > 0:
        if value.size <= 8:
            return f"array({value.tolist()}, dtype={value.dtype})"
        return f"<array shape={value.shape} dtype={value.dtype}>"
    text = repr(value).replace("\n", " ")
    return text if len(text) <= 80 else text[:77] + "..."


def _check_int(name: str, value: Any, low: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"GridWorld: {name}={value!r} is not an integer >= {low}; it is {what}")


def _check_float(name: str, value: Any, what: str) -> float:
    number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not number or not math.isfinite(value):
        raise ValueError(f"GridWorld: {name}={value!r} is not a finite number; it is {what}")
    return float(value)


# ------------------------------------------------------------------------------------------------
# The environment
# ------------------------------------------------------------------------------------------------


class GridWorldEnv(gym.Env):
    """A grid world with walls, lava, goals, slippery moves and five observation modes (see the module docstring).

    Args:
        layout: one of ``"open"``, ``"four_rooms"``, ``"maze"``, ``"cliff"``, or ASCII text (one row
            per line; ``#`` wall, ``.`` floor, ``S`` start, ``G`` goal, ``L`` lava).
        size: side of a named layout (``"cliff"``: its width); ``None`` for the layout's default.
        maze_seed: seed of the ``"maze"`` generator (default 0); the maze is fixed for the env's life.
        slip_prob: probability in [0, 1) that a move goes sideways (half left, half right).
        step_reward: reward of every step. goal_reward / lava_reward: added on entering a goal / lava.
        max_steps: steps before truncation; ``None`` for ``4 * H * W``.
        observation: ``"onehot"``, ``"index"``, ``"grid"``, ``"partial"`` or ``"rgb"``.
        view_size: side ``k`` (odd, >= 3) of the ``"partial"`` view; ``None`` for 5.
        render_mode: ``None``, ``"ansi"`` or ``"rgb_array"``.

    Model attributes (read by the solver and baselines): ``grid`` ``(H, W)`` cell codes,
    ``start_cells``, ``move_table`` ``(H*W, 4)`` the cell each action leads to without a slip,
    ``entry_reward`` ``(H*W,)`` the reward of a step into each cell, ``terminal`` ``(H*W,)``,
    ``slip_prob``; ``agent_cell`` is the agent's flat cell index (``row * W + col``).
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 8}

    def __init__(
        self,
        layout: str = "open",
        size: int | None = None,
        maze_seed: int | None = None,
        slip_prob: float = 0.0,
        step_reward: float = -0.01,
        goal_reward: float = 1.0,
        lava_reward: float = -1.0,
        max_steps: int | None = None,
        observation: str = "onehot",
        view_size: int | None = None,
        render_mode: str | None = None,
    ):
        # --- constants: the layout and its transition/reward tables -------------------------------
        self.layout_text = make_layout(layout, size, maze_seed)
        self.grid, self.start_cells = parse_layout(self.layout_text)
        self.height, self.width = self.grid.shape
        self._marked_starts = "S" in self.layout_text
        self.n_cells = self.height * self.width
        slip_prob = _check_float("slip_prob", slip_prob, "the probability that a move slips sideways")
        if not 0.0 <= slip_prob < 1.0:
            raise ValueError(
                f"GridWorld: slip_prob={slip_prob} is outside [0, 1); "
                "it is the probability that a move slips sideways"
            )
        self.slip_prob = slip_prob
        self.step_reward = _check_float("step_reward", step_reward, "the reward of every step")
        self.goal_reward = _check_float("goal_reward", goal_reward, "the reward added on entering a goal")
        self.lava_reward = _check_float("lava_reward", lava_reward, "the reward added on entering lava")
        if max_steps is None:
            max_steps = 4 * self.n_cells
        _check_int("max_steps", max_steps, 1, "the number of steps before an episode is truncated")
        self.max_steps = int(max_steps)
        if observation not in OBSERVATIONS:
            raise ValueError(
                f"GridWorld: unknown observation {observation!r}; "
                f"expected one of {OBSERVATIONS}"
            )
        self.observation = observation
        if view_size is not None and observation != "partial":
            raise ValueError(
                f"GridWorld: view_size={view_size} given with observation={observation!r}; "
                "it only applies to observation='partial'"
            )
        view_size = 5 if view_size is None else view_size
        _check_int("view_size", view_size, 3, "the side of the egocentric view")
        if view_size % 2 == 0:
            raise ValueError(
                f"GridWorld: view_size={view_size} is even; "
                f"the egocentric view is centred on the agent, so use an odd side such as {view_size + 1}"
            )
        self.view_size = int(view_size)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"GridWorld: render_mode={render_mode!r} is not supported; "
                f"expected None or one of {self.metadata['render_modes']}"
            )
        self.render_mode = render_mode

        cells = self.grid.ravel()
        rows, cols = np.divmod(np.arange(self.n_cells), self.width)
        self.move_table = np.empty((self.n_cells, 4), dtype=np.int64)  # (S, A)
        for a, (dr, dc) in enumerate(_MOVES):
            nr, nc = rows + dr, cols + dc
            inside = (nr >= 0) & (nr < self.height) & (nc >= 0) & (nc < self.width)
            target = np.where(inside, nr * self.width + nc, np.arange(self.n_cells))
            blocked = cells[np.clip(target, 0, self.n_cells - 1)] == WALL
            self.move_table[:, a] = np.where(blocked, np.arange(self.n_cells), target)
        bonus = np.where(cells == GOAL, self.goal_reward, np.where(cells == LAVA, self.lava_reward, 0.0))
        self.entry_reward = self.step_reward + bonus  # (S,) float64
        self.terminal = (cells == GOAL) | (cells == LAVA)  # (S,)
        self.is_goal = cells == GOAL  # (S,)
        self._obs_tile = max(8, math.ceil(36 / min(self.height, self.width)))
        # Python lists: scalar lookups in lists are several times faster than in NumPy arrays.
        self._move_list = self.move_table.tolist()
        self._reward_list = self.entry_reward.tolist()
        self._terminal_list = self.terminal.tolist()
        self._goal_list = self.is_goal.tolist()
        self._starts_list = self.start_cells.tolist()

        # --- spaces ----------------------------------------------------------------------------
        self.action_space = spaces.Discrete(4)
        self.observation_space, self._obs_table, self._obs_base, self._agent_tiles = self._build_observation()
        self._observe = getattr(self, f"_observe_{observation}")

        self._cell: int = -1  # -1: not reset yet
        self._t = 0
        self._done = False
        self._last_action: int | None = None
        self._rng_state: int | None = None  # splitmix64 state, see the module docstring

    # --- Gymnasium API ---------------------------------------------------------------------------

    def step(self, action: int) -> tuple[Any, float, bool, bool, dict]:
        try:
            a = operator.index(action)
        except TypeError:
            a = -1
        if not 0 <= a < 4:
            raise ValueError(
                f"GridWorld: action {_short(action)} is not in the action space {self.action_space}; "
                "expected an integer 0..3 (0 up, 1 right, 2 down, 3 left)"
            )
        if self._cell < 0:
            raise ResetNeeded("GridWorld: call reset() before step()")
        if self._done:
            raise ResetNeeded("GridWorld: the episode has ended (terminated or truncated); call reset() before step()")
        self._last_action = a
        if self.slip_prob > 0.0:
            u = self._uniform()
            if u < self.slip_prob * 0.5:
                a = (a + 1) & 3
            elif u < self.slip_prob:
                a = (a + 3) & 3
        cell = self._move_list[self._cell][a]
        self._cell = cell
        self._t += 1
        terminated = self._terminal_list[cell]
        truncated = not terminated and self._t >= self.max_steps
        if terminated or truncated:
            self._done = True
            info = {"episode_metrics": {"success": 1.0 if self._goal_list[cell] else 0.0, "length": float(self._t)}}
        else:
            info = {}
        return self._observe(cell), self._reward_list[cell], terminated, truncated, info

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        if options:
            raise ValueError(
                f"GridWorld: reset() takes no options, got {sorted(options)}; "
                "configure the env through its constructor"
            )
        if seed is not None or self._rng_state is None:
            self._rng_state = int(self.np_random.integers(0, 2**64, dtype=np.uint64))
        n = len(self._starts_list)
        self._cell = self._starts_list[int(self._uniform() * n)] if n > 1 else self._starts_list[0]
        self._t = 0
        self._done = False
        self._last_action = None
        return self._observe(self._cell), {}

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn(_NO_RENDER_MODE)
            return None
        if self._cell < 0:
            raise ResetNeeded("GridWorld: call reset() before render()")
        if self.render_mode == "ansi":
            return self.render_text(self._cell, self._t, self._last_action)
        return self.render_rgb(self._cell, _RENDER_TILE)

    def close(self) -> None:
        pass

    # --- state ------------------------------------------------------------------------------------

    @property
    def agent_cell(self) -> int:
        """The agent's flat cell index ``row * W + col`` (``-1`` before the first reset)."""
        return self._cell

    @property
    def agent_position(self) -> tuple[int, int]:
        """The agent's ``(row, col)``."""
        return divmod(self._cell, self.width)

    def _uniform(self) -> float:
        """Next uniform in [0, 1) of the splitmix64 stream (mirrored bit for bit by `_uniform_nb`)."""
        s = (self._rng_state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        self._rng_state = s
        z = ((s ^ (s >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        z ^= z >> 31
        return (z >> 11) * _TWO_POW_M53

    # --- observations -----------------------------------------------------------------------------

    def _build_observation(self):
        """``(space, table, base, agent_tiles)``; table rows are whole observations per cell where that is cheap."""
        table = base = tiles = None
        if self.observation == "onehot":
            space = spaces.Box(0.0, 1.0, (self.n_cells,), np.float32)
            table = np.eye(self.n_cells, dtype=np.float32)  # (S, S)
        elif self.observation == "index":
            space = spaces.Discrete(self.n_cells)
        elif self.observation == "grid":
            space = spaces.Box(0.0, 1.0, (4, self.height, self.width), np.float32)
            channels = [self.grid == WALL, self.grid == LAVA, self.grid == GOAL, np.zeros_like(self.grid, bool)]
            base = np.stack(channels).astype(np.float32)  # (4, H, W); the agent channel is set per step
        elif self.observation == "partial":
            k, half = self.view_size, self.view_size // 2
            space = spaces.Box(0.0, 1.0, (3 * k * k,), np.float32)
            padded = np.full((self.height + 2 * half, self.width + 2 * half), WALL, dtype=np.uint8)
            padded[half : half + self.height, half : half + self.width] = self.grid
            table = np.empty((self.n_cells, 3, k, k), dtype=np.float32)  # (S, C, k, k)
            for s in range(self.n_cells):
                r, c = divmod(s, self.width)
                view = padded[r : r + k, c : c + k]
                table[s] = (view == WALL), (view == LAVA), (view == GOAL)
            table = table.reshape(self.n_cells, -1)
        else:  # rgb
            t = self._obs_tile
            space = spaces.Box(0, 255, (3, self.height * t, self.width * t), np.uint8)
            base = np.ascontiguousarray(self._background(t).transpose(2, 0, 1))  # (3, H*t, W*t)
            tiles = np.empty((self.n_cells, 3, t, t), dtype=np.uint8)
            for s in range(self.n_cells):
                r, c = divmod(s, self.width)
                block = base[:, r * t : (r + 1) * t, c * t : (c + 1) * t].transpose(1, 2, 0)  # (t, t, 3)
                tiles[s] = self._paint_agent(block).transpose(2, 0, 1)
        return space, table, base, tiles

    def _observe_onehot(self, cell: int) -> np.ndarray:
        return self._obs_table[cell].copy()

    _observe_partial = _observe_onehot

    def _observe_index(self, cell: int) -> np.int64:
        return np.int64(cell)

    def _observe_grid(self, cell: int) -> np.ndarray:
        obs = self._obs_base.copy()
        r, c = divmod(cell, self.width)
        obs[3, r, c] = 1.0
        return obs

    def _observe_rgb(self, cell: int) -> np.ndarray:
        obs = self._obs_base.copy()
        t = self._obs_tile
        r, c = divmod(cell, self.width)
        obs[:, r * t : (r + 1) * t, c * t : (c + 1) * t] = self._agent_tiles[cell]
        return obs

    # --- rendering --------------------------------------------------------------------------------

    def _background(self, tile: int) -> np.ndarray:
        """The layout without the agent, ``(H*tile, W*tile, 3)`` uint8, with a thin darker line around each cell."""
        colours = np.array([_COLOURS[k] for k in (FLOOR, WALL, LAVA, GOAL)], dtype=np.uint8)[self.grid]  # (H, W, 3)
        starts = np.zeros(self.n_cells, dtype=bool)
        if self._marked_starts:  # tint 'S' cells (a layout without them starts anywhere)
            starts[self.start_cells] = True
        colours[starts.reshape(self.grid.shape)] = _START_COLOUR
        image = np.repeat(np.repeat(colours, tile, axis=0), tile, axis=1)
        if tile >= 8:
            edge = np.zeros(tile, dtype=bool)
            edge[0] = edge[-1] = True
            line = np.tile(edge, self.height)[:, None] | np.tile(edge, self.width)[None, :]
            image[line] = (image[line] * 0.82).astype(np.uint8)
        return image

    @staticmethod
    def _paint_agent(tile_image: np.ndarray) -> np.ndarray:
        """A copy of one cell's ``(t, t, 3)`` image with the agent drawn as a disc."""
        t = tile_image.shape[0]
        centre = (t - 1) / 2
        yy, xx = np.mgrid[0:t, 0:t]
        disc = (yy - centre) ** 2 + (xx - centre) ** 2 <= (0.34 * t) ** 2
        out = tile_image.copy()
        out[disc] = _AGENT_COLOUR
        return out

    def render_rgb(self, cell: int, tile: int = _RENDER_TILE) -> np.ndarray:
        """The world with the agent in `cell`, ``(H*tile, W*tile, 3)`` uint8."""
        image = self._background(tile)
        r, c = divmod(cell, self.width)
        block = image[r * tile : (r + 1) * tile, c * tile : (c + 1) * tile]
        image[r * tile : (r + 1) * tile, c * tile : (c + 1) * tile] = self._paint_agent(block)
        return image

    def render_text(self, cell: int, t: int = 0, last_action: int | None = None) -> str:
        """The world as ANSI-coloured text with the agent (``@``) in `cell`, framed, and a status line."""
        starts = set(self.start_cells.tolist()) if self._marked_starts else set()
        lines = [_ANSI[WALL] * (self.width + 2)]
        for r in range(self.height):
            row = []
            for c in range(self.width):
                s = r * self.width + c
                row.append(_ANSI_AGENT if s == cell else _ANSI_START if s in starts else _ANSI[int(self.grid[r, c])])
            lines.append(_ANSI[WALL] + "".join(row) + _ANSI[WALL])
        lines.append(_ANSI[WALL] * (self.width + 2))
        action = "" if last_action is None else f"  last action: {ACTION_NAMES[last_action]}"
        lines.append(f"step {t}/{self.max_steps}{action}")
        return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------
# Exact solver and the "optimal" baseline
# ------------------------------------------------------------------------------------------------


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
    return _cells_reaching_goal(grid)


def optimal_return(env: gym.Env, gamma: float = 1.0) -> float:
    """Expected optimal return of an episode: the mean of :func:`value_iteration`'s values over the start cells."""
    env = env.unwrapped
    values, _ = value_iteration(env, gamma)
    return float(values[env.start_cells].mean())


class OptimalPolicy:
    """The ``"optimal"`` baseline: greedy on :func:`value_iteration`'s values, reading the agent's cell from the env.

    A solver over the known model, so it works with every observation mode (the partial view too).
    ``gamma`` defaults to 1 (the env's undiscounted return) when ``step_reward < 0``, else 0.99.
    """

    def __init__(self, env: gym.Env, gamma: float | None = None):
        env = env.unwrapped
        self.gamma = gamma if gamma is not None else (1.0 if env.step_reward < 0 else 0.99)
        self.values, self.policy = value_iteration(env, self.gamma)
        self._env = env

    def reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        env = env.unwrapped
        if env is not self._env:
            self.values, self.policy = value_iteration(env, self.gamma)
            self._env = env

    def act(self, observation: Any, info: dict) -> int:
        return int(self.policy[self._env.agent_cell])


# ------------------------------------------------------------------------------------------------
# Batched vector env
# ------------------------------------------------------------------------------------------------

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
    return np.float64(z >> _U11) * _TWO_POW_M53


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


@njit(cache=True)
def _gather_rgb(base, tiles, cells, width, t):
    n = cells.shape[0]
    out = np.empty((n,) + base.shape, dtype=np.uint8)  # (N, 3, H*t, W*t)
    for i in range(n):
        out[i] = base
        r, c = cells[i] // width, cells[i] % width
        out[i, :, r * t : (r + 1) * t, c * t : (c + 1) * t] = tiles[cells[i]]
    return out


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
        _check_int("num_envs", num_envs, 1, "the number of sub-environments")
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
                f"got {_short(mask)}"
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
                f"GridWorld: seed={_short(seed)} is not None, an int, or a list of {n} ints/None (one per sub-env)"
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
            gym.logger.warn(_NO_RENDER_MODE)
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
            f"GridWorld: actions {_short(actions)} are not in the action space {self.action_space}; "
            f"expected {self.num_envs} integers 0..3 (0 up, 1 right, 2 down, 3 left)"
        )

    def _observe(self, cells: np.ndarray) -> np.ndarray:
        env = self.env
        if env.observation in ("onehot", "partial"):
            return env._obs_table[cells]  # (N, D): a fresh array
        if env.observation == "index":
            return cells.copy()
        if env.observation == "grid":
            obs = np.repeat(env._obs_base[None], len(cells), axis=0)  # (N, 4, H, W)
            obs[np.arange(len(cells)), 3, cells // env.width, cells % env.width] = 1.0
            return obs
        return _gather_rgb(env._obs_base, env._agent_tiles, cells, env.width, env._obs_tile)  # (N, 3, H*t, W*t)
