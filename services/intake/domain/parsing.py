"""What the Decidim and the generic CSV importers share: decoding, reading records, reporting rows.

Row numbers are the ones a spreadsheet shows: the header is row 1, the first record row 2, and a record
whose body spans several lines is still one row (a blank line is a row too, as a spreadsheet shows it).
When a record does not start on the line of the same number (multi-line bodies before it), the error
text also gives the line where the record starts, for whoever opens the file in a text editor.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from shared.contribution import ContributionIn
from services.intake.domain.language import DEFAULT_LANGUAGE, detect_languages
from shared.csv_safety import unescape_cell


class ParsedRow(NamedTuple):
    """One record of an imported file: exactly one of ``contribution`` and ``error`` is set."""

    row_number: int
    contribution: ContributionIn | None
    error: str | None


class SkippedRow(NamedTuple):
    """A record deliberately left out (hidden or withdrawn in the source, or with no cell filled)."""

    row_number: int
    reason: str


@dataclass
class ImportResult:
    """``file_error`` set means nothing could be read (bad encoding, no usable header): ``rows`` is empty."""

    rows: list[ParsedRow] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    file_error: str | None = None

    @property
    def contributions(self) -> list[ContributionIn]:
        return [r.contribution for r in self.rows if r.contribution is not None]

    @property
    def errors(self) -> list[tuple[int, str]]:
        return [(r.row_number, r.error) for r in self.rows if r.error is not None]


class FileError(Exception):
    """The file as a whole cannot be read; the message says why and where."""


# --- decoding -----------------------------------------------------------------------------------------


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode(data: bytes) -> tuple[str, str | None]:
    """The text of the file and a note on how it was read.

    UTF-8 (with or without BOM), or UTF-16 when its BOM says so. Anything else is refused, naming the first
    offending byte: guessing another encoding (Windows-1252 and the like) would alter the text silently.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text, note = data.decode("utf-16"), "file decoded as UTF-16 (byte order mark)"
        except UnicodeDecodeError as exc:
            raise FileError(f"file starts with a UTF-16 byte order mark but is not valid UTF-16: {exc.reason}")
    else:
        try:
            text, note = data.decode("utf-8-sig"), None
        except UnicodeDecodeError as exc:
            raise FileError(
                f"file is not valid UTF-8: byte 0x{data[exc.start]:02X} at offset {exc.start} (line "
                f"{_line_of(data, exc.start)}); nothing was read. Export it again as UTF-8 (in Excel: "
                "'CSV UTF-8')"
            ) from None
    if "\x00" in text:
        nuls = text.count("\x00")
        first_line_end = text.find("\n")
        if nuls * 100 > len(text) or "\x00" in text[: first_line_end if first_line_end >= 0 else None]:
            line = text.count("\n", 0, text.index("\x00")) + 1
            raise FileError(
                f"file contains NUL characters (first on line {line}): not a text CSV (UTF-16 without byte "
                "order mark, or a spreadsheet saved in its own format?)"
            )
        text = text.replace("\x00", "")
        note = "; ".join(filter(None, [note, f"{nuls} NUL characters removed"]))
    return text, note


# --- records ------------------------------------------------------------------------------------------


class Record(NamedTuple):
    row_number: int
    line: int
    cells: dict[str, str] | None
    error: str | None


@dataclass
class Table:
    header: list[str]
    delimiter: str
    records: Iterator[Record]


_DELIMITERS = (";", ",", "\t", "|")


def sniff_delimiter(header_line: str) -> str:
    """The separator the header uses: the candidate occurring most often outside quotes (``;`` on a tie)."""
    outside = re.sub(r'"[^"]*"', "", header_line)
    counts = {d: outside.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ";"


def _csv_message(exc: csv.Error, delimiter: str, line: int, first_line: int) -> tuple[str, bool]:
    """A reader error in words, and whether the reader must restart after the record's first line."""
    text = str(exc)
    if "unexpected end of data" in text:
        return "broken quoting: a quoted value opened on this row is never closed", True
    if "field larger than field limit" in text:
        return "broken quoting or oversize value: a cell runs over 131,072 characters", True
    if "expected after" in text:
        shown = "tab" if delimiter == "\t" else repr(delimiter)
        on_line = f" on line {line}" if line != first_line else ""
        return (
            f"broken quoting{on_line}: a closing quote must be followed by the separator {shown}; "
            'a quote inside a quoted value is written twice ("")',
            False,
        )
    return f"unreadable row: {text}", False


def read_table(text: str, *, delimiter: str | None = None) -> Table:
    """The header and an iterator over the records as dicts keyed by header name.

    Records with more or fewer cells than the header are errors (trailing empty cells are tolerated).
    Blank lines and records whose cells are all empty are not records (they yield nothing).
    A broken quote is reported on its row, and reading resumes on the line after that row's first line.
    """
    lines = io.StringIO(text, newline="").readlines()
    if not lines or not lines[0].strip():
        raise FileError("row 1: the file has no header (it is empty or starts with a blank line)")
    delimiter = delimiter or sniff_delimiter(lines[0])
    try:
        header = next(csv.reader([lines[0]], delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise FileError(f"row 1: the header cannot be read: {exc}") from None
    header = [unicodedata.normalize("NFC", h).strip().lstrip("\ufeff").strip() for h in header]
    while header and not header[-1]:
        header.pop()
    if not any(header):
        raise FileError("row 1: the header has no column names")
    return Table(header, delimiter, _records(lines, header, delimiter))


def _records(lines: list[str], header: list[str], delimiter: str) -> Iterator[Record]:
    width = len(header)
    row = 1
    start = 1  # index in `lines` where the current reader starts
    while start < len(lines):
        reader = csv.reader(iter(lines[start:]), delimiter=delimiter, strict=True)
        consumed = 0
        restart_at = None
        while True:
            first_line = start + consumed + 1  # 1-based line number where this record starts
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                row += 1
                message, restart = _csv_message(exc, delimiter, start + reader.line_num, first_line)
                yield Record(row, first_line, None, message)
                if restart:
                    restart_at = first_line  # index of the line after the record's first line
                    break
                consumed = reader.line_num
                continue
            consumed = reader.line_num
            row += 1
            if not cells or not any(c.strip() for c in cells):
                continue
            if len(cells) != width:
                if len(cells) > width and not any(c.strip() for c in cells[width:]):
                    cells = cells[:width]
                else:
                    yield Record(
                        row,
                        first_line,
                        None,
                        f"has {len(cells)} cells where the header has {width} "
                        f"(a separator {delimiter!r} inside an unquoted value, or a missing one?)",
                    )
                    continue
            yield Record(row, first_line, dict(zip(header, cells)), None)
        if restart_at is None:
            return
        start = restart_at


# --- values -------------------------------------------------------------------------------------------


_FOLD_DROP = re.compile(r"[·•.()\[\]]")
_FOLD_SPACE = re.compile(r"[\s\-_/’'‘]+")


@lru_cache(maxsize=4096)
def fold(value: str) -> str:
    """A comparison key insensitive to case, accents, apostrophes, hyphens and spacing."""
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return _FOLD_SPACE.sub(" ", _FOLD_DROP.sub("", bare)).strip()


def cell_text(value: str | None) -> str:
    """A text cell as we keep it: spreadsheet formula escape undone (it is plain text for us)."""
    if not value:
        return ""
    return unescape_cell(value)


def resolve_timezone(value: str | tzinfo | None) -> tzinfo | None:
    if value is None or isinstance(value, tzinfo):
        return value
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (an IANA name such as 'Europe/Paris')") from None


_SPACED_OFFSET = re.compile(r"^(.*\d)\s*(?:([+-]\d{2}):?(\d{2})|(UTC|GMT|Z))$", re.IGNORECASE)
_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2})[:h](\d{2})(?::(\d{2}))?)?$")


def parse_datetime(value: str, default_tz: tzinfo | None = None) -> datetime:
    """ISO 8601, Rails' ``2019-01-24 22:29:15 +0100`` / ``... UTC``, or ``24/01/2019 22:29``.

    A date without offset is read in ``default_tz`` (the territory's zone) when given, else refused.
    """
    text = value.strip()
    match = _FRENCH_DATE.match(text)
    if match:
        d, m, y, hh, mm, ss = match.groups()
        try:
            parsed = datetime(int(y), int(m), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a valid date: {exc}") from None
    else:
        spaced = _SPACED_OFFSET.match(text)
        if spaced and spaced.group(2):
            text = f"{spaced.group(1)}{spaced.group(2)}:{spaced.group(3)}"
        elif spaced and spaced.group(4):
            text = f"{spaced.group(1)}+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a date: expected ISO 8601 such as 2024-09-18T14:30:00+02:00"
            ) from None
    if parsed.tzinfo is None:
        if default_tz is None:
            raise ValueError(f"{value!r} has no time zone offset (such as +02:00 or Z)")
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed


def author_token(key: bytes, namespace: str, author_id: str) -> str:
    """An opaque, non-reversible author reference: HMAC-SHA256 of the source's id, 128 bits in hex.

    Without the key, small numeric ids could be recovered by hashing every integer; with it they cannot.
    """
    return hmac.new(key, f"{namespace}:{author_id}".encode(), hashlib.sha256).hexdigest()[:32]


def check_key(author_key: bytes | str | None, *, required: bool) -> bytes | None:
    if author_key is None or author_key == b"" or author_key == "":
        if required:
            raise ValueError("author_key is required (at least 16 bytes, kept secret)")
        return None
    key = author_key.encode() if isinstance(author_key, str) else bytes(author_key)
    if len(key) < 16:
        raise ValueError("author_key must be at least 16 bytes")
    return key


def is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in {"true", "t", "1", "yes", "y", "oui", "vrai"}


# --- HTML ---------------------------------------------------------------------------------------------


_HTML_TAG = re.compile(
    r"</?(?:p|br|div|span|strong|em|b|i|u|s|a|ul|ol|li|h[1-6]|blockquote|pre|code|table|tr|td|th)\b[^>]*>",
    re.IGNORECASE,
)
_BLOCK = frozenset("p div h1 h2 h3 h4 h5 h6 blockquote pre ul ol table tr section article header footer".split())


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in _BLOCK:
            self.parts.append("\n\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(re.sub(r"[ \t\r\n\f]+", " ", data))


def looks_like_html(text: str) -> bool:
    return "<" in text and _HTML_TAG.search(text) is not None


def html_to_text(text: str) -> str:
    """Rich-text HTML as plain text: paragraphs separated by a blank line, list items as ``- item``."""
    parser = _TextExtractor()
    parser.feed(text)
    parser.close()
    out = "".join(parser.parts)
    out = re.sub(r"[ \t]*\n[ \t]*", "\n", out)
    out = re.sub(r"\n{3,}", "\n\n", out)
    return out.strip()


# --- building rows ------------------------------------------------------------------------------------


def _message(error: Mapping[str, Any]) -> str:
    msg = str(error["msg"])
    return msg.removeprefix("Value error, ")


def build_row(record: Record, values: Mapping[str, Any], sources: Mapping[str, str]) -> ParsedRow:
    """Validate ``values`` into a contribution, or explain each problem naming the file's column."""
    try:
        return ParsedRow(record.row_number, ContributionIn.model_validate(values), None)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            name = str(error["loc"][0]) if error["loc"] else "row"
            column = sources.get(name)
            where = f"{name} (column {column!r})" if column else name
            problems.append(f"{where}: {_message(error)}")
        return row_error(record, "; ".join(problems))


def row_error(record: Record, message: str) -> ParsedRow:
    if record.line != record.row_number:
        message = f"{message} [record starts on line {record.line} of the file]"
    return ParsedRow(record.row_number, None, message)


def fill_languages(result: ImportResult, *, default: str = DEFAULT_LANGUAGE) -> int:
    """Detect the language of the accepted rows that have none, in one batch; returns how many."""
    missing = [i for i, r in enumerate(result.rows) if r.contribution is not None and r.contribution.language is None]
    if not missing:
        return 0
    texts = [result.rows[i].contribution.body for i in missing]  # type: ignore[union-attr]
    for i, language in zip(missing, detect_languages(texts, default=default)):
        row = result.rows[i]
        result.rows[i] = row._replace(contribution=row.contribution.model_copy(update={"language": language}))  # type: ignore[union-attr]
    return len(missing)

