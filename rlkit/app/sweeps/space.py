"""Search spaces of sweeps: config fields (dotted paths, as ``--set`` takes them) mapped to Optuna distributions,
checked against the config before a sweep starts."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlkit.app.config import ExperimentConfig, _model_of, config_from_dict, read_yaml, set_path
from rlkit.app.validation import validate

# config fields whose values are free-form mappings: the key after them is checked elsewhere
# (algo_kwargs against the algorithm's signature, env kwargs by building the env) in `check_space`.
_MAPPING_FIELDS = ("algo_kwargs", "env.kwargs", "policy.encoder_kwargs", "policy.kwargs")


@dataclass(frozen=True)
class Param:
    """One searched config field and its distribution (Optuna's ``suggest_float/int/categorical``)."""

    path: str
    kind: str
    """``float``, ``int`` or ``categorical``."""
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: Any) -> Any:
        if self.kind == "float":
            return trial.suggest_float(self.path, self.low, self.high, log=self.log, step=self.step)
        if self.kind == "int":
            return trial.suggest_int(self.path, int(self.low), int(self.high), log=self.log, step=int(self.step or 1))
        return trial.suggest_categorical(self.path, list(self.choices))

    def example(self) -> Any:
        """A value from the distribution (its lower end / first choice), to validate the field before a sweep."""
        if self.kind == "categorical":
            return self.choices[0]
        return int(self.low) if self.kind == "int" else float(self.low)


_PARAM_KEYS = {"float": {"type", "low", "high", "log", "step"}, "int": {"type", "low", "high", "log", "step"},
               "categorical": {"type", "choices"}}  # fmt: skip


def parse_space(data: dict[str, Any], source: str = "search space") -> dict[str, Param]:
    """A search space mapping (see the module docstring) → ``{path: Param}``; malformed entries are errors."""
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{source}: expected a mapping of config fields to distributions, e.g. "
                         "algo_kwargs.learning_rate: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}")  # fmt: skip
    space = {}
    for path, spec in data.items():
        where = f"{source}: {path}"
        if not isinstance(spec, dict) or spec.get("type") not in _PARAM_KEYS:
            raise ValueError(f"{where}: expected {{type: float|int|categorical, ...}}, got {spec!r}")
        kind = spec["type"]
        extra = set(spec) - _PARAM_KEYS[kind]
        if extra:
            raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(extra))} for type {kind} (valid: {', '.join(sorted(_PARAM_KEYS[kind]))})")
        if kind == "categorical":
            choices = spec.get("choices")
            if not isinstance(choices, list) or not choices:
                raise ValueError(f"{where}: categorical needs a non-empty list of choices, got {choices!r}")
            if any(not (c is None or isinstance(c, (bool, int, float, str))) for c in choices):
                raise ValueError(f"{where}: choices must be numbers, strings, booleans or null (Optuna stores them), got {choices!r}")
            space[path] = Param(path, kind, choices=tuple(choices))
            continue
        low, high = spec.get("low"), spec.get("high")
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high))
        if not numbers or not low < high:
            raise ValueError(f"{where}: needs numbers low < high, got low={low!r}, high={high!r}")
        if kind == "int" and not (float(low).is_integer() and float(high).is_integer()):
            raise ValueError(f"{where}: int bounds must be integers, got low={low!r}, high={high!r}")
        log = bool(spec.get("log", False))
        if log and low <= 0:
            raise ValueError(f"{where}: log=true needs low > 0, got low={low!r}")
        step = spec.get("step")
        if step is not None and log:
            raise ValueError(f"{where}: step and log=true cannot be combined (Optuna samples one or the other)")
        space[path] = Param(path, kind, float(low), float(high), log, None if step is None else float(step))
    return space


def load_space(path: str | Path, config: ExperimentConfig | None = None) -> dict[str, Param]:
    """Read a search space file; with `config`, also check every field against it (`check_space`)."""
    space = parse_space(read_yaml(path, "search space file"), str(path))
    if config is not None:
        check_space(space, config, str(path))
    return space


def check_space(space: dict[str, Param], config: ExperimentConfig, source: str = "search space") -> None:
    """Every path must name a config field: schema fields by the schema, keys under ``algo_kwargs``/
    ``env.kwargs``/… by building the config with each distribution's example value and running
    `rlkit.app.validation.validate` (the algorithm's signature, the env's constructor)."""
    for path in space:
        parts = path.split(".")
        if any(path.startswith(prefix + ".") for prefix in _MAPPING_FIELDS):
            continue
        model: Any = ExperimentConfig
        for i, part in enumerate(parts):
            fields = getattr(model, "model_fields", None) or {}
            if part not in fields:
                prefix = ".".join(parts[:i])
                close = difflib.get_close_matches(part, list(fields), n=1)
                hint = f"; did you mean {'.'.join(parts[:i] + close)!r}?" if close else ""
                raise ValueError(f"{source}: unknown config field {path!r}{hint} "
                                 f"(valid keys{' under ' + prefix if prefix else ''}: {', '.join(fields)})")  # fmt: skip
            model = _model_of(fields[part].annotation)
            if model is None and i < len(parts) - 1:
                raise ValueError(f"{source}: {path!r}: {'.'.join(parts[: i + 1])} is a value, not a mapping of fields")
        if model is not None:
            raise ValueError(f"{source}: {path!r} is a group of fields; search one of its fields, e.g. {path}.{next(iter(model.model_fields))}")
    example = apply_params(config, {p: param.example() for p, param in space.items()}, source)
    try:
        validate(example)
    except ValueError as exc:
        raise ValueError(f"{source}: {str(exc).splitlines()[0]}") from None


def apply_params(config: ExperimentConfig, params: dict[str, Any], source: str = "sweep") -> ExperimentConfig:
    """`config` with each dotted path set to its value (validated by the schema)."""
    data = config.to_dict()
    for path, value in params.items():
        set_path(data, path.split("."), value)
    return config_from_dict(data, source)

