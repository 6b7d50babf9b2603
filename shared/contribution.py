"""The shape of one contribution as a territory system pushes it (DESIGN §2, §5).

Every text field is cleaned the same way before its limits are checked: Unicode NFC, line breaks
unified to ``\\n``, control characters removed (tabs and newlines kept), surrounding whitespace trimmed.
Limits therefore apply to what will be stored, not to what was sent.

``submitted_at`` must carry its offset: the network spans time zones from Montréal to Agadir, and a naive
date would silently be read in the wrong one. A naive date is refused here; importers that know the
territory's time zone localise naive dates before building the model (see ``parsing.parse_datetime``).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from shared.vocabulary import AuthorRole, Channel, Kind

BODY_MAX = 20_000
TITLE_MAX = 300
QUESTION_MAX = 1000
EXTERNAL_ID_MAX = 200
AUTHOR_REF_MAX = 200
SLUG_MAX = 100
BATCH_MAX = 1_000

# C0 and C1 controls except TAB and LF (CR is turned into LF first), DEL, and lone surrogates
# (which JSON can carry but no UTF-8 store accepts).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_NEWLINES = re.compile("\r\n?|[\u2028\u2029\x85]")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# BCP 47 well-formedness (RFC 5646 §2.1) with an ISO 639 primary language (2 or 3 letters), without
# the 4-8 letter primary subtags nobody registers nor the irregular grandfathered tags.
_BCP47 = re.compile(
    r"""^(?:
        (?P<lang>[a-z]{2,3}(?:-[a-z]{3}){0,3})
        (?:-(?P<script>[a-z]{4}))?
        (?:-(?P<region>[a-z]{2}|[0-9]{3}))?
        (?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*
        (?:-[0-9a-wy-z](?:-[a-z0-9]{2,8})+)*
        (?:-x(?:-[a-z0-9]{1,8})+)?
      |x(?:-[a-z0-9]{1,8})+
    )$""",
    re.VERBOSE,
)


def normalize_text(value: str) -> str:
    """NFC, ``\n`` line breaks, no control characters but tab and newline, trimmed."""
    if not value.isascii():
        if not unicodedata.is_normalized("NFC", value):
            value = unicodedata.normalize("NFC", value)
        value = _NEWLINES.sub("\n", value)
    elif "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", value).strip()


def _clean(value: Any) -> Any:
    return normalize_text(value) if isinstance(value, str) else value


def _optional_clean(value: Any) -> Any:
    """Optional fields: an empty or blank string means "not given"."""
    if isinstance(value, str):
        value = normalize_text(value)
        return value or None
    return value


def _id_like(value: Any) -> Any:
    """Numeric ids are common in source systems: accept integers (not booleans) as their decimal text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _clean(value)


def _non_empty(value: str) -> str:
    if not value:
        raise ValueError("must not be empty (once whitespace and control characters are removed)")
    return value


def _printable(value: str) -> str:
    if not value.isprintable():
        bad = next(c for c in value if not c.isprintable())
        raise ValueError(f"must be printable text (found U+{ord(bad):04X})")
    return value


def _slug(value: str) -> str:
    if not SLUG_RE.match(value):
        raise ValueError("must be a slug: lower-case letters, digits and single hyphens, e.g. 'services-publics'")
    return value


def normalize_language_tag(value: str) -> str:
    """Check a BCP 47 tag is well formed and give it its canonical case (``fr-ca`` → ``fr-CA``)."""
    tag = value.strip().replace("_", "-")
    match = _BCP47.match(tag.lower())
    if not match:
        raise ValueError(f"{value!r} is not a BCP 47 language tag (e.g. 'fr', 'fr-CA', 'ar-MA')")
    parts = tag.lower().split("-")
    out = [parts[0]]
    in_extension = parts[0] == "x"
    for part in parts[1:]:
        if len(part) == 1:
            in_extension = True  # after a singleton (extension, private use) everything stays lower case
        if not in_extension and len(part) == 4 and part.isalpha():
            part = part.title()  # script
        elif not in_extension and len(part) == 2 and part.isalpha():
            part = part.upper()  # region
        out.append(part)
    return "-".join(out)


def _language(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return normalize_language_tag(value) if value else None
    return value


Slug = Annotated[str, StringConstraints(max_length=SLUG_MAX), AfterValidator(_slug)]


def _optional(inner: Any) -> Any:
    """An optional field whose blank value means "not given"; constraints apply to the inner type only."""
    return Annotated[inner | None, BeforeValidator(_optional_clean)]


class ContributionIn(BaseModel):
    """One contribution as received. ``external_id`` and ``body`` are required, the rest optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    external_id: Annotated[
        str,
        StringConstraints(max_length=EXTERNAL_ID_MAX),
        AfterValidator(_non_empty),
        AfterValidator(_printable),
        BeforeValidator(_id_like),
    ]
    consultation: _optional(Slug) = None
    axis: _optional(Slug) = None
    question: _optional(Annotated[str, StringConstraints(max_length=QUESTION_MAX), AfterValidator(_printable)]) = None
    kind: _optional(Kind) = None
    author_role: _optional(AuthorRole) = None
    channel: _optional(Channel) = None
    language: Annotated[str | None, BeforeValidator(_language)] = None
    title: _optional(Annotated[str, StringConstraints(max_length=TITLE_MAX)]) = None
    body: Annotated[
        str, StringConstraints(max_length=BODY_MAX), AfterValidator(_non_empty), BeforeValidator(_clean)
    ]
    submitted_at: AwareDatetime | None = None
    author_ref: _optional(Annotated[str, StringConstraints(max_length=AUTHOR_REF_MAX)]) = None


class ContributionBatch(BaseModel):
    """``{"contributions": [...]}``: between 1 and 1,000 contributions."""

    model_config = ConfigDict(extra="forbid")

    contributions: Annotated[list[ContributionIn], Field(min_length=1, max_length=BATCH_MAX)]
