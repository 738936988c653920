"""experiments/memory/offpolicy.yaml (the memory benchmark's off-policy section): every row loads, passes the
checks `rlkit train` makes before it writes anything, and builds its agent; run.py selects it with --benchmark."""

from pathlib import Path

import pytest

from rlkit.app.benchmark import load_benchmark
from rlkit.app.config import config_from_dict

MEMORY = Path(__file__).resolve().parents[2] / "experiments" / "memory"
ROWS = load_benchmark(MEMORY / "offpolicy.yaml")
ALGO = {"sac": "sac", "sac-gru": "sac-seq", "gru": "ppo-seq", "dqn-gru": "dqn-seq"}


@pytest.mark.parametrize("name", ROWS, ids=lambda n: f"offpolicy/{n}")
def test_offpolicy_row_validates_and_builds(name):
    from agents import get_algo
    from rlkit.app.env_factory import make_vec_env
    from rlkit.app.validation import validate

    config = config_from_dict(ROWS[name])
    agent = name.rsplit("_", 1)[1]
    assert config.algo == ALGO[agent] and config.policy.encoder == ("mlp" if agent == "sac" else "gru")
    assert config.total_steps <= 300_000 and config.eval.episodes > 0
    validate(config)
    env = make_vec_env(config)
    try:
        model = get_algo(config.algo).build(config, env)
        assert model.num_timesteps == 0
    finally:
        env.close()


def test_the_issue_s_comparisons_are_all_there():
    assert {"pendulum-po_sac", "pendulum-po_sac-gru", "pendulum-po_gru", "pendulum-po-noisy_sac-gru",
            "hvac-po_sac", "hvac-po_sac-gru", "groundhog-easy-dqn_dqn-gru", "groundhog-easy-dqn_gru"} <= set(ROWS)  # fmt: skip


def test_run_py_lists_the_offpolicy_rows_and_keeps_their_results_apart(capsys):
    from experiments.memory import run
    assert run.main(["--benchmark", str(MEMORY / "offpolicy.yaml"), "--list"]) == 0
    assert "pendulum-po_sac-gru" in capsys.readouterr().out
    args = run.parse_args(["--benchmark", str(MEMORY / "offpolicy.yaml")])
    assert Path(args.out) == MEMORY / "results" / "offpolicy"
    with pytest.raises(SystemExit):
        run.parse_args(["--benchmark", str(MEMORY / "offpolicy.yaml"), "--readme"])
    run.parse_args([])  # back to the default benchmark for whoever imports run next
