"""The experiment config: one typed schema for everything `rlkit train` needs.

A config is built in layers, each of which only *overrides* fields of the one below; nothing is
merged in silently and an unknown key is an error that names the file (or option) and the key:

1. the schema's defaults (`ExperimentConfig()`), or the tuned preset for the (algo, env) pair in
   ``PRESETS`` when the command line names one (as the RL Baselines3 Zoo's hyperparameter files do);
2. a YAML file (``--config experiments/NAME.yaml``);
3. command-line options (``ALGO ENV --steps … --env-kwargs size=8``);
4. ``--set a.b=value`` overrides, whose value is parsed as YAML (``--set algo_kwargs.n_steps=64``,
   ``--set env.wrappers='[{name: TimeAwareObservation}]'``).

Field-level checks (types, ranges, unknown keys) happen here; checks that need imports (does the
env id exist, does the algo fit its action space, does PPO accept ``n_step``) happen in
``rlkit.app.validation.validate`` before a run directory is created. The resolved config is written to
every run directory as ``config.yaml`` and reloads to the same object.

Example (YAML)::

    env: {id: CartPole-v1}
    algo: ppo
    algo_kwargs: {n_steps: 32, batch_size: 256, learning_rate: lin_0.001}
    n_envs: 8
    total_steps: 100000
    expected: {score: 475, steps: 100000}
"""

from __future__ import annotations

import copy
import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, ValidationError, field_validator

DEFAULT_ENV_ID = "rlkit/GridWorld-v0"
DEFAULT_ALGO = "ppo"

MAX_STEPS = 10**12
"""Upper bound of every step count in a config (a trillion env steps: far beyond any run, far below int64)."""
MAX_SEED = 2**31 - 1
"""Upper bound of a seed (NumPy takes seeds below 2**32, and env copy i is seeded ``seed + i``)."""


class _Schema(BaseModel):
    # Attribute docstrings become field descriptions (shown by `rlkit train --help` and in errors).
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, validate_assignment=True)


class WrapperConfig(_Schema):
    """A Gymnasium wrapper applied to every copy of the env, in list order (first = innermost)."""

    name: str
    """Import path ``module:Class`` or ``module.Class``, or a class name from ``gymnasium.wrappers``
    (e.g. ``TimeAwareObservation``, ``FlattenObservation``)."""
    kwargs: dict[str, Any] = Field(default_factory=dict)
    """Keyword arguments of the wrapper's constructor (after the env)."""


class NormalizeConfig(_Schema):
    """Running normalization of observations and rewards (SB3's ``VecNormalize``).

    Its statistics are saved with every checkpoint and next to the final model, and the evaluation
    env uses them frozen."""

    obs: StrictBool = False
    """Normalize observations by a running mean and std."""
    reward: StrictBool = False
    """Scale rewards by a running std of the discounted return (training only; evaluation reports raw returns)."""
    clip_obs: StrictFloat = Field(10.0, gt=0)
    """Clip normalized observations to ±clip_obs."""
    clip_reward: StrictFloat = Field(10.0, gt=0)
    """Clip normalized rewards to ±clip_reward."""


class EnvConfig(_Schema):
    """Which environment to train on and how to build it."""

    id: str = DEFAULT_ENV_ID
    """A registered Gymnasium id (``CartPole-v1``, ``rlkit/GridWorld-v0``), or ``module:EnvId`` to import
    the module that registers it first, as ``gymnasium.make`` does."""
    kwargs: dict[str, Any] = Field(default_factory=dict)
    """Keyword arguments for the env's constructor (``gymnasium.make(id, **kwargs)``)."""
    wrappers: list[WrapperConfig] = Field(default_factory=list)
    """Gymnasium wrappers around each env copy; a bare string is shorthand for ``{name: …}``."""
    vectorization: Literal["auto", "vector", "dummy", "subproc"] = "auto"
    """How the ``n_envs`` copies are stepped: ``vector`` = the env's batched ``vector_entry_point`` through
    rlkit's adapter, ``dummy`` = SB3's ``DummyVecEnv`` (one Python env per copy, in process), ``subproc`` =
    SB3's ``SubprocVecEnv``; ``auto`` = ``vector`` where the env has one and no wrappers are set, else ``dummy``."""
    normalize: NormalizeConfig = Field(default_factory=NormalizeConfig)
    """Observation / reward normalization (off by default)."""

    @field_validator("wrappers", mode="before")
    @classmethod
    def _wrapper_shorthand(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": w} if isinstance(w, str) else w for w in value]
        return value


class PolicyConfig(_Schema):
    """The policy network. Unset fields keep SB3's defaults for the algorithm."""

    encoder: str | None = None
    """Name of an rlkit encoder (``rlkit.nn.encoder_names()``) used as the features extractor;
    unset = SB3's default extractor for the observation space."""
    encoder_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Options of the encoder (e.g. ``features_dim``, ``hidden``)."""
    net_arch: list[int] | dict[str, list[int]] | None = None
    """Sizes of the heads' hidden layers: ``[64, 64]``, or per head ``{pi: [64], vf: [64]}`` (``{qf: …}`` for off-policy)."""
    activation_fn: str | None = None
    """Activation of the heads, a name in ``torch.nn`` (``Tanh``, ``ReLU``); unset = the algorithm's default."""
    kwargs: dict[str, Any] = Field(default_factory=dict)
    """Any other ``policy_kwargs`` of the SB3 policy (``ortho_init``, ``log_std_init``, …)."""
    init_encoder: str | None = None
    """Encoder checkpoint to start from (``rlkit pretrain vae|seq``'s ``encoder.pt``); sets ``encoder`` and
    ``encoder_kwargs`` to the checkpoint's (a different one given is refused). Only used when a run starts."""
    init_policy: str | None = None
    """Behaviour-cloning checkpoint (``rlkit pretrain bc``'s ``policy.pt``) to start from: its encoder and actor
    head (PPO/A2C ``policy_net``, ``action_net``, ``log_std``). Only used when a run starts."""
    freeze_encoder: StrictBool = False
    """Keep the encoder loaded by ``init_encoder``/``init_policy`` fixed (no gradients, eval mode)."""
    prev_action: StrictBool = False
    """The policy also reads the previous action (one-hot where discrete; zero at an episode's first step), as
    POPGym's and RL²'s agents do. ``ppo-seq`` only."""
    prev_reward: StrictBool = False
    """The policy also reads the previous reward (zero at an episode's first step). ``ppo-seq`` only."""
    critic_warmup_steps: StrictInt = Field(0, ge=0, le=MAX_STEPS)
    """Env steps at the start of a run from ``init_policy``/``init_encoder`` whose updates train only the critic
    (rounded up to whole rollouts; 0 = off): the actor head, its ``log_std`` and a shared encoder get no
    updates, so that the critic has fitted the pretrained policy's returns before its advantages move the actor.
    Actor-critic agents only: ppo, a2c, ppo-seq (value function), sac, tqc, td3, ddpg (Q-function)."""
    bc_data: str | None = None
    """An ``rlkit collect`` dataset (``.npz``, in the env's spaces) whose (observation, action) pairs anchor the actor
    through the behaviour-cloning term of ``bc_weight`` (TD3+BC); read when a run starts and again on resume."""
    bc_weight: StrictFloat = Field(0.0, ge=0, allow_inf_nan=False)
    """Weight of the mean squared error between the actor's deterministic action (SAC/TQC: the squashed mean;
    TD3/DDPG: ``mu``) and ``bc_data``'s action, both scaled to [-1, 1], added to the actor loss at every actor
    update on a minibatch of ``batch_size`` dataset steps (0 = off). Off-policy actor-critics only: sac, tqc, td3, ddpg."""


class GailConfig(_Schema):
    """Adversarial imitation (``rlkit train gail ENV --demos D.npz``): the agent learns from a discriminator's reward
    (`rlkit.pretrain.gail`) instead of the env's; evaluations still report the env's return."""

    demos: str
    """An ``rlkit collect`` dataset (``.npz``, in the env's spaces) of the expert; read when a run starts and again on resume."""
    encoder: str = "mlp"
    """rlkit encoder of the discriminator's observations (feed-forward: mlp, cnn, …)."""
    encoder_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Options of the discriminator's encoder."""
    hidden: list[int] = Field(default_factory=lambda: [64, 64])
    """Layers of the discriminator's head over ``[features, action]``."""
    learning_rate: float = Field(3e-4, gt=0, allow_inf_nan=False)
    """Adam learning rate of the discriminator."""
    batch_size: int = Field(256, ge=1)
    """Agent pairs per discriminator minibatch (with as many expert pairs)."""
    epochs: int = Field(1, ge=1)
    """Passes of the discriminator over each rollout's agent pairs."""
    reward: Literal["gail", "logit"] = "gail"
    """``gail``: ``-log(1 - D(s, a))``; ``logit``: ``log D - log(1 - D)`` (AIRL's form)."""
    absorbing: StrictBool = False
    """DAC's absorbing state (Kostrikov et al. 2019): an episode's terminal step (not a time limit) also earns the
    discounted reward of an absorbing state whose discriminator value is learned from the terminal episodes of demos
    and agent, instead of the 0 that biases either reward form about episode length."""


class EvalConfig(_Schema):
    """Periodic evaluation during training (logged as ``eval/mean_reward``) and the final evaluation."""

    every: StrictInt = Field(10_000, ge=0, le=MAX_STEPS)
    """Evaluate every this many env steps (0 = only at the end)."""
    episodes: StrictInt = Field(10, ge=1, le=1_000_000)
    """Episodes per evaluation; episode i is reset with seed ``eval.seed + i``."""
    seed: StrictInt = Field(1_000, ge=0, le=MAX_SEED)
    """Seed of the first evaluation episode (distinct from training seeds, the same for every run so
    that scores are comparable)."""
    deterministic: StrictBool = True
    """Act greedily (the mode of the policy's distribution) during evaluation."""


class ExpectedConfig(_Schema):
    """What an experiment in ``experiments/`` is known to reach (checked by a slow test)."""

    score: StrictFloat
    """Final mean evaluation return that the run reaches at least."""
    steps: StrictInt = Field(gt=0, le=MAX_STEPS)
    """Env steps the run takes to get there (its ``total_steps``)."""


class ConstraintConfig(_Schema):
    """A cost constraint, ``E[episode cost] <= limit``, enforced by a Lagrange multiplier λ (PPO-Lagrangian,
    `rlkit.constraints`): the agent learns from ``reward - λ · cost``, and λ ≥ 0 follows the constraint's
    violation once per rollout. On-policy agents only (ppo, a2c, ppo-seq, …); logged as ``constraint/*``."""

    cost: str
    """The key of the env's step info that holds the step's cost (e.g. ``discomfort_degree_hours``)."""
    limit: StrictFloat = Field(ge=0, allow_inf_nan=False)
    """The bound on the mean episode cost."""
    lr: StrictFloat = Field(gt=0, allow_inf_nan=False)
    """Dual step size: λ changes by ``lr · (mean episode cost - limit)`` per rollout (reward units per cost unit)."""
    multiplier_init: StrictFloat = Field(0.0, ge=0, allow_inf_nan=False)
    """λ before the first update."""
    kp: StrictFloat = Field(0.0, ge=0, allow_inf_nan=False)
    """Proportional gain of the PI Lagrangian (Stooke et al. 2020): ``λ = max(0, I + kp · violation)``; 0 = plain dual ascent."""


class ExperimentConfig(_Schema):
    """Everything that defines a training run. Two runs with the same config (and machine) give the same curves."""

    env: EnvConfig = Field(default_factory=EnvConfig)
    """The environment (a bare id string is shorthand for ``{id: …}``)."""
    algo: str = DEFAULT_ALGO
    """Algorithm name from the registry in ``agents`` (``ppo``, ``a2c``, ``dqn``, ``sac``, …; see ``rlkit train --help``)."""
    algo_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Constructor arguments of the algorithm (``n_steps``, ``learning_rate``, …), checked against its signature.
    Schedules may be written ``lin_<start>`` (linear decay to 0), as in the RL Baselines3 Zoo."""
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    """The policy network."""
    n_envs: StrictInt = Field(8, ge=1, le=65_536)
    """Number of env copies stepped together."""
    seed: StrictInt = Field(0, ge=0, le=MAX_SEED)
    """Seed of everything random: weights, exploration, env resets (env copy i gets ``seed + i``)."""
    total_steps: StrictInt = Field(100_000, gt=0, le=MAX_STEPS)
    """Env steps to train for (summed over env copies); ``rlkit resume`` continues up to this number."""
    eval: EvalConfig = Field(default_factory=EvalConfig)
    """Evaluation settings."""
    checkpoint_every: StrictInt = Field(25_000, ge=0, le=MAX_STEPS)
    """Save a checkpoint (at the next rollout boundary) every this many env steps (0 = only when stopped)."""
    keep_checkpoints: StrictInt = Field(3, ge=1, le=10_000)
    """Keep this many most recent checkpoints."""
    logdir: str = "runs"
    """Directory that run directories are created in."""
    device: str = "auto"
    """Torch device: ``auto`` (CUDA when available), ``cpu``, ``cuda``, ``cuda:1``, …"""
    threads: StrictInt = Field(1, ge=0, le=4096)
    """Torch CPU threads of the training process (0 = torch's default, one per core). One suits the small
    networks of RL on CPU, whose matrix products are too small to share across cores, and keeps the speed
    steady on a shared machine, where every process claiming all cores makes them fight."""
    expected: ExpectedConfig | None = None
    """For experiments: the score the config reaches and the steps it takes."""
    gail: GailConfig | None = None
    """Train ``algo`` on a GAIL discriminator's reward (unset: on the env's reward)."""
    constraint: ConstraintConfig | None = None
    """Constrain an episode cost the env reports in its info by a Lagrange multiplier (unset: unconstrained)."""

    @field_validator("env", mode="before")
    @classmethod
    def _env_shorthand(cls, value: Any) -> Any:
        return {"id": value} if isinstance(value, str) else value

    @field_validator("algo")
    @classmethod
    def _algo_lowercase(cls, value: str) -> str:
        return value.strip().lower()

    def run_name(self, timestamp: str) -> str:
        """``<env>__<algo>__<encoder>__s<seed>__<timestamp>``, safe as a directory name."""
        env = re.sub(r"[^A-Za-z0-9_.-]+", "-", self.env.id).strip("-")
        encoder = self.policy.encoder or "default"
        algo = f"gail-{self.algo}" if self.gail is not None else self.algo
        return f"{env}__{algo}__{encoder}__s{self.seed}__{timestamp}"

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None)


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a mapping that repeats a key (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)):
                continue  # unhashable or exotic keys: left to PyYAML
            if key in seen:
                problem = f"duplicate key {key!r} (first at line {seen[key]}); each key may appear once"
                raise yaml.constructor.ConstructorError(None, None, problem, key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` that refuses duplicate keys (raises ``yaml.YAMLError`` naming the key and its line)."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


PRESETS_FILE = Path(__file__).with_name("presets.yaml")


@dataclass(frozen=True)
class PresetInfo:
    """How a preset was chosen (``experiment``: identical to an ``experiments/*.yaml``; ``derived``: adapted from
    another preset, not measured on its env) and from what."""

    chosen: Literal["experiment", "derived"]
    source: str


def _load_presets() -> tuple[dict[tuple[str, str], dict[str, Any]], dict[tuple[str, str], PresetInfo]]:
    """``presets.yaml`` → (config overrides, how each was chosen), by (algo, env id)."""
    presets, info = {}, {}
    for entry in load_yaml(PRESETS_FILE.read_text()):
        key = (entry["algo"], entry["env"])
        if key in presets:
            raise ValueError(f"{PRESETS_FILE}: two presets for {key}")
        presets[key] = entry["config"]
        info[key] = PresetInfo(entry["chosen"], entry["source"])
    return presets, info


# Starting points for `rlkit train ALGO ENV` (and bare `rlkit train`), by (algo, env id), as the RL
# Baselines3 Zoo's hyperparams/*.yml are: overrides of the schema defaults, read from presets.yaml, whose
# header says how they were chosen (PRESET_INFO). Tests check that each loads and trains, and that those
# chosen as `experiment` stay identical to their experiments/*.yaml, which say what they reach.
PRESETS, PRESET_INFO = _load_presets()


def preset(algo: str, env_id: str) -> dict[str, Any]:
    """The config dict that ``rlkit train ALGO ENV`` starts from (schema defaults where no preset exists)."""
    data: dict[str, Any] = {"algo": algo.lower(), "env": {"id": env_id}}
    return deep_update(data, copy.deepcopy(PRESETS.get((algo.lower(), env_id), {})))


# --- building configs -------------------------------------------------------------------------------


def deep_update(base: dict[str, Any], updates: dict[str, Any]) -> dict[str, Any]:
    """Recursively override `base` with `updates` (dicts merge key by key; anything else replaces)."""
    for key, value in updates.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_update(base[key], value)
        else:
            base[key] = value
    return base


# A KEY=VALUE option's example in its error message: the keys of --env-kwargs are the env's, not config paths.
_ASSIGNMENT_EXAMPLES = {"--env-kwargs": "size=8", "--algo-kwargs": "n_steps=64", "--encoder-kwargs": "hidden_sizes=[64,64]"}


def parse_assignment(text: str, option: str = "--set") -> tuple[list[str], Any]:
    """``"a.b=value"`` → ``(["a", "b"], value)``, the value parsed as YAML (``64``, ``true``, ``[1, 2]``, ``lin_1e-3``)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        example = _ASSIGNMENT_EXAMPLES.get(option, "algo_kwargs.n_steps=64")
        raise ValueError(f"{option} {text!r}: expected KEY=VALUE with a dotted KEY, e.g. {option} {example}")
    try:
        value = load_yaml(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        reason = str(exc).splitlines()[0]
        raise ValueError(f"{option} {text!r}: the value is not valid YAML ({reason})") from None
    return key.split("."), value


def set_path(data: dict[str, Any], path: list[str], value: Any) -> None:
    """Set ``data[path[0]][path[1]]… = value``, creating intermediate dicts."""
    node = data
    for part in path[:-1]:
        child = node.get(part)
        if child is None or isinstance(child, str) and part == "env":
            child = {} if child is None else {"id": child}
            node[part] = child
        if not isinstance(child, dict):
            raise ValueError(f"cannot set {'.'.join(path)}: {part} is {child!r}, not a mapping")
        node = child
    node[path[-1]] = value


def read_yaml(path: str | Path, what: str = "config file") -> dict[str, Any]:
    """Read a config file (`what` names it in errors); malformed YAML or a non-mapping top level names the file and the line."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{what} {str(path)!r} is a directory; expected a YAML file")
    if not path.is_file():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist")
    try:
        data = load_yaml(path.read_text())
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ValueError(f"{path}: malformed YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of config keys at the top level, got {type(data).__name__}")
    return data


def read_config_file(path: str | Path) -> dict[str, Any]:
    """An experiment config file's mapping (`read_yaml`), refusing an empty file: an empty config would
    train the schema's defaults, which are neither the file's intent nor the ``ALGO ENV`` preset."""
    data = read_yaml(path)
    if not data:
        raise ValueError(
            f"config file {str(path)!r} is empty; write at least its algo and env (e.g. algo: ppo, env: CartPole-v1), "
            "or drop --config to train the ALGO ENV preset"
        )
    return data


def config_from_dict(data: dict[str, Any], source: str = "config") -> ExperimentConfig:
    """Validate `data` into an `ExperimentConfig`; errors are one line naming `source` and the key."""
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        raise ValueError(_describe(exc, source)) from None


def load_config(
    path: str | Path | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    base: dict[str, Any] | None = None,
) -> ExperimentConfig:
    """Build a config: `base` (a dict, default: schema defaults) ← YAML file `path` ← ``--set`` `overrides`."""
    data = copy.deepcopy(base) if base else {}
    source = "config"
    if path is not None:
        source = str(path)
        file_data = read_config_file(path)
        # Validate the file on its own first so that an unknown key is reported against the file.
        config_from_dict(file_data, source)
        data = deep_update(data, file_data)
    for text in overrides:
        keys, value = parse_assignment(text)
        set_path(data, keys, value)
        source = "--set" if path is None else f"{path} with --set"
    return config_from_dict(data, source)


def save_config(config: ExperimentConfig, path: str | Path) -> None:
    """Write the resolved config as YAML (atomically: a crash never leaves half a config)."""
    from rlkit.atomic_io import atomic_write

    atomic_write(path, config.to_yaml().encode())


def field_help(model: type[BaseModel], name: str, note: str = "") -> str:
    """The description and default of a schema field, for ``--help`` texts."""
    field = model.model_fields[name]
    description = (field.description or "").split("\n\n")[0].replace("\n", " ").replace("``", "")
    default = field.get_default(call_default_factory=True)
    return f"{description} (default: {default}{note})".replace("%", "%%")


# --- error messages ---------------------------------------------------------------------------------


def _describe(exc: ValidationError, source: str) -> str:
    """One line for the first validation error: where, what was received, what was expected."""
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    key = ".".join(loc)
    if error["type"] == "extra_forbidden":
        valid = _valid_keys(loc[:-1])
        hint = ""
        if valid:
            close = difflib.get_close_matches(loc[-1], valid, n=1)
            hint = f"; did you mean {'.'.join(loc[:-1] + close)!r}?" if close else ""
            hint += f" (valid keys{' under ' + '.'.join(loc[:-1]) if loc[:-1] else ''}: {', '.join(valid)})"
        return f"{source}: unknown config key {key!r}{hint}"
    received = error.get("input")
    shown = repr(received) if not isinstance(received, dict) else "a mapping"
    return f"{source}: {key}: {error['msg']} (got {shown})"


def _valid_keys(loc: list[str]) -> list[str]:
    model: Any = ExperimentConfig
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return []
        model = _model_of(fields[part].annotation)
    fields = getattr(model, "model_fields", None)
    return list(fields) if fields else []


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None
