"""Learning curves read back from run directories, grouped over seeds, and the tables that report them.

`rlkit curves`, `rlkit train --seeds` and the scripts under ``experiments/`` use this one module:

* `find_runs` finds run directories (a directory with TensorBoard event files or a ``config.yaml``) at
  any depth: plain runs, ``--seeds`` groups (``<group>/<run>/``), sweeps (``<dir>/trial_NNNN/<run>/``);
* `read_curves` reads one scalar tag per run; `group_curves` groups runs whose configs differ only in
  their seed and averages them (`mean_over_runs`), each group knowing its env and what sets it apart
  from the other groups of that env (its legend);
* `plot_curves` draws one panel per env; `print_table` prints an aligned table (``format_value`` cells).
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from rlkit.app.config import load_yaml
from rlkit.app.run_dir import CONFIG_FILE
from rlkit.atomic_io import atomic_write
from rlkit.tb import event_files, read_scalars

DEFAULT_TAGS = ("eval/mean_reward", "rollout/ep_rew_mean")
# Config fields that never set two runs' curves apart (where they ran, not what they ran).
_NOT_A_SETTING = ("seed", "logdir", "device", "expected")


def is_run_dir(path: Path) -> bool:
    """A run directory holds TensorBoard event files or a run's ``config.yaml``."""
    return bool(event_files(path)) or (path / CONFIG_FILE).is_file()


def find_runs(paths: list[str | Path]) -> list[Path]:
    """The run directories named by `paths`: each path that is a run, else every run below it at any depth
    (a run's own subdirectories, e.g. ``checkpoints/``, are not searched); runs without event files are skipped."""
    runs: list[Path] = []
    for text in paths:
        path = Path(text)
        if not path.exists():
            raise FileNotFoundError(f"{str(text)!r} does not exist")
        if not path.is_dir():
            raise NotADirectoryError(f"{str(text)!r} is not a directory")
        found = [path] if is_run_dir(path) else _runs_below(path)
        found = [run for run in found if event_files(run)]
        if not found:
            raise ValueError(f"no TensorBoard event files in {str(text)!r} or the run directories below it")
        runs.extend(found)
    return list(dict.fromkeys(runs))


def _runs_below(root: Path) -> list[Path]:
    runs = []
    for directory, subdirs, _ in os.walk(root, followlinks=False):
        subdirs.sort()
        here = Path(directory)
        if here != root and is_run_dir(here):
            runs.append(here)
            subdirs.clear()
    return runs


def read_curves(runs: list[Path], tag: str | None = None) -> dict[Path, tuple[str, np.ndarray, np.ndarray]]:
    """``{run: (tag, steps, values)}``: `tag`, or the first of `DEFAULT_TAGS` a run has. A run without it is
    a one-line ``ValueError`` naming the run and the tags it has."""
    curves = {}
    for run_dir in runs:
        scalars = read_scalars(run_dir)
        chosen = tag or next((t for t in DEFAULT_TAGS if t in scalars), None)
        if chosen is None or chosen not in scalars:
            wanted = tag or " or ".join(DEFAULT_TAGS)
            hint = "; pick a --tag it has, or leave this run out" if tag else "; choose one with --tag, or leave this run out"
            raise ValueError(f"run {str(run_dir)!r} has no scalar {wanted}{hint} (it has: {', '.join(sorted(scalars)) or 'none'})")
        curves[run_dir] = (chosen, *scalars[chosen])
    return curves


def curve_rows(curves: dict[Path, tuple[str, np.ndarray, np.ndarray]]) -> list[list[Any]]:
    """One row per run: ``[run, tag, last step, final, best, best at step]``."""
    rows = []
    for run_dir, (tag, steps, values) in curves.items():
        best = int(np.argmax(values))
        rows.append([run_dir.name, tag, int(steps[-1]), float(values[-1]), float(values[best]), int(steps[best])])
    return rows


# --- grouping -----------------------------------------------------------------------------------------


def run_settings(run_dir: Path) -> dict[str, Any]:
    """The run's config as flat ``{dotted.key: value}`` without the fields that do not set curves apart;
    ``{}`` for a run without ``config.yaml`` (then its name's ``env__algo__encoder`` stands in)."""
    config_path = run_dir / CONFIG_FILE
    if not config_path.is_file():
        parts = run_dir.name.split("__")
        if len(parts) >= 5:
            return {"env.id": parts[0], "algo": parts[1], "policy.encoder": parts[2]}
        return {"run": run_dir.name}
    data = load_yaml(config_path.read_text()) or {}
    for key in _NOT_A_SETTING:
        data.pop(key, None)
    if isinstance(data.get("env"), str):
        data["env"] = {"id": data["env"]}
    return _flatten(data)


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def group_key(run_dir: Path) -> tuple[str, str]:
    """(key, label): runs with the same key differ only in seed; label is ``env algo encoder``."""
    settings = run_settings(run_dir)
    label = " ".join(str(settings.get(k) or "default") for k in ("env.id", "algo", "policy.encoder")) if "env.id" in settings else run_dir.name
    return json.dumps(settings, sort_keys=True, default=str), label


def group_curves(curves: dict[Path, tuple[str, np.ndarray, np.ndarray]]) -> list[dict[str, Any]]:
    """Runs grouped by config-except-seed: ``[{label, env, legend, runs, tags, steps, mean, std}]``, every run
    interpolated (linearly) onto the union of the group's steps up to the last step all of them reached.
    ``legend`` names what sets the group apart from the other groups of its env (``algo=a2c``), or its
    ``algo encoder`` when it is the only one."""
    groups: dict[str, list] = {}
    settings: dict[str, dict[str, Any]] = {}
    labels: dict[str, str] = {}
    for run_dir, curve in curves.items():
        key, label = group_key(run_dir)
        groups.setdefault(key, []).append(curve)
        settings[key], labels[key] = run_settings(run_dir), label
    legends = _legends(settings)
    out, taken = [], {}
    for key, members in groups.items():
        grid, mean, std = mean_over_runs([(steps, vals) for _, steps, vals in members])
        label = labels[key]
        taken[label] = taken.get(label, 0) + 1
        if taken[label] > 1:
            label = f"{label} (config {taken[label]})"
        env = str(settings[key].get("env.id", "?"))
        tags = sorted({tag for tag, _, _ in members})
        out.append({"label": label, "env": env, "legend": legends[key], "runs": len(members), "tags": tags,
                    "steps": grid, "mean": mean, "std": std})  # fmt: skip
    return out


def _legends(settings: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Per group key: the settings whose values differ among the groups of the same env."""
    by_env: dict[str, list[str]] = {}
    for key, flat in settings.items():
        by_env.setdefault(str(flat.get("env.id", "?")), []).append(key)
    legends = {}
    for keys in by_env.values():
        fields = sorted({f for key in keys for f in settings[key]} - {"env.id"})
        differing = [f for f in fields if len({json.dumps(settings[k].get(f), sort_keys=True, default=str) for k in keys}) > 1]
        shown = {f: _distinct([settings[k].get(f) for k in keys]) for f in differing}
        for i, key in enumerate(keys):
            flat = settings[key]
            if differing:
                legends[key] = _wrap([f"{f}={shown[f][i]}" for f in differing])
            else:
                legends[key] = " ".join(str(flat.get(f) or "default") for f in ("algo", "policy.encoder") if f in flat) or "runs"
    return legends


def _wrap(parts: list[str], width: int = 48) -> str:
    """``parts`` joined by ", ", on a new line wherever a line would pass ``width`` characters: a legend that
    names many differing settings grows down inside its panel instead of running off the plot."""
    lines = [parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + 2 + len(part) > width:
            lines[-1] += ","
            lines.append(part)
        else:
            lines[-1] += ", " + part
    return "\n".join(lines)


def _distinct(values: list[Any], width: int = 40) -> list[str]:
    """The values as legend text of at most ``width`` characters that stay apart: long ones lose the start they
    share (two demo files in one folder differ in their names, not in the folder) and then their end."""
    texts = [json.dumps(v, default=str) if isinstance(v, (dict, list)) else str(v) for v in values]
    if all(len(t) <= width for t in texts):
        return texts
    common = len(os.path.commonprefix(texts)) if len(set(texts)) > 1 else 0
    texts = ["..." + t[common:] if common > 3 else t for t in texts]
    return [t if len(t) <= width else t[: width - 3] + "..." for t in texts]


def mean_over_runs(curves: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``[(steps, values)]`` of several runs -> ``(steps, mean, std)``: every run interpolated (linearly)
    onto the union of their steps up to the last step all of them reached."""
    curves = [(np.asarray(steps), np.asarray(vals, dtype=float)) for steps, vals in curves]
    end = min(int(steps[-1]) for steps, _ in curves)
    grid = np.unique(np.concatenate([steps[steps <= end] for steps, _ in curves]))
    values = np.stack([np.interp(grid, steps, vals) for steps, vals in curves])  # (runs, steps)
    return grid, values.mean(axis=0), values.std(axis=0)


# --- output -------------------------------------------------------------------------------------------


def plot_curves(curves: dict[Path, tuple[str, np.ndarray, np.ndarray]], png: str | Path, title: str | None = None) -> None:
    """One panel per env: each group's mean ± std over seeds, labelled by what sets it apart; written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = group_curves(curves)
    envs = list(dict.fromkeys(g["env"] for g in groups))
    cols = min(3, len(envs))
    rows = -(-len(envs) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 4.5 * rows), squeeze=False)
    for ax in axes.flat[len(envs):]:
        ax.set_visible(False)
    for ax, env in zip(axes.flat, envs):
        members = [g for g in groups if g["env"] == env]
        for group in members:
            label = f"{group['legend']} ({group['runs']} run{'s' if group['runs'] > 1 else ''})"
            if len(group["tags"]) > 1:
                label += f" [{', '.join(group['tags'])}]"
            (line,) = ax.plot(group["steps"], group["mean"], label=label)
            if group["runs"] > 1:
                ax.fill_between(group["steps"], group["mean"] - group["std"], group["mean"] + group["std"], color=line.get_color(), alpha=0.2)
        tags = sorted({t for g in members for t in g["tags"]})
        ax.set_title(env if len(envs) > 1 or not title else f"{title}: {env}", fontsize="medium")
        ax.set_xlabel("env steps")
        ax.set_ylabel(", ".join(tags))
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    if title and len(envs) > 1:
        fig.suptitle(title)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    plt.close(fig)
    atomic_write(png, buffer.getvalue())


def format_value(value: object) -> str:
    """A table cell: floats to 3-4 significant digits (thousands separated), anything else as ``str``."""
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 1:
            return f"{value:.2f}"
        return f"{value:.3g}"
    return str(value)


def print_table(title: str, header: list[str], rows: list[list[object]], left: tuple[str, ...] = ()) -> None:
    """Print an aligned table with rich, wide enough not to wrap (readable in a terminal and when piped);
    the first column and those named in `left` are left-aligned, the others right-aligned."""
    table = Table(title=title)
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i == 0 or name in left else "right", no_wrap=True)
    cells = [[format_value(v) for v in row] for row in rows]
    for row in cells:
        table.add_row(*row)
    width = sum(max(len(str(row[i])) for row in [header, *cells]) + 3 for i in range(len(header))) + 4
    Console(width=max(100, width)).print(table)
