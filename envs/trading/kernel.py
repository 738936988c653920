"""TradingEnv's fill-and-mark step, compiled with Numba: rebalance at the open, mark at the close."""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def scale_box_target(target, low, high):  # pragma: no cover - compiled
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
def fill_and_mark(
    open_, close, bar, shares, cash, target, fee_rate, slippage, borrow_per_bar, weights, obs_rows, row, col
):  # pragma: no cover - compiled
    """Rebalance to `target` weights at the open of `bar`, then mark the portfolio at its close.

    Updates `shares`, `weights` and the portfolio columns of `obs_rows[row]` in place; returns
    (cash, value, fees, slippage cost, borrow cost, turnover) where turnover is the traded notional at
    the open over the portfolio's value there. Written out in plain scalar arithmetic —
    `reference_step` in the tests recomputes it by hand.
    """
    n_assets = shares.shape[0]
    value_at_open = cash
    for i in range(n_assets):
        value_at_open += shares[i] * open_[bar, i]
    fees = 0.0
    slip = 0.0
    borrow = 0.0
    traded_value = 0.0
    for i in range(n_assets):
        price = open_[bar, i]
        new_shares = target[i] * value_at_open / price
        traded = new_shares - shares[i]
        if traded != 0.0:
            fill_price = price * (1.0 + slippage) if traded > 0 else price * (1.0 - slippage)
            cash -= traded * fill_price
            slip += abs(traded) * price * slippage
            fees += abs(traded) * fill_price * fee_rate
            traded_value += abs(traded) * price
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
    turnover = traded_value / value_at_open if value_at_open > 0.0 else 0.0
    return cash, value, fees, slip, borrow, turnover
