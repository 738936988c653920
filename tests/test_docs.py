"""The docs site builds with no warning (a broken link or a missing included results file fails), and
README.md stays a front page."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README_LIMIT_BYTES = 15 * 1024


def test_mkdocs_build_strict(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, env={"NO_MKDOCS_2_WARNING": "1", "PATH": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "api" / "returns" / "index.html").read_text().count("doc-function") > 0


def test_readme_is_a_front_page():
    assert (ROOT / "README.md").stat().st_size <= README_LIMIT_BYTES


def test_readme_links_and_pictures_exist():
    readme = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)#]+)\)", readme)
    local = [t for t in targets if not t.startswith(("http://", "https://"))]
    assert local, "the front page links into docs/"
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, f"README.md links to files that do not exist: {missing}"
