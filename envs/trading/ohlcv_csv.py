"""Daily OHLCV CSV files (``Date,Open,High,Low,Close[,Adj Close],Volume``, the Yahoo export format)."""

from __future__ import annotations

import csv
import math
import os
import re
from datetime import date

import numpy as np

from envs.csvfile import column_index, read_csv
from envs.trading.market import MarketData, _validate_bars

CSV_REQUIRED_COLUMNS = ("Date", "Open", "High", "Low", "Close", "Volume")
# Weekends and market holidays leave gaps of a few days; a longer one means missing bars (the longest
# closure of a major exchange since 1933, after 11 September 2001, was 6 calendar days between bars).
MAX_GAP_DAYS = 10
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def load_ohlcv_csv(path: str | os.PathLike, *, adjust: bool = True) -> MarketData:
    """Load one asset's daily bars from a CSV in the common export format.

    The header must hold ``Date,Open,High,Low,Close,Volume`` (any order, extra columns ignored),
    optionally ``Adj Close``; dates are ``YYYY-MM-DD`` and strictly increasing. With ``adjust`` and
    an ``Adj Close`` column, open/high/low/close are scaled by ``Adj Close / Close`` on each bar so
    that splits and dividends do not show up as returns. Anything malformed — a missing column,
    an unparseable or out-of-order or duplicated date, a gap of more than ``MAX_GAP_DAYS`` calendar
    days, an empty/NaN/non-positive price — raises a
    ``ValueError`` naming the file, the line and the column; nothing is filled in.
    """
    path, header, rows = read_csv(path, f"a header {','.join(CSV_REQUIRED_COLUMNS)} and daily rows")
    wanted = [*CSV_REQUIRED_COLUMNS] + (["Adj Close"] if "Adj Close" in header else [])
    index = column_index(
        path, header, wanted, "a header with Date,Open,High,Low,Close[,Adj Close],Volume (the daily OHLCV export format)"
    )
    body = [(line, row) for line, row in rows if any(cell.strip() for cell in row)]
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
    _check_gaps(path, dates, line_of_row)
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


def _check_gaps(path: str, dates: np.ndarray, line_of_row: list[int]) -> None:
    gaps = np.diff(dates).astype(np.int64)  # calendar days between consecutive bars
    bad = np.flatnonzero(gaps > MAX_GAP_DAYS)
    if bad.size:
        row = int(bad[0]) + 1
        raise ValueError(
            f"{path}: line {line_of_row[row]}, column Date: {dates[row]} follows {dates[row - 1]} by {gaps[row - 1]} days; "
            f"daily bars may skip weekends and holidays (at most {MAX_GAP_DAYS} days), a longer gap means missing bars: "
            "fill them from a source or cut the file there (nothing is filled in)"
        )
