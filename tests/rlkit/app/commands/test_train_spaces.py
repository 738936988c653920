"""`rlkit train` on an env whose observation or action space the agent cannot read: one line naming the space
and what would read it, exit 2, no run directory."""

import textwrap

import pytest


MODULE = "rlkit_test_oddspaces"
SOURCE = textwrap.dedent(
    """
    import gymnasium as gym
    import numpy as np
    from gymnasium import spaces

    OBS = {
        "nested": spaces.Tuple((spaces.Discrete(2), spaces.Dict({"a": spaces.Discrete(3)}))),
        "text": spaces.Text(5),
        "tuple": spaces.Tuple((spaces.Discrete(2), spaces.Discrete(3))),
    }
    ACT = {"discrete": spaces.Discrete(2), "tuple": spaces.Tuple((spaces.Discrete(2),))}


    class Odd(gym.Env):
        def __init__(self, obs="tuple", act="discrete"):
            self.observation_space, self.action_space = OBS[obs], ACT[act]

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            return self.observation_space.sample(), {}

        def step(self, action):
            return self.observation_space.sample(), 0.0, True, False, {}


    gym.register("Odd-v0", entry_point=Odd)
    """
)

CASES = {
    "nested": (["ppo-seq", "obs=nested"], "ppo-seq cannot read {env}'s observation space Tuple(Discrete(2), Dict('a': Discrete(3))) "
               "(it holds Dict('a': Discrete(3)) inside Tuple; it reads one level); flatten it with --wrapper FlattenObservation"),
    "text": (["ppo-seq", "obs=text"], "ppo-seq cannot read {env}'s observation space Text("),
    "tuple-for-sb3": (["ppo", "obs=tuple"], "ppo cannot read {env}'s observation space Tuple(Discrete(2), Discrete(3)) "
                      "(it reads Box, Discrete, MultiDiscrete, MultiBinary, Dict, not Tuple); algorithms that read it: ppo-seq"),
    "tuple-action": (["ppo-seq", "act=tuple"], "ppo-seq cannot act in {env}'s action space Tuple(Discrete(2)) "
                     "(it needs Discrete or MultiDiscrete or MultiBinary or Box); algorithms that fit: none"),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_a_space_the_agent_cannot_read_is_one_line_exit_2_and_writes_nothing(tmp_path, monkeypatch, train_refuses, case):
    (tmp_path / f"{MODULE}.py").write_text(SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    (algo, env_kwarg), expected = CASES[case]
    env = f"{MODULE}:Odd-v0"
    train_refuses([algo, env, "--env-kwargs", env_kwarg, "--steps", "64"], expected.format(env=env))
