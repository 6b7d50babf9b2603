"""CSV exports that a spreadsheet cannot turn into formulas (OWASP "CSV injection").

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, possibly after
leading spaces, is prefixed with ``'`` so that Excel and LibreOffice show it as text. A cell that already
starts with ``'`` in front of such a value gets one more ``'``, which keeps the escape reversible:
``unescape_cell(safe_cell(v)) == v`` for every string ``v`` (the importers rely on it to read back our
own exports). Numbers are written as numbers: ``-5`` is not a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def needs_escape(value: str) -> bool:
    """Would a spreadsheet read this cell as the start of a formula (or is it already an escaped one)?"""
    stripped = value.lstrip(" ")
    if stripped.startswith(FORMULA_START):
        return True
    return value.startswith("'") and needs_escape(value[1:])


def safe_cell(value: Any) -> str:
    """The text to write in a CSV cell for ``value``: ``None`` → empty, dates in ISO 8601, strings escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    return "'" + text if needs_escape(text) else text


def unescape_cell(value: str) -> str:
    """Undo ``safe_cell``'s prefix (also the one Decidim adds to values starting with ``= + - @``)."""
    if value.startswith("'") and needs_escape(value[1:]):
        return value[1:]
    return value


def write_csv(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    delimiter: str = ",",
) -> str:
    """A whole CSV document (RFC 4180, CRLF line ends): a header of ``columns``, then one line per row.

    Keys of a row not in ``columns`` are left out; missing keys give empty cells.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([safe_cell(c) for c in columns])
    for row in rows:
        writer.writerow([safe_cell(row.get(c)) for c in columns])
    return out.getvalue()
