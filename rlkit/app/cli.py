"""The `rlkit` command.

Each subcommand lives in its own module that defines ``add_arguments(parser)`` and
``run(args) -> int``; modules keep heavy imports (torch, SB3, envs) inside ``run``, and `main`
adds the options of the one command named on the command line only, so that ``rlkit --help``
imports no command's dependencies. Bad input (a ``ValueError`` from anywhere below, or a missing file
the user named) is printed as one line on stderr with exit code 2, never as a traceback, the
config fields it names shown as the options that set them (``rlkit.app.flags``); set
``RLKIT_DEBUG=1`` to see the traceback anyway.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from rlkit.app.flags import with_flags

# name -> (module, one-line help). Order is the order shown by `rlkit --help`.
COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("rlkit.app.commands.train", "train an agent (default: PPO on rlkit/GridWorld-v0)"),
    "resume": ("rlkit.app.commands.resume", "continue a stopped run to its configured total steps"),
    "eval": ("rlkit.app.commands.evaluate", "evaluate a trained run over N seeded episodes"),
    "enjoy": ("rlkit.app.commands.enjoy", "watch a trained run (ansi) or record it as a GIF"),
    "curves": ("rlkit.app.commands.curves", "tables and plots of learning curves from TensorBoard events"),
    "envs": ("rlkit.app.commands.envs", "list rlkit's registered environments, spaces and baselines"),
    "collect": ("rlkit.app.commands.collect", "roll out a policy and write a dataset for pretraining"),
    "pretrain": ("rlkit.app.commands.pretrain", "pretrain an encoder: vae, bc, seq or diffusion"),
    "sweep": ("rlkit.app.commands.sweep", "hyperparameter search with Optuna"),
    "bench": ("rlkit.app.commands.bench", "benchmarks that print ratios against a reference"),
}


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows every option's default and keeps the description's line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str:
        help_ = action.help or ""
        # A default the help already states in words ("the run's eval.episodes") says more than
        # argparse's repr of the attribute (None); a required option has none to show.
        if "(default" in help_ or action.required:
            return help_
        # An on/off flag's attribute value reads backwards for a --no-… flag ("--no-prune (default:
        # True)"); what the user needs to know is that the flag is not given by default.
        if action.nargs == 0 and isinstance(action.default, bool):
            return help_ + " (default: off)"
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """Usage errors are one line on stderr (what is wrong and where to read more), exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(commands: tuple[str, ...] | None = None) -> argparse.ArgumentParser:
    """The `rlkit` parser; only the subcommands in ``commands`` get their options (default: all)."""
    parser = _Parser(
        prog="rlkit",
        description="rlkit: train, evaluate and inspect RL agents on Gymnasium environments.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rlkit {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module_name, help_) in COMMANDS.items():
        module = importlib.import_module(module_name)
        p = sub.add_parser(
            name,
            help=help_,
            description=(module.__doc__ or help_).strip(),
            formatter_class=_HelpFormatter,
        )
        if commands is None or name in commands:
            module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def _version() -> str:
    from rlkit import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # `rlkit` alone trains the default agent, as the Quickstart promises; `rlkit -h` still helps.
    if not argv:
        argv = ["train"]
    # The top-level parser has options only (-h, --version), so the first other word names the command.
    named = next((word for word in argv if not word.startswith("-")), None)
    parser = build_parser((named,) if named in COMMANDS else ())
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args._module.run(args) or 0)
    except (ValueError, FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
        if os.environ.get("RLKIT_DEBUG"):
            raise
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"rlkit {args.command}: error: {with_flags(message)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rlkit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
