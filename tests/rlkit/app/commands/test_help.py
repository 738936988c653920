"""`--help` on every command explains every option with its default; `rlkit --help` stays light."""

import argparse
import subprocess
import sys

import pytest

from rlkit.app.cli import build_parser

MINE = ["train", "resume", "eval", "enjoy", "curves", "envs"]


def _subparsers(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


@pytest.mark.parametrize("command", MINE)
def test_every_option_has_help_with_its_default(command):
    parser = _subparsers(build_parser())[command]
    formatter = parser._get_formatter()
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        text = formatter._expand_help(action) if action.help else ""
        described = formatter._get_help_string(action) % {**vars(action), "default": action.default, "prog": parser.prog}
        assert text, f"rlkit {command} {action.dest}: no help"
        if action.option_strings and action.required is False:
            assert "default" in described, f"rlkit {command} {'/'.join(action.option_strings)}: no default shown"
    parser.format_help()  # renders


def _imported_after_help(argvs, modules):
    """Which of `modules` a fresh interpreter has imported after `rlkit ARGV --help` for each of `argvs`."""
    code = (
        "import sys, contextlib, io\n"
        "from rlkit.app.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    for argv in {argvs!r}:\n"
        "        try: main(argv)\n"
        "        except SystemExit: pass\n"
        "assert 'train' in out.getvalue(), out.getvalue()\n"
        f"print(sorted(m for m in {modules!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
    return out.strip()


def test_help_imports_neither_torch_nor_sb3():
    argvs = [["--help"], ["train", "--help"], ["eval", "--help"]]
    assert _imported_after_help(argvs, ("torch", "stable_baselines3", "envs", "tensorboard")) == "[]"


def test_top_level_help_imports_no_command_dependencies():
    # `rlkit --help` lists the commands from their one-line help; no command adds its options,
    # so neither the config schema (pydantic, NumPy, YAML) nor the agents registry is imported.
    heavy = ("torch", "stable_baselines3", "gymnasium", "envs", "agents", "pydantic", "numpy", "yaml", "rlkit.app.config")
    assert _imported_after_help([["--help"]], heavy) == "[]"


def test_a_command_named_after_an_option_still_gets_its_options():
    # main() adds the options of the first non-option word only; `rlkit train --steps 5` must parse.
    from rlkit.app.cli import COMMANDS

    parser = build_parser(("train",))
    args = parser.parse_args(["train", "--steps", "5"])
    assert args.steps == 5 and args.command == "train"
    assert set(_subparsers(parser)) == set(COMMANDS)
