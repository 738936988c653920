"""Every option's `--help` line states its default once, in words a user can act on.

argparse's ArgumentDefaultsHelpFormatter appends ``(default: X)`` even where the help text already
says it in words (``--episodes N ... (default: the run's eval.episodes) (default: None)``), and for
an on/off flag it prints the attribute's Python value, which reads backwards for a ``--no-…`` flag
(``--no-prune ... (default: True)``).
"""

import argparse

from rlkit.app.cli import build_parser


def _all_parsers(parser, prog="rlkit"):
    yield prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _all_parsers(sub, f"{prog} {name}")


def _rendered_help(parser, action):
    formatter = parser._get_formatter()
    return formatter._expand_help(action) if action.help else ""


def test_walks_nested_subcommands():
    progs = {prog for prog, _ in _all_parsers(build_parser())}
    assert {"rlkit train", "rlkit sweep", "rlkit pretrain bc", "rlkit bench nn"} <= progs


def _options_where(predicate) -> list[str]:
    """``prog --option: help`` for every option of every (nested) command whose action and rendered help match."""
    return [
        f"{prog} {'/'.join(action.option_strings)}: {_rendered_help(parser, action)}"
        for prog, parser in _all_parsers(build_parser())
        for action in parser._actions
        if action.option_strings and predicate(action, _rendered_help(parser, action))
    ]


def test_no_option_states_its_default_twice():
    twice = _options_where(lambda action, text: text.count("(default") > 1)
    assert not twice, "\n".join(twice)


def test_flags_do_not_show_a_python_bool_as_their_default():
    wrong = _options_where(lambda action, text: action.nargs == 0 and ("(default: True)" in text or "(default: False)" in text))
    assert not wrong, "\n".join(wrong)


def test_required_options_show_no_default():
    shown = _options_where(lambda action, text: action.required and "(default" in text)
    assert not shown, "\n".join(shown)


def test_every_option_of_every_command_has_help():
    # tests/rlkit/app/commands/test_help.py covers the run commands; this reaches the nested ones too.
    missing = [
        f"{prog} {'/'.join(action.option_strings)}"
        for prog, parser in _all_parsers(build_parser())
        for action in parser._actions
        if action.option_strings and not action.help
    ]
    assert not missing, missing
