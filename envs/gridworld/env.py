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

    ``GridWorldVectorEnv`` (``envs.gridworld.vector``, the ``vector_entry_point``) steps many copies in one Numba call and
    gives, for the same seeds and actions, exactly the observations, rewards and infos that
    Gymnasium's ``SyncVectorEnv`` of single envs gives.

Action Space:
    ``Discrete(4)``: 0 up, 1 right, 2 down, 3 left (clockwise, so a slip turns by ±1).
    An action outside the space raises a ``ValueError`` naming the space; the space is Gymnasium's
    ``Discrete.contains`` with bools refused (``envs._checks.in_discrete_space``, the rule of every env).

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
    A world has at most ``MAX_CELLS`` cells (1024 × 1024), and the tables of the ``partial`` and
    ``rgb`` observations at most ``MAX_TABLE_BYTES`` (1 GiB); larger ones are refused with a
    ``ValueError`` naming the limit.

Randomness:
    ``reset(seed=s)`` seeds ``np_random`` (Gymnasium's convention) and draws from it the state
    of a splitmix64 stream; starts and slips then draw from that stream, which continues across
    ``reset()`` calls without a seed. The vector env keeps one such 64-bit state per sub-env and
    runs the same arithmetic in Numba, which is what makes the single and batched envs agree
    bit for bit (a NumPy ``Generator`` cannot be stepped from inside a Numba kernel).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded

from envs._checks import discrete_action
from envs.gridworld.dynamics import TWO_POW_M53, transition_tables
from envs.gridworld.observations import Observer
from envs.gridworld.params import RENDER_MODES, GridWorldParams
from envs.gridworld.render import ACTION_NAMES, RENDER_TILE, render_rgb, render_text

_EXPECTED_ACTION = "an integer 0..3 (0 up, 1 right, 2 down, 3 left), not a bool"
NO_RENDER_MODE = 'GridWorld: render() called without a render mode; make it with render_mode="ansi" or "rgb_array"'


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

    The arguments are checked by ``GridWorldParams`` (``env.params``). Model attributes (read by the
    solver and baselines): ``grid`` ``(H, W)`` cell codes, ``start_cells``, ``move_table``
    ``(H*W, 4)`` the cell each action leads to without a slip, ``entry_reward`` ``(H*W,)`` the
    reward of a step into each cell, ``terminal`` ``(H*W,)``, ``slip_prob``; ``agent_cell`` is the
    agent's flat cell index (``row * W + col``).
    """

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": 8}

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
        p = GridWorldParams(
            layout, size, maze_seed, slip_prob, step_reward, goal_reward, lava_reward,
            max_steps, observation, view_size, render_mode,
        )  # fmt: skip
        self.params = p
        self.layout_text, self.grid, self.start_cells = p.layout_text, p.grid, p.start_cells
        self.height, self.width = self.grid.shape
        self.n_cells = self.grid.size
        self.slip_prob, self.max_steps = p.slip_prob, p.max_steps
        self.step_reward, self.goal_reward, self.lava_reward = p.step_reward, p.goal_reward, p.lava_reward
        self.observation, self.view_size, self.render_mode = p.observation, p.view_size, p.render_mode
        self.move_table, self.entry_reward, self.terminal, self.is_goal = transition_tables(
            self.grid, self.step_reward, self.goal_reward, self.lava_reward
        )
        # Start cells are tinted in pictures only where the layout marks them ('S').
        self._tinted = self.start_cells if "S" in self.layout_text else self.start_cells[:0]
        self._observer = Observer(self.grid, self._tinted, self.observation, self.view_size)
        self._obs_tile = self._observer.tile
        self._observe = self._observer.one
        self.action_space = spaces.Discrete(4)
        self.observation_space = self._observer.space
        # Python lists: scalar lookups in lists are several times faster than in NumPy arrays.
        self._move_list = self.move_table.tolist()
        self._reward_list = self.entry_reward.tolist()
        self._terminal_list = self.terminal.tolist()
        self._goal_list = self.is_goal.tolist()
        self._starts_list = self.start_cells.tolist()

        self._cell: int = -1  # -1: not reset yet
        self._t = 0
        self._done = False
        self._last_action: int | None = None
        self._rng_state: int | None = None  # splitmix64 state, see the module docstring

    def step(self, action: int) -> tuple[Any, float, bool, bool, dict]:
        a = discrete_action("GridWorld", action, self.action_space, _EXPECTED_ACTION)
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
            gym.logger.warn(NO_RENDER_MODE)
            return None
        if self._cell < 0:
            raise ResetNeeded("GridWorld: call reset() before render()")
        if self.render_mode == "ansi":
            return self.render_text(self._cell, self._t, self._last_action)
        return self.render_rgb(self._cell, RENDER_TILE)

    def close(self) -> None:
        pass

    # --- state and pictures -----------------------------------------------------------------------

    @property
    def agent_cell(self) -> int:
        """The agent's flat cell index ``row * W + col`` (``-1`` before the first reset)."""
        return self._cell

    @property
    def agent_position(self) -> tuple[int, int]:
        """The agent's ``(row, col)``."""
        return divmod(self._cell, self.width)

    def _uniform(self) -> float:
        """Next uniform in [0, 1) of the splitmix64 stream (mirrored bit for bit by the vector env's kernel)."""
        s = (self._rng_state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        self._rng_state = s
        z = ((s ^ (s >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        z ^= z >> 31
        return (z >> 11) * TWO_POW_M53

    def render_rgb(self, cell: int, tile: int = RENDER_TILE) -> np.ndarray:
        """The world with the agent in `cell`, ``(H*tile, W*tile, 3)`` uint8."""
        return render_rgb(self.grid, self._tinted, cell, tile)

    def render_text(self, cell: int, t: int = 0, last_action: int | None = None) -> str:
        """The world as ANSI-coloured text with the agent (``@``) in `cell`, framed, and a status line."""
        action = "" if last_action is None else f"  last action: {ACTION_NAMES[last_action]}"
        return render_text(self.grid, self._tinted, cell, f"step {t}/{self.max_steps}{action}")
