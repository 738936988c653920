"""GridWorld layouts: the named generators (open room, four rooms, maze, cliff), ASCII parsing and its checks."""

from __future__ import annotations

from collections import deque

import numpy as np

from envs._checks import check_int

# Cell codes of `GridWorldEnv.grid`.
FLOOR, WALL, LAVA, GOAL = 0, 1, 2, 3
LAYOUT_CHARS = {".": FLOOR, "S": FLOOR, "#": WALL, "L": LAVA, "G": GOAL}
LAYOUTS = ("open", "four_rooms", "maze", "cliff")
DEFAULT_SIZE = {"open": 6, "four_rooms": 11, "maze": 11, "cliff": 12}
# (row, col) step of each action; clockwise, so action + 1 is a right turn and action + 3 a left turn.
MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))
# The most cells a world may have (1024 x 1024): every table of the env is linear in the cells.
MAX_CELLS = 1 << 20
_MAX_SIDE = 1 << 10


def _check_size(size: int, low: int, what: str, rows: int | None = None) -> None:
    """`size` is an int >= `low` and the layout (``rows`` x size, or size x size) has at most MAX_CELLS cells."""
    check_int("GridWorld", "size", size, low, what)
    cells = size * (size if rows is None else rows)
    if cells > MAX_CELLS:
        largest = MAX_CELLS // rows if rows is not None else _MAX_SIDE
        raise ValueError(
            f"GridWorld: size={size} gives {cells:,} cells, above the limit of {MAX_CELLS:,} "
            f"({_MAX_SIDE} x {_MAX_SIDE}); use size <= {largest}"
        )


def open_room(size: int = 6) -> str:
    """An empty ``size`` × ``size`` room: start top-left, goal bottom-right."""
    _check_size(size, 2, "the side of the open room")
    rows = [["."] * size for _ in range(size)]
    rows[0][0], rows[-1][-1] = "S", "G"
    return "\n".join("".join(r) for r in rows)


def four_rooms(size: int = 11) -> str:
    """Four rooms of a ``size`` × ``size`` square split by a wall cross with one doorway per arm."""
    _check_size(size, 5, "the side of the four-rooms square")
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
    _check_size(width, 3, "the width of the cliff walk", rows=4)
    rows = ["." * width] * 3 + ["S" + "L" * (width - 2) + "G"]
    return "\n".join(rows)


def random_maze(size: int = 11, seed: int = 0) -> str:
    """A perfect ``size`` × ``size`` maze (``size`` odd) from a seeded randomized depth-first search.

    Rooms sit on even (row, col); carving removes the wall between a room and an unvisited
    neighbour until every room is visited, so every room connects to every other one and the
    maze (start top-left, goal bottom-right) is always solvable. Same seed, same maze.
    """
    _check_size(size, 3, "the side of the maze")
    if size % 2 == 0:
        raise ValueError(
            f"GridWorld maze: size={size} is even; "
            f"a maze needs an odd side (rooms on even cells), e.g. {size + 1}"
        )
    check_int("GridWorld", "maze_seed", seed, 0, "the seed of the maze generator")
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
            for dr, dc in MOVES
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
    size = DEFAULT_SIZE[layout] if size is None else size
    if layout == "open":
        return open_room(size)
    if layout == "four_rooms":
        return four_rooms(size)
    if layout == "cliff":
        return cliff(size)
    return random_maze(size, 0 if maze_seed is None else maze_seed)


def _layout_rows(text: str) -> list[str]:
    """The rows of an ASCII layout, checked: not empty, equally long, known characters, at most MAX_CELLS."""
    rows = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not rows:
        raise ValueError("GridWorld: the ASCII layout is empty; give one row of '#.SGL' characters per line")
    width = len(rows[0])
    if len(rows) * width > MAX_CELLS:
        raise ValueError(
            f"GridWorld: the ASCII layout has {len(rows)} x {width} = {len(rows) * width:,} cells, above the limit "
            f"of {MAX_CELLS:,} ({_MAX_SIDE} x {_MAX_SIDE}); use a smaller layout"
        )
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
    return rows


def parse_layout(text: str) -> tuple[np.ndarray, np.ndarray]:
    """``(grid, start_cells)``: cell codes ``(H, W)`` uint8 and the flat indices of the start cells.

    Blank lines and the whitespace around each row are ignored. A layout without ``S`` starts on
    any floor cell. Every start must be able to reach a goal without crossing lava. At most
    ``MAX_CELLS`` cells.
    """
    rows = _layout_rows(text)
    width = len(rows[0])
    grid = np.array([[LAYOUT_CHARS[ch] for ch in row] for row in rows], dtype=np.uint8)
    marked = [r * width + c for r, row in enumerate(rows) for c, ch in enumerate(row) if ch == "S"]
    starts = np.array(marked, dtype=np.int64)
    if not (grid == GOAL).any():
        raise ValueError("GridWorld: the layout has no goal; mark at least one cell 'G'")
    if starts.size == 0:
        starts = np.flatnonzero(grid.ravel() == FLOOR).astype(np.int64)
        if starts.size == 0:
            raise ValueError("GridWorld: the layout has no floor cell to start on; add an 'S' or '.' cell")
    reaches_goal = cells_reaching_goal(grid)
    for s in starts:
        if not reaches_goal[s]:
            r, c = divmod(int(s), width)
            raise ValueError(
                f"GridWorld: start cell (row {r}, col {c}) cannot reach a goal without crossing lava; "
                "open a path, or (for a layout without 'S') wall off the unreachable floor with '#'"
            )
    return grid, starts


def cells_reaching_goal(grid: np.ndarray) -> np.ndarray:
    """Flat bool mask of the cells from which some path over floor cells enters a goal (moves are reversible)."""
    height, width = grid.shape
    cells = grid.ravel().tolist()  # breadth-first search over Python lists: scalar NumPy indexing is slow
    reach = [False] * len(cells)
    queue = deque(i for i, code in enumerate(cells) if code == GOAL)
    for g in queue:
        reach[g] = True
    while queue:
        s = queue.popleft()
        r, c = divmod(s, width)
        for n, inside in ((s - width, r > 0), (s + 1, c + 1 < width), (s + width, r + 1 < height), (s - 1, c > 0)):
            if inside and not reach[n] and cells[n] == FLOOR:
                reach[n] = True
                queue.append(n)
    return np.array(reach, dtype=bool)
