"""Evaluation acts with the env's ``info["action_mask"]`` where the agent takes and was trained with masks."""

import gymnasium as gym
import numpy as np
import pytest

from agents import get_algo
from rlkit.app.cli import main
from rlkit.app.config import load_config
from rlkit.app.env_factory import make_vec_env
from rlkit.app.evaluation import Evaluator, action_masks, uses_action_masks
from rlkit.app.training import train

LENGTH, N_ACTIONS = 8, 4


class OneAllowedEnv(gym.Env):
    """Each step one random action of four is allowed (``info["action_mask"]``); reward 1 for taking it."""

    metadata = {"render_modes": ["ansi"], "render_fps": 10}

    def __init__(self, render_mode=None):
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.action_space = gym.spaces.Discrete(N_ACTIONS)

    def _info(self):
        self.allowed = int(self.np_random.integers(N_ACTIONS))
        mask = np.zeros(N_ACTIONS, dtype=np.int8)
        mask[self.allowed] = 1
        return {"action_mask": mask}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, np.float32), self._info()

    def step(self, action):
        reward = float(int(action) == self.allowed)
        self.t += 1
        return np.zeros(1, np.float32), reward, self.t >= LENGTH, False, self._info()

    def render(self):
        return f"allowed {self.allowed}"


ENV_ID = "rlkit-test/OneAllowed-v0"
if ENV_ID not in gym.registry:
    gym.register(ENV_ID, entry_point=OneAllowedEnv)


def _evaluate(tmp_path, algo, *overrides):
    config = load_config(overrides=[
        f"logdir={tmp_path / 'runs'}", "device=cpu", "n_envs=2", f"env.id={ENV_ID}", f"algo={algo}",
        "eval.episodes=6", *overrides,
    ])  # fmt: skip
    env = make_vec_env(config)
    evaluator = Evaluator(config)
    try:
        model = get_algo(algo).build(config, env)
        return model, evaluator(model)
    finally:
        evaluator.close()
        env.close()


@pytest.mark.parametrize("deterministic", [True, False])
def test_masked_agent_is_evaluated_with_masks(tmp_path, deterministic):
    model, metrics = _evaluate(tmp_path, "ppo-seq", f"eval.deterministic={str(deterministic).lower()}")
    assert uses_action_masks(model)
    assert metrics["returns"] == [float(LENGTH)] * 6  # only ever the allowed action, untrained as it is


def test_agent_trained_without_masks_is_evaluated_without_them(tmp_path):
    model, metrics = _evaluate(tmp_path, "ppo-seq", "algo_kwargs.use_action_masks=false")
    assert not uses_action_masks(model)
    assert metrics["mean_reward"] < LENGTH


def test_sb3_agents_are_evaluated_as_before(tmp_path):
    model, metrics = _evaluate(tmp_path, "ppo")
    assert not uses_action_masks(model)
    assert len(metrics["returns"]) == 6


def test_final_metrics_and_enjoy_use_masks(tmp_path, capsys):
    config = load_config(overrides=[
        f"logdir={tmp_path / 'runs'}", "device=cpu", "n_envs=2", f"env.id={ENV_ID}", "algo=ppo-seq", "total_steps=64",
        "eval.every=0", "eval.episodes=2", "algo_kwargs={n_steps: 32, batch_size: 32}",
    ])  # fmt: skip
    result = train(config)
    assert result.metrics["returns"] == [float(LENGTH)] * 2
    capsys.readouterr()
    assert main(["enjoy", str(result.run_dir), "--no-delay", "--episodes", "2"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].endswith(f"returns {LENGTH}, {LENGTH}")


def test_action_masks_stack_per_env():
    assert action_masks([{}, {}]) is None
    masks = action_masks([{"action_mask": np.array([0, 1, 0], np.int8)}, {}])
    assert masks.dtype == bool and masks.tolist() == [[False, True, False], [True, True, True]]
