"""Learning curves read back from runs' TensorBoard event files: a table, and a plot with --png.

  rlkit curves runs/                              every run directory under runs/
  rlkit curves runs/*GridWorld* --png curves.png  mean ± std over seeds, one curve per config

The table has one row per run: the tag's last value (final) and its best value, at which steps.
The plot groups runs whose configs differ only in their seed and draws their mean ± std, with every
run interpolated onto the steps they all reached.
"""

from __future__ import annotations

import argparse

DEFAULT_TAGS = ("eval/mean_reward", "rollout/ep_rew_mean")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUN", help="run directories, or directories that contain run directories")
    parser.add_argument("--tag", default=None,
                        help=f"scalar to read (default: {DEFAULT_TAGS[0]} where a run has it, else {DEFAULT_TAGS[1]})")  # fmt: skip
    parser.add_argument("--png", default=None, metavar="FILE", help="also plot the curves, mean ± std over seeds, to this PNG (default: no plot)")
    parser.add_argument("--title", default=None, help="title of the plot (default: the tag)")


def find_runs(paths: list[str]) -> list:
    """Run directories named by `paths` (a path with event files is a run; otherwise its subdirectories that are)."""
    from pathlib import Path

    from rlkit.tb import event_files

    runs = []
    for text in paths:
        path = Path(text)
        if not path.exists():
            raise FileNotFoundError(f"{text!r} does not exist")
        if not path.is_dir():
            raise NotADirectoryError(f"{text!r} is not a directory")
        if event_files(path):
            runs.append(path)
            continue
        children = sorted(p for p in path.iterdir() if p.is_dir() and event_files(p))
        if not children:
            raise ValueError(f"no TensorBoard event files in {text!r} or its subdirectories")
        runs.extend(children)
    return list(dict.fromkeys(runs))


def group_key(run_dir) -> tuple[str, str]:
    """(key, label): runs with the same key differ only in seed; label is ``env algo encoder``."""
    import json

    from rlkit.app.runs import CONFIG_FILE

    parts = run_dir.name.split("__")
    label = " ".join(parts[:3]) if len(parts) >= 5 else run_dir.name
    config_path = run_dir / CONFIG_FILE
    if config_path.is_file():
        import yaml

        data = yaml.safe_load(config_path.read_text()) or {}
        for key in ("seed", "logdir", "device", "expected"):
            data.pop(key, None)
        return json.dumps(data, sort_keys=True, default=str), label
    return "__".join(parts[:3]) if len(parts) >= 5 else run_dir.name, label


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from rlkit.tb import read_scalars

    if args.png is not None and not args.png.lower().endswith(".png"):
        raise ValueError(f"--png {args.png!r}: expected a file name ending in .png, e.g. curves.png")
    if args.png is not None:
        from rlkit.checkpoints import check_output_path

        check_output_path(args.png, "--png")  # before the runs are read, not after
    runs = find_runs(args.runs)
    curves = {}
    rows = []
    for run_dir in runs:
        scalars = read_scalars(run_dir)
        tag = args.tag or next((t for t in DEFAULT_TAGS if t in scalars), None)
        if tag is None or tag not in scalars:
            wanted = args.tag or " or ".join(DEFAULT_TAGS)
            hint = "; pick a --tag it has, or leave this run out" if args.tag else "; choose one with --tag, or leave this run out"
            raise ValueError(f"run {str(run_dir)!r} has no scalar {wanted}{hint} (it has: {', '.join(sorted(scalars)) or 'none'})")
        steps, values = scalars[tag]
        curves[run_dir] = (tag, steps, values)
        best = int(np.argmax(values))
        rows.append([run_dir.name, tag, int(steps[-1]), float(values[-1]), float(values[best]), int(steps[best])])
    _print_table(["run", "tag", "last step", "final", "best", "best at step"], rows)
    if args.png:
        _plot(curves, args.png, args.title)
        print(f"wrote {args.png}")
    return 0


def _print_table(header: list[str], rows: list[list]) -> None:
    from rich.console import Console
    from rich.table import Table

    from rlkit.app.bench import _fmt

    table = Table(title="Learning curves")
    for name in header:
        table.add_column(name, justify="left" if name in ("run", "tag") else "right", no_wrap=True)
    for row in rows:
        table.add_row(*[_fmt(v) for v in row])
    width = sum(max(len(_fmt(row[i])) for row in [header, *rows]) + 3 for i in range(len(header))) + 4
    Console(width=max(100, width)).print(table)


def group_curves(curves: dict) -> list[dict]:
    """Runs grouped by config-except-seed: ``[{label, runs, tags, steps, mean, std}]``, every run
    interpolated (linearly) onto the union of the group's steps up to the last step all of them reached."""
    groups: dict[str, list] = {}
    labels: dict[str, str] = {}
    for run_dir, curve in curves.items():
        key, label = group_key(run_dir)
        groups.setdefault(key, []).append(curve)
        labels[key] = label
    out, taken = [], {}
    for key, members in groups.items():
        grid, mean, std = mean_over_runs([(steps, vals) for _, steps, vals in members])
        label = labels[key]
        taken[label] = taken.get(label, 0) + 1
        if taken[label] > 1:
            label = f"{label} (config {taken[label]})"
        tags = sorted({tag for tag, _, _ in members})
        out.append({"label": label, "runs": len(members), "tags": tags, "steps": grid, "mean": mean, "std": std})
    return out


def mean_over_runs(curves: list) -> tuple:
    """``[(steps, values)]`` of several runs -> ``(steps, mean, std)``: every run interpolated (linearly)
    onto the union of their steps up to the last step all of them reached."""
    import numpy as np

    curves = [(np.asarray(steps), np.asarray(vals, dtype=float)) for steps, vals in curves]
    end = min(int(steps[-1]) for steps, _ in curves)
    grid = np.unique(np.concatenate([steps[steps <= end] for steps, _ in curves]))
    values = np.stack([np.interp(grid, steps, vals) for steps, vals in curves])  # (runs, steps)
    return grid, values.mean(axis=0), values.std(axis=0)


def _plot(curves: dict, png: str, title: str | None) -> None:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rlkit.checkpoints import atomic_write

    fig, ax = plt.subplots(figsize=(8, 5))
    for group in group_curves(curves):
        label = f"{group['label']} — {group['runs']} run{'s' if group['runs'] > 1 else ''}"
        if len(group["tags"]) > 1:
            label += f" [{', '.join(group['tags'])}]"
        (line,) = ax.plot(group["steps"], group["mean"], label=label)
        if group["runs"] > 1:
            ax.fill_between(group["steps"], group["mean"] - group["std"], group["mean"] + group["std"], color=line.get_color(), alpha=0.2)
    all_tags = sorted({curve[0] for curve in curves.values()})
    ax.set_xlabel("env steps")
    ax.set_ylabel(", ".join(all_tags))
    ax.set_title(title or ", ".join(all_tags))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    plt.close(fig)
    atomic_write(png, buffer.getvalue())
