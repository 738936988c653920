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
action outside the space (a float, a bool, a negative or too-large int) raises ``ValueError``: the space
is Gymnasium's ``Discrete.contains`` with bools refused (``envs._checks.in_discrete_space``, the rule
of every env).

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

In ``envs.groundhog.baselines``, usable through ``envs.baselines`` (``envs.BASELINES``): ``random``
(uniform over possible actions), ``fixed`` (``FixedStrategy``, the best memoryless policy we found),
``bayes`` (``BayesianLearner``: exact posterior over her preferences from the reactions seen,
Thompson sampling before the last loop, planning on the posterior), ``oracle`` (``Oracle``: reads
the preferences and plays the expected-best day every loop). The two in between bracket what
memory is worth: an agent without memory cannot beat ``fixed`` by much, one with memory can
approach ``bayes``. Their scores are in ``experiments/results/groundhog_baselines.md``, written by
``python -m envs.groundhog`` and checked by a test.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs._checks import discrete_action
from envs.groundhog.params import RENDER_MODES, GroundhogDayParams
from envs.groundhog.render import render_text, render_timeline
from envs.groundhog.world import (
    AFFECTION, DELIGHTED, INVALID_PENALTY, NEGATIVE, NONE, REACTIONS, VALID, Preferences, sample_preferences,
)  # fmt: skip


class GroundhogDayEnv(gym.Env):
    """The Groundhog-Day dating sim; the module docstring explains the dynamics, spaces, rewards and
    arguments, which ``GroundhogDayParams`` checks (``env.params``)."""

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": 4}

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
        p = GroundhogDayParams(
            n_places, n_behaviours, n_slots, n_loops, noise, day_bonus, good_day_affection, new_task_on_reset, render_mode
        )
        self.params = p
        self.n_places, self.n_behaviours, self.n_slots, self.n_loops = n_places, n_behaviours, n_slots, n_loops
        self.noise, self.day_bonus, self.good_day_affection = p.noise, p.day_bonus, p.good_day_affection
        self.new_task_on_reset, self.render_mode = new_task_on_reset, render_mode
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
        expected = f"an int in [0, {self.action_space.n}) = place * {self.n_behaviours} + behaviour, not a bool"
        a = discrete_action("GroundhogDay", action, self.action_space, expected)
        if self.preferences is None or self._over:
            raise RuntimeError("GroundhogDay: call reset() before step() (and after the episode has ended)")
        t, loop = self._slot, self._loop
        place, behaviour = divmod(a, self.n_behaviours)
        if not self.valid[place, behaviour]:
            reward, reaction = -INVALID_PENALTY, NONE
            self._shown_place = self._shown_behaviour = -1
            self._impossible += 1
        else:
            self._shown_place, self._shown_behaviour = place, behaviour
            reaction = self._meet(place, behaviour, t, loop)
            reward = float(AFFECTION[reaction])
        self._reaction = reaction
        self._history_action[loop, t] = a
        self._history_reaction[loop, t] = reaction
        self._slot += 1
        if self._slot == self.n_slots:
            reward += self._end_day(loop)
        info = self._info()
        if self._over:
            info["episode_metrics"] = self._episode_metrics()
        return self._observation(), reward, self._over, False, info

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        task_id, new_task = _reset_options(options)
        if task_id is not None:
            self._set_task(task_id)
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
            return render_text(self)
        return render_timeline(self)

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

    def _meet(self, place: int, behaviour: int, t: int, loop: int) -> int:
        """Her reaction to `behaviour` at `place` in slot `t` of day `loop` (NONE if she is elsewhere); updates the day."""
        prefs = self.preferences
        if prefs.routine[t] != place:
            return NONE
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
        self._met += 1
        return reaction

    def _end_day(self, loop: int) -> float:
        """Closes day `loop` after its last slot; returns the good-day bonus (0 if the day fell short)."""
        self._day_affection[loop] = self._affection
        bonus = 0.0
        if self._affection >= self.good_day_affection:
            bonus = self.day_bonus
            self._good_day[loop] = True
        self._affection = self._day_mask = 0
        if loop + 1 < self.n_loops:
            self._slot, self._loop = 0, loop + 1
        else:
            self._over = True  # slot stays n_slots: the observation's slot block is all zero
        return bonus

    def _episode_metrics(self) -> dict[str, float]:
        days = self._day_affection.astype(np.float64)
        return {
            "mean_day_affection": float(days.mean()),
            "first_day_affection": float(days[0]),
            "last_day_affection": float(days[-1]),
            "good_days": float(self._good_day.sum()),
            "met_rate": self._met / (self.n_loops * self.n_slots),
            "impossible_actions": float(self._impossible),
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


def _reset_options(options: dict | None) -> tuple[int | None, bool]:
    """``(task_id or None, new_task)`` from reset's `options`, checked."""
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
    task_id = options.get("task_id")
    if "task_id" in options and (isinstance(task_id, bool) or not isinstance(task_id, (int, np.integer)) or task_id < 0):
        raise ValueError(f"GroundhogDay: reset option task_id={task_id!r} must be an int >= 0")
    return (None if task_id is None else int(task_id)), new_task

