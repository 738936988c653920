"""The Numba kernels' disk cache: a second process loads instead of compiling, and a read-only
install still imports and computes (caching elsewhere, or not at all with a warning).

Each case runs a fresh Python on a copy of the ``rlkit`` package in a temp dir, so the repo's own
``__pycache__`` is never involved. Root ignores file permissions, so for the read-only cases a
root test process drops the capabilities that let it do so (``setpriv``; running as ``nobody``
is not possible here because the interpreter lives under root's 0700 home) and checks in the
child that the package directory really is unwritable.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rlkit
from rlkit.returns import gae_advantages

CHILD = r"""
import json, os, warnings
import numpy as np
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import rlkit.returns as R
    import rlkit.returns.kernels as K
rng = np.random.default_rng(0)
r, v = rng.standard_normal((64, 4)).astype(np.float32), rng.standard_normal((64, 4)).astype(np.float32)
starts = (rng.random((64, 4)) < 0.1).astype(np.float32)
adv, ret = R.gae_advantages(r, v, starts, np.ones(4, np.float32), np.array([1, 0, 0, 1], bool), 0.99, 0.95)
stats = K.gae_kernel.stats
package_dir = os.path.dirname(R.__file__)
try:
    open(os.path.join(package_dir, "probe"), "w").close()
    package_writable = True
except OSError:
    package_writable = False
print(json.dumps({
    "file": R.__file__,
    "advantages": adv.tolist(),
    "cache_path": stats.cache_path,
    "hits": sum(stats.cache_hits.values()),
    "misses": sum(stats.cache_misses.values()),
    "package_writable": package_writable,
    "warnings": [str(w.message) for w in caught if "rlkit" in str(w.message)],
}))
"""


def _expected_advantages() -> np.ndarray:
    rng = np.random.default_rng(0)
    r, v = rng.standard_normal((64, 4)).astype(np.float32), rng.standard_normal((64, 4)).astype(np.float32)
    starts = (rng.random((64, 4)) < 0.1).astype(np.float32)
    return gae_advantages(r, v, starts, np.ones(4, np.float32), np.array([1, 0, 0, 1], bool), 0.99, 0.95)[0]


def _install_copy(root: Path, read_only: bool) -> Path:
    site = root / "site"
    shutil.copytree(Path(rlkit.__file__).parent, site / "rlkit", ignore=shutil.ignore_patterns("__pycache__"))
    if read_only:
        _make_read_only(site)
    return site


def _make_read_only(path: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(path, topdown=False):
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.chmod(dirpath, 0o555)


def _unprivileged_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []  # file permissions already apply
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a read-only directory unwritable to the child")
    caps = "-dac_override,-dac_read_search"
    return ["setpriv", "--bounding-set", caps, "--inh-caps", caps]


def _run(site: Path, home: Path, cache_dir: Path | None, unprivileged: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "XDG_")) and k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(site), HOME=str(home), PYTHONDONTWRITEBYTECODE="1")
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    prefix = _unprivileged_prefix() if unprivileged else []
    proc = subprocess.run(
        [*prefix, sys.executable, "-c", CHILD], env=env, cwd=str(home), capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["file"] == str(site / "rlkit" / "returns" / "__init__.py"), "the child imported another rlkit"
    np.testing.assert_array_equal(np.array(result["advantages"], np.float32), _expected_advantages())
    return result


def _cache_files(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.suffix in (".nbi", ".nbc")]


def test_second_process_loads_the_kernel_from_the_in_tree_cache(tmp_path):
    site = _install_copy(tmp_path, read_only=False)
    home = tmp_path / "home"
    home.mkdir()
    first = _run(site, home, None, unprivileged=False)
    assert first["cache_path"] == str(site / "rlkit" / "returns" / "__pycache__")
    assert first["misses"] >= 1 and first["hits"] == 0
    assert any(p.name.startswith("kernels.gae_kernel") for p in _cache_files(site / "rlkit" / "returns" / "__pycache__"))
    second = _run(site, home, None, unprivileged=False)
    assert second["hits"] >= 1 and second["misses"] == 0, second


@pytest.fixture
def read_only_site(tmp_path):
    site = _install_copy(tmp_path, read_only=True)
    # The child runs with fewer privileges: it must be able to reach what it needs.
    os.chmod(tmp_path, 0o777)
    yield site
    for dirpath, _, _ in os.walk(site):
        os.chmod(dirpath, 0o755)


@pytest.mark.slow  # an install-layout check: a fresh interpreter compiles the kernel (3-5 s); run with -m slow
def test_read_only_install_caches_in_numba_cache_dir(tmp_path, read_only_site):
    home, cache_dir = tmp_path / "home", tmp_path / "numba-cache"
    home.mkdir()
    first = _run(read_only_site, home, cache_dir, unprivileged=True)
    assert not first["package_writable"], "the package copy was writable: the test would prove nothing"
    assert first["cache_path"].startswith(str(cache_dir)) and not first["warnings"]
    assert _cache_files(cache_dir) and not _cache_files(read_only_site)
    second = _run(read_only_site, home, cache_dir, unprivileged=True)
    assert second["hits"] >= 1 and second["misses"] == 0, second


@pytest.mark.slow  # an install-layout check: a fresh interpreter compiles the kernel (3-5 s); run with -m slow
def test_read_only_install_falls_back_to_the_user_cache(tmp_path, read_only_site):
    home = tmp_path / "home"
    home.mkdir()
    result = _run(read_only_site, home, None, unprivileged=True)
    assert not result["package_writable"]
    assert result["cache_path"].startswith(str(home)) and not result["warnings"]
    assert _cache_files(home) and not _cache_files(read_only_site)


@pytest.mark.slow  # an install-layout check: a fresh interpreter compiles the kernel (3-5 s); run with -m slow
def test_read_only_install_without_any_writable_cache_still_works(tmp_path, read_only_site):
    home = tmp_path / "home"
    home.mkdir()
    _make_read_only(home)
    result = _run(read_only_site, home, None, unprivileged=True)
    assert not result["package_writable"]
    assert result["cache_path"] is None
    assert any("NUMBA_CACHE_DIR" in w for w in result["warnings"]), result["warnings"]
    assert not _cache_files(read_only_site) and not _cache_files(home)
