"""GroundhogDay's world: places, behaviours, which pairs are possible, reactions, the public priors,
and the hidden preferences of a task (a pure function of its id)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Places in the order of the time of day at which they are typical (see `typical_place`).
PLACES = ("diner", "Gobbler's Knob", "bakery", "park", "library", "ice rink", "piano teacher's", "hotel bar")
BEHAVIOURS = (
    "talk about the weather",
    "compliment her",
    "tell a joke",
    "quote French poetry",
    "buy her a coffee",
    "ask her to dance",
)
# VALID[place, behaviour]: whether the behaviour is possible there (behaviour 0 is possible everywhere,
# so every place has a possible action and a day can always be planned).
VALID = np.array(
    [
        # weather compliment joke poetry coffee dance
        [1, 1, 1, 1, 1, 0],  # diner
        [1, 1, 1, 0, 1, 0],  # Gobbler's Knob: too loud for poetry
        [1, 1, 1, 1, 1, 0],  # bakery
        [1, 1, 1, 1, 0, 1],  # park: nowhere to buy coffee
        [1, 1, 0, 1, 0, 0],  # library: quiet, no food, no dancing
        [1, 1, 1, 0, 1, 1],  # ice rink
        [1, 1, 1, 1, 0, 1],  # piano teacher's
        [1, 1, 1, 1, 1, 1],  # hotel bar
    ],
    dtype=bool,
)
# Reactions, as observed (one-hot) and as taste levels (1..4).
REACTIONS = ("none", "negative", "neutral", "positive", "delighted")
NONE, NEGATIVE, NEUTRAL, POSITIVE, DELIGHTED = range(5)
# Affection change per reaction.
AFFECTION = np.array([0, -1, 0, 1, 2], dtype=np.int64)
# TASTE_PRIOR[behaviour] = P(taste = negative, neutral, positive, delighted): the public prior.
TASTE_PRIOR = np.array(
    [
        [0.10, 0.60, 0.25, 0.05],  # weather: safe and dull
        [0.20, 0.20, 0.40, 0.20],  # compliment
        [0.30, 0.20, 0.30, 0.20],  # joke
        [0.40, 0.15, 0.15, 0.30],  # French poetry: divides
        [0.15, 0.35, 0.35, 0.15],  # coffee
        [0.35, 0.15, 0.20, 0.30],  # dance
    ]
)
# Probability that she is at the typical place of a slot; otherwise she is at another place, uniformly.
ROUTINE_PROB = 0.5
# Reward for an impossible place × behaviour pair (the slot is wasted at home).
INVALID_PENALTY = 0.5
FIRST_HOUR, LAST_HOUR = 6, 22


def typical_place(slot: int, n_places: int, n_slots: int) -> int:
    """The place where people usually are at `slot`: the places in order through the day."""
    return slot * n_places // n_slots


@dataclass(frozen=True)
class Preferences:
    """One task's hidden preferences (see the module docstring). Arrays are read-only."""

    task_id: int
    routine: np.ndarray  # (n_slots,) place index where she is at each slot
    taste: np.ndarray  # (n_behaviours,) taste level: NEGATIVE, NEUTRAL, POSITIVE or DELIGHTED
    combo_before: int
    combo_after: int


def sample_preferences(task_id: int, n_places: int, n_behaviours: int, n_slots: int) -> Preferences:
    """The preferences of task `task_id`: a pure function of the id, drawn from the public priors."""
    rng = np.random.default_rng(task_id)
    typical = np.array([typical_place(t, n_places, n_slots) for t in range(n_slots)])
    at_typical = rng.random(n_slots) < ROUTINE_PROB
    # Uniform over the places other than the typical one: draw from n_places - 1 and skip it.
    other = rng.integers(n_places - 1, size=n_slots)
    other = other + (other >= typical)
    routine = np.where(at_typical, typical, other)
    before, after = rng.choice(n_behaviours, size=2, replace=False)
    taste = np.empty(n_behaviours, dtype=np.int64)
    for b in range(n_behaviours):
        prior = TASTE_PRIOR[b].copy()
        if b == after:
            prior[2:] = 0.0  # the combination's second half is disliked or indifferent on its own
            prior /= prior.sum()
        taste[b] = NEGATIVE + rng.choice(4, p=prior)
    routine.setflags(write=False)
    taste.setflags(write=False)
    return Preferences(int(task_id), routine, taste, int(before), int(after))
