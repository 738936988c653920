"""Learning curves read back from runs' TensorBoard event files: a table, and a plot with --png.

  rlkit curves runs/                              every run directory under runs/, at any depth
  rlkit curves runs/*GridWorld* --png curves.png  mean ± std over seeds, one curve per config

Run directories are found at any depth, so a --seeds group (runs/<group>/<run>/) and a sweep
(<dir>/trial_NNNN/<run>/) are read like plain runs. The table has one row per run: the tag's last
value (final) and its best value, at which steps. The plot has one panel per env; in it, runs whose
configs differ only in their seed are one curve, their mean ± std (every run interpolated onto the
steps they all reached), labelled by the settings that differ between the curves of that panel.
"""

from __future__ import annotations

import argparse

DEFAULT_TAGS = ("eval/mean_reward", "rollout/ep_rew_mean")  # rlkit.app.curves.DEFAULT_TAGS, here for a fast --help


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUN", help="run directories, or directories with run directories at any depth below")
    parser.add_argument("--tag", default=None,
                        help=f"scalar to read (default: {DEFAULT_TAGS[0]} where a run has it, else {DEFAULT_TAGS[1]})")  # fmt: skip
    parser.add_argument("--png", default=None, metavar="FILE", help="also plot the curves, mean ± std over seeds, to this PNG (default: no plot)")
    parser.add_argument("--title", default=None, help="title of the plot (default: the env of each panel)")


def run(args: argparse.Namespace) -> int:
    from rlkit.app.curves import curve_rows, find_runs, plot_curves, print_table, read_curves
    from rlkit.atomic_io import check_output_path

    if args.png is not None:
        if not args.png.lower().endswith(".png"):
            raise ValueError(f"--png {args.png!r}: expected a file name ending in .png, e.g. curves.png")
        check_output_path(args.png, "--png")  # before the runs are read, not after
    curves = read_curves(find_runs(args.runs), args.tag)
    header = ["run", "tag", "last step", "final", "best", "best at step"]
    print_table("Learning curves", header, curve_rows(curves), left=("tag",))
    if args.png:
        plot_curves(curves, args.png, args.title)
        print(f"wrote {args.png}")
    return 0
