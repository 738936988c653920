"""GroundhogDay's baselines (see ``envs.baselines`` for the policy interface): ``fixed``, the best
memoryless policy found; ``bayes``, exact posterior with Thompson sampling and planning; ``oracle``,
which reads the preferences. ``random`` is ``envs.baselines.RandomPolicy``."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from envs.baselines import RandomPolicy, run_episode

from envs.groundhog.env import GroundhogDayEnv
from envs.groundhog.planning import bored_levels, plan_day, reaction_probabilities
from envs.groundhog.world import AFFECTION, DELIGHTED, NEGATIVE, NONE, POSITIVE, ROUTINE_PROB, TASTE_PRIOR, typical_place


class _Tracker:
    """Follows the day from the observations: slot, loop, the last action's reaction, the behaviours
    done with her today and today's affection (what a policy with memory of *today* would know)."""

    def __init__(self, env: GroundhogDayEnv):
        self.env = env
        self.mask = 0
        self.affection = 0

    def observe(self, observation: np.ndarray, last_action: int | None) -> dict[str, int]:
        seen = self.env.decode_observation(observation)
        if seen["slot"] == 0:
            self.mask = self.affection = 0
        elif last_action is not None and seen["reaction"] != NONE:
            self.mask |= 1 << (last_action % self.env.n_behaviours)
            self.affection += int(AFFECTION[seen["reaction"]])
        return seen


class Oracle:
    """Knows her preferences (reads them from the env at reset) and plays the expected-best day every
    loop: `plan_day` on the true routine and tastes, following the day's affection as it goes."""

    def __init__(self, env: gym.Env):
        self.env: GroundhogDayEnv = env.unwrapped

    def reset(self, env: gym.Env, observation: np.ndarray, info: dict) -> None:
        self.env = env.unwrapped
        e, prefs = self.env, self.env.preferences
        meet = np.eye(e.n_places)[prefs.routine]  # (T, P)
        taste = np.eye(4)[prefs.taste - NEGATIVE][None]  # (1, B, 4)
        combos = np.array([[prefs.combo_before, prefs.combo_after]])
        probs = reaction_probabilities(taste, np.ones(1), combos, e.noise)
        self.best = plan_day(meet, probs, e.valid, e.day_bonus, e.good_day_affection)
        self.tracker = _Tracker(e)
        self.last_action = None

    def act(self, observation: np.ndarray, info: dict) -> int:
        seen = self.tracker.observe(observation, self.last_action)
        t = seen["slot"]
        self.last_action = int(self.best[t, self.tracker.mask, self.tracker.affection + self.env.n_slots])
        return self.last_action


class FixedStrategy:
    """The best memoryless policy we found: a function of the current observation only.

    Goes to the typical place of the slot (where she is with probability ``ROUTINE_PROB``); repeats
    the last behaviour if it just delighted her (tastes hold all day; bored, it is still positive),
    otherwise does the slot's scheduled behaviour. The schedule is chosen greedily, slot by slot,
    for the highest prior-expected affection, counting the chance that she has already heard it
    today. It uses the public priors only, never the task.
    """

    def __init__(self, env: gym.Env):
        self.env: GroundhogDayEnv = env.unwrapped
        e = self.env
        values = AFFECTION[NEGATIVE:].astype(float)
        fresh = TASTE_PRIOR[: e.n_behaviours] @ values
        bored = bored_levels(TASTE_PRIOR[: e.n_behaviours]) @ values
        times_scheduled = np.zeros(e.n_behaviours)
        self.places = [typical_place(t, e.n_places, e.n_slots) for t in range(e.n_slots)]
        self.schedule = []
        for t in range(e.n_slots):
            p_heard = 1.0 - (1.0 - ROUTINE_PROB) ** times_scheduled
            expected = np.where(e.valid[self.places[t]], (1 - p_heard) * fresh + p_heard * bored, -np.inf)
            b = int(expected.argmax())
            self.schedule.append(b)
            times_scheduled[b] += 1

    def reset(self, env: gym.Env, observation: np.ndarray, info: dict) -> None:
        pass

    def act(self, observation: np.ndarray, info: dict) -> int:
        seen = self.env.decode_observation(observation)
        t, place = seen["slot"], self.places[seen["slot"]]
        behaviour = self.schedule[t]
        last = seen["behaviour"]
        if seen["reaction"] == DELIGHTED and last >= 0 and self.env.valid[place, last]:
            behaviour = last
        return place * self.env.n_behaviours + behaviour


class BayesianLearner:
    """Keeps the exact posterior over her preferences given the reactions seen this episode, and plans.

    Posterior: per slot, a distribution over where she is (a miss rules a place out, a meeting
    settles it); over the combination pair and the tastes, a mixture over the K pairs of
    independent per-behaviour distributions (given the pair, each reaction depends on one
    behaviour's taste), updated with the noisy-reaction likelihood. Before the last loop it plays
    Thompson sampling: each step it samples a pair and tastes from the posterior and plans the rest
    of the day (`plan_day`) for them with the posterior routine; in the last loop it plans on the
    posterior predictive. It never reads the task.
    """

    def __init__(self, env: gym.Env, seed: int = 0, explore_loops: int | None = None):
        self.env: GroundhogDayEnv = env.unwrapped
        self.rng = np.random.default_rng(seed)
        self.explore_loops = explore_loops

    def reset(self, env: gym.Env, observation: np.ndarray, info: dict) -> None:
        self.env = e = env.unwrapped
        B = e.n_behaviours
        self.combos = np.array([(i, j) for i in range(B) for j in range(B) if i != j])  # (K, 2)
        n_pairs = len(self.combos)
        self.log_weight = np.full(n_pairs, -np.log(n_pairs))
        self.taste_probs = np.repeat(TASTE_PRIOR[None, :B], n_pairs, axis=0)  # (K, B, 4)
        after = self.combos[:, 1]
        restricted = self.taste_probs[np.arange(n_pairs), after] * np.array([1.0, 1.0, 0.0, 0.0])
        self.taste_probs[np.arange(n_pairs), after] = restricted / restricted.sum(1, keepdims=True)
        typical = [typical_place(t, e.n_places, e.n_slots) for t in range(e.n_slots)]
        self.meet_prob = np.full((e.n_slots, e.n_places), (1.0 - ROUTINE_PROB) / (e.n_places - 1))
        self.meet_prob[np.arange(e.n_slots), typical] = ROUTINE_PROB
        self.tracker = _Tracker(e)
        self.last = None  # (action, slot, mask before it)
        self.explore_until = e.n_loops - 1 if self.explore_loops is None else self.explore_loops

    def weights(self) -> np.ndarray:
        w = np.exp(self.log_weight - self.log_weight.max())
        return w / w.sum()

    def update(self, action: int, slot: int, mask: int, reaction: int) -> None:
        """Bayes' rule for one reaction to `action` at `slot`, with `mask` done with her before it."""
        e = self.env
        place, behaviour = divmod(action, e.n_behaviours)
        if not e.valid[place, behaviour]:
            return  # nothing happened
        if reaction == NONE:
            self.meet_prob[slot, place] = 0.0
            self.meet_prob[slot] /= self.meet_prob[slot].sum()
            return
        self.meet_prob[slot] = np.eye(e.n_places)[place]
        c = reaction - NEGATIVE
        bored = bool((mask >> behaviour) & 1)
        shown = np.arange(4)
        if bored:
            shown = np.maximum(shown - 1, 0)
        likelihood = (1.0 - e.noise) * (shown == c) + e.noise / 4.0  # (4,) over her taste level
        combo_shown = (POSITIVE if bored else DELIGHTED) - NEGATIVE
        combo_likelihood = (1.0 - e.noise) * (combo_shown == c) + e.noise / 4.0
        active = (self.combos[:, 1] == behaviour) & (((mask >> self.combos[:, 0]) & 1) == 1)  # (K,)
        rows = self.taste_probs[:, behaviour] * likelihood  # (K, 4)
        evidence = rows.sum(1)  # (K,)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.log_weight += np.where(active, np.log(combo_likelihood), np.log(evidence))
            update = ~active & (evidence > 0)
            self.taste_probs[update, behaviour] = rows[update] / evidence[update, None]

    def act(self, observation: np.ndarray, info: dict) -> int:
        e = self.env
        seen = self.tracker.observe(observation, None if self.last is None else self.last[0])
        if self.last is not None:
            action, slot, mask = self.last
            self.update(action, slot, mask, seen["reaction"])
        t = seen["slot"]
        weights = self.weights()
        if seen["loop"] < self.explore_until:
            k = self.rng.choice(len(weights), p=weights)
            cum = self.taste_probs[k].cumsum(1)  # (B, 4)
            levels = (self.rng.random((e.n_behaviours, 1)) > cum).sum(1).clip(max=3)
            probs = reaction_probabilities(np.eye(4)[levels][None], np.ones(1), self.combos[k : k + 1], e.noise)
        else:
            probs = reaction_probabilities(self.taste_probs, weights, self.combos, e.noise)
        best = plan_day(self.meet_prob, probs, e.valid, e.day_bonus, e.good_day_affection, first_slot=t)
        action = int(best[t, self.tracker.mask, self.tracker.affection + e.n_slots])
        self.last = (action, t, self.tracker.mask)
        return action


def baseline_table(n_episodes: int = 100, seed: int = 0, **env_kwargs: Any) -> dict[str, dict[str, float]]:
    """Per baseline (random, fixed, bayes, oracle): mean return, its standard error, mean good days and
    mean affection on the last day, over `n_episodes` episodes (seeds ``seed .. seed + n_episodes - 1``)
    of ``GroundhogDayEnv(**env_kwargs)``; ``format_baseline_table`` writes it as Markdown rows."""
    env = GroundhogDayEnv(**env_kwargs)
    policies = {
        "random": RandomPolicy(env, seed=seed),
        "fixed": FixedStrategy(env),
        "bayes": BayesianLearner(env, seed=seed),
        "oracle": Oracle(env),
    }
    table = {}
    for name, policy in policies.items():
        returns = np.zeros(n_episodes)
        good_days = np.zeros(n_episodes)
        last_day = np.zeros(n_episodes)
        for i in range(n_episodes):
            returns[i], info = run_episode(env, policy, seed + i)
            good_days[i] = info["episode_metrics"]["good_days"]
            last_day[i] = info["episode_metrics"]["last_day_affection"]
        table[name] = {
            "mean": float(returns.mean()),
            "sem": float(returns.std(ddof=1) / np.sqrt(n_episodes)),
            "good_days": float(good_days.mean()),
            "last_day_affection": float(last_day.mean()),
        }
    return table


def format_baseline_table(table: dict[str, dict[str, float]]) -> str:
    """The rows of the published baseline table (Markdown, two decimals)."""
    return "\n".join(
        f"| {name} | {row['mean']:.2f} | {row['sem']:.2f} | {row['good_days']:.2f} | {row['last_day_affection']:.2f} |"
        for name, row in table.items()
    )


VARIANTS = {  # id -> kwargs of the published tables
    "rlkit/GroundhogDay-v0": {},
    "rlkit/GroundhogDay-Easy-v0": {"n_places": 3, "n_behaviours": 3, "n_slots": 6, "n_loops": 5, "noise": 0.0},
    "rlkit/GroundhogDay-Hard-v0": {"n_places": 8, "n_behaviours": 6, "n_slots": 8, "n_loops": 8, "noise": 0.2},
}
TABLE_HEADER = "| baseline | mean return | ± s.e. | good days | last-day affection |\n|---|---|---|---|---|"


def published_tables(n_episodes: int = 100, seed: int = 0) -> str:
    """The Markdown that ``python -m envs.groundhog`` writes: a table of `baseline_table` per variant."""
    parts = []
    for env_id, kwargs in VARIANTS.items():
        table = baseline_table(n_episodes, seed, **kwargs)
        parts.append(f"`{env_id}`:\n\n{TABLE_HEADER}\n{format_baseline_table(table)}\n")
    caption = (
        f"Mean return (± standard error), good days and last-day affection over {n_episodes} episodes "
        f"(seeds {seed}-{seed + n_episodes - 1}) per baseline; `random` is uniform over the possible actions (seed {seed})."
    )
    return "\n".join(parts) + "\n" + caption + "\n"
