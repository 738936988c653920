"""`rlkit bench envs --quick` runs in-process and prints a row for every base env, the references and
every batched size (the figures themselves are timings on a shared machine, so only their form is checked)."""

import re

import gymnasium as gym

import envs
from rlkit.app.bench.envs import CARTPOLE_ID, MINIGRID_ID, VECTOR_SIZES
from rlkit.app.cli import main


def _rows(output: str) -> dict[str, list[str]]:
    """First cell -> remaining cells of every row of the rich tables in `output`."""
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃]", line)[1:-1]]
        if cells:
            rows.setdefault(cells[0], []).append(cells[1:])
    return rows


def test_bench_envs_quick_prints_every_row(capsys):
    assert main(["bench", "envs", "--quick"]) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    base_ids = [i for i in envs.ENV_IDS if re.fullmatch(r"rlkit/[A-Za-z0-9]+-v\d+", i)]
    assert "rlkit/GridWorld-v0" in base_ids
    for env_id in [MINIGRID_ID, CARTPOLE_ID, *base_ids]:
        assert env_id in rows, f"no row for {env_id}"
        us_per_step, steps_per_s, ratio, _ = rows[env_id][0]
        assert float(us_per_step.replace(",", "")) > 0 and float(steps_per_s.replace(",", "")) > 0 and float(ratio.replace(",", "")) > 0
    assert rows[MINIGRID_ID][0][2] == "1.00"
    variants = [i for i in envs.ENV_IDS if i not in base_ids]
    assert not any(v in rows for v in variants)  # variants only with --all
    vector_ids = [i for i in base_ids if gym.spec(i).vector_entry_point is not None]
    assert len(vector_ids) >= 1
    for size in VECTOR_SIZES:
        assert len(rows[str(size)]) == len(vector_ids), f"num_envs={size} rows: {rows.get(str(size))}"
        for cells in rows[str(size)]:
            assert len(cells) == 5 and all(float(c.replace(",", "")) > 0 for c in cells)
    assert "target: single rlkit/GridWorld-v0 >= 10×" in out
    assert "target: batched rlkit/GridWorld-v0 at 1024 envs >= 2,000,000 steps/s" in out


def test_bench_envs_rejects_bad_arguments(capsys):
    assert main(["bench", "envs", "--steps", "0"]) == 2
    assert "rlkit bench: error: bench envs: --steps=0" in capsys.readouterr().err
