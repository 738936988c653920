"""The README's Quickstart is what a new user types: CI must run its test command verbatim."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def quickstart_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S)]


def test_quickstart_has_two_commands_that_install_with_the_cpu_torch():
    commands = quickstart_commands()
    assert len(commands) == 2, commands
    train, test = commands
    for command in commands:
        assert "\n" not in command, f"a Quickstart command is one line: {command!r}"
        # An unpinned torch would pull a multi-GB CUDA build.
        assert command.startswith("pip install torch==2.13.0 -e "), command
    assert train.endswith("&& rlkit train")
    assert test.endswith("&& pytest")


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = quickstart_commands()[1]
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines
