"""GridWorldParams: the constructor arguments of a GridWorld, checked in one place."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from envs._checks import check_float, check_int
from envs.gridworld.layouts import make_layout, parse_layout
from envs.gridworld.observations import MAX_TABLE_BYTES, OBSERVATIONS, table_bytes

RENDER_MODES = ("ansi", "rgb_array")


@dataclass(frozen=True)
class GridWorldParams:
    """Every argument of ``GridWorldEnv`` (see its docstring), validated; ``None`` defaults are resolved.

    Bad values raise a one-line ``ValueError`` naming the argument and what would be right. Besides
    the arguments it holds the parsed layout: ``layout_text``, ``grid`` ``(H, W)`` cell codes and
    ``start_cells``.
    """

    layout: str = "open"
    size: int | None = None
    maze_seed: int | None = None
    slip_prob: float = 0.0
    step_reward: float = -0.01
    goal_reward: float = 1.0
    lava_reward: float = -1.0
    max_steps: int | None = None
    observation: str = "onehot"
    view_size: int | None = None
    render_mode: str | None = None
    layout_text: str = field(init=False, repr=False)
    grid: np.ndarray = field(init=False, repr=False, compare=False)
    start_cells: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        text = make_layout(self.layout, self.size, self.maze_seed)
        grid, starts = parse_layout(text)
        slip_prob = check_float("GridWorld", "slip_prob", self.slip_prob, "the probability that a move slips sideways")
        if not 0.0 <= slip_prob < 1.0:
            raise ValueError(
                f"GridWorld: slip_prob={slip_prob} is outside [0, 1); "
                "it is the probability that a move slips sideways"
            )
        max_steps = 4 * grid.size if self.max_steps is None else self.max_steps
        check_int("GridWorld", "max_steps", max_steps, 1, "the number of steps before an episode is truncated")
        self._set(
            layout_text=text, grid=grid, start_cells=starts, slip_prob=slip_prob, max_steps=int(max_steps),
            step_reward=check_float("GridWorld", "step_reward", self.step_reward, "the reward of every step"),
            goal_reward=check_float("GridWorld", "goal_reward", self.goal_reward, "the reward added on entering a goal"),
            lava_reward=check_float("GridWorld", "lava_reward", self.lava_reward, "the reward added on entering lava"),
            view_size=self._checked_view_size(),
        )  # fmt: skip
        if self.render_mode is not None and self.render_mode not in RENDER_MODES:
            raise ValueError(
                f"GridWorld: render_mode={self.render_mode!r} is not supported; "
                f"expected None or one of {list(RENDER_MODES)}"
            )
        needed = table_bytes(self.observation, *grid.shape, self.view_size)
        if needed > MAX_TABLE_BYTES:
            raise ValueError(
                f"GridWorld: observation={self.observation!r} on a {grid.shape[0]} x {grid.shape[1]} layout needs "
                f"{needed / 2**20:,.0f} MiB of tables, above the limit of {MAX_TABLE_BYTES // 2**20:,} MiB; "
                "use a smaller layout (or view_size), or observation='onehot' or 'index'"
            )

    def _checked_view_size(self) -> int:
        if self.observation not in OBSERVATIONS:
            raise ValueError(f"GridWorld: unknown observation {self.observation!r}; expected one of {OBSERVATIONS}")
        if self.view_size is not None and self.observation != "partial":
            raise ValueError(
                f"GridWorld: view_size={self.view_size} given with observation={self.observation!r}; "
                "it only applies to observation='partial'"
            )
        view_size = 5 if self.view_size is None else self.view_size
        check_int("GridWorld", "view_size", view_size, 3, "the side of the egocentric view")
        if view_size % 2 == 0:
            raise ValueError(
                f"GridWorld: view_size={view_size} is even; "
                f"the egocentric view is centred on the agent, so use an odd side such as {view_size + 1}"
            )
        return int(view_size)

    def _set(self, **values) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

