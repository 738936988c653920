"""Market data for TradingEnv: the validated ``MarketData`` container and the seeded synthetic market."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np


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
