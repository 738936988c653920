"""Every experiments/*.yaml reaches the score it claims in the steps it claims (slow: `pytest -m slow`)."""

from pathlib import Path

import pytest

from rlkit.app.benchmark import load_benchmark
from rlkit.app.config import config_from_dict, load_config

EXPERIMENTS = sorted((Path(__file__).resolve().parents[2] / "experiments").glob("*.yaml"))


def test_every_experiment_parses_and_states_what_it_reaches():
    assert EXPERIMENTS, "experiments/ holds no YAML"
    for path in EXPERIMENTS:
        config = load_config(path)
        assert config.expected is not None, f"{path.name}: no expected: {{score, steps}}"
        assert config.expected.steps == config.total_steps, f"{path.name}: expected.steps must be the total_steps it trains for"


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_experiment_reaches_its_expected_score(path, tmp_path):
    from rlkit.app.training import train

    config = load_config(path, [f"logdir={tmp_path}", "device=cpu"])
    result = train(config, handle_signals=False)
    assert result.status == "finished", result.message
    assert result.steps >= config.expected.steps
    assert result.metrics["mean_reward"] >= config.expected.score, (
        f"{path.name}: mean return {result.metrics['mean_reward']:.4g} < expected {config.expected.score} "
        f"after {result.steps} steps"
    )


# The memory and pretraining benchmarks' configs are run by their own scripts, not by the slow test
# above; they must still load (a typo in one would surface only an hour into a benchmark run).
EXPERIMENTS_DIR = EXPERIMENTS[0].parent
BENCHMARK_CONFIGS = sorted((EXPERIMENTS_DIR / "pretraining").glob("*.yaml"))
MEMORY_ROWS = load_benchmark(EXPERIMENTS_DIR / "memory" / "benchmark.yaml")


@pytest.mark.parametrize("path", BENCHMARK_CONFIGS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_benchmark_config_loads(path):
    config = load_config(path)
    assert config.total_steps > 0 and config.eval.episodes > 0


@pytest.mark.parametrize("name", MEMORY_ROWS, ids=lambda n: f"memory/{n}")
def test_memory_benchmark_row_loads(name):
    config = config_from_dict(MEMORY_ROWS[name])
    assert config.total_steps > 0 and config.eval.episodes > 0
    # A row is <task>_<agent>: the agent axis decides the algo and encoder, nothing else does; an agent
    # <encoder>-<variant> (gru-aux) is that encoder with other settings.
    agent = name.rsplit("_", 1)[1]
    encoder = agent.split("-")[0]
    assert config.policy.encoder == encoder and config.algo == ("ppo" if agent == "mlp" else "ppo-seq")
