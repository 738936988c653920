"""A benchmark file: tasks crossed with agents, expanded into one experiment config per row.

A benchmark YAML names its agents once and its tasks once, instead of one config file per
(task, agent) pair that differ only in encoder and budget::

    agents:
      mlp: {algo: ppo, policy: {encoder: mlp}}
      gru: {algo: ppo-seq, policy: {encoder: gru}}
    tasks:
      groundhog:
        agents: [mlp, gru]
        config: {env: {id: rlkit/GroundhogDay-v0}, total_steps: 250000}
        per_algo: {ppo-seq: {algo_kwargs: {bptt_len: 32}}}
        per_agent: {gru: {policy: {encoder_kwargs: {hidden_size: 128}}}}
      groundhog-long:
        extends: groundhog
        config: {total_steps: 3000000}

Row ``<task>_<agent>`` is: the task's ``config`` (on top of its ``extends`` task's, recursively)
← ``agents[agent]`` ← ``per_algo[algo]`` ← ``per_agent[agent]``. ``agents``, ``per_algo`` and
``per_agent`` are inherited through ``extends`` unless the task sets them.
"""

from __future__ import annotations

import copy
import fnmatch
from pathlib import Path
from typing import Any

from rlkit.app.config import ExperimentConfig, config_from_dict, deep_update, read_yaml

TASK_KEYS = {"agents", "config", "extends", "per_algo", "per_agent"}


def load_benchmark(path: str | Path) -> dict[str, dict[str, Any]]:
    """Every row of the benchmark file `path`: ``{"<task>_<agent>": config dict}``, in file order.
    Each row is validated as an experiment config; errors name the file and the row."""
    data = read_yaml(path, "benchmark file")
    unknown = set(data) - {"agents", "tasks"}
    if unknown or not isinstance(data.get("tasks"), dict) or not isinstance(data.get("agents"), dict):
        raise ValueError(f"{path}: a benchmark file holds 'agents' and 'tasks' mappings"
                         + (f"; unknown key(s) {sorted(unknown)}" if unknown else ""))  # fmt: skip
    rows: dict[str, dict[str, Any]] = {}
    for task in data["tasks"]:
        spec = _resolve_task(data["tasks"], task, str(path))
        for agent in spec["agents"]:
            if agent not in data["agents"]:
                raise ValueError(f"{path}: task {task!r} names agent {agent!r}; agents: {', '.join(data['agents'])}")
            row = deep_update(copy.deepcopy(spec["config"]), copy.deepcopy(data["agents"][agent]))
            deep_update(row, copy.deepcopy(spec["per_algo"].get(row.get("algo"), {})))
            deep_update(row, copy.deepcopy(spec["per_agent"].get(agent, {})))
            name = f"{task}_{agent}"
            config_from_dict(row, f"{path} row {name}")
            rows[name] = row
    return rows


def _resolve_task(tasks: dict[str, Any], name: str, source: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """Task `name` with its `extends` chain applied: agents, config, per_algo, per_agent."""
    if name in seen:
        raise ValueError(f"{source}: task {name!r} extends itself through {' -> '.join(seen)}")
    spec = tasks.get(name)
    if not isinstance(spec, dict) or set(spec) - TASK_KEYS:
        extra = sorted(set(spec) - TASK_KEYS) if isinstance(spec, dict) else []
        raise ValueError(f"{source}: task {name!r} must be a mapping of {sorted(TASK_KEYS)}"
                         + (f"; unknown key(s) {extra}" if extra else ""))  # fmt: skip
    if "extends" in spec:
        if spec["extends"] not in tasks:
            raise ValueError(f"{source}: task {name!r} extends {spec['extends']!r}, which is not a task; tasks: {', '.join(tasks)}")
        parent = _resolve_task(tasks, spec["extends"], source, (*seen, name))
    else:
        parent = {"agents": [], "config": {}, "per_algo": {}, "per_agent": {}}
    return {
        "agents": list(spec.get("agents", parent["agents"])),
        "config": deep_update(copy.deepcopy(parent["config"]), copy.deepcopy(spec.get("config", {}))),
        "per_algo": copy.deepcopy(spec.get("per_algo", parent["per_algo"])),
        "per_agent": copy.deepcopy(spec.get("per_agent", parent["per_agent"])),
    }


def select_rows(rows: dict[str, Any], patterns: list[str] | None, source: str) -> list[str]:
    """Names of `rows` matching any glob in `patterns` (all rows when None); none matching is an error."""
    names = [n for n in rows if not patterns or any(fnmatch.fnmatch(n, p) for p in patterns)]
    if not names:
        raise ValueError(f"--only {' '.join(patterns or [])} matches no row of {source}; rows: {', '.join(rows)}")
    return names


def row_config(rows: dict[str, dict[str, Any]], name: str, overrides: dict[str, Any] | None = None) -> ExperimentConfig:
    """Row `name` validated, with `overrides` (a config dict) applied on top."""
    data = deep_update(copy.deepcopy(rows[name]), copy.deepcopy(overrides or {}))
    return config_from_dict(data, f"row {name}")
