"""GroundhogDay: relive one day again and again to win the affection of someone whose tastes are hidden.

## Description

Every episode is one *task*: a person (call her Rita) with hidden preferences, drawn from the seed at
the episode's start and fixed for the whole episode. The agent lives the same day ``n_loops`` times
(the *loops*); every loop has ``n_slots`` time slots (06:00 to 22:00); one step is one slot. Each
step the agent goes to a place and does something there (a *behaviour*). Everything Rita did and
felt is forgotten at the end of each day, except by the agent. Her hidden preferences are:

1. **Her routine** (which places she likes at which times): at slot ``t`` she is at place
   ``routine[t]``. Everyone has a typical place for each time of day (``typical_place(t)``: the
   diner at breakfast, …); she is there with probability ``ROUTINE_PROB`` (0.5), otherwise at one
   of the other places, uniformly, independently for every slot. The agent meets her only where
   she is.
2. **Her tastes** (which activities and topics she likes or dislikes): each behaviour ``b`` has a
   taste level ``taste[b]`` in {dislikes, indifferent, likes, loves}, drawn from the public prior
   ``TASTE_PRIOR[b]`` (compliments usually go down well; French poetry divides).
3. **A combination that pays off only after another happened earlier that day**: one ordered pair
   of distinct behaviours ``(before, after)``, uniform over all pairs. On its own ``after`` is
   disliked or indifferent (its taste is drawn from the prior restricted to those two levels); once
   ``before`` has been done *with her* earlier the same day, ``after`` delights her.

Meeting her with behaviour ``b`` (given the set of behaviours done with her earlier that day) has
a true reaction: ``delighted`` if ``b`` completes the combination, else her taste; then one level
lower if ``b`` was already done with her earlier that day (she has heard that one), never below
``negative``. With probability ``noise`` (the *preference noise*) she is in a mood and the reaction
is instead uniform over {negative, neutral, positive, delighted}; her affection follows the reaction
she actually shows. Some place × behaviour pairs are impossible (no dancing in the library, no
poetry over the din at Gobbler's Knob; the table is ``VALID``): such an action wastes the slot at
home, costs ``INVALID_PENALTY`` (0.5) of reward, and is masked out in ``info["action_mask"]``.

Why memory matters: the observation shows only the present (below). Her routine is independent
from slot to slot, so no reaction today says where she will be next; her tastes and the
combination are the same every loop but are only revealed, noisily, by the reactions to what was
tried. A memoryless policy can therefore do no better than a good fixed strategy (go to the
typical place, pick behaviours by the prior, repeat what delighted her a moment ago); an agent
that remembers earlier loops finds her every slot and plays her favourite day, like the oracle
that knows the preferences. The loop number is observed so an agent can explore early and
exploit late.

## Action Space

``Discrete(n_places * n_behaviours)``: action ``a`` means go to place ``a // n_behaviours`` and do
behaviour ``a % n_behaviours`` (``PLACES``, ``BEHAVIOURS`` give their names). Every action in the
space is allowed; ``info["action_mask"]`` (``int8``, 1 = possible) marks the impossible pairs. An
action outside the space (a float, a negative or too-large int) raises ``ValueError``.

## Observation Space

``Box(0, 1, (n_slots + n_loops + n_places + 1 + n_behaviours + 1 + 5,), float32)``, one-hot blocks:

| block | size | meaning |
|---|---|---|
| slot | ``n_slots`` | the time slot about to be played (all zero once the last day is over) |
| loop | ``n_loops`` | which repetition of the day this is (0-based) |
| place | ``n_places + 1`` | where the last action took the agent; index 0 = home (episode start, impossible action) |
| behaviour | ``n_behaviours + 1`` | what the last action did; index 0 = nothing |
| reaction | 5 | her reaction to the last action: none (not met), negative, neutral, positive, delighted |

The first observation of a day still reports the last action of the previous day and her reaction
to it, so no reaction is ever hidden from an agent that reads observations in order. Nothing
about earlier steps is shown: that is the memory an agent must keep itself.

## Rewards

The change in her affection: negative -1, neutral 0, positive +1, delighted +2, not met 0; an
impossible action costs ``INVALID_PENALTY``. On the last slot of every day, if that day's
affection reached ``good_day_affection`` (default ``3 * n_slots // 4``, 6 for 8 slots), a bonus of
``day_bonus`` (default 4) is added: the day ended well. Per step the reward is in [-1, 2] (plus the
bonus once a day); a perfect day is about +10 affection.

## Starting State

Her preferences are drawn at ``reset`` when the env has no task yet, when ``reset`` gets a seed,
or with ``options={"new_task": True}``; ``options={"task_id": k}`` replays task ``k`` (a task is a
pure function of its id). A plain ``reset()`` keeps the task, so agents can be compared on the same
task (the preference noise still differs). Pass ``new_task_on_reset=True`` to draw a new task at
every reset, which meta-RL training needs: SB3 and Gymnasium vector envs auto-reset without a seed.
The agent starts each episode at home, slot 0 of loop 0; affection starts at 0 every day.

## Episode End

Terminated (never truncated) after the last slot of the last loop, ``n_loops * n_slots`` steps
(64 by default): the day's repetitions are the task's own horizon, not a time limit, so there is
nothing to bootstrap. On that step ``info["episode_metrics"]`` holds ``mean_day_affection``,
``first_day_affection``, ``last_day_affection``, ``good_days``, ``met_rate`` and
``impossible_actions``. ``info`` always holds ``loop`` and ``slot`` (of the observation; slot
``n_slots`` once the episode is over), ``task_id`` and ``action_mask``.

## Arguments

``n_places`` (2–8, default 5), ``n_behaviours`` (2–6, default 4), ``n_slots`` (2–16, default 8),
``n_loops`` (>= 1, default 8), ``noise`` (preference noise in [0, 1), default 0.1),
``day_bonus`` (>= 0, default 4), ``good_day_affection`` (int, default ``3 * n_slots // 4``),
``new_task_on_reset`` (default False), ``render_mode`` (``"ansi"``: the day narrated in short
sentences; ``"rgb_array"``: a timeline, one row per day, one cell per slot coloured by her
reaction, the place as a stripe on top, a green or grey marker for whether the day ended well).

Registered variants: ``rlkit/GroundhogDay-v0`` (defaults), ``rlkit/GroundhogDay-Easy-v0``
(3 places × 3 behaviours, 6 slots, 5 loops, no noise), ``rlkit/GroundhogDay-Hard-v0`` (8 places ×
6 behaviours, 8 slots, 8 loops, noise 0.2).

## Baselines

In this module, usable through ``envs.baselines`` (``envs.BASELINES``): ``random`` (uniform over
possible actions), ``fixed`` (``FixedStrategy``, the best memoryless policy we found), ``bayes``
(``BayesianLearner``: exact posterior over her preferences from the reactions seen, Thompson
sampling before the last loop, planning on the posterior), ``oracle`` (``Oracle``: reads the
preferences and plays the expected-best day every loop). The two in between bracket what memory is
worth: an agent without memory cannot beat ``fixed`` by much, one with memory can approach
``bayes``. Mean return (± standard error) over 100 episodes of ``rlkit/GroundhogDay-v0``, seeds
0–99, computed by ``baseline_table()`` (``tests/envs/test_groundhog.py`` recomputes it):

| baseline | mean return | ± s.e. | good days (of 8) | last-day affection |
|---|---|---|---|---|
| random | 3.88 | 0.71 | 0.04 | 0.57 |
| fixed | 11.81 | 2.03 | 0.28 | 1.41 |
| bayes | 69.56 | 2.16 | 5.07 | 8.39 |
| oracle | 94.74 | 1.76 | 7.18 | 8.36 |

The Bayesian learner pays for exploring in the first loops and then plays days as good as the
oracle's (last-day affection); the oracle's extra good days come from planning for the bonus with
certainty about where she is. On ``-Easy-v0`` the same ordering holds (2.93 < 7.90 < 39.30 <=
53.45), and on ``-Hard-v0`` (2.43 < 13.27 < 51.31 <= 91.48).

Step cost: a handful of scalar operations plus building one observation; tables (the task, the
noise draws of the whole episode) are made at ``reset``. Numba would not pay here: the step has no
loop to compile, and a jitted call costs more than the work.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

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


class GroundhogDayEnv(gym.Env):
    """The Groundhog-Day dating sim; the module docstring explains the dynamics, spaces, rewards,
    arguments and baselines."""

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(
        self,
        n_places: int = 5,
        n_behaviours: int = 4,
        n_slots: int = 8,
        n_loops: int = 8,
        noise: float = 0.1,
        day_bonus: float = 4.0,
        good_day_affection: int | None = None,
        new_task_on_reset: bool = False,
        render_mode: str | None = None,
    ):
        _check_int("n_places", n_places, 2, len(PLACES))
        _check_int("n_behaviours", n_behaviours, 2, len(BEHAVIOURS))
        _check_int("n_slots", n_slots, 2, LAST_HOUR - FIRST_HOUR)
        _check_int("n_loops", n_loops, 1, None)
        if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0.0 <= noise < 1.0:
            raise ValueError(
                f"GroundhogDay: noise={noise!r} is not a probability in [0, 1); it is the chance that a "
                "reaction is random (e.g. 0.1), 0 for none"
            )
        if isinstance(day_bonus, bool) or not isinstance(day_bonus, (int, float)) or not 0.0 <= day_bonus < np.inf:
            raise ValueError(f"GroundhogDay: day_bonus={day_bonus!r} must be a finite number >= 0 (e.g. 4.0)")
        if good_day_affection is None:
            good_day_affection = (3 * n_slots) // 4
        _check_int("good_day_affection", good_day_affection, None, None)
        if not isinstance(new_task_on_reset, bool):
            raise ValueError(f"GroundhogDay: new_task_on_reset={new_task_on_reset!r} must be True or False")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"GroundhogDay: render_mode={render_mode!r} is not supported; "
                f"use one of {self.metadata['render_modes']} or None"
            )

        self.n_places = n_places
        self.n_behaviours = n_behaviours
        self.n_slots = n_slots
        self.n_loops = n_loops
        self.noise = float(noise)
        self.day_bonus = float(day_bonus)
        self.good_day_affection = int(good_day_affection)
        self.new_task_on_reset = new_task_on_reset
        self.render_mode = render_mode
        self.valid = VALID[:n_places, :n_behaviours].copy()
        self.valid.setflags(write=False)
        self._action_mask = self.valid.reshape(-1).astype(np.int8)
        # Offsets of the observation's one-hot blocks (see Observation Space).
        self._slot0 = 0
        self._loop0 = n_slots
        self._place0 = self._loop0 + n_loops
        self._behaviour0 = self._place0 + n_places + 1
        self._reaction0 = self._behaviour0 + n_behaviours + 1
        obs_size = self._reaction0 + len(REACTIONS)

        self.action_space = spaces.Discrete(n_places * n_behaviours)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(obs_size,), dtype=np.float32)

        self.preferences: Preferences | None = None  # hidden; read by `Oracle` only
        self._slot = self._loop = 0
        self._over = False

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        try:
            a = _as_index(action)
        except TypeError:
            a = -1
        if not 0 <= a < self.action_space.n:
            raise ValueError(
                f"GroundhogDay: action {action!r} is outside the action space {self.action_space}; expected an "
                f"int in [0, {self.action_space.n}) = place * {self.n_behaviours} + behaviour"
            )
        if self.preferences is None or self._over:
            raise RuntimeError("GroundhogDay: call reset() before step() (and after the episode has ended)")
        prefs = self.preferences
        t, loop = self._slot, self._loop
        place, behaviour = divmod(a, self.n_behaviours)
        reward = 0.0
        reaction = NONE
        if not self.valid[place, behaviour]:
            reward = -INVALID_PENALTY
            self._shown_place = self._shown_behaviour = -1
            self._impossible += 1
        else:
            self._shown_place, self._shown_behaviour = place, behaviour
            if prefs.routine[t] == place:
                done_today = self._day_mask
                if behaviour == prefs.combo_after and (done_today >> prefs.combo_before) & 1:
                    reaction = DELIGHTED
                else:
                    reaction = int(prefs.taste[behaviour])
                if (done_today >> behaviour) & 1:
                    reaction = max(reaction - 1, NEGATIVE)
                if self._noise_hit[loop, t]:
                    reaction = int(self._noise_reaction[loop, t])
                self._day_mask = done_today | (1 << behaviour)
                self._affection += int(AFFECTION[reaction])
                reward = float(AFFECTION[reaction])
                self._met += 1
        self._reaction = reaction
        self._history_action[loop, t] = a
        self._history_reaction[loop, t] = reaction

        self._slot += 1
        if self._slot == self.n_slots:
            self._day_affection[loop] = self._affection
            if self._affection >= self.good_day_affection:
                reward += self.day_bonus
                self._good_day[loop] = True
            self._affection = self._day_mask = 0
            if loop + 1 < self.n_loops:
                self._slot, self._loop = 0, loop + 1
            else:
                self._over = True  # slot stays n_slots: the observation's slot block is all zero
        terminated = self._over
        info = self._info()
        if terminated:
            days = self._day_affection.astype(np.float64)
            info["episode_metrics"] = {
                "mean_day_affection": float(days.mean()),
                "first_day_affection": float(days[0]),
                "last_day_affection": float(days[-1]),
                "good_days": float(self._good_day.sum()),
                "met_rate": self._met / (self.n_loops * self.n_slots),
                "impossible_actions": float(self._impossible),
            }
        return self._observation(), reward, terminated, False, info

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        options = {} if options is None else options
        if not isinstance(options, dict) or set(options) - {"new_task", "task_id"}:
            unknown = sorted(set(options) - {"new_task", "task_id"}) if isinstance(options, dict) else options
            raise ValueError(
                f"GroundhogDay: unknown reset options {unknown!r}; expected a dict with 'new_task' (bool) "
                "and/or 'task_id' (int >= 0)"
            )
        new_task = options.get("new_task", False)
        if not isinstance(new_task, bool):
            raise ValueError(f"GroundhogDay: reset option new_task={new_task!r} must be True or False")
        if "task_id" in options:
            task_id = options["task_id"]
            if isinstance(task_id, bool) or not isinstance(task_id, (int, np.integer)) or task_id < 0:
                raise ValueError(f"GroundhogDay: reset option task_id={task_id!r} must be an int >= 0")
            self._set_task(int(task_id))
        elif self.preferences is None or seed is not None or new_task or self.new_task_on_reset:
            self._set_task(int(self.np_random.integers(2**31)))

        shape = (self.n_loops, self.n_slots)
        # The whole episode's noise is drawn here so that `step` only indexes.
        self._noise_hit = self.np_random.random(shape) < self.noise
        self._noise_reaction = self.np_random.integers(NEGATIVE, DELIGHTED + 1, size=shape)
        self._history_action = np.full(shape, -1, dtype=np.int64)
        self._history_reaction = np.zeros(shape, dtype=np.int64)
        self._day_affection = np.zeros(self.n_loops, dtype=np.int64)
        self._good_day = np.zeros(self.n_loops, dtype=bool)
        self._slot = self._loop = 0
        self._over = False
        self._affection = self._day_mask = 0
        self._met = self._impossible = 0
        self._shown_place = self._shown_behaviour = -1
        self._reaction = NONE
        return self._observation(), self._info()

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn(
                "GroundhogDay: render() was called without a render_mode; pass render_mode='ansi' or "
                "'rgb_array' to gymnasium.make"
            )
            return None
        if self.preferences is None:
            raise RuntimeError("GroundhogDay: call reset() before render()")
        if self.render_mode == "ansi":
            return self._render_text()
        return self._render_timeline()

    def close(self) -> None:
        pass

    # --- helpers ----------------------------------------------------------------------------------

    @property
    def task_id(self) -> int | None:
        return None if self.preferences is None else self.preferences.task_id

    def decode_observation(self, observation: np.ndarray) -> dict[str, int]:
        """The blocks of an observation as indices: ``slot`` (``n_slots`` once the episode is over),
        ``loop``, ``place`` and ``behaviour`` of the last action (-1 = home / nothing) and ``reaction``."""
        obs = np.asarray(observation)
        slots = obs[self._slot0 : self._loop0]
        return {
            "slot": int(slots.argmax()) if slots.any() else self.n_slots,
            "loop": int(obs[self._loop0 : self._place0].argmax()),
            "place": int(obs[self._place0 : self._behaviour0].argmax()) - 1,
            "behaviour": int(obs[self._behaviour0 : self._reaction0].argmax()) - 1,
            "reaction": int(obs[self._reaction0 :].argmax()),
        }

    def _set_task(self, task_id: int) -> None:
        self.preferences = sample_preferences(task_id, self.n_places, self.n_behaviours, self.n_slots)

    def _observation(self) -> np.ndarray:
        obs = np.zeros(self.observation_space.shape, dtype=np.float32)
        if self._slot < self.n_slots:
            obs[self._slot0 + self._slot] = 1.0
        obs[self._loop0 + self._loop] = 1.0
        obs[self._place0 + 1 + self._shown_place] = 1.0
        obs[self._behaviour0 + 1 + self._shown_behaviour] = 1.0
        obs[self._reaction0 + self._reaction] = 1.0
        return obs

    def _info(self) -> dict:
        return {
            "loop": self._loop,
            "slot": self._slot,
            "task_id": self.preferences.task_id,
            "action_mask": self._action_mask.copy(),
        }

    def _hour(self, slot: int) -> str:
        minutes = FIRST_HOUR * 60 + slot * (LAST_HOUR - FIRST_HOUR) * 60 // self.n_slots
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    def _render_text(self) -> str:
        # Right after a day ends, narrate the day that ended rather than the empty new one.
        just_ended = self._slot == 0 and self._loop > 0
        loop = self._loop - 1 if just_ended else self._loop
        played = self.n_slots if just_ended else self._slot
        lines = [f"Day {loop + 1} of {self.n_loops} (task {self.preferences.task_id})."]
        affection = 0
        for t in range(played):
            a = int(self._history_action[loop, t])
            place, behaviour = divmod(a, self.n_behaviours)
            reaction = int(self._history_reaction[loop, t])
            if not self.valid[place, behaviour]:
                sentence = f"You cannot {BEHAVIOURS[behaviour]} at the {PLACES[place]}; you stay home."
            elif reaction == NONE:
                sentence = f"At the {PLACES[place]} you look for her: she is not there."
            else:
                affection += int(AFFECTION[reaction])
                sentence = f"At the {PLACES[place]} you {BEHAVIOURS[behaviour]}: {_REACTION_TEXT[reaction]}"
            lines.append(f"{self._hour(t)} {sentence}")
        if played == self.n_slots:
            verdict = "a good day" if self._good_day[loop] else "not good enough"
            lines.append(f"Affection {affection} (a good day needs {self.good_day_affection}): {verdict}.")
        else:
            lines.append(f"Affection so far {affection}; it is {self._hour(played)}.")
        return "\n".join(lines) + "\n"

    def _render_timeline(self) -> np.ndarray:
        cell, pad = 16, 2
        height = self.n_loops * cell + 2 * pad
        width = (self.n_slots + 1) * cell + 2 * pad
        image = np.full((height, width, 3), 255, dtype=np.uint8)
        place_colours = (np.array(_PLACE_HUES[: self.n_places]) * 255).astype(np.uint8)
        for loop in range(self.n_loops):
            y = pad + loop * cell
            for t in range(self.n_slots):
                a = int(self._history_action[loop, t])
                if a < 0:
                    continue
                x = pad + t * cell
                reaction = self._history_reaction[loop, t]
                image[y + 1 : y + cell - 1, x + 1 : x + cell - 1] = _REACTION_COLOURS[reaction]
                if self.valid[divmod(a, self.n_behaviours)]:
                    image[y + 1 : y + 4, x + 1 : x + cell - 1] = place_colours[a // self.n_behaviours]
            if loop < self._loop or self._over:
                x = pad + self.n_slots * cell
                verdict = (40, 170, 60) if self._good_day[loop] else (150, 150, 150)
                image[y + 4 : y + cell - 4, x + 4 : x + cell - 4] = verdict
        return image


_REACTION_TEXT = {
    NEGATIVE: "she frowns.",
    NEUTRAL: "she shrugs.",
    POSITIVE: "she smiles.",
    DELIGHTED: "she is delighted!",
}
# Cell colours per reaction: none (light grey), negative (red), neutral (yellow), positive, delighted (greens).
_REACTION_COLOURS = np.array(
    [(220, 220, 220), (210, 60, 50), (235, 200, 70), (140, 200, 110), (30, 140, 60)], dtype=np.uint8
)
_PLACE_HUES = [
    (0.12, 0.47, 0.71),
    (1.0, 0.5, 0.05),
    (0.58, 0.40, 0.74),
    (0.55, 0.34, 0.29),
    (0.89, 0.47, 0.76),
    (0.09, 0.75, 0.81),
    (0.5, 0.5, 0.5),
    (0.74, 0.74, 0.13),
]


def _check_int(name: str, value: Any, low: int | None, high: int | None) -> None:
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    ok = ok and (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        if high is not None:
            bounds = f"an int in [{low}, {high}]"
        else:
            bounds = f"an int >= {low}" if low is not None else "an int"
        raise ValueError(f"GroundhogDay: {name}={value!r} is invalid; expected {bounds}")


def _as_index(action: Any) -> int:
    # Ints, NumPy integer scalars and 0-d integer arrays (what SB3 and vector envs pass); `operator.index`
    # refuses floats, which the Discrete space does not contain either.
    if isinstance(action, (bool, np.bool_)):
        raise TypeError("bool is not an action")
    return operator.index(action)


# --- planning: shared by the oracle and the Bayesian learner ---------------------------------------


def _bored(level_probs: np.ndarray) -> np.ndarray:
    """Distribution over (negative, neutral, positive, delighted) one level lower, negative staying."""
    bored = np.zeros_like(level_probs)
    bored[..., 0] = level_probs[..., 0] + level_probs[..., 1]
    bored[..., 1:3] = level_probs[..., 2:]
    return bored


def reaction_probabilities(
    taste_probs: np.ndarray, weights: np.ndarray, combos: np.ndarray, noise: float
) -> np.ndarray:
    """P(reaction | meeting her with behaviour b, having done the behaviours in mask m with her today).

    `combos` is ``(K, 2)`` (before, after) pairs with probabilities `weights` ``(K,)``; given pair k
    the tastes are independent with ``taste_probs[k, b]`` over (negative, neutral, positive,
    delighted) ``(K, B, 4)``. A single known task is K = 1 with one-hot taste probabilities.
    Returns ``(2**B, B, 4)`` over the reactions negative..delighted, preference noise included.
    """
    n_pairs, n_behaviours, _ = taste_probs.shape
    masks = np.arange(1 << n_behaviours)
    done = ((masks[:, None] >> np.arange(n_behaviours)[None, :]) & 1).astype(bool)  # (M, B)
    # Boredom moves each taste level one down (negative stays negative).
    bored_probs = _bored(taste_probs)  # (K, B, 4)
    per_pair = np.where(done[None, :, :, None], bored_probs[:, None], taste_probs[:, None])  # (K, M, B, 4)
    combo_level = np.where(done, POSITIVE, DELIGHTED) - NEGATIVE  # (M, B): delighted, bored -> positive
    combo_onehot = np.eye(4)[combo_level]  # (M, B, 4)
    before_done = done[:, combos[:, 0]].T  # (K, M)
    active = before_done[:, :, None] & (np.arange(n_behaviours)[None, None, :] == combos[:, 1, None, None])  # (K, M, B)
    per_pair = np.where(active[..., None], combo_onehot[None], per_pair)
    probs = np.einsum("k,kmbc->mbc", weights, per_pair)  # (M, B, 4)
    return (1.0 - noise) * probs + noise / 4.0


def plan_day(
    meet_prob: np.ndarray,
    reaction_prob: np.ndarray,
    valid: np.ndarray,
    day_bonus: float,
    good_day_affection: int,
    first_slot: int = 0,
) -> np.ndarray:
    """Best action for every (slot, behaviours done with her today, affection) by backward induction.

    `meet_prob` ``(T, P)``: P(she is at place p at slot t); `reaction_prob` ``(2**B, B, 4)`` from
    `reaction_probabilities`; `valid` ``(P, B)``. Maximizes the day's expected affection plus the
    good-day bonus, treating the slots as independent given these probabilities (exact for a known
    task). Returns ``best[t, mask, affection + T]`` (action indices) for slots ``first_slot..T-1``;
    rows before `first_slot` are left at 0.
    """
    n_slots, n_places = meet_prob.shape
    n_masks, n_behaviours, _ = reaction_prob.shape
    n_aff = 3 * n_slots + 1  # affection in [-T, 2T], stored at index affection + T
    deltas = AFFECTION[NEGATIVE:]  # (4,)
    affection = np.arange(n_aff) - n_slots
    value = np.broadcast_to(np.where(affection >= good_day_affection, day_bonus, 0.0), (n_masks, n_aff))
    after_mask = np.arange(n_masks)[:, None] | (1 << np.arange(n_behaviours))[None, :]  # (M, B)
    shifted = np.clip(np.arange(n_aff)[None, :] + deltas[:, None], 0, n_aff - 1)  # (4, A)
    impossible = ~valid.reshape(-1)
    best = np.zeros((n_slots, n_masks, n_aff), dtype=np.int64)
    for t in range(n_slots - 1, first_slot - 1, -1):
        following = value[after_mask][:, :, shifted]  # (M, B, 4, A): value after reaction c
        meet_value = np.einsum("mbc,mbca->mba", reaction_prob, deltas[None, None, :, None] + following)  # (M, B, A)
        p = meet_prob[t][None, :, None, None]  # (1, P, 1, 1)
        q = p * meet_value[:, None] + (1.0 - p) * value[:, None, None, :]  # (M, P, B, A)
        q = q.reshape(n_masks, n_places * n_behaviours, n_aff)
        q[:, impossible] = -np.inf
        best[t] = q.argmax(axis=1)
        value = np.take_along_axis(q, best[t][:, None, :], axis=1)[:, 0]  # (M, A)
    return best


# --- baselines (see envs.baselines for the interface) ---------------------------------------------


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
        bored = _bored(TASTE_PRIOR[: e.n_behaviours]) @ values
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
    of ``GroundhogDayEnv(**env_kwargs)``. The module docstring's table is ``format_baseline_table`` of it."""
    from envs.baselines import RandomPolicy

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
            obs, info = env.reset(seed=seed + i)
            policy.reset(env, obs, info)
            terminated = False
            while not terminated:
                obs, reward, terminated, _, info = env.step(policy.act(obs, info))
                returns[i] += reward
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
    """The rows of the module docstring's baseline table (markdown, two decimals)."""
    return "\n".join(
        f"| {name} | {row['mean']:.2f} | {row['sem']:.2f} | {row['good_days']:.2f} | {row['last_day_affection']:.2f} |"
        for name, row in table.items()
    )
