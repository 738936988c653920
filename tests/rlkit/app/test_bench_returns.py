"""`rlkit bench returns` runs in-process and prints a row for every size (timings are not checked)."""

from __future__ import annotations

import pytest

from rlkit.app.bench.returns import DEFAULT_SIZES
from rlkit.app.cli import main


def _rows(output: str) -> dict[str, list[str]]:
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if cells and "x" in cells[0] and cells[0][0].isdigit():
            rows[cells[0]] = cells
    return rows


def test_bench_returns_quick_prints_every_size(capsys):
    assert main(["bench", "returns", "--quick"]) == 0
    output = capsys.readouterr().out
    rows = _rows(output)
    assert sorted(rows) == sorted(DEFAULT_SIZES.split(","))
    assert {"2048x1", "2048x8", "2048x64", "128x1024", "16384x64"} <= set(rows)
    for size, cells in rows.items():
        assert len(cells) == 8, cells
        assert cells[-1] == "0", f"{size}: the Numba buffer's advantages differ from SB3's by {cells[-1]}"
    assert "targets at 2048x8" in output


def test_bench_returns_sizes_option(capsys):
    assert main(["bench", "returns", "--quick", "--sizes", "16x2,3x5"]) == 0
    assert sorted(_rows(capsys.readouterr().out)) == ["16x2", "3x5"]


@pytest.mark.parametrize("sizes", ["2048", "0x8", "axb", "8x8,"])
def test_bench_returns_bad_sizes_is_a_one_line_error(capsys, sizes):
    assert main(["bench", "returns", "--quick", "--sizes", sizes]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rlkit bench: error: --sizes: got") and "\n" not in err
