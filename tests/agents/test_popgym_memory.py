"""On a task others defined, POPGym's RepeatPrevious (name the suit of the card dealt k steps ago), a
ppo-seq GRU learns a near-perfect policy while SB3's MLP PPO, which sees only the current card, stays near
chance (a random suit is right a quarter of the time: return 0.25 - 0.75 = -0.5). Slow; needs popgym."""

from __future__ import annotations

import numpy as np
import pytest

popgym = pytest.importorskip("popgym")

from gymnasium.wrappers import FlattenObservation  # noqa: E402
from popgym.envs.repeat_previous import RepeatPrevious  # noqa: E402
from stable_baselines3 import PPO  # noqa: E402
from stable_baselines3.common.vec_env import DummyVecEnv  # noqa: E402

from agents.sequence_ppo import SequencePPO  # noqa: E402


def _deck():
    return RepeatPrevious(num_decks=1, k=2)  # one deck: 51 answers per episode, returns in [-1, 1]


def _vec(n, flat, seed):
    env = DummyVecEnv([(lambda: FlattenObservation(_deck())) if flat else _deck] * n)
    env.seed(seed)
    return env


def deterministic_return(model, memory: bool, episodes: int = 16) -> float:
    env = _vec(episodes, not memory, seed=123)
    obs = env.reset()
    state, starts = None, np.ones(episodes, dtype=bool)
    returns, done = np.zeros(episodes), np.zeros(episodes, dtype=bool)
    while not done.all():
        if memory:
            actions, state = model.predict(obs, state=state, episode_start=starts, deterministic=True)
        else:
            actions, _ = model.predict(obs, deterministic=True)
        obs, rewards, dones, _ = env.step(actions)
        returns += rewards * ~done
        done |= dones
        starts = dones
    return float(returns.mean())


@pytest.mark.slow
@pytest.mark.parametrize("agent", ["gru", "mlp"])
def test_gru_solves_repeat_previous_and_an_mlp_stays_at_chance(agent):
    common = dict(n_steps=64, batch_size=256, n_epochs=4, learning_rate=3e-3, seed=0, device="cpu")
    if agent == "mlp":
        model = PPO("MlpPolicy", _vec(8, True, 0), policy_kwargs=dict(net_arch=[32]), **common)
    else:
        policy_kwargs = dict(encoder="gru", encoder_kwargs={"hidden_size": 32}, net_arch=[32])
        model = SequencePPO("SequencePolicy", _vec(8, False, 0), bptt_len=16, policy_kwargs=policy_kwargs, **common)
    model.learn(32_768)
    score = deterministic_return(model, memory=agent != "mlp")
    if agent == "mlp":
        assert -0.65 <= score <= -0.3, f"an MLP cannot recall the card two steps back, got {score}"
    else:
        assert score >= 0.9, f"the GRU should recall the card two steps back, got {score}"
