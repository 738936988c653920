"""rlkit's Gymnasium environments.

Importing this package registers every env below under the ``rlkit/`` namespace, so
``gymnasium.make("rlkit/GridWorld-v0")`` works after ``import envs`` (or without the import, as
``gymnasium.make("envs:rlkit/GridWorld-v0")``). Entry points are strings, so registering is
cheap: an env module (and Numba) is imported only when that env is made.

Envs depend on Gymnasium, NumPy and Numba only — never on torch, ``rlkit`` or ``agents`` — so any
Gymnasium client can use them on their own. Variants are registrations with kwargs, not subclasses.

Conventions every env here follows (the CLI and the tests rely on them):

* An env handles its own episode length (a constructor argument) rather than relying on a
  ``TimeLimit`` wrapper, so that it can report episode summaries itself.
* On the step where ``terminated or truncated`` is true, ``info["episode_metrics"]`` is a
  ``dict[str, float]`` of episode-level numbers (e.g. ``energy_kwh``, ``sharpe``); the CLI logs
  them to TensorBoard under ``env/<name>``.
* Baseline policies (heuristics, solvers, oracles) are listed in ``BASELINES`` below, by env id,
  as ``"module:factory"`` strings; see ``envs.baselines`` for the policy interface.
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

# env id -> {baseline name: "module:factory"}; a factory takes the (unwrapped) env and returns
# an `envs.baselines.Policy`. Filled in beside each env's registrations.
BASELINES: dict[str, dict[str, str]] = {}

# The ids registered by this package, in the order `rlkit envs` lists them. Tests are
# parametrized over this tuple, so a new env is tested the moment it is registered here.
ENV_IDS: list[str] = []


def _register(env_id: str, entry_point: str, baselines: dict[str, str] | None = None, **kwargs) -> None:
    # Re-importing (e.g. under pytest's importlib mode) must not warn about re-registration.
    if env_id not in registry:
        register(id=env_id, entry_point=entry_point, **kwargs)
    if env_id not in ENV_IDS:
        ENV_IDS.append(env_id)
    if baselines:
        BASELINES[env_id] = dict(baselines)


# --- GridWorld (envs/gridworld/) ------------------------------------------------------------------

# (id suffix, kwargs). The default is a small open room with one-hot observations (what agents reach on
# it: experiments/results/results.md). -Image-v0 gives the same room as a
# 48x48 RGB picture; the symbolic C x H x W grid is `observation="grid"` on any of them.
_GRIDWORLD_VARIANTS = {
    "": {},
    "-FourRooms": {"layout": "four_rooms"},
    "-Maze": {"layout": "maze"},
    "-Cliff": {"layout": "cliff", "slip_prob": 0.1},
    "-PartialView": {"layout": "four_rooms", "observation": "partial", "view_size": 5},
    "-Image": {"observation": "rgb"},
}
for _suffix, _kwargs in _GRIDWORLD_VARIANTS.items():
    _register(
        f"rlkit/GridWorld{_suffix}-v0",
        "envs.gridworld:GridWorldEnv",
        baselines={"optimal": "envs.gridworld:OptimalPolicy"},
        vector_entry_point="envs.gridworld:GridWorldVectorEnv",
        kwargs=_kwargs,
    )

# --- GroundhogDay (envs/groundhog/) ------------------------------------------------------------

_GROUNDHOG_BASELINES = {
    "fixed": "envs.groundhog:FixedStrategy",
    "bayes": "envs.groundhog:BayesianLearner",
    "oracle": "envs.groundhog:Oracle",
}
# 5 places x 4 behaviours, 8 slots a day, 8 loops (64 steps), preference noise 0.1. Plain resets keep
# the task; pass new_task_on_reset=True to train across tasks (SB3 auto-resets without a seed).
_register("rlkit/GroundhogDay-v0", "envs.groundhog:GroundhogDayEnv", _GROUNDHOG_BASELINES)
# 3 x 3, 6 slots, 5 loops (30 steps), no noise.
_register(
    "rlkit/GroundhogDay-Easy-v0", "envs.groundhog:GroundhogDayEnv", _GROUNDHOG_BASELINES,
    kwargs={"n_places": 3, "n_behaviours": 3, "n_slots": 6, "n_loops": 5, "noise": 0.0},
)  # fmt: skip
# 8 x 6 (many impossible pairs), 8 slots, 8 loops, noise 0.2.
_register(
    "rlkit/GroundhogDay-Hard-v0", "envs.groundhog:GroundhogDayEnv", _GROUNDHOG_BASELINES,
    kwargs={"n_places": 8, "n_behaviours": 6, "n_slots": 8, "n_loops": 8, "noise": 0.2},
)  # fmt: skip

# --- HVAC (envs/hvac/) ------------------------------------------------------------------------

_HVAC_BASELINES = {"thermostat": "envs.hvac:thermostat", "schedule_thermostat": "envs.hvac:schedule_thermostat"}
# One week of 15-minute steps from a random day, generated weather, heat-pump power in [-1, 1].
_register("rlkit/HVAC-v0", "envs.hvac:HVACEnv", _HVAC_BASELINES)
# The same with 5 power levels (-8, -4, 0, 4, 8 kW), for DQN.
_register("rlkit/HVAC-Discrete-v0", "envs.hvac:HVACEnv", _HVAC_BASELINES, kwargs={"action_type": "discrete"})
# A whole year (35,040 steps) per episode.
_register("rlkit/HVAC-Year-v0", "envs.hvac:HVACEnv", _HVAC_BASELINES, kwargs={"episode_days": 365})
# Supervisory control: the action is the (heating, cooling) setpoint in °C for the next 15 minutes;
# the env's PI loop turns it into power (same weather, occupancy, prices and reward).
_register("rlkit/HVAC-Setpoint-v0", "envs.hvac:HVACEnv", _HVAC_BASELINES, kwargs={"control": "setpoint"})

# --- Trading (envs/trading/) ------------------------------------------------------------------

_TRADING_BASELINES = {"buy_and_hold": "envs.trading:buy_and_hold", "ma_crossover": "envs.trading:ma_crossover"}
# The registered ids return the (window, features) observation flattened to 1-D, because SB3's
# check_env warns about any observation that is neither 1-D nor an image; the numbers are the
# same. Sequence encoders that want the (T, D) window: --env-kwargs flatten_observation=false.
# One synthetic asset, short/flat/long.
_register("rlkit/Trading-v0", "envs.trading:TradingEnv", _TRADING_BASELINES, kwargs={"flatten_observation": True})
# Target weight in [-1, 1].
_register(
    "rlkit/Trading-Continuous-v0", "envs.trading:TradingEnv", _TRADING_BASELINES,
    kwargs={"action_type": "continuous", "flatten_observation": True},
)  # fmt: skip
# Four correlated synthetic assets, target weights (gross exposure capped at 1).
_register(
    "rlkit/Trading-MultiAsset-v0", "envs.trading:TradingEnv", _TRADING_BASELINES,
    kwargs={"action_type": "continuous", "n_assets": 4, "flatten_observation": True},
)  # fmt: skip
