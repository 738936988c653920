"""Trading on markets the agent has not seen (issue 19): a new synthetic market per episode, walk-forward
splits of CSV data, a Yahoo-format file read as it is, FinRL's metrics at the episode's end, and
the baselines on the same episodes. No look-ahead in every mode (with test_trading's test_no_look_ahead)."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the ids)
from envs.baselines import load_baseline, run_episodes
from envs.trading import TradingEnv, load_ohlcv_csv, save_ohlcv_csv, synthetic_market


def test_per_episode_markets_differ_and_reproduce_from_the_seed():
    env = TradingEnv(new_market_per_episode=True, episode_length=60)
    markets = {}
    for seed in range(6):
        _, info = env.reset(seed=seed)
        markets[seed] = (info["data_seed"], env.market.close.copy())
    assert len({data_seed for data_seed, _ in markets.values()}) == 6
    assert all(not np.array_equal(markets[0][1], close) for _, close in list(markets.values())[1:])
    again = TradingEnv(new_market_per_episode=True, episode_length=60)
    _, info = again.reset(seed=3)
    assert info["data_seed"] == markets[3][0] and np.array_equal(again.market.close, markets[3][1])
    # An auto-reset without a seed (as SB3's vector envs do) continues the stream: a new market again.
    _, info = again.reset()
    assert info["data_seed"] not in {data_seed for data_seed, _ in markets.values()}


def test_training_and_evaluation_markets_never_coincide():
    train = TradingEnv(new_market_per_episode=True, split="train", episode_length=30)
    test = TradingEnv(new_market_per_episode=True, split="test", episode_length=30)
    train_seeds = {train.reset(seed=s)[1]["data_seed"] for s in range(200)}
    test_seeds = {test.reset(seed=s)[1]["data_seed"] for s in range(200)}
    assert all(d % 2 == 0 for d in train_seeds) and all(d % 2 == 1 for d in test_seeds)


@pytest.mark.parametrize("kwargs", [{}, {"action_type": "continuous", "n_assets": 2}])
def test_a_per_episode_market_trades_exactly_like_that_market_given_as_data(kwargs, rollout, perturb_after):
    """The per-episode env is the fixed-data env on the market it drew (so test_no_look_ahead on
    data= covers it), and its observations never depend on a bar after the one observed."""
    kwargs = dict(kwargs)  # shared between runs: do not pop from it
    n_assets = kwargs.pop("n_assets", None)
    env = TradingEnv(new_market_per_episode=True, episode_length=80, n_assets=n_assets, **kwargs)
    obs_a, rew_a, infos = rollout(env, seed=9, n_steps=80, action_seed=1)
    market = synthetic_market(n_bars=len(env.market), n_assets=env.n_assets, seed=infos[0]["data_seed"])
    fixed = TradingEnv(data=market, split="all", episode_length=80, **kwargs)
    obs_b, rew_b, _ = rollout(fixed, seed=9, n_steps=80, action_seed=1)
    np.testing.assert_array_equal(obs_a, obs_b)
    np.testing.assert_array_equal(rew_a, rew_b)
    t = 30
    poisoned = TradingEnv(data=perturb_after(market, fixed.first_bar + t), split="all", episode_length=80, **kwargs)
    obs_c, rew_c, _ = rollout(poisoned, seed=9, n_steps=80, action_seed=1)
    np.testing.assert_array_equal(obs_a[: t + 1], obs_c[: t + 1])
    np.testing.assert_array_equal(rew_a[:t], rew_c[:t])


def test_walk_forward_folds_train_on_a_window_and_test_on_the_next(rollout, perturb_after):
    market = synthetic_market(n_bars=1200, seed=4)
    bounds = []
    for fold in range(3):
        train = TradingEnv(data=market, n_folds=3, fold=fold, split="train", episode_length=100)
        test = TradingEnv(data=market, n_folds=3, fold=fold, split="test", episode_length=100)
        assert train.last_bar == test.test_start_bar - 1 == 300 * (fold + 1) - 1
        assert test.first_bar == test.test_start_bar - 1 and test.last_bar == 300 * (fold + 2) - 1
        assert train.first_bar == max(300 * fold, 52)
        bounds.append((test.test_start_bar, test.last_bar))
        # Neither split reads past its window: poisoning every later bar changes nothing.
        for env, last in ((train, train.last_bar), (test, test.last_bar)):
            kwargs = dict(n_folds=3, fold=fold, split=env.params.split, episode_length=100)
            if last + 1 < len(market):
                poisoned = TradingEnv(data=perturb_after(market, last), **kwargs)
                for seed in range(5):
                    a, ra, _ = rollout(env, seed, 100, action_seed=seed)
                    b, rb, _ = rollout(poisoned, seed, 100, action_seed=seed)
                    np.testing.assert_array_equal(a, b)
                    np.testing.assert_array_equal(ra, rb)
                    assert env.bar_index <= last
    assert bounds == [(300, 599), (600, 899), (900, 1199)]  # consecutive test windows


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"new_market_per_episode": True, "data_seed": 3}, "data_seed"),
        ({"new_market_per_episode": True, "episode_length": None}, "episode_length"),
        ({"n_folds": 0}, "n_folds"),
        ({"n_folds": 2, "fold": 2}, "fold"),
        ({"n_folds": 2, "split": "all"}, "split='train' or 'test'"),
        ({"fold": 1}, "needs n_folds"),
    ],
)
def test_bad_unseen_market_arguments_are_one_line(kwargs, match):
    with pytest.raises(ValueError, match=match) as excinfo:
        TradingEnv(**kwargs)
    assert "\n" not in str(excinfo.value)


YAHOO = """Date,Open,High,Low,Close,Adj Close,Volume
2020-01-02,74.059998,75.150002,73.797501,75.087502,73.449394,135480400
2020-01-03,74.287498,75.144997,74.125000,74.357498,72.735313,146322800
2020-01-06,73.447502,74.989998,73.187500,74.949997,73.314880,118387200
2020-01-07,74.959999,75.224998,74.370003,74.597504,72.970085,108872000
"""


def test_a_yahoo_finance_csv_is_read_as_it_is(tmp_path):
    path = tmp_path / "AAPL.csv"
    path.write_text(YAHOO)
    market = load_ohlcv_csv(path)
    assert market.names == ("AAPL",) and len(market) == 4
    np.testing.assert_allclose(market.close[:, 0], [73.449394, 72.735313, 73.314880, 72.970085])  # adjusted
    np.testing.assert_allclose(load_ohlcv_csv(path, adjust=False).close[:, 0], [75.087502, 74.357498, 74.949997, 74.597504])
    path.write_text(YAHOO.replace("2020-01-06,73.447502", "2020-01-06,null"))
    with pytest.raises(ValueError, match=r"AAPL\.csv: line 4, column Open: 'null' is not a number"):
        load_ohlcv_csv(path)


def test_walk_forward_on_a_yahoo_format_file(tmp_path):
    path = tmp_path / "SYN.csv"
    save_ohlcv_csv(synthetic_market(n_bars=800, seed=8), path)
    text = path.read_text().splitlines()
    header = "Date,Open,High,Low,Close,Adj Close,Volume"
    rows = [",".join([*r.split(",")[:5], r.split(",")[4], r.split(",")[5]]) for r in text[1:]]
    path.write_text("\n".join([header, *rows]) + "\n")
    env = gym.make("rlkit/Trading-v0", csv_path=str(path), n_folds=3, fold=2, split="test", episode_length=None)
    returns = run_episodes(env, load_baseline("rlkit/Trading-v0", "buy_and_hold", env), n_episodes=1)
    assert np.isfinite(returns).all() and env.unwrapped.test_start_bar == 600 and env.unwrapped.last_bar == 799


def test_finrl_metrics_at_the_episode_end(rollout):
    env = TradingEnv(new_market_per_episode=True, episode_length=120, split="test")
    _, rewards, infos = rollout(env, seed=2, n_steps=120, actions=[2, 0] * 60)  # long, short, long, …
    metrics = infos[-1]["episode_metrics"]
    growth = math.exp(rewards.sum())
    assert metrics["total_return"] == pytest.approx(growth - 1.0, rel=1e-9)
    assert metrics["annual_return"] == pytest.approx(growth ** (252 / 120) - 1.0, rel=1e-9)
    assert metrics["fees"] > 0 and metrics["fees"] < metrics["costs"]
    # All cash to long (1), then every flip sells the long and sells short the same value (2 each).
    assert metrics["turnover"] == pytest.approx(1 + 2 * 119, rel=0.01)
    # Each step's info says what that step traded; the episode's turnover is their sum.
    step_turnover = np.array([info["turnover"] for info in infos[1:]])  # infos[0] is the reset's
    assert step_turnover[0] == pytest.approx(1.0, rel=0.01) and step_turnover[1:] == pytest.approx(2.0, rel=0.05)
    assert step_turnover.sum() == pytest.approx(metrics["turnover"], rel=1e-12)
    assert {"sharpe", "max_drawdown"} <= set(metrics)


def test_baselines_meet_the_agents_episodes():
    """A baseline run with the same kwargs and seeds trades the same per-episode markets."""
    kwargs = dict(new_market_per_episode=True, split="test", episode_length=60)
    seen = []
    for name in ("buy_and_hold", "ma_crossover"):
        env = gym.make("rlkit/Trading-v0", **kwargs)
        run_episodes(env, load_baseline("rlkit/Trading-v0", name, env), n_episodes=1, seed=1000)
        seen.append(env.unwrapped.market.close.copy())
    agent = gym.make("rlkit/Trading-v0", **kwargs)
    agent.reset(seed=1000)
    assert np.array_equal(seen[0], seen[1]) and np.array_equal(seen[0], agent.unwrapped.market.close)


def test_published_held_out_market_table_is_reproduced():
    from pathlib import Path

    from envs.trading.baselines import held_out_markets_table

    published = (Path(__file__).parents[2] / "experiments" / "results" / "trading_markets.md").read_text()
    assert published == held_out_markets_table()
