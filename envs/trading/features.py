"""Causal per-asset features of TradingEnv's observation."""

from __future__ import annotations

import numpy as np

from envs.trading.market import MarketData

# Per-asset feature columns of the observation, in order (see TradingEnv's Observation Space).
ASSET_FEATURES = ("log_return", "gap", "range", "trend", "volume_z")

# Every observation column is clipped to [-OBS_CLIP, OBS_CLIP]; normalized features rarely reach it.
OBS_CLIP = 10.0
# Volatility and volume-dispersion floors keep a constant price or volume from dividing by zero.
SIGMA_FLOOR = 1e-4
VOLUME_STD_FLOOR = 1e-2


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
