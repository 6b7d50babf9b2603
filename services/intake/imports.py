"""File imports (Decidim and CSV exports): parse with the domain importers, store through the bulk path.

Shared by `POST /v1/imports` and, through it, `palabre import`. A file that cannot be read as a whole
(binary, undecodable, no usable header) is refused before anything is written; otherwise every bad row
is reported with its row number and reason while the good rows go in.
"""

import csv
import hashlib
import hmac
import io
from typing import Annotated, Any, BinaryIO, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from services.intake import commands
from services.intake.domain import parse_csv, parse_decidim
from shared.contribution import SLUG_MAX
from services.intake.domain.csv_import import FIELDS
from services.intake.domain.parsing import FileError, ImportResult, decode, fold, read_table
from shared.http import Problem

Format = Literal["decidim", "csv"]
AxisId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=SLUG_MAX)]


class DecidimMapping(BaseModel):
    """How to read a Decidim export. A flat JSON object is read as `category_to_axis`."""

    model_config = ConfigDict(extra="forbid")

    category_to_axis: dict[Annotated[str, StringConstraints(max_length=300)], AxisId] = Field(
        default_factory=dict, max_length=500)
    resource: Literal["auto", "proposals", "comments"] = "auto"
    locales: list[Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")]] = Field(
        default_factory=lambda: ["fr"], min_length=1, max_length=10)


class CsvMapping(BaseModel):
    """Which column holds which field. A flat JSON object is read as `columns`; without a mapping, the
    columns named like the fields (`external_id`, `body`, `axis`…) are used."""

    model_config = ConfigDict(extra="forbid")

    columns: dict[str, Annotated[str, StringConstraints(min_length=1, max_length=300)]] = Field(max_length=20)
    value_maps: dict[str, dict[str, str]] | None = None
    defaults: dict[str, Any] | None = None
    delimiter: Literal[",", ";", "\t", "|"] | None = None


def more_records_than(file: BinaryIO, limit: int) -> bool:
    """Whether the file holds more than `limit` records after its header, read as a stream (a record may
    span lines); the file is left at its start."""
    file.seek(0)
    try:
        text = io.TextIOWrapper(file, encoding="utf-8", errors="replace", newline="")
        try:
            for count, _ in enumerate(csv.reader(text)):
                if count > limit:
                    return True
            return False
        except csv.Error:
            return False  # broken quoting: the parser reports it, row by row
        finally:
            text.detach()
    finally:
        file.seek(0)


def author_key(secret_key: str, territory: str) -> bytes:
    """The key of a territory's opaque author references, derived from the deployment's secret."""
    return hmac.new(secret_key.encode(), f"palabre/author-key/{territory}".encode(), hashlib.sha256).digest()


def read_mapping(fmt: Format, mapping: Any, data: bytes) -> DecidimMapping | CsvMapping:
    if mapping is not None and not isinstance(mapping, dict):
        raise Problem(422, "Invalid mapping", "mapping must be a JSON object")
    try:
        if fmt == "decidim":
            mapping = mapping or {}
            if not set(mapping) <= set(DecidimMapping.model_fields):
                mapping = {"category_to_axis": mapping}
            return DecidimMapping.model_validate(mapping)
        if mapping is None:
            mapping = {"columns": _columns_named_like_fields(data)}
        elif not set(mapping) <= set(CsvMapping.model_fields) or "columns" not in mapping:
            mapping = {"columns": mapping}
        return CsvMapping.model_validate(mapping)
    except ValidationError as exc:
        detail = "; ".join(f"/{'/'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:10])
        raise Problem(422, "Invalid mapping", detail, type_="https://palabre.org/problems/validation") from exc


def _columns_named_like_fields(data: bytes) -> dict[str, str]:
    try:
        header = read_table(decode(data)[0]).header
    except FileError as exc:
        raise Problem(422, "Unreadable file", str(exc), type_="https://palabre.org/problems/unreadable-file") from exc
    folded = {fold(name): name for name in header}
    return {name: folded[fold(name)] for name in FIELDS if fold(name) in folded}


def parse_file(fmt: Format, data: bytes, mapping: DecidimMapping | CsvMapping, *, territory: dict[str, Any],
               secret_key: str, source: str | None = None) -> ImportResult:
    """Parse an uploaded file (CPU-bound: run it in a worker thread)."""
    key = author_key(secret_key, territory["id"])
    timezone = territory.get("timezone")
    language = (territory.get("languages") or ["fr"])[0].split("-")[0]
    try:
        if isinstance(mapping, DecidimMapping):
            result = parse_decidim(data, category_to_axis=mapping.category_to_axis, author_key=key,
                                   locales=mapping.locales, resource=mapping.resource, default_timezone=timezone,
                                   default_language=language, source=source)
        else:
            result = parse_csv(data, columns=mapping.columns, value_maps=mapping.value_maps,
                               defaults=mapping.defaults, default_timezone=timezone, author_key=key,
                               delimiter=mapping.delimiter, default_language=language)
    except ValueError as exc:  # a mistake in the mapping (unknown field, label mapped to an unknown value)
        raise Problem(422, "Invalid mapping", str(exc), type_="https://palabre.org/problems/validation") from exc
    if result.file_error:
        raise Problem(422, "Unreadable file", f"nothing was imported: {result.file_error}",
                      type_="https://palabre.org/problems/unreadable-file")
    return result


async def import_parsed(pool, territory: dict[str, Any], result: ImportResult, *, consultation: str | None,
                        row_offset: int = 0) -> dict[str, Any]:
    """Store the good rows (in chunks) and answer with counts, and every refused or skipped row."""
    good = [row for row in result.rows if row.contribution is not None]
    outcome = await commands.import_rows(pool, territory, [row.contribution for row in good],
                                         consultation=consultation)
    errors = [(row.row_number, row.error) for row in result.rows if row.error is not None]
    errors += [(good[index].row_number, detail) for index, detail in outcome.errors]
    return {
        "rows": len(result.rows) + len(result.skipped),
        "accepted": outcome.accepted,
        "duplicates": outcome.duplicates,
        "errors": [{"row": row + row_offset, "detail": detail} for row, detail in sorted(errors)],
        "skipped": [{"row": s.row_number + row_offset, "reason": s.reason} for s in result.skipped],
        "notes": result.notes,
    }
