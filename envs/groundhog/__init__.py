"""GroundhogDay (``rlkit/GroundhogDay-v0`` and its variants): the env, its world and hidden preferences,
planning, renders and baselines, one module each; ``envs.groundhog.env`` documents the env."""

from envs.groundhog.baselines import (
    BayesianLearner,
    FixedStrategy,
    Oracle,
    baseline_table,
    format_baseline_table,
    published_tables,
)
from envs.groundhog.env import GroundhogDayEnv
from envs.groundhog.params import GroundhogDayParams
from envs.groundhog.planning import plan_day, reaction_probabilities
from envs.groundhog.render import REACTION_COLOURS
from envs.groundhog.world import (
    AFFECTION,
    BEHAVIOURS,
    DELIGHTED,
    INVALID_PENALTY,
    NEGATIVE,
    NEUTRAL,
    NONE,
    PLACES,
    POSITIVE,
    REACTIONS,
    ROUTINE_PROB,
    TASTE_PRIOR,
    VALID,
    Preferences,
    sample_preferences,
    typical_place,
)

__all__ = [
    "AFFECTION", "BEHAVIOURS", "DELIGHTED", "INVALID_PENALTY", "NEGATIVE", "NEUTRAL", "NONE", "PLACES",
    "POSITIVE", "REACTIONS", "REACTION_COLOURS", "ROUTINE_PROB", "TASTE_PRIOR", "VALID", "BayesianLearner",
    "FixedStrategy", "GroundhogDayEnv", "GroundhogDayParams", "Oracle", "Preferences", "baseline_table",
    "format_baseline_table", "plan_day", "published_tables", "reaction_probabilities", "sample_preferences",
    "typical_place",
]  # fmt: skip
