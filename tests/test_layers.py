"""The import directions of DESIGN.md hold: `lint-imports` keeps every contract of pyproject.toml, and the
same contracts break on a small tree that imports the wrong way (so the check can fail)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The `lint-imports` console script, run by this interpreter.
LINT_IMPORTS = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(cwd), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--no-logo", "--no-cache"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_project_keeps_every_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout and "3 kept" in result.stdout, result.stdout


# A tree laid out as the project is, every package importing only what DESIGN.md allows.
CLEAN_TREE = {
    "envs/__init__.py": "import numpy\n",
    "envs/grid.py": "import gymnasium\n",
    "rlkit/__init__.py": "",
    "rlkit/nn/__init__.py": "import torch\n",
    "rlkit/buffers.py": "import rlkit.nn\n",
    "rlkit/app/__init__.py": "",
    "rlkit/app/cli.py": "import envs.grid\nimport agents.sb3\nimport rlkit.buffers\n",
    "agents/__init__.py": "",
    "agents/sb3.py": "import rlkit.nn\nimport stable_baselines3\n",
}

# One wrong import each, and the contract (its name in the report) that it breaks.
VIOLATIONS = [
    ("envs/grid.py", "import torch\n", "envs imports neither rlkit, agents nor torch"),
    ("envs/grid.py", "from rlkit import nn\n", "envs imports neither rlkit, agents nor torch"),
    ("rlkit/buffers.py", "import envs.grid\n", "the rlkit library"),
    ("rlkit/nn/__init__.py", "def f():\n    import agents.sb3\n", "the rlkit library"),
    ("rlkit/buffers.py", "from rlkit.app import cli\n", "the rlkit library"),
    ("agents/sb3.py", "import rlkit.app.cli\n", "agents never imports rlkit.app"),
]


def write_tree(root: Path, extra: tuple[str, str] | None = None) -> None:
    (root / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    for rel, text in CLEAN_TREE.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if extra is not None:
        rel, text = extra
        with open(root / rel, "a") as f:
            f.write(text)


def test_the_contracts_keep_a_clean_tree(tmp_path):
    write_tree(tmp_path)
    result = lint_imports(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("rel, line, contract", VIOLATIONS, ids=[f"{r}:{l.split()[-1]}" for r, l, _ in VIOLATIONS])
def test_a_wrong_import_breaks_its_contract(tmp_path, rel, line, contract):
    write_tree(tmp_path, (rel, line))
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 broken" in result.stdout, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout
