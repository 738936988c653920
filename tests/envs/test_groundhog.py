"""rlkit/GroundhogDay: dynamics against a plain-Python reference, the oracle against brute force, the
Bayesian learner's posterior against enumeration, task resampling, bad input, and the baselines.
Gymnasium's and SB3's checkers, seeded determinism and render types run for every variant in
tests/envs/test_all_envs.py."""

import itertools
import re
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import envs
from envs import groundhog
from envs.baselines import load_baseline, run_episodes
from envs.groundhog import (
    AFFECTION,
    INVALID_PENALTY,
    BayesianLearner,
    FixedStrategy,
    GroundhogDayEnv,
    Oracle,
    sample_preferences,
)

GROUNDHOG_IDS = [env_id for env_id in envs.ENV_IDS if env_id.startswith("rlkit/GroundhogDay")]
LEVELS = ("negative", "neutral", "positive", "delighted")
AFFECTION_OF = {"none": 0, "negative": -1, "neutral": 0, "positive": 1, "delighted": 2}
SMALL = {"n_places": 3, "n_behaviours": 3, "n_slots": 6, "n_loops": 3}


def reference_reaction(prefs, place, behaviour, slot, done_today):
    """Her noise-free reaction, written from the module docstring's rules ('none' if not met)."""
    if prefs.routine[slot] != place:
        return "none"
    if behaviour == prefs.combo_after and prefs.combo_before in done_today:
        level = "delighted"
    else:
        level = LEVELS[prefs.taste[behaviour] - 1]
    if behaviour in done_today:
        level = LEVELS[max(LEVELS.index(level) - 1, 0)]
    return level


def test_registered_variants():
    assert GROUNDHOG_IDS == ["rlkit/GroundhogDay-v0", "rlkit/GroundhogDay-Easy-v0", "rlkit/GroundhogDay-Hard-v0"]
    for env_id in GROUNDHOG_IDS:
        assert set(envs.BASELINES[env_id]) == {"fixed", "bayes", "oracle"}


@pytest.mark.parametrize("kwargs", [SMALL, {"n_places": 8, "n_behaviours": 6}])
def test_dynamics_match_plain_python_reference_without_noise(kwargs):
    env = GroundhogDayEnv(noise=0.0, **kwargs)
    rng = np.random.default_rng(1)
    for seed in range(5):
        obs, info = env.reset(seed=seed)
        prefs = env.preferences
        done_today, affection, expected_return, total = set(), 0, 0.0, 0.0
        for step in range(env.n_loops * env.n_slots):
            slot, loop = step % env.n_slots, step // env.n_slots
            assert (info["slot"], info["loop"]) == (slot, loop)
            # Mostly her routine place, so that tastes, boredom and the combination all show up.
            place = int(prefs.routine[slot]) if rng.random() < 0.7 else int(rng.integers(env.n_places))
            behaviour = int(rng.integers(env.n_behaviours))
            obs, reward, terminated, truncated, info = env.step(place * env.n_behaviours + behaviour)
            seen = env.decode_observation(obs)
            if not groundhog.VALID[place, behaviour]:
                expected_reward = -INVALID_PENALTY
                assert (seen["place"], seen["behaviour"], seen["reaction"]) == (-1, -1, 0)
            else:
                reaction = reference_reaction(prefs, place, behaviour, slot, done_today)
                expected_reward = AFFECTION_OF[reaction]
                affection += expected_reward
                if reaction != "none":
                    done_today.add(behaviour)
                assert groundhog.REACTIONS[seen["reaction"]] == reaction
                assert (seen["place"], seen["behaviour"]) == (place, behaviour)
            if slot == env.n_slots - 1:
                expected_reward += env.day_bonus if affection >= env.good_day_affection else 0.0
                done_today, affection = set(), 0
            assert reward == pytest.approx(expected_reward)
            assert terminated == (step == env.n_loops * env.n_slots - 1) and truncated is False
            expected_return += expected_reward
            total += reward
        assert total == pytest.approx(expected_return)


def test_noise_replaces_reactions_at_the_documented_rate():
    env = GroundhogDayEnv(noise=0.4)
    changed = met = 0
    for seed in range(40):
        env.reset(seed=seed)
        prefs, done_today = env.preferences, set()
        for step in range(env.n_loops * env.n_slots):
            slot = step % env.n_slots
            if slot == 0:
                done_today = set()
            place, behaviour = int(prefs.routine[slot]), step % 2  # behaviours 0 and 1 are possible everywhere
            obs, reward, *_ = env.step(place * env.n_behaviours + behaviour)
            shown = groundhog.REACTIONS[env.decode_observation(obs)["reaction"]]
            changed += shown != reference_reaction(prefs, place, behaviour, slot, done_today)
            met += 1
            done_today.add(behaviour)
            if slot < env.n_slots - 1:  # affection follows the reaction she shows
                assert reward == AFFECTION[groundhog.REACTIONS.index(shown)]
    # A noisy reaction is uniform over 4 levels, so it differs from the true one 3/4 of the time.
    expected = 0.4 * 0.75
    assert abs(changed / met - expected) < 4 * np.sqrt(expected * (1 - expected) / met)


def test_same_seed_same_trajectory_and_new_seed_new_task():
    def trajectory(seed):
        env = gym.make("rlkit/GroundhogDay-v0")
        env.action_space.seed(seed)
        obs, info = env.reset(seed=seed)
        out = [obs, info["task_id"]]
        for _ in range(64):
            obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
            out += [obs, reward, terminated]
        return out

    first, again, other = trajectory(5), trajectory(5), trajectory(6)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert first[1] != other[1]


def test_task_is_kept_by_plain_resets_and_resampled_only_when_asked():
    env = GroundhogDayEnv()
    _, info = env.reset(seed=3)
    task = info["task_id"]
    prefs = env.preferences
    for _ in range(3):
        _, info = env.reset()
        assert info["task_id"] == task and env.preferences is prefs
    _, info = env.reset(options={"new_task": True})
    assert info["task_id"] != task
    _, info = env.reset(seed=4)
    assert info["task_id"] not in (task,)
    _, info = env.reset(options={"task_id": task})
    assert info["task_id"] == task
    replay = sample_preferences(task, env.n_places, env.n_behaviours, env.n_slots)
    assert np.array_equal(env.preferences.routine, prefs.routine) and np.array_equal(replay.taste, prefs.taste)
    assert (replay.combo_before, replay.combo_after) == (prefs.combo_before, prefs.combo_after)

    every_episode = GroundhogDayEnv(new_task_on_reset=True)
    every_episode.reset(seed=0)
    ids = {every_episode.reset()[1]["task_id"] for _ in range(5)}
    assert len(ids) == 5


def test_preferences_follow_the_priors():
    n = 4000
    routine_at_typical = combo_after_liked = 0
    taste_counts = np.zeros((4, 4))
    for task in range(n):
        prefs = sample_preferences(task, 5, 4, 8)
        routine_at_typical += sum(prefs.routine[t] == groundhog.typical_place(t, 5, 8) for t in range(8))
        combo_after_liked += prefs.taste[prefs.combo_after] >= groundhog.POSITIVE
        for b in range(4):
            if b != prefs.combo_after:
                taste_counts[b, prefs.taste[b] - 1] += 1
    assert abs(routine_at_typical / (8 * n) - groundhog.ROUTINE_PROB) < 0.02
    assert combo_after_liked == 0
    frequencies = taste_counts / taste_counts.sum(1, keepdims=True)
    np.testing.assert_allclose(frequencies, groundhog.TASTE_PRIOR[:4], atol=0.03)


def test_observation_blocks_info_and_episode_metrics():
    env = GroundhogDayEnv(n_loops=3)
    obs, info = env.reset(seed=0)
    assert obs.dtype == np.float32 and obs.shape == env.observation_space.shape
    assert env.decode_observation(obs) == {"slot": 0, "loop": 0, "place": -1, "behaviour": -1, "reaction": 0}
    np.testing.assert_array_equal(info["action_mask"], groundhog.VALID[:5, :4].reshape(-1).astype(np.int8))
    assert info["action_mask"].dtype == np.int8
    rewards, terminated = [], False
    while not terminated:
        possible = np.flatnonzero(info["action_mask"])
        obs, reward, terminated, truncated, info = env.step(int(possible[len(rewards) % 3]))
        rewards.append(reward)
        # Every block is one-hot, except the slot block once the episode is over.
        blocks = np.split(obs, np.cumsum([env.n_slots, env.n_loops, env.n_places + 1, env.n_behaviours + 1]))
        assert [block.sum() for block in blocks] == [0.0 if terminated else 1.0, 1.0, 1.0, 1.0, 1.0]
        seen = env.decode_observation(obs)
        assert (seen["slot"], seen["loop"]) == (info["slot"], info["loop"])
        assert ("episode_metrics" in info) == terminated
    assert len(rewards) == 3 * env.n_slots and (info["slot"], info["loop"]) == (env.n_slots, 2)
    metrics = info["episode_metrics"]
    assert set(metrics) == {
        "mean_day_affection", "first_day_affection", "last_day_affection", "good_days", "met_rate", "impossible_actions"
    }
    assert all(isinstance(v, float) for v in metrics.values())
    assert sum(rewards) == pytest.approx(3 * metrics["mean_day_affection"] + env.day_bonus * metrics["good_days"])
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)


def test_impossible_action_wastes_the_slot_at_home():
    env = GroundhogDayEnv()
    _, info = env.reset(seed=0)
    impossible = int(np.flatnonzero(info["action_mask"] == 0)[0])
    obs, reward, *_ = env.step(impossible)
    assert reward == -INVALID_PENALTY
    assert env.decode_observation(obs) == {"slot": 1, "loop": 0, "place": -1, "behaviour": -1, "reaction": 0}
    for _ in range(63):
        *_, info = env.step(impossible)
    assert info["episode_metrics"]["impossible_actions"] == 64.0


@pytest.mark.parametrize("action", [-1, 20, 2.0, np.float32(1), "3", None, np.array([1, 2]), True])
def test_action_outside_the_space_raises_value_error_naming_it(action):
    env = gym.make("rlkit/GroundhogDay-v0")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=re.escape("Discrete(20)")):
        env.step(action)


def test_numpy_integer_actions_are_accepted():
    env = GroundhogDayEnv()
    env.reset(seed=0)
    for action in (np.int64(1), np.array(2), np.int32(3)):
        env.step(action)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_places": 1}, "n_places=1"),
        ({"n_places": 9}, r"n_places=9 .*\[2, 8\]"),
        ({"n_behaviours": 7}, "n_behaviours=7"),
        ({"n_slots": 2.5}, "n_slots=2.5"),
        ({"n_loops": 0}, "n_loops=0"),
        ({"noise": 1.0}, r"noise=1.0 .*\[0, 1\)"),
        ({"noise": -0.1}, "noise=-0.1"),
        ({"day_bonus": -1}, "day_bonus=-1"),
        ({"good_day_affection": 2.5}, "good_day_affection=2.5"),
        ({"new_task_on_reset": 1}, "new_task_on_reset=1"),
        ({"render_mode": "human"}, "render_mode='human'"),
    ],
)
def test_constructor_arguments_are_validated(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GroundhogDayEnv(**kwargs)


@pytest.mark.parametrize(
    "options, message",
    [({"seed": 1}, "unknown reset options"), ({"new_task": 1}, "new_task=1"), ({"task_id": -1}, "task_id=-1")],
)
def test_bad_reset_options_raise(options, message):
    with pytest.raises(ValueError, match=message):
        GroundhogDayEnv().reset(options=options)


def test_render_ansi_narrates_and_rgb_array_draws_the_timeline():
    text_env = gym.make("rlkit/GroundhogDay-v0", render_mode="ansi")
    picture_env = gym.make("rlkit/GroundhogDay-v0", render_mode="rgb_array")
    for env in (text_env, picture_env):
        env.reset(seed=0)
    prefs = text_env.unwrapped.preferences
    first = int(prefs.routine[0]) * 4 + 1  # meet her with a compliment
    for env in (text_env, picture_env):
        env.step(first)
        env.step(int(prefs.routine[1] + 1) % 5 * 4)  # miss her
    text = text_env.render()
    lines = text.strip().splitlines()
    assert lines[0].startswith("Day 1 of 8") and len(lines) == 4
    assert lines[1].startswith("06:00 At the") and "compliment her" in lines[1]
    assert "not there" in lines[2] and "Affection so far" in lines[3]
    image = picture_env.render()
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    # The first cell is coloured by her reaction, the second by 'none', the rest are blank.
    colours = groundhog.REACTION_COLOURS
    shown = picture_env.unwrapped._history_reaction[0, 0]
    np.testing.assert_array_equal(image[2 + 10, 2 + 8], colours[shown])
    np.testing.assert_array_equal(image[2 + 10, 2 + 16 + 8], colours[0])
    assert (image[2 + 10, 2 + 32 + 8] == 255).all()
    with pytest.warns(UserWarning, match="render_mode"):
        assert GroundhogDayEnv().render() is None


def best_day_by_brute_force(env):
    """Max over every day plan (skip, or meet her with a possible behaviour, each slot) without noise."""
    prefs, best = env.preferences, -np.inf
    options = []
    for t in range(env.n_slots):
        options.append([None] + [b for b in range(env.n_behaviours) if groundhog.VALID[prefs.routine[t], b]])
    for plan in itertools.product(*options):
        done, affection = set(), 0
        for t, b in enumerate(plan):
            if b is not None:
                reaction = reference_reaction(prefs, prefs.routine[t], b, t, done)
                affection += AFFECTION_OF[reaction]
                done.add(b)
        best = max(best, affection + (env.day_bonus if affection >= env.good_day_affection else 0.0))
    return best


@pytest.mark.parametrize("seed", range(4))
def test_planner_reaction_table_matches_reference_for_a_known_task(seed):
    prefs = sample_preferences(seed, 5, 4, 8)
    onehot_tastes = np.eye(4)[prefs.taste - 1][None]
    combos = np.array([[prefs.combo_before, prefs.combo_after]])
    probs = groundhog.reaction_probabilities(onehot_tastes, np.ones(1), combos, 0.2)
    for mask in range(16):
        done = {b for b in range(4) if mask >> b & 1}
        for b in range(4):
            expected = np.full(4, 0.2 / 4)
            expected[LEVELS.index(reference_reaction(prefs, prefs.routine[0], b, 0, done))] += 0.8
            np.testing.assert_allclose(probs[mask, b], expected)


def test_oracle_plays_the_best_day_found_by_brute_force():
    env = GroundhogDayEnv(n_places=4, n_behaviours=4, n_slots=6, n_loops=2, noise=0.0)
    oracle = Oracle(env)
    for seed in range(6):
        obs, info = env.reset(seed=seed)
        oracle.reset(env, obs, info)
        day_return = 0.0
        for _ in range(env.n_slots):
            obs, reward, _, _, info = env.step(oracle.act(obs, info))
            day_return += reward
        assert day_return == pytest.approx(best_day_by_brute_force(env))


def test_bayesian_posterior_matches_enumeration_over_all_hypotheses():
    env = GroundhogDayEnv(n_places=3, n_behaviours=3, n_slots=6, n_loops=3, noise=0.2)
    learner = BayesianLearner(env, seed=0)
    obs, info = env.reset(seed=2)
    learner.reset(env, obs, info)
    seen = []  # (behaviour, done today, shown level) of every meeting
    done_today = set()
    for step in range(env.n_loops * env.n_slots):
        slot = step % env.n_slots
        if slot == 0:
            done_today = set()
        action = learner.act(obs, info)
        obs, _, _, _, info = env.step(action)
        reaction = env.decode_observation(obs)["reaction"]
        place, behaviour = divmod(action, env.n_behaviours)
        if reaction != 0:
            seen.append((behaviour, frozenset(done_today), reaction - 1))
            done_today.add(behaviour)
    learner.update(*learner.last, env.decode_observation(obs)["reaction"])  # the last reaction too

    # Brute force: every (combination pair, taste vector) with prior x likelihood of every reaction.
    posterior = {}
    prior = groundhog.TASTE_PRIOR[:3]
    for before, after in itertools.permutations(range(3), 2):
        for tastes in itertools.product(range(4), repeat=3):
            if tastes[after] >= 2:
                continue
            p = 1.0 / 6
            for b in range(3):
                p *= prior[b, tastes[b]] / (prior[b, :2].sum() if b == after else 1.0)
            prefs = groundhog.Preferences(0, np.zeros(6, int), np.array(tastes) + 1, before, after)
            for behaviour, done, shown in seen:
                true_level = LEVELS.index(reference_reaction(prefs, 0, behaviour, 0, done))
                p *= 0.8 * (shown == true_level) + 0.2 / 4
            posterior[(before, after, tastes)] = p
    total = sum(posterior.values())
    pair_marginal = {
        pair: sum(p for (b, a, _), p in posterior.items() if (b, a) == pair) / total
        for pair in itertools.permutations(range(3), 2)
    }
    weights = learner.weights()
    for k, (before, after) in enumerate(learner.combos):
        assert weights[k] == pytest.approx(pair_marginal[(before, after)], abs=1e-9)
        for b in range(3):
            conditional = np.zeros(4)
            for (bb, aa, tastes), p in posterior.items():
                if (bb, aa) == (before, after):
                    conditional[tastes[b]] += p
            np.testing.assert_allclose(learner.taste_probs[k, b], conditional / conditional.sum(), atol=1e-9)
    # Where she is: settled where met, ruled out where missed.
    routine = env.preferences.routine
    for t in range(env.n_slots):
        row = learner.meet_prob[t]
        assert row.sum() == pytest.approx(1.0) and row[routine[t]] > 0


def test_fixed_strategy_is_memoryless():
    env = GroundhogDayEnv()
    policy = FixedStrategy(env)
    rng = np.random.default_rng(0)
    observations = []
    for seed in range(3):
        obs, info = env.reset(seed=seed)
        policy.reset(env, obs, info)
        for _ in range(20):
            observations.append(obs)
            obs, *_ = env.step(int(rng.choice(np.flatnonzero(info["action_mask"]))))
    first = [policy.act(o, {}) for o in observations]
    shuffled = rng.permutation(len(observations))
    assert [policy.act(observations[i], {}) for i in shuffled] == [first[i] for i in shuffled]


@pytest.mark.parametrize("env_id", GROUNDHOG_IDS)
def test_baselines_run_through_envs_baselines(env_id):
    env = gym.make(env_id)
    for name in ("random", "fixed", "bayes", "oracle"):
        returns = run_episodes(env, load_baseline(env_id, name, env), n_episodes=2, seed=0)
        assert returns.shape == (2,) and np.isfinite(returns).all()


def test_memory_is_worth_four_times_the_best_memoryless_policy_on_20_episodes():
    """The default suite's cheap twin of the slow test below (one fifth of its episodes, 1.6 s)."""
    table = groundhog.baseline_table(n_episodes=20, seed=0)
    mean = {name: row["mean"] for name, row in table.items()}
    assert mean["random"] < mean["fixed"] and mean["bayes"] > 4 * mean["fixed"] and mean["bayes"] <= mean["oracle"]
    assert table["bayes"]["last_day_affection"] >= 0.9 * table["oracle"]["last_day_affection"]


@pytest.mark.slow  # 100 episodes of the Bayesian learner's planning: 9-15 s, the default suite's heaviest env test
def test_baseline_ordering_with_margins_and_published_table():
    """The default variant's rows of experiments/results/groundhog_baselines.md (python -m envs.groundhog) are
    what baseline_table() computes now."""
    table = groundhog.baseline_table(n_episodes=100, seed=0)
    mean = {name: row["mean"] for name, row in table.items()}
    # Margins: a memoryless policy that knows the priors is worth at least twice random; remembering
    # the reactions of earlier loops is worth at least 4x the best memoryless policy; the oracle is the
    # ceiling, and by the last loop the Bayesian learner plays days within 10% of the oracle's.
    assert mean["fixed"] > 2 * mean["random"] and mean["fixed"] - mean["random"] > 3 * table["fixed"]["sem"]
    assert mean["bayes"] > 4 * mean["fixed"]
    assert mean["bayes"] <= mean["oracle"]
    assert table["bayes"]["last_day_affection"] >= 0.9 * table["oracle"]["last_day_affection"]
    published = (Path(__file__).parents[2] / "experiments" / "results" / "groundhog_baselines.md").read_text()
    default_table = published.split("`rlkit/GroundhogDay-Easy-v0`")[0]
    assert groundhog.format_baseline_table(table) in default_table
