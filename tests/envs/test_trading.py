"""Tests of rlkit/Trading-* (envs/trading.py): API checks, timing and no look-ahead, the accounting
against a hand-written reference, splits, the strict CSV loader, baselines and rendering."""

from __future__ import annotations

import inspect
import math
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs
from envs import trading
from envs.trading import (
    ASSET_FEATURES,
    MarketData,
    TradingEnv,
    baseline_table,
    format_baseline_table,
    load_ohlcv_csv,
    market_features,
    save_ohlcv_csv,
    synthetic_market,
)

TRADING_IDS = [env_id for env_id in envs.ENV_IDS if env_id.startswith("rlkit/Trading")]

# SB3's checker advises against any observation that is neither 1-D nor an image. A (T, D) window is
# the point of this env (rlkit's TCN/Transformer/LSTM encoders read it; SB3's MLP flattens it), so
# that one advisory is expected; every other warning fails the test.
SB3_SEQUENCE_ADVICE = "has an unconventional shape (neither an image, nor a 1D vector)"


def test_registered_ids_and_baselines():
    assert TRADING_IDS == ["rlkit/Trading-v0", "rlkit/Trading-Continuous-v0", "rlkit/Trading-MultiAsset-v0"]
    for env_id in TRADING_IDS:
        assert set(envs.BASELINES[env_id]) == {"buy_and_hold", "ma_crossover"}


@pytest.mark.parametrize("render_mode", ["ansi", "rgb_array"])
@pytest.mark.parametrize("env_id", TRADING_IDS)
def test_gymnasium_check_env(env_id, render_mode):
    env = gym.make(env_id, render_mode=render_mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)


@pytest.mark.parametrize("env_id", TRADING_IDS)
def test_sb3_check_env(env_id):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_check_env(gym.make(env_id))
    unexpected = [str(w.message) for w in caught if SB3_SEQUENCE_ADVICE not in str(w.message)]
    assert unexpected == []
    # Flattened, the same env passes with no warning at all, and the rows are the same numbers.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb3_check_env(gym.make(env_id, flatten_observation=True))
    flat, sequence = gym.make(env_id, flatten_observation=True), gym.make(env_id)
    flat_obs, sequence_obs = flat.reset(seed=2)[0], sequence.reset(seed=2)[0]
    assert flat_obs.shape == (sequence_obs.size,)
    np.testing.assert_array_equal(flat_obs.reshape(sequence_obs.shape), sequence_obs)
    action = flat.action_space.sample()
    np.testing.assert_array_equal(flat.step(action)[0].reshape(sequence_obs.shape), sequence.step(action)[0])


@pytest.mark.parametrize("env_id", TRADING_IDS)
def test_same_seed_same_trajectory(env_id, rollout):
    obs_a, rew_a, info_a = rollout(gym.make(env_id), seed=7, n_steps=300)
    obs_b, rew_b, info_b = rollout(gym.make(env_id), seed=7, n_steps=300)
    np.testing.assert_array_equal(obs_a, obs_b)
    np.testing.assert_array_equal(rew_a, rew_b)
    assert [i["portfolio_value"] for i in info_a] == [i["portfolio_value"] for i in info_b]
    assert info_a[-1]["episode_metrics"] == info_b[-1]["episode_metrics"]
    obs_c, _, _ = rollout(gym.make(env_id), seed=8, n_steps=5)
    assert not np.array_equal(obs_a[:6], obs_c)  # another seed starts elsewhere


def test_start_offsets_are_seeded_random_and_inside_the_split():
    env = TradingEnv(episode_length=100)
    starts = []
    for seed in range(40):
        env.reset(seed=seed)
        starts.append(env.bar_index)
    assert len(set(starts)) > 30
    assert min(starts) >= env.first_bar and max(starts) + 100 <= env.last_bar
    env.reset(seed=3)
    first = env.bar_index
    env.reset(seed=3)
    assert env.bar_index == first


# --- timing: no look-ahead ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"action_type": "continuous", "n_assets": 3},
        {"n_folds": 3, "fold": 1, "split": "train"},
        {"n_folds": 3, "fold": 1, "split": "test"},
    ],
    ids=["discrete", "continuous-3-assets", "walk-forward-train", "walk-forward-test"],
)
def test_no_look_ahead(kwargs, rollout, perturb_after):
    kwargs = dict(kwargs)  # the parameter is shared between runs; do not pop from it
    market = synthetic_market(n_bars=800, n_assets=kwargs.pop("n_assets", 1), seed=5)
    env = TradingEnv(data=market, episode_length=60, **kwargs)
    env.reset(seed=11)
    start = env.bar_index
    t = 25  # change every bar after the one observed at step t
    changed = TradingEnv(data=perturb_after(market, start + t), episode_length=60, **kwargs)
    # Never flat, so that every reward depends on its bar.
    rng = np.random.default_rng(3)
    if env.action_type == "discrete":
        actions = rng.choice([0, 2], size=60)
    else:
        actions = rng.uniform(0.2, 1.0, size=(60, env.n_assets)).astype(np.float32) * rng.choice([-1, 1], (60, 1))
    obs_a, rew_a, _ = rollout(env, seed=11, n_steps=60, actions=actions)
    obs_b, rew_b, _ = rollout(changed, seed=11, n_steps=60, actions=actions)
    assert changed.bar_index - len(rew_b) == start
    np.testing.assert_array_equal(obs_a[: t + 1], obs_b[: t + 1])  # obs_0 .. obs_t
    np.testing.assert_array_equal(rew_a[:t], rew_b[:t])  # r_1 .. r_t
    # The change is visible from the next bar on: the test can tell a leak from no change.
    assert rew_a[t] != rew_b[t] and not np.array_equal(obs_a[t + 1], obs_b[t + 1])


# --- accounting against a hand-written reference -----------------------------------------------


def reference_values(market, start, targets, initial_cash, fee_rate, slippage, borrow_per_bar):
    """Portfolio values by P&L decomposition (not the env's cash bookkeeping), in plain Python.

    Per step: value at the open = previous value + overnight gap P&L of the held shares; target
    shares from that value; costs = |traded| · open · (slippage + fee_rate · (1 ± slippage)) plus
    borrow on the short notional; value at the close = value at the open − costs + intraday P&L.
    """
    n_assets = market.close.shape[1]
    shares = [0.0] * n_assets
    values, costs = [initial_cash], []
    for k, target in enumerate(targets):
        bar = start + k + 1
        target = [float(w) for w in target]
        gross = sum(abs(w) for w in target)
        if gross > 1:
            target = [w / gross for w in target]
        open_, close, previous_close = market.open[bar], market.close[bar], market.close[bar - 1]
        value_open = values[-1] + sum(shares[i] * (open_[i] - previous_close[i]) for i in range(n_assets))
        new_shares = [target[i] * value_open / open_[i] for i in range(n_assets)]
        cost = 0.0
        for i in range(n_assets):
            traded = new_shares[i] - shares[i]
            side = 1.0 if traded > 0 else -1.0
            cost += abs(traded) * open_[i] * (slippage + fee_rate * (1.0 + side * slippage))
            cost += max(-new_shares[i], 0.0) * open_[i] * borrow_per_bar
        shares = new_shares
        values.append(value_open - cost + sum(shares[i] * (close[i] - open_[i]) for i in range(n_assets)))
        costs.append(cost)
    return values, costs


@pytest.mark.parametrize("n_assets", [1, 3])
def test_reward_is_the_net_portfolio_log_return(n_assets):
    costs = {"fee_rate": 0.002, "slippage": 0.003, "borrow_rate": 0.5, "initial_cash": 5000.0}
    env = TradingEnv(action_type="continuous", n_assets=n_assets, episode_length=40, **costs)
    env.reset(seed=4)
    start = env.bar_index
    rng = np.random.default_rng(0)
    # Longs, shorts, held positions (repeated targets) and gross exposure above 1 (scaled down).
    targets = [rng.uniform(-1, 1, n_assets).astype(np.float32) for _ in range(40)]
    targets[5:9] = [targets[4]] * 4
    targets[10] = np.full(n_assets, -1.0, dtype=np.float32)
    rewards, infos = [], []
    for target in targets:
        _, reward, terminated, truncated, info = env.step(target)
        rewards.append(reward)
        infos.append(info)
    assert truncated and not terminated
    values, step_costs = reference_values(
        env.market, start, targets, 5000.0, 0.002, 0.003, 0.5 / env.periods_per_year
    )
    expected_rewards = [math.log(values[k + 1] / values[k]) for k in range(40)]
    np.testing.assert_allclose(rewards, expected_rewards, rtol=0, atol=1e-12)
    np.testing.assert_allclose([i["portfolio_value"] for i in infos], values[1:], rtol=1e-12)
    np.testing.assert_allclose([i["costs"] for i in infos], np.cumsum(step_costs), rtol=1e-12)
    assert infos[-1]["pnl"] == pytest.approx(values[-1] - 5000.0, rel=1e-12)
    # Positions are the value weights at the close; the last one by hand:
    metrics = infos[-1]["episode_metrics"]
    returns = np.diff(np.log(values))
    assert metrics["sharpe"] == pytest.approx(returns.mean() / returns.std(ddof=1) * math.sqrt(252), rel=1e-9)
    peak, drawdown = values[0], 0.0
    for v in values:
        peak = max(peak, v)
        drawdown = max(drawdown, 1 - v / peak)
    assert metrics["max_drawdown"] == pytest.approx(drawdown, rel=1e-12)
    assert metrics["costs"] == pytest.approx(sum(step_costs), rel=1e-12)
    assert metrics["fees"] > 0 and metrics["slippage"] > 0 and metrics["borrow"] > 0
    assert metrics["final_value"] == pytest.approx(values[-1], rel=1e-12)
    assert sum(rewards) == pytest.approx(metrics["return"], abs=1e-12)


def test_discrete_actions_are_target_weights_and_costs_are_inside_the_reward():
    env = TradingEnv(episode_length=30)
    free = TradingEnv(episode_length=30, fee_rate=0.0, slippage=0.0, borrow_rate=0.0)
    env.reset(seed=2)
    free.reset(seed=2)
    start = env.bar_index
    actions = [2] * 10 + [0] * 10 + [1] * 10  # long, short, flat
    rewards, free_rewards, positions = [], [], []
    for a in actions:
        _, r, *_, info = env.step(a)
        rewards.append(r)
        positions.append(info["position"][0])
        free_rewards.append(free.step(a)[1])
    weights = [[{0: -1.0, 1: 0.0, 2: 1.0}[a]] for a in actions]
    values, _ = reference_values(env.market, start, weights, 10_000.0, 0.0005, 0.0005, 0.02 / 252)
    np.testing.assert_allclose(rewards, np.diff(np.log(values)), atol=1e-12)
    assert positions[5] == pytest.approx(1.0, abs=0.01) and positions[15] == pytest.approx(-1.0, abs=0.05)
    assert positions[25] == 0.0 and rewards[25] == 0.0  # flat: no cost, no return
    assert sum(rewards) < sum(free_rewards)  # the same trades cost money


def test_ruin_terminates_and_closes_out_at_the_ruin_level():
    n = 120
    dates = np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-01-01") + n)
    close = np.full((n, 1), 100.0)
    close[60:] = 300.0  # the price triples overnight at bar 60
    market = MarketData(dates, close.copy(), close.copy(), close.copy(), close.copy(), np.ones((n, 1)), ("X",))
    env = TradingEnv(data=market, split="all", episode_length=n - 60, window=4)
    env.reset(seed=0)
    start = env.bar_index
    for k in range(60 - start - 1):
        _, reward, terminated, truncated, info = env.step(0)  # short
        assert not terminated
    _, reward, terminated, truncated, info = env.step(0)  # holds the short into the jump
    assert terminated and not truncated
    assert info["portfolio_value"] < env.ruin_value
    previous_value = info["episode_metrics"]["final_value"] / math.exp(reward)
    assert reward == pytest.approx(math.log(env.ruin_value / previous_value))
    with pytest.raises(RuntimeError, match="reset"):
        env.step(1)


@pytest.mark.parametrize(
    "env_id, bad_actions",
    [
        ("rlkit/Trading-v0", [3, -1, 1.0, np.array([1]), "long", None]),
        ("rlkit/Trading-Continuous-v0", [np.array([1.5], np.float32), np.array([np.nan]), np.zeros(2), 0.5, "x",
                                         ["0.5"], np.array([True])]),
        ("rlkit/Trading-MultiAsset-v0", [np.zeros(3), np.array([0, 0, 0, -1.01]), np.full(4, np.inf)]),
    ],
)
def test_action_outside_the_space_raises(env_id, bad_actions):
    env = gym.make(env_id)
    env.reset(seed=0)
    for action in bad_actions:
        with pytest.raises(ValueError, match="outside the action space (Discrete|Box)"):
            env.step(action)
    env.step(env.action_space.sample())  # the env is still usable


def test_multi_discrete_and_gross_exposure_cap():
    env = TradingEnv(n_assets=2, episode_length=10)
    assert env.action_space == gym.spaces.MultiDiscrete([3, 3])
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.array([2, 0]))
    assert info["position"] == pytest.approx([0.5, -0.5], abs=0.03)
    with pytest.raises(ValueError, match="MultiDiscrete"):
        env.step(np.array([3, 0]))
    continuous = TradingEnv(n_assets=2, action_type="continuous", episode_length=10)
    continuous.reset(seed=0)
    _, _, _, _, info = continuous.step(np.array([1.0, -1.0], np.float32))
    assert np.abs(info["position"]).sum() == pytest.approx(1.0, abs=0.05)
    long_only = TradingEnv(allow_short=False, action_type="continuous")
    assert long_only.action_space.low[0] == 0.0 and TradingEnv(allow_short=False).action_space.n == 2


# --- observation ---------------------------------------------------------------------------------


def test_features_match_a_plain_python_reference():
    market = synthetic_market(n_bars=200, n_assets=2, seed=3)
    features, first_bar = market_features(market, vol_window=10, ma_window=15)
    assert first_bar == 14 and features.shape == (200, 2 * len(ASSET_FEATURES))
    assert np.isnan(features[:first_bar]).all() and np.isfinite(features[first_bar:]).all()
    c, o, h, lo, v = market.close, market.open, market.high, market.low, market.volume
    for t in (14, 57, 199):
        for a in range(2):
            past = [math.log(c[i, a] / c[i - 1, a]) for i in range(t - 10, t)]
            mean = sum(past) / 10
            sigma = max(math.sqrt(sum((x - mean) ** 2 for x in past) / 10), 1e-4)
            moving_average = sum(c[t - 14 : t + 1, a]) / 15
            volumes = [math.log1p(v[i, a]) for i in range(t - 10, t)]
            vm = sum(volumes) / 10
            vs = max(math.sqrt(sum((x - vm) ** 2 for x in volumes) / 10), 1e-2)
            expected = [
                math.log(c[t, a] / c[t - 1, a]) / sigma,
                math.log(o[t, a] / c[t - 1, a]) / sigma,
                math.log(h[t, a] / lo[t, a]) / sigma,
                math.log(c[t, a] / moving_average) / sigma,
                (math.log1p(v[t, a]) - vm) / vs,
            ]
            expected = np.clip(expected, -10, 10)
            np.testing.assert_allclose(features[t, 5 * a : 5 * a + 5], expected, rtol=2e-6, atol=2e-6)


def test_observation_layout_rows_and_portfolio_columns():
    env = TradingEnv(window=8, episode_length=20)
    observation, _ = env.reset(seed=1)
    features, _ = market_features(env.market)
    t = env.bar_index
    np.testing.assert_array_equal(observation[:, :5], features[t - 7 : t + 1])  # newest row last
    assert (observation[:, 5] == 0).all() and (observation[:, 6] == 1).all()  # flat, all cash
    for _ in range(3):
        observation, _, _, _, info = env.step(2)
    np.testing.assert_array_equal(observation[:, :5], features[t - 4 : t + 4])
    assert observation[-1, 5] == pytest.approx(info["position"][0], rel=1e-6)
    assert observation[-1, 5] + observation[-1, 6] == pytest.approx(1.0, abs=1e-6)
    assert (observation[:4, 5] == 0).all() and (observation[5:, 5] > 0.9).all()
    assert env.feature_names[-2:] == ["SYN0.weight", "cash"]


# --- splits ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("split_kwargs", [{"test_fraction": 0.25}, {"split_date": "2002-06-03"}])
def test_train_episodes_never_read_test_bars(split_kwargs, rollout, perturb_after):
    market = synthetic_market(n_bars=1000, seed=2)
    train = TradingEnv(data=market, split="train", episode_length=100, **split_kwargs)
    cut = train.test_start_bar
    assert market.dates[cut] >= np.datetime64(split_kwargs.get("split_date", "1900-01-01"))
    assert market.dates[cut - 1] < np.datetime64(split_kwargs.get("split_date", "2100-01-01"))
    poisoned = TradingEnv(data=perturb_after(market, cut - 1), split="train", episode_length=100, **split_kwargs)
    test = TradingEnv(data=market, split="test", episode_length=100, **split_kwargs)
    for seed in range(25):
        obs_a, rew_a, _ = rollout(train, seed, 100, action_seed=seed)
        obs_b, rew_b, _ = rollout(poisoned, seed, 100, action_seed=seed)
        np.testing.assert_array_equal(obs_a, obs_b)
        np.testing.assert_array_equal(rew_a, rew_b)
        assert train.bar_index <= cut - 1
        test.reset(seed=seed)
        assert test.bar_index >= cut - 1  # first fill at bar >= cut: only unseen bars are traded
    assert train.test_start_bar == test.test_start_bar
    # An episode that runs to the last train bar: the boundary is where a one-bar leak would show.
    whole = dict(split="train", episode_length=None, **split_kwargs)
    obs_a, rew_a, _ = rollout(TradingEnv(data=market, **whole), 0, 10_000, actions=[2, 0] * 5000)
    obs_b, rew_b, _ = rollout(
        TradingEnv(data=perturb_after(market, cut - 1), **whole), 0, 10_000, actions=[2, 0] * 5000
    )
    np.testing.assert_array_equal(obs_a, obs_b)
    np.testing.assert_array_equal(rew_a, rew_b)


def test_constructor_arguments_are_validated():
    with pytest.raises(ValueError, match="episode of 5000 steps"):
        TradingEnv(episode_length=5000)
    with pytest.raises(ValueError, match="split must be"):
        TradingEnv(split="validation")
    with pytest.raises(ValueError, match="action_type"):
        TradingEnv(action_type="box")
    with pytest.raises(ValueError, match="split_date"):
        TradingEnv(split="all", split_date="2005-01-03")
    with pytest.raises(ValueError, match="empty train or test split"):
        TradingEnv(split_date="1990-01-01")
    with pytest.raises(ValueError, match="fee_rate"):
        TradingEnv(fee_rate=-0.1)
    with pytest.raises(ValueError, match="split_date must be a YYYY-MM-DD"):
        TradingEnv(split_date="June 2005")
    with pytest.raises(ValueError, match=r"give one market.*\['n_assets'\]"):
        TradingEnv(data=synthetic_market(n_bars=500), n_assets=2)
    with pytest.raises(ValueError, match="MarketData"):
        TradingEnv(data={"close": [1, 2]})
    env = TradingEnv(episode_length=None, split="test")
    observation, _ = env.reset(seed=0)
    assert env.bar_index == env.first_bar and env.episode_length == env.last_bar - env.first_bar


# --- data ------------------------------------------------------------------------------------------


def test_synthetic_market_is_seeded_and_plausible():
    a, b = synthetic_market(seed=1), synthetic_market(seed=1)
    np.testing.assert_array_equal(a.close, b.close)
    assert not np.array_equal(a.close, synthetic_market(seed=2).close)
    assert len(a) == 3000 and a.n_assets == 1 and a.dates.dtype == np.dtype("datetime64[D]")
    assert (np.is_busday(a.dates)).all()
    returns = np.diff(np.log(a.close[:, 0]))
    assert 0.005 < returns.std() < 0.02  # daily volatility of a stock index, roughly
    correlated = np.corrcoef(np.diff(np.log(synthetic_market(n_assets=2, correlation=0.8, seed=1).close), axis=0).T)
    independent = np.corrcoef(np.diff(np.log(synthetic_market(n_assets=2, correlation=0.0, seed=1).close), axis=0).T)
    assert correlated[0, 1] > 0.6 and abs(independent[0, 1]) < 0.2


CSV_ROWS = [
    "2021-01-04,100.0,101.5,99.0,101.0,100.5,1000",
    "2021-01-05,101.0,102.0,100.0,100.5,100.0,1200",
    "2021-01-06,100.5,103.0,100.5,102.5,102.0,900",
    "2021-01-07,102.5,102.5,101.0,101.5,101.0,1100",
]
CSV_HEADER = "Date,Open,High,Low,Close,Adj Close,Volume"


def _write(tmp_path, lines, name="prices.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_csv_loader_reads_both_formats_and_adjusts(tmp_path):
    market = load_ohlcv_csv(_write(tmp_path, [CSV_HEADER, *CSV_ROWS]))
    factor = np.array([100.5 / 101.0, 100.0 / 100.5, 102.0 / 102.5, 101.0 / 101.5])
    np.testing.assert_allclose(market.close[:, 0], [100.5, 100.0, 102.0, 101.0])
    np.testing.assert_allclose(market.open[:, 0], np.array([100.0, 101.0, 100.5, 102.5]) * factor)
    np.testing.assert_array_equal(market.volume[:, 0], [1000, 1200, 900, 1100])
    assert market.names == ("prices",) and str(market.dates[0]) == "2021-01-04"
    raw = load_ohlcv_csv(_write(tmp_path, [CSV_HEADER, *CSV_ROWS]), adjust=False)
    np.testing.assert_allclose(raw.close[:, 0], [101.0, 100.5, 102.5, 101.5])
    # Without Adj Close, columns in another order, and a round trip of the synthetic market:
    reordered = ["Volume,Date,Close,Open,Low,High"] + [
        ",".join([r.split(",")[6], r.split(",")[0], r.split(",")[4], r.split(",")[1], r.split(",")[3], r.split(",")[2]])
        for r in CSV_ROWS
    ]
    np.testing.assert_allclose(load_ohlcv_csv(_write(tmp_path, reordered)).close, raw.close)
    synthetic = synthetic_market(n_bars=300, seed=4)
    save_ohlcv_csv(synthetic, tmp_path / "syn.csv")
    loaded = load_ohlcv_csv(tmp_path / "syn.csv")
    for column in ("open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(loaded, column), getattr(synthetic, column))
    np.testing.assert_array_equal(loaded.dates, synthetic.dates)


@pytest.mark.parametrize(
    "lines, message",
    [
        (["Date,Open,High,Low,Adj Close", *CSV_ROWS], r"missing column\(s\) Close, Volume; expected"),
        ([CSV_HEADER, CSV_ROWS[1], CSV_ROWS[0], *CSV_ROWS[2:]], r"line 3, column Date: 2021-01-04 is out of order"),
        ([CSV_HEADER, CSV_ROWS[0], CSV_ROWS[0], *CSV_ROWS[1:]], r"line 3, column Date: 2021-01-04 is duplicated"),
        ([CSV_HEADER, *CSV_ROWS[:2], CSV_ROWS[2].replace("102.5,", "nan,", 1), CSV_ROWS[3]], r"line 4, column Close"),
        ([CSV_HEADER, CSV_ROWS[0].replace("100.0,", "null,", 1), *CSV_ROWS[1:]], r"line 2, column Open: 'null'"),
        ([CSV_HEADER, CSV_ROWS[0].replace("100.0,", ",", 1), *CSV_ROWS[1:]], r"line 2, column Open: ''"),
        ([CSV_HEADER, *CSV_ROWS[:3], CSV_ROWS[3].replace("102.5,", "-1,", 1)], r"line 5, column Open: -1.0 is not"),
        ([CSV_HEADER, CSV_ROWS[0].replace("2021-01-04", "04/01/2021"), *CSV_ROWS[1:]], r"line 2, column Date"),
        ([CSV_HEADER, CSV_ROWS[0] + ",7", *CSV_ROWS[1:]], r"line 2 has 8 fields"),
        ([CSV_HEADER, CSV_ROWS[0].replace("101.5", "99.5"), *CSV_ROWS[1:]], r"line 2, columns High/Low"),
        ([CSV_HEADER, CSV_ROWS[0].replace(",1000", ",-5")], r"need at least 2 data rows"),
        ([CSV_HEADER, CSV_ROWS[0].replace(",1000", ",-5"), CSV_ROWS[1]], r"line 2, column Volume"),
        ([CSV_HEADER, *CSV_ROWS[:2], CSV_ROWS[2].replace("2021-01-06", "2021-01-20"), CSV_ROWS[3].replace("2021-01-07", "2021-01-21")],
         r"line 4, column Date: 2021-01-20 follows 2021-01-05 by 15 days; .* missing bars"),
    ],
    ids=["missing", "unsorted", "duplicate", "nan", "null", "empty", "negative", "date", "fields", "hilo", "short",
         "volume", "gap"],
)
def test_csv_loader_rejects_malformed_files(tmp_path, lines, message):
    path = _write(tmp_path, lines)
    with pytest.raises(ValueError, match=message) as error:
        load_ohlcv_csv(path)
    assert str(path) in str(error.value)
    with pytest.raises(ValueError, match=message):
        TradingEnv(csv_path=path, window=2, episode_length=1, split="all", vol_window=2, ma_window=1)


def test_multi_asset_csv_needs_identical_dates(tmp_path, rollout):
    a = _write(tmp_path, [CSV_HEADER, *CSV_ROWS], "a.csv")
    b = _write(tmp_path, [CSV_HEADER, *CSV_ROWS[:3], CSV_ROWS[3].replace("01-07", "01-08")], "b.csv")
    with pytest.raises(ValueError, match=r"b.csv: dates differ from .*a.csv from row 3"):
        TradingEnv(csv_path=[a, b])
    synthetic = synthetic_market(n_bars=400, n_assets=2, seed=9)
    paths = []
    for i in range(2):
        paths.append(tmp_path / f"asset{i}.csv")
        save_ohlcv_csv(synthetic, paths[-1], asset=i)
    env = TradingEnv(csv_path=paths, action_type="continuous", episode_length=50)
    assert env.market.names == ("asset0", "asset1")
    np.testing.assert_array_equal(env.market.close, synthetic.close)
    rollout(env, seed=0, n_steps=50)


def test_market_data_rejects_bad_arrays():
    good = synthetic_market(n_bars=50, n_assets=2, seed=0)
    close = good.close.copy()
    close[17, 1] = np.nan
    with pytest.raises(ValueError, match=r"row 17 \(asset 'SYN1'\), column Close: nan"):
        good.replace_prices(close=close)
    with pytest.raises(ValueError, match="float64 array of shape"):
        good.replace_prices(volume=good.volume[:, :1])


def test_a_directory_or_an_undecodable_csv_is_one_line_naming_it(tmp_path):
    with pytest.raises(ValueError, match=r": is a directory; expected a CSV file"):
        TradingEnv(csv_path=tmp_path)
    path = tmp_path / "latin1.csv"
    save_ohlcv_csv(synthetic_market(n_bars=50), path)
    lines = path.read_bytes().split(b"\n")
    lines[2] += b"\xe9"  # file line 3 ends in a Latin-1 byte
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(ValueError) as excinfo:
        load_ohlcv_csv(path)
    assert str(excinfo.value).startswith(f"{path}: line 3: byte 0xe9 is not UTF-8"), excinfo.value


# --- baselines and rendering ---------------------------------------------------------------------


def test_published_baseline_numbers_are_reproduced():
    """experiments/results/trading_baselines.md (written by python -m envs.trading) is what baseline_table() computes now."""
    table = format_baseline_table(baseline_table())
    published = (Path(__file__).parents[2] / "experiments" / "results" / "trading_baselines.md").read_text()
    assert table in published
    rows = {tuple(line.split(" | ")[:2]): line for line in table.splitlines()[2:]}
    assert len(rows) == 6


def test_baselines_load_through_the_registry_and_are_causal():
    from envs.baselines import load_baseline, run_episodes

    for env_id in TRADING_IDS:
        env = gym.make(env_id, episode_length=60)
        for name in ("buy_and_hold", "ma_crossover"):
            policy = load_baseline(env_id, name, env)
            returns = run_episodes(env, policy, n_episodes=2)
            assert np.isfinite(returns).all()
    # Buy-and-hold's return is the asset's log-return less costs; MA crossover reads only past closes.
    env = TradingEnv(episode_length=60)
    observation, info = env.reset(seed=0)
    policy = trading.ma_crossover(env)
    policy.reset(env, observation, info)
    bar = env.bar_index
    closes = env.market.close[bar - 49 : bar + 1, 0]
    assert policy.act(observation, info) == (2 if closes[-20:].mean() > closes.mean() else 1)


def test_render_modes():
    env = TradingEnv(render_mode="ansi", episode_length=20)
    env.reset(seed=0)
    env.step(2)
    line = env.render()
    assert isinstance(line, str) and "\n" not in line and "step 1/20" in line and "position +1.00" in line
    env = TradingEnv(render_mode="rgb_array", n_assets=2, action_type="continuous", episode_length=20)
    env.reset(seed=0)
    for k in range(20):
        env.step(np.array([1.0, 0.0] if k < 10 else [0.0, -1.0], dtype=np.float32))
    image = env.render()
    assert image.dtype == np.uint8 and image.shape == (320, 480, 3)
    assert ((image == [0, 0, 0]).all(axis=-1)).sum() > 100  # the equity curve
    assert ((image == [44, 160, 44]).all(axis=-1)).sum() > 0 and ((image == [214, 39, 40]).all(axis=-1)).sum() > 0
    assert TradingEnv().render() is None
