"""GridWorld: layouts, dynamics, observation modes, the exact solver (against independent oracles)
and the batched vector env (against Gymnasium's SyncVectorEnv of single envs)."""

import tracemalloc
import warnings
from collections import deque

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import check_env, data_equivalence
from gymnasium.vector import AutoresetMode

import envs  # noqa: F401  (registers the ids)
from envs.baselines import load_baseline, run_episodes
from envs.gridworld import (
    GOAL,
    LAVA,
    WALL,
    GridWorldEnv,
    GridWorldVectorEnv,
    OptimalPolicy,
    cliff,
    four_rooms,
    make_layout,
    open_room,
    optimal_return,
    parse_layout,
    random_maze,
    value_iteration,
)

GRIDWORLD_IDS = [env_id for env_id in envs.ENV_IDS if env_id.startswith("rlkit/GridWorld")]


# --- plain-Python references ---------------------------------------------------------------------


def bfs_distance(text: str) -> dict[tuple[int, int], int]:
    """Shortest number of moves from every cell to a goal, never entering lava (a reference for the solver)."""
    rows = [line.strip() for line in text.strip().splitlines()]
    goals = [(r, c) for r, row in enumerate(rows) for c, ch in enumerate(row) if ch == "G"]
    dist = {g: 0 for g in goals}
    queue = deque(goals)
    while queue:
        r, c = queue.popleft()
        for dr, dc in ((-1, 0), (0, 1), (1, 0), (0, -1)):
            nr, nc = r + dr, c + dc
            if 0 <= nr < len(rows) and 0 <= nc < len(rows[0]) and rows[nr][nc] in ".S" and (nr, nc) not in dist:
                dist[(nr, nc)] = dist[(r, c)] + 1
                queue.append((nr, nc))
    return dist


def reference_move(text: str, position: tuple[int, int], action: int) -> tuple[int, int]:
    """Where a move without slip leads, read straight off the ASCII layout."""
    rows = [line.strip() for line in text.strip().splitlines()]
    dr, dc = ((-1, 0), (0, 1), (1, 0), (0, -1))[action]
    r, c = position[0] + dr, position[1] + dc
    if not (0 <= r < len(rows) and 0 <= c < len(rows[0])) or rows[r][c] == "#":
        return position
    return r, c


def policy_evaluation(env: GridWorldEnv, policy: np.ndarray, gamma: float) -> np.ndarray:
    """Exact values of a deterministic policy by solving the linear Bellman system (independent of value iteration)."""
    n, p = env.n_cells, env.slip_prob
    transition = np.zeros((n, n))
    expected_reward = np.zeros(n)
    for s in range(n):
        if env.grid.ravel()[s] == WALL or env.terminal[s]:
            continue
        a = policy[s]
        for direction, prob in ((a, 1 - p), ((a + 1) % 4, p / 2), ((a + 3) % 4, p / 2)):
            nxt = env.move_table[s, direction]
            expected_reward[s] += prob * env.entry_reward[nxt]
            if not env.terminal[nxt]:
                transition[s, nxt] += prob
    return np.linalg.solve(np.eye(n) - gamma * transition, expected_reward)


# --- layouts -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [3, 5, 9, 15])
def test_random_maze_is_a_solvable_perfect_maze(size):
    for seed in range(25):
        text = random_maze(size, seed)
        grid, starts = parse_layout(text)  # parse_layout itself refuses unsolvable layouts
        assert bfs_distance(text)[divmod(int(starts[0]), size)] >= size - 1
        floor = grid != WALL
        # A perfect maze is a tree over its open cells: edges == nodes - 1 (and it is connected).
        edges = (floor[1:, :] & floor[:-1, :]).sum() + (floor[:, 1:] & floor[:, :-1]).sum()
        assert edges == floor.sum() - 1
        assert len(bfs_distance(text)) == floor.sum()


def test_random_maze_is_seeded():
    assert random_maze(11, 3) == random_maze(11, 3)
    assert len({random_maze(11, seed) for seed in range(10)}) == 10
    assert gym.make("rlkit/GridWorld-Maze-v0", maze_seed=3).unwrapped.layout_text == random_maze(11, 3)


def test_named_layouts():
    assert make_layout("open", 4) == open_room(4) == "S...\n....\n....\n...G"
    assert cliff(5).splitlines() == [".....", ".....", ".....", "SLLLG"]
    rooms = four_rooms(11).splitlines()
    assert len(rooms) == 11 and rooms[5].count(".") == 2 and [row[5] for row in rooms].count(".") == 2
    for text in (four_rooms(7), four_rooms(12), open_room(2), cliff(3)):
        parse_layout(text)  # solvable


def test_ascii_layout_round_trip():
    text = """
        S.#.
        ..#G
        L...
    """
    env = GridWorldEnv(layout=text)
    assert (env.height, env.width) == (3, 4)
    assert env.grid[0, 2] == WALL and env.grid[1, 3] == GOAL and env.grid[2, 0] == LAVA
    assert env.start_cells.tolist() == [0]


def test_layout_without_start_starts_anywhere_on_floor():
    env = GridWorldEnv(layout="...\n.#.\n..G", observation="index")
    seen = {int(env.reset(seed=seed)[0]) for seed in range(200)}
    assert seen == {0, 1, 2, 3, 5, 6, 7}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"layout": "spiral"}, "unknown layout 'spiral'"),
        ({"layout": "S.\n.G.\n"}, "row 1 has 3 characters"),
        ({"layout": "S.x\n..G\n"}, "unknown characters ['x']"),
        ({"layout": "S..\n...\n"}, "no goal"),
        ({"layout": "S#.\n.#G\n"}, "cannot reach a goal"),
        ({"layout": "S.L\n..L\nLLG\n"}, "cannot reach a goal"),
        ({"layout": "S.G\n", "size": 4}, "size=4 given with an ASCII layout"),
        ({"layout": "open", "maze_seed": 1}, "maze_seed only applies"),
        ({"layout": "maze", "size": 10}, "even"),
        ({"layout": "open", "size": 1}, "size=1 is not an integer >= 2"),
        ({"slip_prob": 1.0}, "outside [0, 1)"),
        ({"slip_prob": "0.1"}, "slip_prob='0.1' is not a finite number"),
        ({"step_reward": float("nan")}, "step_reward=nan"),
        ({"max_steps": 0}, "max_steps=0"),
        ({"max_steps": True}, "max_steps=True"),
        ({"observation": "pixels"}, "unknown observation 'pixels'"),
        ({"view_size": 3}, "only applies to observation='partial'"),
        ({"observation": "partial", "view_size": 4}, "view_size=4 is even"),
        ({"render_mode": "human"}, "render_mode='human' is not supported"),
    ],
)
def test_constructor_arguments_are_validated(kwargs, message):
    with pytest.raises(ValueError) as excinfo:
        GridWorldEnv(**kwargs)
    assert message in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"size": 1_000_000},  # 10^12 cells: used to allocate until killed
        {"layout": "four_rooms", "size": 1025},
        {"layout": "maze", "size": 100_001},
        {"layout": "cliff", "size": 10**9},
        {"layout": "\n".join(["." * 1100] * 999 + ["." * 1099 + "G"])},
    ],
)
def test_worlds_above_the_cell_limit_are_refused_in_one_line(kwargs):
    with pytest.raises(ValueError, match=r"above the limit of 1,048,576 \(1024 x 1024\)") as excinfo:
        GridWorldEnv(**kwargs)
    assert "\n" not in str(excinfo.value)


def test_observation_tables_are_bounded():
    mib = 512 * 512 * 3 * 19 * 19 * 4 // 2**20  # a float32 view of 3 x 19 x 19 for each of 512 x 512 cells
    with pytest.raises(ValueError, match=rf"needs {mib:,} MiB of tables, above the limit of 1,024 MiB") as excinfo:
        GridWorldEnv(size=512, observation="partial", view_size=19)
    assert "\n" not in str(excinfo.value)


def test_one_hot_observations_need_no_square_matrix():
    """A (S, S) one-hot table of a 64 x 64 room would take 64 MiB; the env and the vector env stay far below."""
    GridWorldVectorEnv(num_envs=2).reset(seed=0)  # load the Numba kernels before tracing (tracing slows loading)
    tracemalloc.start()
    try:
        env = GridWorldEnv(size=64)
        env.reset(seed=0)
        obs, *_ = env.step(1)
        GridWorldVectorEnv(num_envs=2, size=64).reset(seed=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20
    assert obs.shape == (4096,) and obs.sum() == 1 and obs[env.agent_cell] == 1


def test_a_300_by_300_room_runs():
    """size=300 used to raise on a 30 GiB np.eye while building the observation table."""
    env = GridWorldEnv(size=300)
    obs, _ = env.reset(seed=0)
    obs, *_ = env.step(1)
    assert obs.shape == (90_000,) and obs.dtype == np.float32 and obs.sum() == 1 and obs[env.agent_cell] == 1
    batch, _ = GridWorldVectorEnv(num_envs=2, size=300).reset(seed=0)
    assert batch.shape == (2, 90_000) and np.all(batch.sum(axis=1) == 1) and np.all(batch[:, 0] == 1)


# --- dynamics and observations -------------------------------------------------------------------

LAYOUT = """
S..#....
.#.#.L..
.#...#.G
"""


def test_moves_match_the_layout():
    env = GridWorldEnv(layout=LAYOUT, observation="index", max_steps=10_000)
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=0)
    position = (0, 0)
    for _ in range(3000):
        action = int(rng.integers(4))
        obs, reward, terminated, truncated, info = env.step(action)
        position = reference_move(LAYOUT, position, action)
        assert divmod(int(obs), env.width) == position == env.agent_position
        cell = LAYOUT.strip().splitlines()[position[0]].strip()[position[1]]
        assert terminated == (cell in "GL")
        assert reward == pytest.approx(-0.01 + {"G": 1.0, "L": -1.0}.get(cell, 0.0))
        if terminated:
            assert info["episode_metrics"]["success"] == float(cell == "G")
            obs, _ = env.reset()
            position = (0, 0)
        else:
            assert info == {}


def test_slip_probabilities():
    env = GridWorldEnv(layout=".....\n.....\n..S..\n.....\n....G", slip_prob=0.3, observation="index")
    counts = np.zeros(4)
    env.reset(seed=1)
    for _ in range(6000):
        assert env.reset()[0] == 12  # the centre: all four neighbours are free
        obs, *_ = env.step(0)  # up
        counts[[7, 13, 17, 11].index(int(obs))] += 1  # up, right, down, left of the centre
    freq = counts / counts.sum()
    expected = np.array([0.7, 0.15, 0.0, 0.15])
    assert np.all(np.abs(freq - expected) < 4 * np.sqrt(expected * (1 - expected) / counts.sum()) + 1e-12)


def test_truncation_and_episode_metrics():
    env = gym.make("rlkit/GridWorld-v0", max_steps=5)
    env.reset(seed=0)
    for t in range(1, 6):
        obs, reward, terminated, truncated, info = env.step(3)  # into the left wall: never arrives
        assert not terminated and truncated == (t == 5)
    assert info["episode_metrics"] == {"success": 0.0, "length": 5.0}
    with pytest.raises(ResetNeeded):
        env.step(0)


def test_observation_modes_describe_the_same_state():
    text = four_rooms(7)
    kwargs = {"layout": text, "max_steps": 50}
    modes = {mode: GridWorldEnv(observation=mode, **kwargs) for mode in ("onehot", "index", "grid", "rgb")}
    partial = GridWorldEnv(observation="partial", view_size=3, **kwargs)
    rows = text.splitlines()
    rng = np.random.default_rng(0)
    observations = {mode: env.reset(seed=5)[0] for mode, env in modes.items()}
    observations["partial"] = partial.reset(seed=5)[0]
    for _ in range(60):
        cell = int(observations["index"])
        r, c = divmod(cell, 7)
        assert observations["onehot"].argmax() == cell and observations["onehot"].sum() == 1
        grid = observations["grid"]
        assert grid[3].sum() == 1 and grid[3, r, c] == 1
        np.testing.assert_array_equal(grid[0], modes["grid"].grid == WALL)
        np.testing.assert_array_equal(grid[2], modes["grid"].grid == GOAL)
        view = observations["partial"].reshape(3, 3, 3)
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                inside = 0 <= r + dr < 7 and 0 <= c + dc < 7
                assert view[0, 1 + dr, 1 + dc] == (not inside or rows[r + dr][c + dc] == "#")
                assert view[2, 1 + dr, 1 + dc] == (inside and rows[r + dr][c + dc] == "G")
        t = modes["rgb"]._obs_tile
        assert observations["rgb"].shape == (3, 7 * t, 7 * t)
        assert tuple(observations["rgb"][:, r * t + t // 2, c * t + t // 2]) == (40, 84, 216)  # the agent's disc
        action = int(rng.integers(4))
        done = False
        for mode, env in modes.items():
            observations[mode], _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
        observations["partial"], *_ = partial.step(action)
        if done:
            observations = {mode: env.reset()[0] for mode, env in modes.items()}
            observations["partial"] = partial.reset()[0]


@pytest.mark.parametrize("observation", ["grid", "index"])
def test_unregistered_observation_modes_pass_gymnasium_check_env(observation):
    env = gym.make("rlkit/GridWorld-v0", observation=observation)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)


def test_render_modes():
    env = gym.make("rlkit/GridWorld-Cliff-v0", render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (4 * 32, 12 * 32, 3) and frame.dtype == np.uint8
    assert tuple(frame[3 * 32 + 16, 5 * 32 + 16]) == (232, 96, 36)  # lava
    text_env = gym.make("rlkit/GridWorld-Cliff-v0", render_mode="ansi")
    text_env.reset(seed=0)
    text_env.step(0)
    text = text_env.render()
    assert "@" in text and "step 1/" in text and "last action: up" in text


def test_actions_outside_the_space():
    env = gym.make("rlkit/GridWorld-v0")
    env.reset(seed=0)
    for bad in (4, -1, 1.0, np.array([1]), "up"):
        with pytest.raises(ValueError, match=r"not in the action space Discrete\(4\)"):
            env.step(bad)
    env.step(np.int64(2))
    env.step(np.array(1))
    vec = gym.make_vec("rlkit/GridWorld-v0", num_envs=3, vectorization_mode="vector_entry_point")
    vec.reset(seed=0)
    for bad in (np.array([0, 1, 4]), np.array([0, 1]), np.array([0.0, 1.0, 2.0])):
        with pytest.raises(ValueError, match=r"not in the action space MultiDiscrete\(\[4 4 4\]\)"):
            vec.step(bad)


def test_same_seed_same_trajectory_and_different_seed_differs():
    def trajectory(seed):
        env = gym.make("rlkit/GridWorld-Cliff-v0", observation="index")
        obs, _ = env.reset(seed=seed)
        out = [int(obs)]
        for action in np.random.default_rng(0).integers(4, size=300):
            obs, reward, terminated, truncated, _ = env.step(int(action))
            out.append((int(obs), reward))
            if terminated or truncated:
                out.append(int(env.reset()[0]))
        return out

    assert trajectory(7) == trajectory(7)
    assert trajectory(7) != trajectory(8)  # the cliff slips


# --- the exact solver ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", [open_room(6), four_rooms(11), cliff(12), random_maze(11, 0), random_maze(15, 4), LAYOUT])
def test_value_iteration_matches_shortest_paths(text):
    env = GridWorldEnv(layout=text)
    values, policy = value_iteration(env)
    for (r, c), dist in bfs_distance(text).items():
        if dist > 0:
            assert values[r * env.width + c] == pytest.approx(1.0 - 0.01 * dist, abs=1e-9)
            nxt = env.move_table[r * env.width + c, policy[r * env.width + c]]
            assert bfs_distance(text).get(divmod(int(nxt), env.width)) == dist - 1  # the policy follows a shortest path


@pytest.mark.parametrize("env_id", ["rlkit/GridWorld-v0", "rlkit/GridWorld-Maze-v0", "rlkit/GridWorld-PartialView-v0"])
def test_optimal_policy_return_equals_solver_value(env_id):
    env = gym.make(env_id)
    policy = load_baseline(env_id, "optimal", env)
    returns = run_episodes(env, policy, n_episodes=3, seed=0)
    np.testing.assert_allclose(returns, optimal_return(env), atol=1e-9)


def test_slippery_optimal_policy_return_matches_solver_in_expectation():
    env = gym.make("rlkit/GridWorld-Cliff-v0")
    returns = run_episodes(env, OptimalPolicy(env.unwrapped), n_episodes=2000, seed=0)
    expected = optimal_return(env)
    assert abs(returns.mean() - expected) < 4 * returns.std() / np.sqrt(len(returns))
    # With slips the solver keeps off the cliff edge: its path is longer than the 13-step shortest one.
    assert expected < 1.0 - 0.01 * 13


@pytest.mark.parametrize("gamma", [0.9, 0.99])
def test_value_iteration_is_optimal_against_exact_policy_evaluation(gamma):
    env = GridWorldEnv(layout=LAYOUT, slip_prob=0.2)
    values, policy = value_iteration(env, gamma=gamma)
    floor = (env.grid.ravel() != WALL) & ~env.terminal
    np.testing.assert_allclose(policy_evaluation(env, policy, gamma)[floor], values[floor], atol=1e-7)
    rng = np.random.default_rng(0)
    for _ in range(20):
        other = policy_evaluation(env, rng.integers(4, size=env.n_cells), gamma)
        assert np.all(other[floor] <= values[floor] + 1e-9)


def test_value_iteration_arguments():
    with pytest.raises(ValueError, match="gamma=1 needs step_reward < 0"):
        value_iteration(GridWorldEnv(step_reward=0.0))
    with pytest.raises(ValueError, match="expected a GridWorld env"):
        value_iteration(gym.make("CartPole-v1"))
    values, _ = value_iteration(GridWorldEnv(layout="S.#.\n..#.\nG.#.\n"))
    assert np.isneginf(values[3])  # the floor right of the wall cannot reach a goal


# --- the batched vector env ----------------------------------------------------------------------


def _run_pair(kwargs, mode, num_envs=5, steps=150, seed=11):
    sync = gym.make_vec(
        "rlkit/GridWorld-v0", num_envs=num_envs, vectorization_mode="sync", vector_kwargs={"autoreset_mode": mode}, **kwargs
    )
    batched = gym.make_vec(
        "rlkit/GridWorld-v0", num_envs=num_envs, vectorization_mode="vector_entry_point", autoreset_mode=mode, **kwargs
    )
    assert batched.metadata["autoreset_mode"] == AutoresetMode(mode)
    assert batched.observation_space == sync.observation_space and batched.action_space == sync.action_space
    rng = np.random.default_rng(seed)
    results = [sync.reset(seed=seed), batched.reset(seed=seed)]
    assert data_equivalence(*results, exact=True)
    n_done = 0
    for _ in range(steps):
        actions = rng.integers(4, size=num_envs)
        a, b = sync.step(actions), batched.step(actions)
        assert data_equivalence(a, b, exact=True), (a, b)
        done = a[2] | a[3]
        n_done += done.sum()
        if mode == "Disabled" and done.any():
            a, b = sync.reset(options={"reset_mask": done.copy()}), batched.reset(options={"reset_mask": done.copy()})
            assert data_equivalence(a, b, exact=True)
    return n_done


@pytest.mark.parametrize("mode", ["NextStep", "SameStep", "Disabled"])
@pytest.mark.parametrize(
    "kwargs",
    [
        {"layout": "cliff", "size": 5, "slip_prob": 0.2, "max_steps": 12},
        {"layout": "...\n.L.\n..G\n", "slip_prob": 0.3, "max_steps": 9},  # random starts, slips, lava
    ],
)
def test_vector_env_equals_sync_vector_env(kwargs, mode):
    assert _run_pair(kwargs, mode) > 20  # many episodes ended (terminated and truncated) on the way


@pytest.mark.parametrize("observation", ["onehot", "index", "grid", "partial", "rgb"])
def test_vector_env_equals_sync_vector_env_for_every_observation(observation):
    kwargs = {"layout": "four_rooms", "size": 7, "slip_prob": 0.1, "max_steps": 15, "observation": observation}
    assert _run_pair(kwargs, "SameStep", num_envs=3, steps=60) > 5


def test_vector_env_seed_list_and_render():
    vec = gym.make_vec("rlkit/GridWorld-v0", num_envs=2, vectorization_mode="vector_entry_point", layout="...\n..G\n", observation="index", render_mode="ansi")
    single = gym.make("rlkit/GridWorld-v0", layout="...\n..G\n", observation="index")
    obs, _ = vec.reset(seed=[3, 9])
    assert obs.tolist() == [int(single.reset(seed=3)[0]), int(single.reset(seed=9)[0])]
    frames = vec.render()
    assert len(frames) == 2 and all(isinstance(f, str) and "@" in f for f in frames)
    with pytest.raises(ValueError, match="seed="):
        vec.reset(seed=[1, 2, 3])


def test_make_vec_uses_the_batched_env_at_scale():
    vec = gym.make_vec("rlkit/GridWorld-v0", num_envs=1024, vectorization_mode="vector_entry_point")
    assert type(vec.unwrapped).__name__ == "GridWorldVectorEnv"
    obs, _ = vec.reset(seed=0)
    assert obs.shape == (1024, 36)
    rng = np.random.default_rng(0)
    ended = 0
    for _ in range(200):
        obs, rewards, terminated, truncated, infos = vec.step(rng.integers(4, size=1024))
        assert obs.shape == (1024, 36) and np.all(obs.sum(axis=1) == 1)
        if "episode_metrics" in infos:
            ended += infos["_episode_metrics"].sum()
            np.testing.assert_array_equal(infos["_episode_metrics"], terminated | truncated)
    assert ended > 100


# --- learnability of the default env (the CLI's default `rlkit train` is PPO on it) -----------------


@pytest.mark.slow
def test_ppo_learns_the_default_room_to_the_optimum():
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    env_id = "rlkit/GridWorld-v0"
    model = PPO("MlpPolicy", make_vec_env(env_id, n_envs=4, seed=0), n_steps=256, batch_size=64, seed=0, device="cpu")
    model.learn(30_000)
    env = gym.make(env_id)
    returns = []
    for seed in range(5):
        obs, _ = env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(int(model.predict(obs, deterministic=True)[0]))
            total += reward
            done = terminated or truncated
        returns.append(total)
    np.testing.assert_allclose(returns, optimal_return(env), atol=1e-9)
