"""The one CSV reader of the envs' data files (HVAC weather, Trading OHLCV): text in, rows with line numbers out.

Every problem with the file itself — not a file, missing, unreadable, not UTF-8, not CSV — is a
one-line ``ValueError`` naming the file (and the line where there is one). A UTF-8 byte-order mark
is accepted (spreadsheet programs write one). The callers check the header and the values.
"""

from __future__ import annotations

import csv
import io
import os
from typing import Sequence


def read_csv(path: str | os.PathLike, expected: str) -> tuple[str, list[str], list[tuple[int, list[str]]]]:
    """``(path, header, rows)`` of the CSV file at `path`: the header's names stripped of blanks, and
    each data row as ``(file line number, fields)``. `expected` describes the wanted content for the
    error messages (e.g. ``"a header timestamp,temp_out_c,solar_w_m2 and hourly rows"``)."""
    path = os.fspath(path)
    text = _read_text(path, expected)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    try:
        for fields in reader:
            rows.append((reader.line_num, fields))
    except csv.Error as exc:
        raise ValueError(f"{path}: line {reader.line_num}: not readable as CSV ({exc}); expected {expected}") from None
    if not rows:
        raise ValueError(f"{path}: file is empty; expected {expected}")
    header = [name.strip() for name in rows[0][1]]
    return path, header, rows[1:]


def column_index(path: str, header: list[str], columns: Sequence[str], expected: str) -> dict[str, int]:
    """Position of each of `columns` in `header`; a missing one is a one-line ``ValueError`` naming them
    (`expected` describes the wanted header, e.g. ``"a header with Date,Open,High,Low,Close,Volume"``)."""
    missing = [name for name in columns if name not in header]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; expected {expected}, got {','.join(header)}")
    return {name: header.index(name) for name in columns}


def _read_text(path: str, expected: str) -> str:
    if os.path.isdir(path):
        raise ValueError(f"{path}: is a directory; expected a CSV file with {expected}")
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file; expected a CSV file with {expected}") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read ({exc.strerror or exc}); expected a CSV file with {expected}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValueError(
            f"{path}: line {line}: byte 0x{raw[exc.start]:02x} is not UTF-8 text; save the file as UTF-8 (CSV UTF-8)"
        ) from None
