"""Import of Decidim open-data exports (proposals and comments), whatever the Decidim version.

Decidim flattens nested keys with ``/`` (``title/fr``, ``category/name/fr``) and names columns
differently across versions (``author/id`` or ``author_id``, ``published_at`` or only ``created_at``,
``category/*`` or ``taxonomies``, ``hidden`` or not). The importer reads what the header offers:

- ``external_id``: the record's identity in its own Decidim instance, since ids are unique only there:
  the proposal's ``url`` without its scheme (``participation.example.fr/processes/p/f/111/proposals/457``);
  for a comment, the host of its ``root_commentable_url`` and ``comments/<id>``; without these, the
  ``component/id`` column (``components/111/proposals/457``), prefixed with the ``source`` when given;
  otherwise the import must name its ``source`` (the instance, such as its host name):
  ``<source>/proposals/<id>`` or ``<source>/comments/<id>``.
- ``body`` / ``title``: the first non-empty of ``<field>/<locale>`` in the preferred ``locales``, then
  ``<field>``, then any other locale (machine translations never). A locale column gives the language;
  so does a comments file's ``locale`` column. Rich-text HTML bodies become plain text.
- ``question``: for comments, what they answer: the thread's root (``root_commentable_url``), else the
  commented resource (``commentable_type`` and ``commentable_id``).
- ``axis``: the category name (any locale, accent- and case-insensitive), else the category id, else a
  taxonomy name, looked up in ``category_to_axis``; unmapped → no axis.
- ``author_ref``: HMAC of the author's id with ``author_key``; author names are never read.
- ``submitted_at``: ``published_at`` when present and filled, else ``created_at``.
- ``kind``: ``proposition`` for proposals, none for comments. ``channel``: ``en-ligne``.
- Records marked ``hidden`` (moderated away in Decidim) or ``withdrawn`` by their author are skipped and
  listed in ``ImportResult.skipped``.
- Decidim prefixes ``'`` to values starting with ``= + - @`` (spreadsheet safety): the prefix is removed.
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlsplit
from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import Literal

from shared.contribution import SLUG_RE
from services.intake.domain.language import DEFAULT_LANGUAGE
from services.intake.domain.parsing import (
    FileError,
    ImportResult,
    SkippedRow,
    author_token,
    build_row,
    cell_text,
    check_key,
    decode,
    fill_languages,
    fold,
    html_to_text,
    is_true,
    looks_like_html,
    parse_datetime,
    read_table,
    resolve_timezone,
    row_error,
)
from shared.vocabulary import Channel, Kind

Resource = Literal["auto", "proposals", "comments"]
_COMMENT_COLUMNS = frozenset({"commentable_id", "commentable_type", "root_commentable_url", "depth", "alignment"})
SOURCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$")
_LOCALE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


def _localized(header: Sequence[str], name: str, locales: Sequence[str]) -> list[tuple[str, str | None]]:
    """Columns holding ``name``, best first, each with the locale it is written in (None if unknown)."""
    present = set(header)
    ordered: list[tuple[str, str | None]] = [(f"{name}/{loc}", loc) for loc in locales if f"{name}/{loc}" in present]
    if name in present:
        ordered.append((name, None))
    for column in header:
        locale = column[len(name) + 1 :] if column.startswith(name + "/") else None
        if locale and locale != "id" and _LOCALE.match(locale) and (column, locale) not in ordered:
            ordered.append((column, locale))
    return ordered


def _first(cells: Mapping[str, str], columns: list[tuple[str, str | None]]) -> tuple[str, str | None, str | None]:
    """The first filled value among ``columns``: (value, column, locale)."""
    for column, locale in columns:
        value = cell_text(cells.get(column)).strip()
        if value:
            return value, column, locale
    return "", (columns[0][0] if columns else None), None


def parse_decidim(
    data: bytes,
    *,
    category_to_axis: Mapping[str, str] | None = None,
    author_key: bytes | str,
    locales: Sequence[str] = ("fr",),
    resource: Resource = "auto",
    default_timezone: str | tzinfo | None = None,
    detect_language: bool = True,
    default_language: str = DEFAULT_LANGUAGE,
    source: str | None = None,
) -> ImportResult:
    """Read a Decidim proposals or comments export (bytes as uploaded).

    ``category_to_axis`` maps a Decidim category (or taxonomy) name, or a category id, to a framework
    axis id. ``author_key`` (≥ 16 bytes, secret) keys the author tokens. ``default_timezone`` reads dates
    without offset (Decidim writes offsets; without it such dates are row errors). ``source`` names the
    Decidim instance, for an export whose columns do not (no ``url``, ``root_commentable_url`` nor
    ``component/id``). With
    ``detect_language`` the rows whose language the file does not give get one detected from their body.
    """
    key = check_key(author_key, required=True)
    if source is not None and not SOURCE_RE.match(source):
        raise ValueError(f"source {source!r} must name the Decidim instance, such as its host name")
    axes: dict[str, str] = {}
    for name, axis in (category_to_axis or {}).items():
        if not SLUG_RE.match(axis):
            raise ValueError(f"category_to_axis[{name!r}] = {axis!r} is not an axis id (a slug)")
        axes[fold(str(name))] = axis
    zone = resolve_timezone(default_timezone)

    result = ImportResult()
    try:
        text, note = decode(data)
        if note:
            result.notes.append(note)
        table = read_table(text)
    except FileError as exc:
        result.file_error = str(exc)
        return result

    header = table.header
    if "id" not in header:
        result.file_error = f"row 1: no 'id' column; the header has: {', '.join(header)}"
        return result
    bodies = _localized(header, "body", locales)
    if not bodies:
        result.file_error = f"row 1: no 'body' column (nor 'body/<locale>'); the header has: {', '.join(header)}"
        return result
    if resource == "auto":
        resource = "comments" if _COMMENT_COLUMNS & set(header) else "proposals"
    comments = resource == "comments"
    own_url = "root_commentable_url" if comments else "url"
    own_url = own_url if own_url in header else None
    component = "component/id" if "component/id" in header and not comments else None
    if own_url is None and component is None and source is None:
        result.file_error = (f"row 1: this export names no Decidim instance (no {'root_commentable_url' if comments else 'url'}"
                             f"{'' if comments else ' nor component/id'} column), and Decidim ids are unique only "
                             "within one: name its source (the instance, such as its host name) with 'source'")
        return result
    titles = _localized(header, "title", locales)
    categories = _localized(header, "category/name", locales)
    taxonomies = _localized(header, "taxonomies/name", locales) + _localized(header, "taxonomies", locales)
    category_id = "category/id" if "category/id" in header else None
    author_column = next((c for c in ("author/id", "author_id") if c in header), None)
    dates = [c for c in ("published_at", "created_at") if c in header]
    has_locale = "locale" in header
    has_hidden = "hidden" in header
    has_withdrawn = "withdrawn" in header
    kind = None if comments else Kind.PROPOSITION
    unmapped: Counter[str] = Counter()

    for record in table.records:
        if record.cells is None:
            result.rows.append(row_error(record, record.error or "unreadable row"))
            continue
        cells = record.cells
        if has_hidden and is_true(cells.get("hidden")):
            result.skipped.append(SkippedRow(record.row_number, "hidden in Decidim (moderated)"))
            continue
        if has_withdrawn and is_true(cells.get("withdrawn")):
            result.skipped.append(SkippedRow(record.row_number, "withdrawn by its author in Decidim"))
            continue

        source_id = cells["id"].strip()
        if not source_id:
            result.rows.append(row_error(record, "external_id (column 'id'): empty"))
            continue
        identity, identity_column = _identity(cells, source_id, comments=comments, own_url=own_url,
                                              component=component, source=source)
        if identity is None:
            result.rows.append(row_error(record, f"external_id (column {identity_column!r}): empty, and the "
                                                 "import names no 'source'"))
            continue
        body, body_column, language = _first(cells, bodies)
        if looks_like_html(body):
            body = html_to_text(body)
        title, title_column, _ = _first(cells, titles)
        if title and looks_like_html(title):
            title = html_to_text(title)
        if has_locale and not language:
            language = cells["locale"].strip() or None

        axis = None
        category, _, _ = _first(cells, categories)
        if category:
            axis = axes.get(fold(category))
        if axis is None and category_id and cells[category_id].strip():
            axis = axes.get(fold(cells[category_id]))
        if axis is None:
            axis, taxonomy = _taxonomy_axis(cells, taxonomies, axes)
            category = category or taxonomy
        if axis is None and category:
            unmapped[category] += 1

        submitted_at = None
        date_column = None
        for date_column in dates:
            if cells[date_column].strip():
                break
        if date_column and cells[date_column].strip():
            try:
                submitted_at = parse_datetime(cells[date_column], zone)
            except ValueError as exc:
                result.rows.append(row_error(record, f"submitted_at (column {date_column!r}): {exc}"))
                continue

        author_id = cells[author_column].strip() if author_column else ""
        values = {
            "external_id": identity,
            "kind": kind,
            "channel": Channel.EN_LIGNE,
            "language": language,
            "title": title or None,
            "body": body,
            "submitted_at": submitted_at,
            "axis": axis,
            "question": _commentable(cells) if comments else None,
            "author_ref": author_token(key, "decidim", author_id) if author_id and key else None,
        }
        sources = {"external_id": identity_column, "body": body_column or "body", "title": title_column or "title",
                   "language": "locale" if has_locale else (body_column or "body")}
        result.rows.append(build_row(record, values, sources))

    result.notes.append(f"read as a Decidim {resource} export ({len(header)} columns, separator {table.delimiter!r})")
    if unmapped:
        listed = ", ".join(f"{name!r} ({n})" for name, n in unmapped.most_common())
        result.notes.append(f"categories with no axis in the mapping: {listed}")
    if detect_language:
        detected = fill_languages(result, default=default_language)
        if detected:
            result.notes.append(f"language detected for {detected} rows")
    return result


def _commentable(cells: Mapping[str, str]) -> str | None:
    root = cell_text(cells.get("root_commentable_url")).strip()
    if root:
        return root
    kind, key = cell_text(cells.get("commentable_type")).strip(), cell_text(cells.get("commentable_id")).strip()
    return f"{kind}#{key}" if kind and key else None


def _identity(cells: Mapping[str, str], source_id: str, *, comments: bool, own_url: str | None,
              component: str | None, source: str | None) -> tuple[str | None, str]:
    """The record's external_id, and the column it comes from (None when it has none and no source)."""
    kind = "comments" if comments else "proposals"
    url = urlsplit(cells[own_url].strip()) if own_url else None
    if url is not None and url.netloc:
        if comments:
            return f"{url.netloc.lower()}/comments/{source_id}", own_url
        return f"{url.netloc.lower()}{url.path.rstrip('/')}", own_url
    prefix = f"{source}/" if source else ""
    if component and cells[component].strip():
        return f"{prefix}components/{cells[component].strip()}/{kind}/{source_id}", component
    if source:
        return f"{source}/{kind}/{source_id}", "id"
    return None, own_url or component or "id"


def _taxonomy_axis(
    cells: Mapping[str, str], columns: list[tuple[str, str | None]], axes: Mapping[str, str]
) -> tuple[str | None, str | None]:
    """Decidim joins several taxonomies with ", ", and a name may itself hold ", ": from the left, the
    longest run of parts that names a mapped taxonomy wins."""
    first_name = None
    for column, _ in columns:
        value = cell_text(cells.get(column)).strip()
        if not value:
            continue
        first_name = first_name or value
        parts = value.split(", ")
        for i in range(len(parts)):
            for j in range(len(parts), i, -1):
                candidate = ", ".join(parts[i:j])
                axis = axes.get(fold(candidate))
                if axis:
                    return axis, candidate
    return None, first_name
