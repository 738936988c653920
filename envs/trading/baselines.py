"""Trading baselines: buy-and-hold and a moving-average crossover, and the table of their numbers.

``python -m envs.trading`` writes :func:`format_baseline_table` of :func:`baseline_table` to
``experiments/results/trading_baselines.md``; a test checks that file against a fresh computation.
"""

from __future__ import annotations

from typing import Any, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.baselines import RandomPolicy, markdown_table, run_episode
from envs.trading.env import TradingEnv


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


TABLE_CAPTION = (
    "`rlkit/Trading-v0` defaults (the synthetic market, `data_seed=0`), mean over 32 episodes of 252 bars "
    "(reset seeds 0..31). return: sum of rewards = log(final/initial value); PnL and costs in money, "
    "initial cash 10 000."
)
BASELINE_FACTORIES = {"buy_and_hold": buy_and_hold, "ma_crossover": ma_crossover}
TABLE_METRICS = ("return", "pnl", "sharpe", "max_drawdown", "costs")
FINRL_METRICS = ("sharpe", "annual_return", "total_return", "max_drawdown", "turnover", "fees")


def baseline_table(
    env_kwargs: dict[str, Any] | None = None,
    n_episodes: int = 32,
    seed: int = 0,
    splits: Sequence[str] = ("train", "test"),
    metrics: Sequence[str] = TABLE_METRICS,
) -> dict[tuple[str, str], dict[str, float]]:
    """Mean ``episode_metrics`` of ``random`` and each baseline, per split, over `n_episodes`
    episodes reset with seeds ``seed .. seed + n_episodes - 1`` (the random policy is seeded too):
    the episodes an agent evaluated with the same env kwargs and seeds meets."""

    table = {}
    for name in ("random", *BASELINE_FACTORIES):
        for split in splits:
            env = TradingEnv(**{**(env_kwargs or {}), "split": split})
            policy = RandomPolicy(env, seed=seed) if name == "random" else BASELINE_FACTORIES[name](env)
            totals = dict.fromkeys(metrics, 0.0)
            for i in range(n_episodes):
                _, info = run_episode(env, policy, seed + i)
                for metric in metrics:
                    totals[metric] += info["episode_metrics"][metric] / n_episodes
            table[name, split] = totals
    return table


def format_baseline_table(table: dict[tuple[str, str], dict[str, float]]) -> str:
    """The Markdown table of :func:`baseline_table` (``python -m envs.trading`` adds :data:`TABLE_CAPTION`)."""
    header = ("policy", "split", "return", "PnL", "Sharpe", "max drawdown", "costs")
    return markdown_table(header, (
        (name, split, f"{m['return']:.4f}", f"{m['pnl']:.1f}", f"{m['sharpe']:.2f}", f"{m['max_drawdown']:.3f}", f"{m['costs']:.1f}")
        for (name, split), m in table.items()
    ))  # fmt: skip


HELD_OUT_CAPTION = (
    "100 held-out synthetic markets: `rlkit/Trading-v0` with `new_market_per_episode=True, split=\"test\"` "
    "(each episode a new regime-switching market, odd data seeds drawn from reset seeds 1000..1099; training "
    "markets have even seeds), 252 bars each; mean of FinRL's metrics per episode. Sharpe and annual return "
    "annualised with 252 bars a year; turnover: traded notional over portfolio value, summed over the episode; "
    "fees in money (initial cash 10 000)."
)


def held_out_markets_table(n_episodes: int = 100, seed: int = 1000) -> str:
    """Markdown of FinRL's metrics for ``random`` and each baseline on `n_episodes` held-out markets."""
    kwargs = {"new_market_per_episode": True}
    table = baseline_table(kwargs, n_episodes=n_episodes, seed=seed, splits=("test",), metrics=FINRL_METRICS)
    header = ("policy", "Sharpe", "annual return", "total return", "max drawdown", "turnover", "fees")
    rows = (
        (name, f"{m['sharpe']:.2f}", f"{m['annual_return']:.4f}", f"{m['total_return']:.4f}", f"{m['max_drawdown']:.3f}",
         f"{m['turnover']:.1f}", f"{m['fees']:.1f}")
        for (name, _), m in table.items()
    )  # fmt: skip
    return markdown_table(header, rows) + "\n\n" + HELD_OUT_CAPTION + "\n"
