"""rlkit.app.benchmark: a benchmark file's tasks crossed with its agents, one config per row."""

import pytest
import yaml

from rlkit.app.benchmark import load_benchmark, select_rows

AGENTS = {
    "mlp": {"algo": "ppo", "policy": {"encoder": "mlp"}},
    "gru": {"algo": "ppo-seq", "policy": {"encoder": "gru", "encoder_kwargs": {"hidden_size": 32}}},
}


def write(tmp_path, data):
    path = tmp_path / "bench.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_rows_cross_tasks_and_agents_in_order_with_per_algo_and_per_agent_on_top(tmp_path):
    path = write(tmp_path, {"agents": AGENTS, "tasks": {
        "grid": {"agents": ["mlp", "gru"], "config": {"env": {"id": "rlkit/GridWorld-v0"}, "total_steps": 1000,
                                                      "algo_kwargs": {"n_steps": 64}},
                 "per_algo": {"ppo-seq": {"algo_kwargs": {"bptt_len": 16}}},
                 "per_agent": {"gru": {"policy": {"encoder_kwargs": {"hidden_size": 8}}}}},
    }})
    rows = load_benchmark(path)
    assert list(rows) == ["grid_mlp", "grid_gru"]
    assert rows["grid_mlp"]["algo_kwargs"] == {"n_steps": 64}  # per_algo reaches only its algo
    assert rows["grid_gru"]["algo_kwargs"] == {"n_steps": 64, "bptt_len": 16}
    assert rows["grid_gru"]["policy"] == {"encoder": "gru", "encoder_kwargs": {"hidden_size": 8}}
    assert rows["grid_gru"]["total_steps"] == 1000 and rows["grid_gru"]["algo"] == "ppo-seq"


def test_extends_inherits_everything_but_what_the_task_sets(tmp_path):
    path = write(tmp_path, {"agents": AGENTS, "tasks": {
        "short": {"agents": ["mlp", "gru"], "config": {"env": {"id": "rlkit/GridWorld-v0"}, "total_steps": 1000},
                  "per_agent": {"gru": {"seed": 7}}},
        "long": {"extends": "short", "config": {"total_steps": 9000}},
        "longer": {"extends": "long", "agents": ["gru"], "config": {"n_envs": 2}},
    }})
    rows = load_benchmark(path)
    assert list(rows) == ["short_mlp", "short_gru", "long_mlp", "long_gru", "longer_gru"]
    assert rows["long_gru"]["total_steps"] == 9000 and rows["long_gru"]["seed"] == 7
    assert rows["longer_gru"] == {**rows["long_gru"], "n_envs": 2}
    assert rows["short_gru"]["total_steps"] == 1000  # the child did not write into its parent


@pytest.mark.parametrize("tasks, message", [
    ({"a": {"agents": ["lstm"], "config": {}}}, "task 'a' names agent 'lstm'; agents: mlp, gru"),
    ({"a": {"extends": "b"}}, "task 'a' extends 'b', which is not a task"),
    ({"a": {"extends": "b"}, "b": {"extends": "a"}}, "extends itself"),
    ({"a": {"agents": ["mlp"], "config": {}, "budget": 3}}, "unknown key(s) ['budget']"),
    ({"a": {"agents": ["mlp"], "config": {"total_step": 3}}}, "row a_mlp"),
])
def test_bad_benchmark_files_are_one_line_naming_the_problem(tmp_path, tasks, message):
    with pytest.raises(ValueError, match=None) as info:
        load_benchmark(write(tmp_path, {"agents": AGENTS, "tasks": tasks}))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_unknown_top_level_key_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['seeds'\]"):
        load_benchmark(write(tmp_path, {"agents": AGENTS, "tasks": {}, "seeds": [0]}))


def test_select_rows_globs_and_refuses_a_pattern_matching_nothing():
    rows = {"grid_mlp": {}, "grid_gru": {}, "maze_gru": {}}
    assert select_rows(rows, ["*_gru"], "b.yaml") == ["grid_gru", "maze_gru"]
    assert select_rows(rows, None, "b.yaml") == list(rows)
    with pytest.raises(ValueError, match="--only x_\\* matches no row of b.yaml; rows: grid_mlp, grid_gru, maze_gru"):
        select_rows(rows, ["x_*"], "b.yaml")
