"""Trading one or several assets from daily OHLCV bars, paid in the money made or lost.

The market is either a seeded synthetic one (regime-switching geometric Brownian motion, the
default, so the env needs no files) or daily OHLCV CSV files in the common export format. Fills,
costs and rewards follow an explicit timeline (see ``TradingEnv``) with no look-ahead.
"""

from __future__ import annotations

import csv
import math
import os
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from numba import njit

# Per-asset feature columns of the observation, in order (see TradingEnv's Observation Space).
ASSET_FEATURES = ("log_return", "gap", "range", "trend", "volume_z")

# Every observation column is clipped to [-OBS_CLIP, OBS_CLIP]; normalized features rarely reach it.
OBS_CLIP = 10.0
# Volatility and volume-dispersion floors keep a constant price or volume from dividing by zero.
SIGMA_FLOOR = 1e-4
VOLUME_STD_FLOOR = 1e-2

CSV_REQUIRED_COLUMNS = ("Date", "Open", "High", "Low", "Close", "Volume")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --- market data -----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MarketData:
    """Daily bars of one or several assets on common dates. Validated on construction.

    ``dates`` is ``(N,)`` ``datetime64[D]``, strictly increasing; ``open``, ``high``, ``low``,
    ``close``, ``volume`` are ``(N, A)`` float64 with positive finite prices, ``low <= open, close
    <= high`` and finite non-negative volume. ``names`` has one entry per asset; ``source`` says
    where the data came from (a file, or the generator and its seed) and is used in error messages.
    """

    dates: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    names: tuple[str, ...]
    source: str = "market data"

    def __post_init__(self) -> None:
        _validate_bars(
            self.source, self.names, self.dates, self.open, self.high, self.low, self.close, self.volume,
            where=lambda row, asset: f"{self.source}: row {row} (asset {self.names[asset]!r})",
        )  # fmt: skip

    def __len__(self) -> int:
        return len(self.dates)

    @property
    def n_assets(self) -> int:
        return self.close.shape[1]

    def replace_prices(self, **arrays: np.ndarray) -> MarketData:
        """A copy with some of ``open/high/low/close/volume`` replaced (validated again)."""
        fields = {k: getattr(self, k) for k in ("dates", "open", "high", "low", "close", "volume")}
        fields.update(arrays)
        return MarketData(**fields, names=self.names, source=self.source)


def _validate_bars(
    source: str,
    names: Sequence[str],
    dates: np.ndarray,
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    where: Callable[[int, int], str],
) -> None:
    """Raise a ValueError naming the first malformed bar; `where(row, asset)` locates it for the user."""
    if not isinstance(dates, np.ndarray) or not np.issubdtype(dates.dtype, np.datetime64):
        raise ValueError(f"{source}: dates must be a numpy datetime64 array, got {type(dates).__name__}")
    n = len(dates)
    if dates.ndim != 1 or n < 2:
        raise ValueError(f"{source}: need at least 2 bars in a 1-D dates array, got shape {dates.shape}")
    n_assets = len(names)
    columns = {"Open": open_, "High": high, "Low": low, "Close": close, "Volume": volume}
    for column, array in columns.items():
        if not isinstance(array, np.ndarray) or array.shape != (n, n_assets) or array.dtype != np.float64:
            raise ValueError(
                f"{source}: {column} must be a float64 array of shape (n_bars, n_assets) = {(n, n_assets)}, "
                f"got {getattr(array, 'dtype', type(array).__name__)} {getattr(array, 'shape', '')}"
            )
    step = np.diff(dates)
    bad = np.flatnonzero(step <= np.timedelta64(0, "D"))
    if bad.size:
        row = int(bad[0]) + 1
        kind = "duplicated" if step[bad[0]] == np.timedelta64(0, "D") else "out of order"
        raise ValueError(
            f"{where(row, 0)}, column Date: {dates[row]} is {kind} (the bar before is {dates[row - 1]}); "
            "dates must be strictly increasing — sort the file and drop duplicate rows"
        )
    for column, array in columns.items():
        valid = np.isfinite(array) & ((array >= 0) if column == "Volume" else (array > 0))
        bad_rows, bad_assets = np.nonzero(~valid)
        if bad_rows.size:
            row, asset = int(bad_rows[0]), int(bad_assets[0])
            what = "a finite non-negative volume" if column == "Volume" else "a positive finite price"
            raise ValueError(
                f"{where(row, asset)}, column {column}: {float(array[row, asset])} is not {what}; "
                "remove or repair the bar (nothing is filled in)"
            )
    bad_rows, bad_assets = np.nonzero((low > np.minimum(open_, close)) | (high < np.maximum(open_, close)))
    if bad_rows.size:
        row, asset = int(bad_rows[0]), int(bad_assets[0])
        raise ValueError(
            f"{where(row, asset)}, columns High/Low: Low {low[row, asset]} <= Open {open_[row, asset]}, "
            f"Close {close[row, asset]} <= High {high[row, asset]} does not hold; repair the bar"
        )


def load_ohlcv_csv(path: str | os.PathLike, *, adjust: bool = True) -> MarketData:
    """Load one asset's daily bars from a CSV in the common export format.

    The header must hold ``Date,Open,High,Low,Close,Volume`` (any order, extra columns ignored),
    optionally ``Adj Close``; dates are ``YYYY-MM-DD`` and strictly increasing. With ``adjust`` and
    an ``Adj Close`` column, open/high/low/close are scaled by ``Adj Close / Close`` on each bar so
    that splits and dividends do not show up as returns. Anything malformed — a missing column,
    an unparseable or out-of-order or duplicated date, an empty/NaN/non-positive price — raises a
    ``ValueError`` naming the file, the line and the column; nothing is filled in.
    """
    path = os.fspath(path)
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(f"{path}: file is empty; expected a header {','.join(CSV_REQUIRED_COLUMNS)} and daily rows")
    header = [name.strip() for name in rows[0]]
    missing = [c for c in CSV_REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ValueError(
            f"{path}: missing column(s) {', '.join(missing)}; expected a header with "
            f"Date,Open,High,Low,Close[,Adj Close],Volume (the daily OHLCV export format), got {','.join(header)}"
        )
    wanted = [*CSV_REQUIRED_COLUMNS] + (["Adj Close"] if "Adj Close" in header else [])
    index = {name: header.index(name) for name in wanted}
    body = [(line, row) for line, row in enumerate(rows[1:], start=2) if any(cell.strip() for cell in row)]
    if len(body) < 2:
        raise ValueError(f"{path}: need at least 2 data rows, got {len(body)}")
    line_of_row = [line for line, _ in body]
    dates = np.empty(len(body), dtype="datetime64[D]")
    values = {name: np.empty(len(body)) for name in wanted[1:]}
    for i, (line, row) in enumerate(body):
        if len(row) != len(header):
            raise ValueError(f"{path}: line {line} has {len(row)} fields, the header has {len(header)}")
        text = row[index["Date"]].strip()
        try:
            if not _ISO_DATE.match(text):
                raise ValueError
            dates[i] = np.datetime64(date.fromisoformat(text), "D")
        except ValueError:
            raise ValueError(f"{path}: line {line}, column Date: {text!r} is not a YYYY-MM-DD date") from None
        for name in wanted[1:]:
            cell = row[index[name]].strip()
            try:
                value = float(cell)
            except ValueError:
                raise ValueError(
                    f"{path}: line {line}, column {name}: {cell!r} is not a number; remove or repair the bar"
                ) from None
            if not math.isfinite(value):
                raise ValueError(f"{path}: line {line}, column {name}: {cell!r} is not a finite number")
            values[name][i] = value
    if "Adj Close" in values:
        bad = np.flatnonzero(~(values["Adj Close"] > 0))
        if bad.size:
            raise ValueError(f"{path}: line {line_of_row[bad[0]]}, column Adj Close: must be a positive price")
    name = os.path.splitext(os.path.basename(path))[0]
    columns = {c.lower(): values[c.capitalize()][:, None] for c in ("open", "high", "low", "close", "volume")}
    # Validated here with file line numbers, before the adjustment below changes the prices.
    _validate_bars(
        path, (name,), dates, columns["open"], columns["high"], columns["low"], columns["close"], columns["volume"],
        where=lambda row, asset: f"{path}: line {line_of_row[row]}",
    )  # fmt: skip
    if adjust and "Adj Close" in values:
        factor = (values["Adj Close"] / values["Close"])[:, None]
        for column in ("open", "high", "low", "close"):
            columns[column] = columns[column] * factor
    return MarketData(dates=dates, **columns, names=(name,), source=path)


def save_ohlcv_csv(market: MarketData, path: str | os.PathLike, asset: int = 0) -> None:
    """Write one asset's bars in the format ``load_ohlcv_csv`` reads (floats round-trip exactly)."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Date", "Open", "High", "Low", "Close", "Volume"])
        for i, day in enumerate(market.dates):
            prices = (market.open, market.high, market.low, market.close, market.volume)
            writer.writerow([str(day), *(repr(float(p[i, asset])) for p in prices)])


def combine_markets(markets: Sequence[MarketData]) -> MarketData:
    """Several single- or multi-asset markets on identical dates, as one multi-asset market."""
    first = markets[0]
    for other in markets[1:]:
        if len(other) != len(first) or not np.array_equal(other.dates, first.dates):
            n = min(len(other), len(first))
            diff = np.flatnonzero(other.dates[:n] != first.dates[:n])
            row = int(diff[0]) if diff.size else n
            raise ValueError(
                f"{other.source}: dates differ from {first.source} from row {row} on "
                f"({len(other)} vs {len(first)} bars); multi-asset data must share exactly the same dates"
            )
    columns = ("open", "high", "low", "close", "volume")
    stack = {c: np.concatenate([getattr(m, c) for m in markets], axis=1) for c in columns}
    names = tuple(n for m in markets for n in m.names)
    return MarketData(dates=first.dates, **stack, names=names, source=" + ".join(m.source for m in markets))


# Regimes of the synthetic market: annual drift and volatility of bull, bear and sideways markets,
# and a persistent Markov chain between them (mean stays of ~70, ~33 and ~50 trading days).
REGIME_NAMES = ("bull", "bear", "sideways")
REGIME_DRIFT = np.array([0.30, -0.35, 0.0])
REGIME_VOL = np.array([0.14, 0.32, 0.10])
REGIME_TRANSITIONS = np.array(
    [
        [0.986, 0.006, 0.008],
        [0.015, 0.970, 0.015],
        [0.010, 0.010, 0.980],
    ]
)


def synthetic_market(
    n_bars: int = 3000,
    n_assets: int = 1,
    seed: int = 0,
    correlation: float = 0.3,
    start_date: str = "2000-01-03",
) -> MarketData:
    """Seeded regime-switching geometric Brownian motion with plausible OHLCV bars.

    One market regime (bull/bear/sideways, a Markov chain) drives every asset's drift and
    volatility; asset shocks share a common factor with pairwise ``correlation`` and each asset's
    volatility is scaled by a seeded factor in [0.8, 1.3]. Each close-to-close log-return is split
    into an overnight gap and an intraday move; highs and lows extend beyond open/close by a
    half-normal excursion; log-volume rises with the size of the move and in bear markets.
    Dates are business days from ``start_date``. Same arguments, same bars.
    """
    if n_bars < 2 or n_assets < 1:
        raise ValueError(f"synthetic_market needs n_bars >= 2 and n_assets >= 1, got {n_bars}, {n_assets}")
    if not 0.0 <= correlation < 1.0:
        raise ValueError(f"correlation must be in [0, 1), got {correlation}")
    rng = np.random.default_rng(seed)
    dt = 1.0 / 252
    regime = np.empty(n_bars, dtype=np.int64)
    regime[0] = rng.integers(len(REGIME_NAMES))
    cumulative = np.cumsum(REGIME_TRANSITIONS, axis=1)
    uniforms = rng.random(n_bars)
    for t in range(1, n_bars):
        regime[t] = min(np.searchsorted(cumulative[regime[t - 1]], uniforms[t], side="right"), len(REGIME_NAMES) - 1)
    vol_scale = rng.uniform(0.8, 1.3, size=n_assets)  # (A,)
    sigma = REGIME_VOL[regime][:, None] * vol_scale[None, :]  # (N, A)
    mu = REGIME_DRIFT[regime][:, None]  # (N, 1)
    common = rng.standard_normal((n_bars, 1))
    shocks = math.sqrt(correlation) * common + math.sqrt(1.0 - correlation) * rng.standard_normal((n_bars, n_assets))
    daily_sigma = sigma * math.sqrt(dt)  # (N, A)
    log_return = (mu - 0.5 * sigma**2) * dt + daily_sigma * shocks  # (N, A) close-to-close
    gap = 0.3 * daily_sigma * rng.standard_normal((n_bars, n_assets))  # (N, A) overnight part
    log_close = math.log(100.0) + np.cumsum(log_return, axis=0)
    previous_close = np.vstack([np.full((1, n_assets), math.log(100.0)), log_close[:-1]])
    log_open = previous_close + gap
    high = np.exp(np.maximum(log_open, log_close) + 0.5 * daily_sigma * np.abs(rng.standard_normal((n_bars, n_assets))))
    low = np.exp(np.minimum(log_open, log_close) - 0.5 * daily_sigma * np.abs(rng.standard_normal((n_bars, n_assets))))
    log_volume = (
        math.log(1e6)
        + 0.4 * (np.abs(shocks) - 0.8)
        + 0.3 * (regime == 1)[:, None]
        + 0.25 * rng.standard_normal((n_bars, n_assets))
    )
    dates = np.busday_offset(np.datetime64(start_date, "D"), np.arange(n_bars), roll="forward")
    return MarketData(
        dates=dates,
        open=np.exp(log_open),
        high=high,
        low=low,
        close=np.exp(log_close),
        volume=np.round(np.exp(log_volume)),
        names=tuple(f"SYN{i}" for i in range(n_assets)),
        source=f"synthetic_market(n_bars={n_bars}, n_assets={n_assets}, seed={seed}, correlation={correlation})",
    )


def market_features(market: MarketData, vol_window: int = 20, ma_window: int = 20) -> tuple[np.ndarray, int]:
    """Causal per-asset features for every bar, and the first bar at which all are defined.

    Returns ``(features, first_bar)`` with ``features`` of shape ``(N, A * 5)`` float32, columns
    asset-major in the order of ``ASSET_FEATURES``; rows before ``first_bar`` are NaN (never
    observed). Row t uses bars ``<= t`` only:

    * ``log_return`` = log(C_t / C_{t-1}) / σ_t, where σ_t is the standard deviation of the
      ``vol_window`` log-returns *before* bar t (so a shock is not damped by itself), floored at 1e-4;
    * ``gap`` = log(O_t / C_{t-1}) / σ_t (the overnight move);
    * ``range`` = log(H_t / L_t) / σ_t;
    * ``trend`` = log(C_t / SMA_{ma_window}(C)_t) / σ_t (distance from the moving average);
    * ``volume_z`` = z-score of log(1 + V_t) against the ``vol_window`` bars before t (std floored at 0.01);

    all clipped to [-10, 10].
    """
    if vol_window < 2 or ma_window < 1:
        raise ValueError(f"vol_window must be >= 2 and ma_window >= 1, got {vol_window}, {ma_window}")
    n, n_assets = market.close.shape
    log_close = np.log(market.close)  # (N, A)
    log_return = np.full((n, n_assets), np.nan)
    log_return[1:] = log_close[1:] - log_close[:-1]
    gap = np.full((n, n_assets), np.nan)
    gap[1:] = np.log(market.open[1:]) - log_close[:-1]
    log_range = np.log(market.high) - np.log(market.low)

    # Windows end at t-1: sliding_window_view row i covers bars i..i+L-1, used for bar i+L.
    sigma = np.full((n, n_assets), np.nan)
    volume_mean = np.full((n, n_assets), np.nan)
    volume_std = np.full((n, n_assets), np.nan)
    log_volume = np.log1p(market.volume)
    if n > vol_window:
        windows = np.lib.stride_tricks.sliding_window_view(log_return, vol_window, axis=0)  # (N-L+1, A, L)
        sigma[vol_window:] = np.maximum(windows[: n - vol_window].std(axis=-1), SIGMA_FLOOR)
        windows = np.lib.stride_tricks.sliding_window_view(log_volume, vol_window, axis=0)
        volume_mean[vol_window:] = windows[: n - vol_window].mean(axis=-1)
        volume_std[vol_window:] = np.maximum(windows[: n - vol_window].std(axis=-1), VOLUME_STD_FLOOR)
    moving_average = np.full((n, n_assets), np.nan)
    if n >= ma_window:
        windows = np.lib.stride_tricks.sliding_window_view(market.close, ma_window, axis=0)  # window ends at t
        moving_average[ma_window - 1 :] = windows.mean(axis=-1)

    columns = [
        log_return / sigma,
        gap / sigma,
        log_range / sigma,
        (log_close - np.log(moving_average)) / sigma,
        (log_volume - volume_mean) / volume_std,
    ]
    features = np.stack(columns, axis=-1).reshape(n, n_assets * len(ASSET_FEATURES))  # (N, A*F) asset-major
    first_bar = max(vol_window + 1, ma_window - 1)
    with np.errstate(invalid="ignore"):
        features = np.clip(features, -OBS_CLIP, OBS_CLIP).astype(np.float32)
    features[:first_bar] = np.nan
    return features, first_bar


# --- the fill/mark kernel ----------------------------------------------------------------------


@njit(cache=True)
def _scale_box_target(target, low, high):  # pragma: no cover - compiled
    """Check target weights against the Box bounds (False on NaN too) and cap gross exposure at 1."""
    gross = 0.0
    for i in range(target.shape[0]):
        if not (low[i] <= target[i] <= high[i]):
            return False
        gross += abs(target[i])
    if gross > 1.0:
        for i in range(target.shape[0]):
            target[i] /= gross
    return True


@njit(cache=True)
def _fill_and_mark(
    open_, close, bar, shares, cash, target, fee_rate, slippage, borrow_per_bar, weights, obs_rows, row, col
):  # pragma: no cover - compiled
    """Rebalance to `target` weights at the open of `bar`, then mark the portfolio at its close.

    Updates `shares`, `weights` and the portfolio columns of `obs_rows[row]` in place; returns
    (cash, value, fees, slippage cost, borrow cost). Written out in plain scalar arithmetic —
    `reference_step` in the tests recomputes it by hand.
    """
    n_assets = shares.shape[0]
    value_at_open = cash
    for i in range(n_assets):
        value_at_open += shares[i] * open_[bar, i]
    fees = 0.0
    slip = 0.0
    borrow = 0.0
    for i in range(n_assets):
        price = open_[bar, i]
        new_shares = target[i] * value_at_open / price
        traded = new_shares - shares[i]
        if traded != 0.0:
            fill_price = price * (1.0 + slippage) if traded > 0 else price * (1.0 - slippage)
            cash -= traded * fill_price
            slip += abs(traded) * price * slippage
            fees += abs(traded) * fill_price * fee_rate
        shares[i] = new_shares
        if new_shares < 0.0:
            borrow += -new_shares * price * borrow_per_bar
    cash -= fees + borrow
    value = cash
    for i in range(n_assets):
        value += shares[i] * close[bar, i]
    denominator = value if value > 0.0 else 1e-12
    for i in range(n_assets):
        weights[i] = shares[i] * close[bar, i] / denominator
        obs_rows[row, col + i] = min(max(weights[i], -10.0), 10.0)
    obs_rows[row, col + n_assets] = min(max(cash / denominator, -10.0), 10.0)
    return cash, value, fees, slip, borrow


# --- the env -----------------------------------------------------------------------------------


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
    ``costs`` (all costs paid so far, in money).

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
    ``costs``, ``fees``, ``slippage``, ``borrow`` and ``final_value``.

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

    ## Baselines

    ``buy_and_hold`` (always long; equal weights with several assets) and ``ma_crossover`` (long
    while the 20-bar average of closes is above the 50-bar one, else flat), with ``random`` for
    reference, on the bundled synthetic data (``rlkit/Trading-v0`` defaults, ``data_seed=0``),
    mean over 32 episodes of 252 bars (reset seeds 0..31); from ``baseline_table()``:

    | policy | split | return | PnL | Sharpe | max drawdown | costs |
    |---|---|---|---|---|---|---|
    | random | train | -0.2520 | -2096.9 | -1.49 | 0.283 | 2061.3 |
    | random | test | -0.2531 | -2145.6 | -1.42 | 0.275 | 2075.5 |
    | buy_and_hold | train | 0.2122 | 2681.3 | 1.23 | 0.187 | 10.0 |
    | buy_and_hold | test | 0.0252 | 302.9 | 0.14 | 0.170 | 10.0 |
    | ma_crossover | train | 0.2291 | 2800.3 | 1.41 | 0.123 | 42.4 |
    | ma_crossover | test | -0.0083 | -63.5 | -0.05 | 0.132 | 60.7 |

    (return: sum of rewards = log(final/initial value); PnL and costs in money, initial cash 10 000.)
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 10}

    def __init__(
        self,
        render_mode: str | None = None,
        *,
        data: MarketData | None = None,
        csv_path: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
        n_assets: int | None = None,
        n_bars: int | None = None,
        data_seed: int | None = None,
        correlation: float | None = None,
        action_type: str = "discrete",
        allow_short: bool = True,
        window: int = 32,
        episode_length: int | None = 252,
        split: str = "train",
        test_fraction: float = 0.2,
        split_date: str | None = None,
        initial_cash: float = 10_000.0,
        fee_rate: float = 0.0005,
        slippage: float = 0.0005,
        borrow_rate: float = 0.02,
        periods_per_year: int = 252,
        vol_window: int = 20,
        ma_window: int = 20,
        ruin_fraction: float = 0.01,
        flatten_observation: bool = False,
    ):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        if action_type not in ("discrete", "continuous"):
            raise ValueError(f"action_type must be 'discrete' or 'continuous', got {action_type!r}")
        if split not in ("train", "test", "all"):
            raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
        if window < 1 or (episode_length is not None and episode_length < 1):
            raise ValueError(f"window and episode_length must be >= 1, got {window}, {episode_length}")
        for name, value in (("fee_rate", fee_rate), ("slippage", slippage), ("borrow_rate", borrow_rate)):
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {value}")
        if not initial_cash > 0 or not 0.0 < ruin_fraction < 1.0 or periods_per_year < 1:
            raise ValueError(
                "need initial_cash > 0, 0 < ruin_fraction < 1 and periods_per_year >= 1, got "
                f"{initial_cash}, {ruin_fraction}, {periods_per_year}"
            )
        self.render_mode = render_mode

        # Market and causal features, once per env: `step` only slices them.
        synthetic = {"n_bars": n_bars, "n_assets": n_assets, "seed": data_seed, "correlation": correlation}
        if data is not None or csv_path is not None:
            given = [name for name, value in synthetic.items() if value is not None]
            if (data is not None and csv_path is not None) or given:
                raise ValueError(
                    "give one market: data, csv_path, or the synthetic market's arguments "
                    f"(n_assets, n_bars, data_seed, correlation); got data={data is not None}, "
                    f"csv_path={csv_path!r} and synthetic arguments {given}"
                )
        if data is not None:
            if not isinstance(data, MarketData):
                raise ValueError(f"data must be an envs.trading.MarketData, got {type(data).__name__}")
            self.market = data
        elif csv_path is not None:
            paths = [csv_path] if isinstance(csv_path, (str, os.PathLike)) else list(csv_path)
            self.market = combine_markets([load_ohlcv_csv(p) for p in paths])
        else:
            defaults = {"n_bars": 3000, "n_assets": 1, "seed": 0, "correlation": 0.3}
            self.market = synthetic_market(**{k: defaults[k] if v is None else v for k, v in synthetic.items()})
        self.n_assets = self.market.n_assets
        self._features, first_feature_bar = market_features(self.market, vol_window, ma_window)
        self.window = window
        self.fee_rate = fee_rate
        self.slippage = slippage
        self.borrow_per_bar = borrow_rate / periods_per_year
        self.periods_per_year = periods_per_year
        self.initial_cash = float(initial_cash)
        self.ruin_value = ruin_fraction * self.initial_cash

        # Split: bars [first_bar, last_bar] may be observed as "now"; fills happen at first_bar+1..last_bar.
        n = len(self.market)
        if split == "all":
            if split_date is not None:
                raise ValueError("split_date has no effect with split='all'; pass split='train' or 'test'")
            cut = n
        elif split_date is not None:
            try:
                first_test_day = np.datetime64(date.fromisoformat(split_date), "D")
            except (TypeError, ValueError):
                raise ValueError(f"split_date must be a YYYY-MM-DD string, got {split_date!r}") from None
            cut = int(np.searchsorted(self.market.dates, first_test_day))
        else:
            if not 0.0 < test_fraction < 1.0:
                raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
            cut = n - int(round(n * test_fraction))
        if not 0 < cut <= n or (split != "all" and cut == n):
            raise ValueError(
                f"split point at bar {cut} of {n} ({self.market.source}) leaves an empty train or test split; "
                "choose split_date inside the data or a test_fraction in (0, 1)"
            )
        self.test_start_bar = cut
        warmup = first_feature_bar + window - 1
        self.first_bar = warmup if split != "test" else max(warmup, cut - 1)
        self.last_bar = cut - 1 if split == "train" else n - 1
        available = self.last_bar - self.first_bar
        self.episode_length = available if episode_length is None else int(episode_length)
        if self.episode_length > available or available < 1:
            raise ValueError(
                f"the {split} split of {self.market.source} has {self.last_bar + 1 - self.first_bar} usable bars "
                f"(after a warm-up of {warmup} bars for the features and the window), but an episode of "
                f"{self.episode_length} steps needs {self.episode_length + 1}; lower episode_length or window, "
                "or use more data"
            )

        self.n_features = self.n_assets * len(ASSET_FEATURES) + self.n_assets + 1
        # SB3's check_env advises against 2-D observations; flattening (rows oldest first, so
        # `obs.reshape(window, -1)` recovers the sequence) gives a 1-D space for those who want one.
        self._observation_shape = (window * self.n_features,) if flatten_observation else (window, self.n_features)
        self.observation_space = spaces.Box(-OBS_CLIP, OBS_CLIP, shape=self._observation_shape, dtype=np.float32)
        low = -1.0 if allow_short else 0.0
        if action_type == "continuous":
            self.action_space = spaces.Box(low, 1.0, shape=(self.n_assets,), dtype=np.float32)
            self._action_low = self.action_space.low.astype(np.float64)
            self._action_high = self.action_space.high.astype(np.float64)
        elif self.n_assets == 1:
            self.action_space = spaces.Discrete(3 if allow_short else 2)
        else:
            self.action_space = spaces.MultiDiscrete([3 if allow_short else 2] * self.n_assets)
        # Discrete index -> target weight (per asset, before dividing by the number of assets).
        self._discrete_weights = np.array([-1.0, 0.0, 1.0] if allow_short else [0.0, 1.0])
        self._discrete_table = self._discrete_weights[:, None] * np.ones((1, self.n_assets))  # (n_actions, A)
        self.allow_short = allow_short
        self.action_type = action_type

        # Episode state; the buffers are sized once and refilled at reset.
        self._obs_rows = np.zeros((window + self.episode_length, self.n_features), dtype=np.float32)
        self._shares = np.zeros(self.n_assets)
        self._weights = np.zeros(self.n_assets)
        self._values = np.zeros(self.episode_length + 1)
        self._targets = np.zeros((self.episode_length, self.n_assets))
        self._portfolio_col = self.n_assets * len(ASSET_FEATURES)
        self._start_bar = self.first_bar
        self._steps = 0
        self._episode_over = True  # until the first reset
        self._cash = self.initial_cash
        self._fees = self._slippage_cost = self._borrow_cost = 0.0

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
        cash, value, fees, slip, borrow = _fill_and_mark(
            self.market.open, self.market.close, bar, self._shares, self._cash, target,
            self.fee_rate, self.slippage, self.borrow_per_bar, self._weights,
            self._obs_rows, self.window + k, self._portfolio_col,
        )  # fmt: skip
        self._cash = cash
        self._fees += fees
        self._slippage_cost += slip
        self._borrow_cost += borrow
        self._targets[k] = target
        self._steps = k + 1
        terminated = value <= self.ruin_value
        self._values[k + 1] = max(value, self.ruin_value) if terminated else value
        reward = math.log(self._values[k + 1] / self._values[k])
        truncated = self._steps == self.episode_length and not terminated
        observation = self._obs_rows[k + 1 : k + 1 + self.window].reshape(self._observation_shape).copy()
        info = self._info(value)
        if terminated or truncated:
            info["episode_metrics"] = self._episode_metrics()
            self._episode_over = True
        return observation, reward, terminated, truncated, info

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        span = self.last_bar - self.episode_length - self.first_bar
        self._start_bar = self.first_bar + int(self.np_random.integers(span + 1))
        self._steps = 0
        self._episode_over = False
        self._cash = self.initial_cash
        self._shares[:] = 0.0
        self._weights[:] = 0.0
        self._fees = self._slippage_cost = self._borrow_cost = 0.0
        self._targets[:] = 0.0
        self._values[:] = 0.0
        self._values[0] = self.initial_cash
        first_row_bar = self._start_bar - self.window + 1
        self._obs_rows[:, : self._portfolio_col] = self._features[first_row_bar : first_row_bar + len(self._obs_rows)]
        self._obs_rows[:, self._portfolio_col :] = 0.0
        self._obs_rows[: self.window, -1] = 1.0  # all cash up to and including the start bar
        return self._obs_rows[: self.window].reshape(self._observation_shape).copy(), self._info(self.initial_cash)

    def render(self):
        if self.render_mode == "ansi":
            return self._render_ansi()
        if self.render_mode == "rgb_array":
            return self._render_rgb()
        return None

    def close(self):
        pass

    # --- helpers --------------------------------------------------------------------------------

    def _target_weights(self, action) -> np.ndarray:
        if isinstance(self.action_space, spaces.Discrete):
            if type(action) is int and 0 <= action < self.action_space.n:  # the common case, fast
                return self._discrete_table[action]
            if not self.action_space.contains(action):
                raise self._action_error(action)
            return self._discrete_table[int(action)]
        if isinstance(self.action_space, spaces.MultiDiscrete):
            if not self.action_space.contains(action):
                raise self._action_error(action)
            return self._discrete_weights[np.asarray(action)] / self.n_assets
        array = np.asarray(action)
        if array.dtype.kind not in "iuf" or array.shape != self.action_space.shape:
            raise self._action_error(action)
        target = array.astype(np.float64)  # a copy: scaled in place below
        if not _scale_box_target(target, self._action_low, self._action_high):
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
        return {
            "pnl": float(values[-1] - self.initial_cash),
            "return": float(math.log(values[-1] / values[0])),
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

    def _render_rgb(self, height: int = 320, width: int = 480) -> np.ndarray:
        """Top: closes since the episode start (each asset divided by its first close), green/red
        marks where a target weight rose/fell; bottom: portfolio value, grey line at initial cash.

        Drawn with NumPy because envs depend on gymnasium/numpy/numba only (no matplotlib here).
        """
        image = np.full((height, width, 3), 255, dtype=np.uint8)
        margin = 8
        top = (margin, int(height * 0.62))
        bottom = (int(height * 0.62) + margin, height - margin)
        for y0, y1 in (top, bottom):
            image[y0, margin : width - margin] = image[y1, margin : width - margin] = 200
            image[y0 : y1 + 1, margin] = image[y0 : y1 + 1, width - margin - 1] = 200
        k = self._steps
        bars = np.arange(self._start_bar, self._start_bar + k + 1)
        xs = margin + 2 + (width - 2 * margin - 4) * np.arange(k + 1) / max(self.episode_length, 1)
        closes = self.market.close[bars] / self.market.close[bars[0]]  # (k+1, A)
        palette = np.array([[31, 119, 180], [255, 127, 14], [148, 103, 189], [140, 86, 75], [23, 190, 207]])
        price_y = _scale_to(closes, *top)
        for a in range(self.n_assets):
            _draw_polyline(image, xs, price_y[:, a], palette[a % len(palette)])
            change = np.diff(np.vstack([np.zeros((1, self.n_assets)), self._targets[:k]])[:, a])
            for step in np.flatnonzero(np.abs(change) > 1e-9):
                color = (44, 160, 44) if change[step] > 0 else (214, 39, 40)
                _draw_marker(image, xs[step + 1], price_y[step + 1, a], color)
        values = self._values[: k + 1]
        value_y = _scale_to(np.append(values, self.initial_cash)[:, None], *bottom)[:, 0]
        image[int(round(value_y[-1])), margin + 1 : width - margin - 1] = 170
        _draw_polyline(image, xs, value_y[:-1], np.array([0, 0, 0]))
        return image


def _scale_to(y: np.ndarray, y_top: int, y_bottom: int) -> np.ndarray:
    """Map values to pixel rows of a panel (larger values higher), with a 6-pixel inner margin."""
    lo, hi = float(np.min(y)), float(np.max(y))
    span = hi - lo if hi > lo else 1.0
    return (y_bottom - 6) - (y - lo) / span * (y_bottom - y_top - 12)


def _draw_polyline(image: np.ndarray, xs: np.ndarray, ys: np.ndarray, color) -> None:
    """A 2-pixel polyline through (xs, ys), sampled at least once per pixel along each segment."""
    if len(xs) == 1:
        _draw_marker(image, xs[0], ys[0], color, radius=1)
        return
    dx, dy = np.diff(xs), np.diff(ys)
    counts = np.maximum(np.ceil(np.maximum(np.abs(dx), np.abs(dy))).astype(np.int64), 1)  # samples per segment
    segment = np.repeat(np.arange(len(dx)), counts)
    fraction = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)) / np.repeat(counts, counts)
    px = np.rint(np.append(xs[segment] + fraction * dx[segment], xs[-1])).astype(np.int64)
    py = np.rint(np.append(ys[segment] + fraction * dy[segment], ys[-1])).astype(np.int64)
    height, width = image.shape[:2]
    for offset in (0, 1):
        image[np.clip(py + offset, 0, height - 1), np.clip(px, 0, width - 1)] = color


def _draw_marker(image: np.ndarray, x: float, y: float, color, radius: int = 3) -> None:
    height, width = image.shape[:2]
    x, y = int(round(x)), int(round(y))
    image[max(y - radius, 0) : min(y + radius + 1, height), max(x - radius, 0) : min(x + radius + 1, width)] = color


# --- baselines -----------------------------------------------------------------------------------


def _long_action(env: TradingEnv, long: np.ndarray):
    """The action that is long the assets where `long` is True and flat elsewhere."""
    long_index = len(env._discrete_weights) - 1
    flat_index = long_index - 1
    if isinstance(env.action_space, spaces.Discrete):
        return long_index if long[0] else flat_index
    if isinstance(env.action_space, spaces.MultiDiscrete):
        return np.where(long, long_index, flat_index).astype(env.action_space.dtype)
    return (long / env.n_assets).astype(np.float32)


class BuyAndHold:
    """Always long every asset (weight 1, or 1/A each with A assets)."""

    def __init__(self, env: TradingEnv):
        self.action = _long_action(env, np.ones(env.n_assets, dtype=bool))

    def reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        pass

    def act(self, observation: Any, info: dict):
        return self.action


class MovingAverageCrossover:
    """Long an asset while its `fast`-bar mean close is above its `slow`-bar mean, else flat.

    Reads the closes of bars up to the current one (``env.market.close[: env.bar_index + 1]``),
    which the agent has seen too, so the baseline is causal; flat while fewer than `slow` bars exist.
    """

    def __init__(self, env: TradingEnv, fast: int = 20, slow: int = 50):
        if not 1 <= fast < slow:
            raise ValueError(f"need 1 <= fast < slow, got fast={fast}, slow={slow}")
        self.env, self.fast, self.slow = env, fast, slow

    def reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        self.env = env.unwrapped

    def act(self, observation: Any, info: dict):
        bar = self.env.bar_index
        closes = self.env.market.close[max(bar + 1 - self.slow, 0) : bar + 1]  # (<=slow, A)
        if len(closes) < self.slow:
            return _long_action(self.env, np.zeros(self.env.n_assets, dtype=bool))
        return _long_action(self.env, closes[-self.fast :].mean(axis=0) > closes.mean(axis=0))


def buy_and_hold(env: TradingEnv) -> BuyAndHold:
    return BuyAndHold(env)


def ma_crossover(env: TradingEnv) -> MovingAverageCrossover:
    return MovingAverageCrossover(env)


BASELINE_FACTORIES = {"buy_and_hold": buy_and_hold, "ma_crossover": ma_crossover}
TABLE_METRICS = ("return", "pnl", "sharpe", "max_drawdown", "costs")


def baseline_table(
    env_kwargs: dict[str, Any] | None = None,
    n_episodes: int = 32,
    seed: int = 0,
    splits: Sequence[str] = ("train", "test"),
) -> dict[tuple[str, str], dict[str, float]]:
    """Mean ``episode_metrics`` of ``random`` and each baseline, per split, over `n_episodes`
    episodes reset with seeds ``seed .. seed + n_episodes - 1`` (the random policy is seeded too)."""
    from envs.baselines import RandomPolicy

    table = {}
    for name in ("random", *BASELINE_FACTORIES):
        for split in splits:
            env = TradingEnv(**{**(env_kwargs or {}), "split": split})
            policy = RandomPolicy(env, seed=seed) if name == "random" else BASELINE_FACTORIES[name](env)
            totals = dict.fromkeys(TABLE_METRICS, 0.0)
            for i in range(n_episodes):
                observation, info = env.reset(seed=seed + i)
                policy.reset(env, observation, info)
                done = False
                while not done:
                    observation, _, terminated, truncated, info = env.step(policy.act(observation, info))
                    done = terminated or truncated
                for metric in TABLE_METRICS:
                    totals[metric] += info["episode_metrics"][metric] / n_episodes
            table[name, split] = totals
    return table


def format_baseline_table(table: dict[tuple[str, str], dict[str, float]]) -> str:
    """The Markdown table shown in ``TradingEnv``'s docstring."""
    lines = [
        "| policy | split | return | PnL | Sharpe | max drawdown | costs |",
        "|---|---|---|---|---|---|---|",
    ]
    for (name, split), m in table.items():
        lines.append(
            f"| {name} | {split} | {m['return']:.4f} | {m['pnl']:.1f} | {m['sharpe']:.2f} | "
            f"{m['max_drawdown']:.3f} | {m['costs']:.1f} |"
        )
    return "\n".join(lines)
