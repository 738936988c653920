"""TradingEnv's constructor arguments: one frozen dataclass, validated once on construction."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

from envs.trading.market import MarketData

SPLITS = ("train", "test", "all")


@dataclass(frozen=True, eq=False)
class TradingParams:
    """Every argument of ``TradingEnv`` except ``render_mode`` (see TradingEnv's Arguments table).

    Construction checks every value that needs no data and raises a one-line ``ValueError`` naming
    the argument; what depends on the data (the split's room for an episode) is checked when the
    env resolves its bars (``envs.trading.data``).
    """

    data: MarketData | None = None
    csv_path: str | os.PathLike | Sequence[str | os.PathLike] | None = None
    n_assets: int | None = None
    n_bars: int | None = None
    data_seed: int | None = None
    correlation: float | None = None
    action_type: str = "discrete"
    allow_short: bool = True
    window: int = 32
    episode_length: int | None = 252
    split: str = "train"
    test_fraction: float = 0.2
    split_date: str | None = None
    initial_cash: float = 10_000.0
    fee_rate: float = 0.0005
    slippage: float = 0.0005
    borrow_rate: float = 0.02
    periods_per_year: int = 252
    vol_window: int = 20
    ma_window: int = 20
    ruin_fraction: float = 0.01
    flatten_observation: bool = False
    # markets the agent has not seen
    new_market_per_episode: bool = False
    n_folds: int | None = None
    fold: int = 0

    def __post_init__(self) -> None:
        if self.action_type not in ("discrete", "continuous"):
            raise ValueError(f"action_type must be 'discrete' or 'continuous', got {self.action_type!r}")
        if self.split not in SPLITS:
            raise ValueError(f"split must be 'train', 'test' or 'all', got {self.split!r}")
        if self.window < 1 or (self.episode_length is not None and self.episode_length < 1):
            raise ValueError(f"window and episode_length must be >= 1, got {self.window}, {self.episode_length}")
        for name in ("fee_rate", "slippage", "borrow_rate"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if not self.initial_cash > 0 or not 0.0 < self.ruin_fraction < 1.0 or self.periods_per_year < 1:
            raise ValueError(
                "need initial_cash > 0, 0 < ruin_fraction < 1 and periods_per_year >= 1, got "
                f"{self.initial_cash}, {self.ruin_fraction}, {self.periods_per_year}"
            )
        self._check_one_market()
        self._check_unseen_markets()

    @property
    def synthetic(self) -> dict[str, int | float | None]:
        """The synthetic market's arguments as given (None where left to the default)."""
        return {"n_bars": self.n_bars, "n_assets": self.n_assets, "seed": self.data_seed, "correlation": self.correlation}

    def _check_one_market(self) -> None:
        if self.data is not None or self.csv_path is not None:
            given = [name for name, value in self.synthetic.items() if value is not None]
            if (self.data is not None and self.csv_path is not None) or given:
                raise ValueError(
                    "give one market: data, csv_path, or the synthetic market's arguments "
                    f"(n_assets, n_bars, data_seed, correlation); got data={self.data is not None}, "
                    f"csv_path={self.csv_path!r} and synthetic arguments {given}"
                )
        if self.data is not None and not isinstance(self.data, MarketData):
            raise ValueError(f"data must be an envs.trading.MarketData, got {type(self.data).__name__}")

    def _check_unseen_markets(self) -> None:
        if self.new_market_per_episode:
            fixed = {"data": self.data is not None, "csv_path": self.csv_path is not None,
                     "data_seed": self.data_seed is not None, "split_date": self.split_date is not None}  # fmt: skip
            if any(fixed.values()) or self.episode_length is None or self.n_folds is not None:
                raise ValueError(
                    "new_market_per_episode=True draws a synthetic market (its data_seed from the episode's seed) "
                    "for every episode of episode_length bars; it takes no data, csv_path, data_seed, split_date, "
                    f"n_folds or episode_length=None, got {[k for k, v in fixed.items() if v]}, "
                    f"episode_length={self.episode_length}, n_folds={self.n_folds}"
                )
        if self.n_folds is not None:
            if int(self.n_folds) != self.n_folds or self.n_folds < 1 or not 0 <= self.fold < self.n_folds:
                raise ValueError(f"walk-forward needs an integer n_folds >= 1 and 0 <= fold < n_folds, got {self.n_folds}, {self.fold}")
            if self.split == "all" or self.split_date is not None:
                raise ValueError("n_folds (walk-forward) takes split='train' or 'test' and no split_date")
        elif self.fold != 0:
            raise ValueError(f"fold={self.fold} needs n_folds (walk-forward splits)")
