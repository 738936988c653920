"""Fixtures of the env tests: trading rollouts and a market changed after a bar (the look-ahead oracle)."""

import numpy as np
import pytest

from envs.trading import MarketData


def _rollout(env, seed, n_steps, action_seed=0, actions=None):
    """Obs, rewards and infos of an episode; random actions (seeded) unless `actions` are given."""
    observation, info = env.reset(seed=seed)
    env.action_space.seed(action_seed)
    observations, rewards, infos = [observation], [], [info]
    for k in range(n_steps):
        action = env.action_space.sample() if actions is None else actions[k]
        observation, reward, terminated, truncated, info = env.step(action)
        observations.append(observation)
        rewards.append(reward)
        infos.append(info)
        if terminated or truncated:
            break
    return np.array(observations), np.array(rewards), infos


def _perturb_after(market: MarketData, bar: int, seed: int = 1) -> MarketData:
    """A copy whose bars after `bar` all differ (open/high/low/close/volume), still valid bars."""
    rng = np.random.default_rng(seed)
    n, n_assets = market.close.shape
    scale = np.exp(rng.normal(0.0, 0.05, size=(n, n_assets)))
    scale[: bar + 1] = 1.0
    open_ = market.open * scale
    close = market.close * scale
    close[bar + 1 :] *= np.exp(rng.normal(0.0, 0.02, size=(n - bar - 1, n_assets)))
    widen = np.where(np.arange(n)[:, None] > bar, 1.001, 1.0)
    high = np.maximum(np.maximum(open_, close), market.high * scale) * widen
    low = np.minimum(np.minimum(open_, close), market.low * scale) / widen
    volume = market.volume.copy()
    volume[bar + 1 :] *= 3.0
    changed = market.replace_prices(open=open_, high=high, low=low, close=close, volume=volume)
    for column in ("open", "high", "low", "close", "volume"):
        assert np.all(getattr(changed, column)[bar + 1 :] != getattr(market, column)[bar + 1 :])
        np.testing.assert_array_equal(getattr(changed, column)[: bar + 1], getattr(market, column)[: bar + 1])
    return changed


@pytest.fixture
def rollout():
    """``rollout(env, seed, n_steps, action_seed=0, actions=None)``: obs, rewards and infos of an episode."""
    return _rollout


@pytest.fixture
def perturb_after():
    """``perturb_after(market, bar, seed=1)``: a valid copy of `market` whose every bar after `bar` differs."""
    return _perturb_after
