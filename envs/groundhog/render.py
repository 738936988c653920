"""GroundhogDay's renders: the day narrated in short sentences (``ansi``) and a timeline picture
(``rgb_array``: a row per day, a cell per slot coloured by her reaction, the place as a stripe)."""

from __future__ import annotations

import numpy as np

from envs.groundhog.world import AFFECTION, BEHAVIOURS, DELIGHTED, FIRST_HOUR, LAST_HOUR, NEGATIVE, NEUTRAL, NONE, PLACES, POSITIVE

REACTION_TEXT = {
    NEGATIVE: "she frowns.",
    NEUTRAL: "she shrugs.",
    POSITIVE: "she smiles.",
    DELIGHTED: "she is delighted!",
}
# Cell colours per reaction: none (light grey), negative (red), neutral (yellow), positive, delighted (greens).
REACTION_COLOURS = np.array(
    [(220, 220, 220), (210, 60, 50), (235, 200, 70), (140, 200, 110), (30, 140, 60)], dtype=np.uint8
)
PLACE_HUES = [
    (0.12, 0.47, 0.71),
    (1.0, 0.5, 0.05),
    (0.58, 0.40, 0.74),
    (0.55, 0.34, 0.29),
    (0.89, 0.47, 0.76),
    (0.09, 0.75, 0.81),
    (0.5, 0.5, 0.5),
    (0.74, 0.74, 0.13),
]


def hour(env, slot: int) -> str:
    """The clock time at which `slot` starts, ``HH:MM``."""
    minutes = FIRST_HOUR * 60 + slot * (LAST_HOUR - FIRST_HOUR) * 60 // env.n_slots
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def render_text(env) -> str:
    """The current day of `env` (a ``GroundhogDayEnv``) narrated, one line per slot played."""
    # Right after a day ends, narrate the day that ended rather than the empty new one.
    just_ended = env._slot == 0 and env._loop > 0
    loop = env._loop - 1 if just_ended else env._loop
    played = env.n_slots if just_ended else env._slot
    lines = [f"Day {loop + 1} of {env.n_loops} (task {env.preferences.task_id})."]
    affection = 0
    for t in range(played):
        a = int(env._history_action[loop, t])
        place, behaviour = divmod(a, env.n_behaviours)
        reaction = int(env._history_reaction[loop, t])
        if not env.valid[place, behaviour]:
            sentence = f"You cannot {BEHAVIOURS[behaviour]} at the {PLACES[place]}; you stay home."
        elif reaction == NONE:
            sentence = f"At the {PLACES[place]} you look for her: she is not there."
        else:
            affection += int(AFFECTION[reaction])
            sentence = f"At the {PLACES[place]} you {BEHAVIOURS[behaviour]}: {REACTION_TEXT[reaction]}"
        lines.append(f"{hour(env, t)} {sentence}")
    if played == env.n_slots:
        verdict = "a good day" if env._good_day[loop] else "not good enough"
        lines.append(f"Affection {affection} (a good day needs {env.good_day_affection}): {verdict}.")
    else:
        lines.append(f"Affection so far {affection}; it is {hour(env, played)}.")
    return "\n".join(lines) + "\n"


def render_timeline(env) -> np.ndarray:
    """Every day of the episode so far as a picture ``(H, W, 3)`` uint8."""
    cell, pad = 16, 2
    height = env.n_loops * cell + 2 * pad
    width = (env.n_slots + 1) * cell + 2 * pad
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    place_colours = (np.array(PLACE_HUES[: env.n_places]) * 255).astype(np.uint8)
    for loop in range(env.n_loops):
        y = pad + loop * cell
        for t in range(env.n_slots):
            a = int(env._history_action[loop, t])
            if a < 0:
                continue
            x = pad + t * cell
            reaction = env._history_reaction[loop, t]
            image[y + 1 : y + cell - 1, x + 1 : x + cell - 1] = REACTION_COLOURS[reaction]
            if env.valid[divmod(a, env.n_behaviours)]:
                image[y + 1 : y + 4, x + 1 : x + cell - 1] = place_colours[a // env.n_behaviours]
        if loop < env._loop or env._over:
            x = pad + env.n_slots * cell
            verdict = (40, 170, 60) if env._good_day[loop] else (150, 150, 150)
            image[y + 4 : y + cell - 4, x + 4 : x + cell - 4] = verdict
    return image
