"""Import of any CSV file, given which column holds which field.

``columns`` maps a contribution field to a header name (``{"external_id": "ID", "body": "Texte"}``);
header names match regardless of case, accents and spacing. Enum fields (``kind``, ``author_role``,
``channel``) accept their values and the French (and some English) labels people write, compared the same
tolerant way ("Point de vigilance", "élu·e", "Réunion publique"); ``value_maps`` adds or overrides labels.
``defaults`` gives a value to fields the file does not hold (``{"channel": "atelier"}``).

Text is kept as text: a body starting with ``=cmd|...`` is stored as written (nothing here evaluates
it, and every CSV export escapes it again, see ``shared.csv_safety``). The ``'`` prefix that spreadsheet
escaping adds is removed, so that our own exports read back unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from shared.contribution import ContributionIn
from services.intake.domain.language import DEFAULT_LANGUAGE
from services.intake.domain.parsing import (
    FileError,
    ImportResult,
    author_token,
    build_row,
    cell_text,
    check_key,
    decode,
    fill_languages,
    fold,
    parse_datetime,
    read_table,
    resolve_timezone,
    row_error,
)
from shared.vocabulary import AuthorRole, Channel, Kind

FIELDS = tuple(ContributionIn.model_fields)
ENUMS: dict[str, type] = {"kind": Kind, "author_role": AuthorRole, "channel": Channel}

LABELS: dict[str, dict[str, str]] = {
    "kind": {
        "attente": "attente", "attentes": "attente", "besoin": "attente", "expectation": "attente",
        "vigilance": "vigilance", "point de vigilance": "vigilance", "points de vigilance": "vigilance",
        "alerte": "vigilance", "risque": "vigilance", "concern": "vigilance",
        "proposition": "proposition", "propositions": "proposition", "proposal": "proposition",
    },
    "author_role": {
        "elu": "elu", "elue": "elu", "elus": "elu", "elected official": "elu",
        "agent": "agent", "agente": "agent", "agent public": "agent", "agente publique": "agent",
        "agents": "agent", "fonctionnaire": "agent",
        "usager": "usager", "usagere": "usager", "usagers": "usager", "habitant": "usager",
        "habitante": "usager", "citoyen": "usager", "citoyenne": "usager", "resident": "usager",
        "acteur economique": "acteur-economique", "actrice economique": "acteur-economique",
        "entreprise": "acteur-economique",
        "acteur academique": "acteur-academique", "actrice academique": "acteur-academique",
        "chercheur": "acteur-academique", "chercheuse": "acteur-academique", "universite": "acteur-academique",
        "societe civile": "societe-civile", "association": "societe-civile",
        "autre": "autre", "other": "autre",
    },
    "channel": {
        "en ligne": "en-ligne", "ligne": "en-ligne", "internet": "en-ligne", "web": "en-ligne",
        "online": "en-ligne", "plateforme": "en-ligne",
        "atelier": "atelier", "ateliers": "atelier", "workshop": "atelier",
        "papier": "papier", "courrier": "papier", "cahier": "papier", "paper": "papier",
        "reunion publique": "reunion-publique", "public meeting": "reunion-publique",
        "autre": "autre", "other": "autre",
    },
}


def _labels(value_maps: Mapping[str, Mapping[str, str]] | None) -> dict[str, dict[str, str]]:
    tables: dict[str, dict[str, str]] = {}
    for name, enum in ENUMS.items():
        table = {fold(member.value): member.value for member in enum}
        table.update(LABELS[name])
        for label, value in ((value_maps or {}).get(name) or {}).items():
            if value not in {m.value for m in enum}:
                allowed = ", ".join(m.value for m in enum)
                raise ValueError(f"value_maps[{name!r}][{label!r}] = {value!r}: not one of {allowed}")
            table[fold(label)] = value
        tables[name] = table
    for name in value_maps or {}:
        if name not in ENUMS:
            raise ValueError(f"value_maps[{name!r}]: only {', '.join(ENUMS)} take value maps")
    return tables


def parse_csv(
    data: bytes,
    *,
    columns: Mapping[str, str],
    value_maps: Mapping[str, Mapping[str, str]] | None = None,
    defaults: Mapping[str, Any] | None = None,
    default_timezone: str | tzinfo | None = None,
    author_key: bytes | str | None = None,
    delimiter: str | None = None,
    detect_language: bool = True,
    default_language: str = DEFAULT_LANGUAGE,
) -> ImportResult:
    """Read a CSV file (bytes as uploaded) into contributions, one ``ParsedRow`` per record.

    Mistakes in the arguments (unknown field, label mapped to an unknown value) raise ``ValueError``;
    problems of the file are reported in the result. Dates without offset are read in
    ``default_timezone`` when given, else refused. With ``author_key``, the ``author_ref`` column is
    replaced by an HMAC token (use it when the column holds anything that could identify a person).
    """
    unknown = [f for f in [*columns, *(defaults or {})] if f not in FIELDS]
    if unknown:
        raise ValueError(f"unknown contribution field(s): {', '.join(unknown)}; fields are {', '.join(FIELDS)}")
    for required in ("external_id", "body"):
        if required not in columns:
            raise ValueError(f"columns must say which column holds {required!r}")
    labels = _labels(value_maps)
    key = check_key(author_key, required=False)
    zone = resolve_timezone(default_timezone)

    result = ImportResult()
    try:
        text, note = decode(data)
        if note:
            result.notes.append(note)
        table = read_table(text, delimiter=delimiter)
    except FileError as exc:
        result.file_error = str(exc)
        return result

    by_fold: dict[str, list[str]] = {}
    for name in table.header:
        by_fold.setdefault(fold(name), []).append(name)
    where: dict[str, str] = {}  # field -> header name in the file
    for field, wanted in columns.items():
        if wanted in table.header and table.header.count(wanted) == 1:
            where[field] = wanted
            continue
        found = by_fold.get(fold(wanted), [])
        if len(found) != 1:
            problem = "is not in the header" if not found else f"matches several columns ({', '.join(found)})"
            result.file_error = (
                f"row 1: column {wanted!r} (for {field}) {problem}; the header has: {', '.join(table.header)}"
            )
            return result
        where[field] = found[0]

    fixed = dict(defaults or {})
    for record in table.records:
        if record.cells is None:
            result.rows.append(row_error(record, record.error or "unreadable row"))
            continue
        values: dict[str, Any] = dict(fixed)
        problem = None
        for field, column in where.items():
            raw = cell_text(record.cells[column])
            if field in ENUMS:
                label = fold(raw)
                if not label:
                    values[field] = fixed.get(field)
                elif label in labels[field]:
                    values[field] = labels[field][label]
                else:
                    allowed = ", ".join(m.value for m in ENUMS[field])
                    problem = f"{field} (column {column!r}): {raw.strip()!r} is not a known value ({allowed})"
                    break
            elif field == "submitted_at":
                if raw.strip():
                    try:
                        values[field] = parse_datetime(raw, zone)
                    except ValueError as exc:
                        problem = f"{field} (column {column!r}): {exc}"
                        break
            elif field == "author_ref" and key is not None:
                values[field] = author_token(key, "csv", raw.strip()) if raw.strip() else None
            else:
                values[field] = raw
        if problem:
            result.rows.append(row_error(record, problem))
            continue
        result.rows.append(build_row(record, values, where))

    result.notes.append(f"read as CSV ({len(table.header)} columns, separator {table.delimiter!r})")
    if detect_language:
        detected = fill_languages(result, default=default_language)
        if detected:
            result.notes.append(f"language detected for {detected} rows")
    return result
