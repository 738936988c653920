"""Which bars a TradingEnv trades: the market its parameters name, and the train/test split of it."""

from __future__ import annotations

import os
from datetime import date

import numpy as np

from envs.trading.market import MarketData, combine_markets, synthetic_market
from envs.trading.ohlcv_csv import load_ohlcv_csv
from envs.trading.params import TradingParams

SYNTHETIC_DEFAULTS = {"n_bars": 3000, "n_assets": 1, "seed": 0, "correlation": 0.3}


def build_market(p: TradingParams, data_seed: int | None = None) -> MarketData:
    """``p.data``, the CSV file(s) of ``p.csv_path`` (one asset each, identical dates), or the synthetic
    market (with ``new_market_per_episode``, the one of `data_seed`, just long enough for one episode)."""
    if p.new_market_per_episode:
        args = {**SYNTHETIC_DEFAULTS, **{k: v for k, v in p.synthetic.items() if v is not None}}
        if p.n_bars is None:
            args["n_bars"] = max(p.vol_window + 1, p.ma_window - 1) + p.window + int(p.episode_length)
        return synthetic_market(**{**args, "seed": episode_data_seed(None, p.split) if data_seed is None else data_seed})
    if p.data is not None:
        return p.data
    if p.csv_path is not None:
        paths = [p.csv_path] if isinstance(p.csv_path, (str, os.PathLike)) else list(p.csv_path)
        return combine_markets([load_ohlcv_csv(path) for path in paths])
    return synthetic_market(**{k: SYNTHETIC_DEFAULTS[k] if v is None else v for k, v in p.synthetic.items()})


def episode_data_seed(rng: np.random.Generator | None, split: str) -> int:
    """The synthetic market of an episode: even seeds for ``split="train"``, odd for ``"test"`` (so the
    two never share a market), any for ``"all"``; drawn from the episode's `rng` (None: the first)."""
    k = 0 if rng is None else int(rng.integers(2**30))
    return {"train": 2 * k, "test": 2 * k + 1, "all": k}[split]


def split_bars(p: TradingParams, market: MarketData, first_feature_bar: int) -> tuple[int, int, int, int]:
    """``(test_start_bar, first_bar, last_bar, episode_length)`` of ``p.split`` of `market`.

    Bars ``first_bar .. last_bar`` may be observed as "now"; fills happen at ``first_bar + 1 ..
    last_bar``. Raises a ``ValueError`` if the split is empty or too short for one episode.
    """
    n = len(market)
    split = "all" if p.new_market_per_episode else p.split  # per-episode markets split by seed, not by bars
    if p.new_market_per_episode:
        begin, cut, end = 0, n, n
    else:
        begin, cut, end = _walk_forward(p, n) if p.n_folds is not None else (0, _split_point(p, market), n)
    if not 0 < cut <= n or (split != "all" and cut == n):
        raise ValueError(
            f"split point at bar {cut} of {n} ({market.source}) leaves an empty train or test split; "
            "choose split_date inside the data or a test_fraction in (0, 1)"
        )
    warmup = first_feature_bar + p.window - 1
    first_bar = max(warmup, begin) if split != "test" else max(warmup, cut - 1)
    last_bar = cut - 1 if split == "train" else end - 1
    available = last_bar - first_bar
    episode_length = available if p.episode_length is None else int(p.episode_length)
    if episode_length > available or available < 1:
        raise ValueError(
            f"the {split} split of {market.source} has {last_bar + 1 - first_bar} usable bars "
            f"(after a warm-up of {warmup} bars for the features and the window), but an episode of "
            f"{episode_length} steps needs {episode_length + 1}; lower episode_length or window, "
            "or use more data"
        )
    return cut, first_bar, last_bar, episode_length


def _split_point(p: TradingParams, market: MarketData) -> int:
    """The first bar of the test split (the number of bars with ``split="all"``)."""
    if p.split == "all":
        if p.split_date is not None:
            raise ValueError("split_date has no effect with split='all'; pass split='train' or 'test'")
        return len(market)
    if p.split_date is not None:
        try:
            first_test_day = np.datetime64(date.fromisoformat(p.split_date), "D")
        except (TypeError, ValueError):
            raise ValueError(f"split_date must be a YYYY-MM-DD string, got {p.split_date!r}") from None
        return int(np.searchsorted(market.dates, first_test_day))
    if not 0.0 < p.test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {p.test_fraction}")
    return len(market) - int(round(len(market) * p.test_fraction))


def _walk_forward(p: TradingParams, n: int) -> tuple[int, int, int]:
    """``(begin, cut, end)`` of fold ``p.fold``: the bars fall into ``n_folds + 1`` consecutive blocks;
    the fold trains on block ``fold`` (bars ``begin .. cut - 1``; earlier bars only as look-back
    history) and tests on block ``fold + 1`` (``cut .. end - 1``, the last block taking the remainder)."""
    block = n // (p.n_folds + 1)
    begin, cut = p.fold * block, (p.fold + 1) * block
    end = n if p.fold + 2 == p.n_folds + 1 else (p.fold + 2) * block
    return begin, cut, end
