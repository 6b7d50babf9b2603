"""Open data: published contributions (published text, no author data) and synthesis versions, as CSV
(formula-safe cells) and JSON, each row with the licence of its territory."""

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from shared.csv_safety import safe_cell

DEFAULT_LICENCE = "Licence Ouverte 2.0"
KNOWN_LICENCE_URLS = {
    "Licence Ouverte 2.0": "https://www.etalab.gouv.fr/wp-content/uploads/2017/04/ETALAB-Licence-Ouverte-v2.0.pdf",
}
CONTRIBUTION_COLUMNS = ["contribution_id", "territory", "country", "consultation", "axis", "kind", "channel",
                        "language", "title", "text", "published_at", "licence"]
SYNTHESIS_COLUMNS = ["scope", "key", "country", "version", "contributions_count", "computed_at", "licence"]


def licence_of(territory: str | None, licences: dict[str, str]) -> str:
    return licences.get(territory or "", DEFAULT_LICENCE)


def licence_header(licences: Iterable[str]) -> str:
    """The `Link` header naming the licences of a download (RFC 8288 `license` relation)."""
    links = [f'<{KNOWN_LICENCE_URLS[name]}>; rel="license"; title="{name}"'
             for name in sorted(set(licences)) if name in KNOWN_LICENCE_URLS]
    return ", ".join(links)


def public_row(row: dict[str, Any]) -> dict[str, Any]:
    """A contribution as open data: what was published, never who wrote it."""
    return {
        "contribution_id": str(row["contribution_id"]), "territory": row["territory"],
        "country": (row["country"] or "").strip(), "consultation": row["consultation"], "axis": row["axis"],
        "kind": row["kind"], "channel": row["channel"], "language": row["language"], "title": row["title"],
        "text": row["text"], "published_at": _iso(row["published_at"]),
        "licence": row.get("licence") or DEFAULT_LICENCE,
    }


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def csv_header(columns: Sequence[str]) -> str:
    return csv_lines([dict(zip(columns, columns, strict=True))], columns)


def csv_lines(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(row.get(column)) for column in columns])
    return out.getvalue()


def json_head(kind: str, scope: str, key: str, licences: Sequence[str]) -> str:
    """The opening of a JSON download, up to its list of rows (written as they are read)."""
    head = json.dumps({"kind": kind, "scope": scope, "key": key,
                       "licences": [{"name": name, "url": KNOWN_LICENCE_URLS.get(name)} for name in licences]},
                      ensure_ascii=False)
    return head[:-1] + ', "items": ['


def json_items(rows: Sequence[dict[str, Any]], *, first: bool) -> str:
    text = ",".join(json.dumps(row, ensure_ascii=False, default=str) for row in rows)
    return text if first or not text else "," + text


JSON_TAIL = "]}"
