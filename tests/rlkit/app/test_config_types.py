"""Config types are strict: a bool is not an int, a repeated YAML key is an error, sizes are bounded, an empty file is refused.

Each case was accepted before (issue 21 item 5): ``total_steps: true`` trained 1 step, a duplicate key kept
its last value, ``total_steps: 1e25``-sized integers validated, and an empty file trained the schema defaults.
"""

import pytest

from rlkit.app.config import MAX_SEED, MAX_STEPS, load_config, load_yaml, parse_assignment


@pytest.mark.parametrize(
    "key, value",
    [("total_steps", "true"), ("n_envs", "true"), ("seed", "false"), ("eval.every", "true"), ("eval.episodes", "1.0"),
     ("total_steps", "'100'"), ("env.normalize.obs", "1"), ("env.normalize.clip_obs", "true"), ("policy.bc_weight", "true"),
     ("eval.deterministic", "'yes'")],
)  # fmt: skip
def test_a_value_of_another_type_is_refused_not_coerced(key, value):
    with pytest.raises(ValueError, match=rf"--set: {key}: Input should be a valid"):
        load_config(overrides=[f"{key}={value}"])


def test_floats_still_take_integers():
    config = load_config(overrides=["env.normalize.clip_obs=5", "policy.bc_weight=0"])
    assert config.env.normalize.clip_obs == 5.0 and isinstance(config.env.normalize.clip_obs, float)


@pytest.mark.parametrize(
    "key, value, bound",
    [("total_steps", 10**25, MAX_STEPS), ("eval.every", MAX_STEPS + 1, MAX_STEPS), ("checkpoint_every", 2**70, MAX_STEPS),
     ("seed", 2**40, MAX_SEED), ("eval.seed", 2**63, MAX_SEED), ("n_envs", 10**9, 65_536)],
)  # fmt: skip
def test_sizes_are_bounded(key, value, bound):
    with pytest.raises(ValueError, match=rf"{key}: Input should be less than or equal to {bound} \(got {value}\)"):
        load_config(overrides=[f"{key}={value}"])
    load_config(overrides=[f"{key}={bound}"])  # the bound itself is fine


def test_duplicate_yaml_key_names_the_key_and_both_lines(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("env: CartPole-v1\ntotal_steps: 1000\nalgo: ppo\ntotal_steps: 50\n")
    with pytest.raises(ValueError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: malformed YAML at line 4, column 1: duplicate key 'total_steps' (first at line 2)")
    assert "\n" not in message


def test_duplicate_key_in_a_nested_mapping_and_in_set_values(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("env: CartPole-v1\nalgo_kwargs:\n  n_steps: 32\n  gamma: 0.9\n  n_steps: 64\n")
    with pytest.raises(ValueError, match=r"line 5, column 3: duplicate key 'n_steps' \(first at line 3\)"):
        load_config(path)
    with pytest.raises(ValueError, match="duplicate key 'a'"):
        parse_assignment("x={a: 1, a: 2}")
    assert load_yaml("a: {b: 1}\nc: {b: 2}\n") == {"a": {"b": 1}, "c": {"b": 2}}  # the same key in two mappings is fine


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n", "---\n"])
def test_an_empty_config_file_is_refused(tmp_path, text):
    path = tmp_path / "empty.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=rf"config file '{path}' is empty; write at least its algo and env"):
        load_config(path)
