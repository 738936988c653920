"""Trading one or several assets from daily OHLCV bars, paid in the money made or lost.

The market is either a seeded synthetic one (regime-switching geometric Brownian motion, the
default, so the env needs no files) or daily OHLCV CSV files in the common export format. Fills,
costs and rewards follow an explicit timeline (see ``TradingEnv``) with no look-ahead.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs._checks import in_discrete_space, in_multi_discrete_space
from envs.signature import env_signature
from envs.trading.data import build_market, episode_data_seed, split_bars
from envs.trading.features import ASSET_FEATURES, OBS_CLIP, market_features
from envs.trading.kernel import fill_and_mark, scale_box_target
from envs.trading.params import TradingParams
from envs.trading.render import render_rgb


class TradingEnv(gym.Env):
    """
    ## Description

    An agent trades one or several assets on daily bars and is paid the log-return of its
    portfolio, net of every cost. The market is a seeded synthetic one by default
    (``synthetic_market``: regime-switching GBM with bull, bear and sideways regimes — trends
    persist for weeks, which a moving-average or a learned policy can exploit) or daily OHLCV CSV
    files (``csv_path``, loaded strictly by ``load_ohlcv_csv``). Each episode starts at a seeded
    random bar of its split and lasts ``episode_length`` bars.

    ## Timing (no look-ahead)

    ```
    bar t:    open_t ──────── close_t │ obs_t (features up to close_t), action a_t (target weights)
    bar t+1:  open_{t+1}: rebalance to a_t's weights, filled at open_{t+1} · (1 ± slippage), fees paid,
              borrow for the shorts held through bar t+1 paid
              close_{t+1}: portfolio marked → V_{t+1};  r_{t+1} = log(V_{t+1} / V_t);  obs_{t+1}
    ```

    The agent never trades at a price it has seen: an order decided on bar t's close fills at the
    next open, after the overnight gap. Every feature in the observation is causal (computed from
    bars up to t; see ``market_features``), so changing any bar after t changes neither obs_0..obs_t
    nor r_1..r_t (a test checks exactly this).

    ## Action Space

    ``action_type="discrete"`` (``rlkit/Trading-v0``): ``Discrete(3)``, 0 short, 1 flat, 2 long
    (target weight -1, 0, +1); with ``allow_short=False`` ``Discrete(2)``, 0 flat, 1 long. With
    several assets, ``MultiDiscrete([3] * A)`` with weight ±1/A per asset.
    ``action_type="continuous"``: ``Box(-1, 1, (A,), float32)`` target weights (``[0, 1]`` without
    shorts); if the gross exposure ``Σ|w|`` exceeds 1 the weights are scaled down to sum to 1 in
    absolute value, so the portfolio is never leveraged.

    Every step rebalances to the target weights of the portfolio's value at the open, so holding a
    weight of +1 keeps the whole portfolio in the asset and a constant short is re-sized daily.
    An action outside the space raises a ``ValueError`` naming the space.

    ## Observation Space

    ``Box(-10, 10, (window, A * 5 + A + 1), float32)``: a sequence, oldest row first, newest
    (bar t) last, as the TCN/Transformer/LSTM encoders read ``(T, D)``. Row j describes bar
    ``t - window + 1 + j``; its columns are, asset-major, the 5 features of ``ASSET_FEATURES`` per
    asset (log-return, overnight gap, high/low range and distance from the moving average, each
    divided by the asset's trailing volatility; a volume z-score), then the portfolio at that bar's
    close: each asset's weight (position value / portfolio value) and the cash fraction (cash /
    portfolio value; 1 when flat). Rows before the episode's start show the portfolio flat. All
    columns are clipped to [-10, 10] (the bounds are honest: they hold for every observation).
    SB3's ``check_env`` advises against any 2-D observation; ``flatten_observation=True`` gives
    the same numbers as a 1-D ``(window * D,)`` vector (``obs.reshape(window, D)`` undoes it).

    ## Rewards

    ``r_{t+1} = log(V_{t+1} / V_t)``, V marked at the close, net of fees (``fee_rate`` of the
    traded notional at the fill price), slippage (fills ``slippage`` worse than the open) and
    borrowing for shorts (``borrow_rate`` per year on the short notional, charged per bar). The
    sum of rewards is the log of final over initial value. ``info`` carries ``portfolio_value``,
    ``position`` (weights, shape ``(A,)``), ``cash``, ``pnl`` (value minus initial cash) and
    ``costs`` (all costs paid so far, in money); a step's ``info`` also has ``turnover``, that step's traded
    notional over the portfolio's value at the open (a per-step cost for a turnover constraint).

    ## Starting State

    All cash (``initial_cash``), no position, at a bar drawn uniformly (from the reset seed) among
    the bars of the split that leave room for a full episode and a full observation window.

    ## Episode End

    Truncation after ``episode_length`` steps (the env owns its length; no ``TimeLimit`` wrapper).
    Termination (ruin) if the portfolio value falls to ``ruin_fraction · initial_cash`` or below;
    the account is closed out at the ruin level: the reward of that step and the episode metrics
    use ``max(V, ruin level)`` (``info["portfolio_value"]`` still shows the marked value).
    On the final step ``info["episode_metrics"]`` holds ``pnl``, ``return`` (log), ``sharpe``
    (annualized, of the per-bar log-returns, risk-free rate 0), ``max_drawdown`` (a fraction),
    ``costs``, ``fees``, ``slippage``, ``borrow`` and ``final_value``, and FinRL's
    ``total_return`` (V_T / V_0 - 1), ``annual_return`` ((V_T / V_0)^(periods_per_year / steps) - 1)
    and ``turnover`` (traded notional over the portfolio's value at each fill, summed).

    ## Rendering

    ``"ansi"``: a one-line status (date, step, closes, position weights, value, PnL, costs).
    ``"rgb_array"``: a 480×320 image; top, each asset's close since the episode start (divided by
    its first close) with green/red marks where its target weight rose/fell; bottom, the
    portfolio value with a grey line at the initial cash.

    ## Splits

    ``split="train"`` uses the first ``1 - test_fraction`` of the bars (or those before
    ``split_date``) and never reads a later bar; ``split="test"`` trades only the rest (its
    observation windows may include the end of the train bars as history, as in live trading);
    ``split="all"`` uses everything. Evaluate on ``split="test"`` for unseen data.

    Walk-forward (``n_folds``, ``fold``): the bars fall into ``n_folds + 1`` consecutive blocks;
    ``split="train"`` trades block ``fold`` (earlier bars only as look-back history) and
    ``split="test"`` the next block, reading no bar after it.

    ``new_market_per_episode=True``: every reset draws a new synthetic market (``data_seed`` from the
    episode's seed, reported in the reset ``info``; even seeds for ``split="train"``, odd for
    ``"test"``, so training and evaluation never share a market), just long enough for the warm-up
    and one episode of ``episode_length`` bars. The same reset seed gives the same market.

    ## Arguments

    | argument | default | meaning |
    |---|---|---|
    | ``data`` | None | a ``MarketData`` (give at most one of data, csv_path, synthetic arguments) |
    | ``csv_path`` | None | one CSV path, or a list (one asset each, identical dates) |
    | ``n_assets``, ``n_bars``, ``data_seed``, ``correlation`` | 1, 3000, 0, 0.3 | the synthetic market (default) |
    | ``action_type`` | ``"discrete"`` | ``"discrete"`` or ``"continuous"`` |
    | ``allow_short`` | True | shorts allowed |
    | ``window`` | 32 | rows of the observation |
    | ``episode_length`` | 252 | steps per episode; None: from the split's first usable bar to its end |
    | ``split``, ``test_fraction``, ``split_date`` | ``"train"``, 0.2, None | see Splits |
    | ``initial_cash`` | 10 000 | starting capital |
    | ``fee_rate``, ``slippage`` | 0.0005, 0.0005 | proportional, per traded notional |
    | ``borrow_rate``, ``periods_per_year`` | 0.02, 252 | annual short borrow rate; bars per year |
    | ``vol_window``, ``ma_window`` | 20, 20 | feature look-backs |
    | ``ruin_fraction`` | 0.01 | termination level, fraction of initial cash |
    | ``flatten_observation`` | False | observe ``(window * D,)``, the rows concatenated oldest first |
    | ``new_market_per_episode`` | False | a new synthetic market every episode (see Splits) |
    | ``n_folds``, ``fold`` | None, 0 | walk-forward splits (see Splits) |

    ## Baselines

    ``buy_and_hold`` (always long; equal weights with several assets) and ``ma_crossover`` (long
    while the 20-bar average of closes is above the 50-bar one, else flat); see
    ``envs.trading.baselines``. Their numbers are generated into
    ``experiments/results/trading_baselines.md`` by ``python -m envs.trading``.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 10}

    def __init__(self, render_mode: str | None = None, **kwargs: Any):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        self.render_mode = render_mode
        self.params = p = TradingParams(**kwargs)
        # Market and causal features, once per env: `step` only slices them.
        self.market = build_market(p)
        self.data_seed = p.data_seed
        self.n_assets = self.market.n_assets
        self._features, first_feature_bar = market_features(self.market, p.vol_window, p.ma_window)
        self.window = p.window
        self.fee_rate, self.slippage = p.fee_rate, p.slippage
        self.borrow_per_bar = p.borrow_rate / p.periods_per_year
        self.periods_per_year = p.periods_per_year
        self.initial_cash = float(p.initial_cash)
        self.ruin_value = p.ruin_fraction * self.initial_cash
        self.test_start_bar, self.first_bar, self.last_bar, self.episode_length = split_bars(p, self.market, first_feature_bar)
        self.allow_short, self.action_type = p.allow_short, p.action_type
        self._build_spaces(p)

        # Episode state; the buffers are sized once and refilled at reset.
        self._obs_rows = np.zeros((self.window + self.episode_length, self.n_features), dtype=np.float32)
        self._shares = np.zeros(self.n_assets)
        self._weights = np.zeros(self.n_assets)
        self._values = np.zeros(self.episode_length + 1)
        self._targets = np.zeros((self.episode_length, self.n_assets))
        self._portfolio_col = self.n_assets * len(ASSET_FEATURES)
        self._start_bar = self.first_bar
        self._steps = 0
        self._episode_over = True  # until the first reset
        self._cash = self.initial_cash
        self._fees = self._slippage_cost = self._borrow_cost = self._turnover = 0.0

    def _build_spaces(self, p: TradingParams) -> None:
        self.n_features = self.n_assets * len(ASSET_FEATURES) + self.n_assets + 1
        # SB3's check_env advises against 2-D observations; flattening (rows oldest first, so
        # `obs.reshape(window, -1)` recovers the sequence) gives a 1-D space for those who want one.
        self._observation_shape = (p.window * self.n_features,) if p.flatten_observation else (p.window, self.n_features)
        self.observation_space = spaces.Box(-OBS_CLIP, OBS_CLIP, shape=self._observation_shape, dtype=np.float32)
        low = -1.0 if p.allow_short else 0.0
        if p.action_type == "continuous":
            self.action_space = spaces.Box(low, 1.0, shape=(self.n_assets,), dtype=np.float32)
            self._action_low = self.action_space.low.astype(np.float64)
            self._action_high = self.action_space.high.astype(np.float64)
        elif self.n_assets == 1:
            self.action_space = spaces.Discrete(3 if p.allow_short else 2)
        else:
            self.action_space = spaces.MultiDiscrete([3 if p.allow_short else 2] * self.n_assets)
        # Discrete index -> target weight (per asset, before dividing by the number of assets).
        self._discrete_weights = np.array([-1.0, 0.0, 1.0] if p.allow_short else [0.0, 1.0])
        self._discrete_table = self._discrete_weights[:, None] * np.ones((1, self.n_assets))  # (n_actions, A)

    @property
    def bar_index(self) -> int:
        """Index in ``market`` of the current bar t (the newest row of the observation)."""
        return self._start_bar + self._steps

    @property
    def feature_names(self) -> list[str]:
        """Names of the observation's columns, in order."""
        names = [f"{a}.{f}" for a in self.market.names for f in ASSET_FEATURES]
        return names + [f"{a}.weight" for a in self.market.names] + ["cash"]

    def step(self, action):
        if self._episode_over:
            raise RuntimeError("step() called after the episode ended; call reset() first")
        target = self._target_weights(action)
        k = self._steps
        bar = self._start_bar + k + 1
        cash, value, fees, slip, borrow, turnover = fill_and_mark(
            self.market.open, self.market.close, bar, self._shares, self._cash, target,
            self.fee_rate, self.slippage, self.borrow_per_bar, self._weights,
            self._obs_rows, self.window + k, self._portfolio_col,
        )  # fmt: skip
        self._cash = cash
        self._fees += fees
        self._slippage_cost += slip
        self._borrow_cost += borrow
        self._turnover += turnover
        self._targets[k] = target
        self._steps = k + 1
        terminated = value <= self.ruin_value
        self._values[k + 1] = max(value, self.ruin_value) if terminated else value
        reward = math.log(self._values[k + 1] / self._values[k])
        truncated = self._steps == self.episode_length and not terminated
        observation = self._obs_rows[k + 1 : k + 1 + self.window].reshape(self._observation_shape).copy()
        info = self._info(value)
        info["turnover"] = turnover
        if terminated or truncated:
            info["episode_metrics"] = self._episode_metrics()
            self._episode_over = True
        return observation, reward, terminated, truncated, info

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if self.params.new_market_per_episode:  # a market of its own, reproducible from the episode's seed
            self.data_seed = episode_data_seed(self.np_random, self.params.split)
            self.market = build_market(self.params, self.data_seed)
            self._features, _ = market_features(self.market, self.params.vol_window, self.params.ma_window)
        span = self.last_bar - self.episode_length - self.first_bar
        self._start_bar = self.first_bar + int(self.np_random.integers(span + 1))
        self._steps = 0
        self._episode_over = False
        self._cash = self.initial_cash
        self._shares[:] = 0.0
        self._weights[:] = 0.0
        self._fees = self._slippage_cost = self._borrow_cost = self._turnover = 0.0
        self._targets[:] = 0.0
        self._values[:] = 0.0
        self._values[0] = self.initial_cash
        first_row_bar = self._start_bar - self.window + 1
        self._obs_rows[:, : self._portfolio_col] = self._features[first_row_bar : first_row_bar + len(self._obs_rows)]
        self._obs_rows[:, self._portfolio_col :] = 0.0
        self._obs_rows[: self.window, -1] = 1.0  # all cash up to and including the start bar
        info = self._info(self.initial_cash)
        if self.params.new_market_per_episode:
            info["data_seed"] = self.data_seed
        return self._obs_rows[: self.window].reshape(self._observation_shape).copy(), info

    def render(self):
        if self.render_mode == "ansi":
            return self._render_ansi()
        if self.render_mode == "rgb_array":
            return render_rgb(self)
        return None

    def close(self):
        pass

    # --- helpers --------------------------------------------------------------------------------

    def _target_weights(self, action) -> np.ndarray:
        if isinstance(self.action_space, spaces.Discrete):
            if not in_discrete_space(action, self.action_space):  # the rule of every env: no bools
                raise self._action_error(action)
            return self._discrete_table[int(action)]
        if isinstance(self.action_space, spaces.MultiDiscrete):
            if not in_multi_discrete_space(action, self.action_space):
                raise self._action_error(action)
            return self._discrete_weights[np.asarray(action)] / self.n_assets
        array = np.asarray(action)
        if array.dtype.kind not in "iuf" or array.shape != self.action_space.shape:
            raise self._action_error(action)
        target = array.astype(np.float64)  # a copy: scaled in place below
        if not scale_box_target(target, self._action_low, self._action_high):
            raise self._action_error(action)
        return target

    def _action_error(self, action) -> ValueError:
        if isinstance(self.action_space, spaces.Discrete):
            meaning = "0 short, 1 flat, 2 long" if self.allow_short else "0 flat, 1 long"
            expected = f"an int in [0, {self.action_space.n - 1}] ({meaning})"
        elif isinstance(self.action_space, spaces.MultiDiscrete):
            largest = self.action_space.nvec[0] - 1
            expected = f"an int array of shape {self.action_space.shape} with entries in [0, {largest}]"
        else:
            expected = (
                f"a float array of shape {self.action_space.shape} with target weights in "
                f"[{self.action_space.low[0]:g}, {self.action_space.high[0]:g}]"
            )
        return ValueError(f"action {action!r} is outside the action space {self.action_space}; expected {expected}")

    def _info(self, value: float) -> dict[str, Any]:
        return {
            "portfolio_value": value,
            "position": self._weights.copy(),
            "cash": self._cash,
            "pnl": value - self.initial_cash,
            "costs": self._fees + self._slippage_cost + self._borrow_cost,
        }

    def _episode_metrics(self) -> dict[str, float]:
        values = self._values[: self._steps + 1]
        log_returns = np.diff(np.log(values))
        std = log_returns.std(ddof=1) if len(log_returns) > 1 else 0.0
        sharpe = float(log_returns.mean() / std * math.sqrt(self.periods_per_year)) if std > 0 else 0.0
        drawdown = 1.0 - values / np.maximum.accumulate(values)
        growth = values[-1] / values[0]
        return {
            "pnl": float(values[-1] - self.initial_cash),
            "return": float(math.log(growth)),
            # FinRL's evaluation: total and annualised simple return, Sharpe, max drawdown, turnover, fees.
            "total_return": float(growth - 1.0),
            "annual_return": float(growth ** (self.periods_per_year / max(len(log_returns), 1)) - 1.0),
            "turnover": float(self._turnover),
            "sharpe": sharpe,
            "max_drawdown": float(drawdown.max()),
            "costs": self._fees + self._slippage_cost + self._borrow_cost,
            "fees": self._fees,
            "slippage": self._slippage_cost,
            "borrow": self._borrow_cost,
            "final_value": float(values[-1]),
        }

    def _render_ansi(self) -> str:
        bar = self.bar_index
        closes = " ".join(f"{c:.2f}" for c in self.market.close[bar])
        weights = " ".join(f"{w:+.2f}" for w in self._weights)
        value = self._values[self._steps]
        return (
            f"{self.market.dates[bar]} step {self._steps}/{self.episode_length} | close {closes} | "
            f"position {weights} | value {value:,.2f} | pnl {value - self.initial_cash:+,.2f} | "
            f"costs {self._fees + self._slippage_cost + self._borrow_cost:,.2f}"
        )


TradingEnv.__init__.__signature__ = env_signature(TradingParams)
