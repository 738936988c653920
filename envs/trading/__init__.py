"""Trading: one or several assets on daily OHLCV bars (``rlkit/Trading-v0`` and variants).

One file per idea: ``env`` (the Gymnasium env), ``params`` (its constructor arguments, validated),
``market`` (``MarketData`` and the synthetic market), ``ohlcv_csv`` (the CSV format), ``data``
(which market and which bars an env trades), ``features`` (causal observation features),
``kernel`` (the compiled fill-and-mark step), ``render``, and ``baselines``. The names below are
the package's public interface.
"""

from envs.trading.baselines import (
    BASELINE_FACTORIES,
    BuyAndHold,
    MovingAverageCrossover,
    baseline_table,
    buy_and_hold,
    format_baseline_table,
    ma_crossover,
)
from envs.trading.env import TradingEnv
from envs.trading.features import ASSET_FEATURES, OBS_CLIP, market_features
from envs.trading.market import REGIME_NAMES, MarketData, combine_markets, synthetic_market
from envs.trading.ohlcv_csv import CSV_REQUIRED_COLUMNS, load_ohlcv_csv, save_ohlcv_csv
from envs.trading.params import TradingParams

__all__ = [
    "ASSET_FEATURES", "BASELINE_FACTORIES", "CSV_REQUIRED_COLUMNS", "OBS_CLIP", "REGIME_NAMES", "BuyAndHold",
    "MarketData", "MovingAverageCrossover", "TradingEnv", "TradingParams", "baseline_table", "buy_and_hold",
    "combine_markets", "format_baseline_table", "load_ohlcv_csv", "ma_crossover", "market_features",
    "save_ohlcv_csv", "synthetic_market",
]  # fmt: skip
