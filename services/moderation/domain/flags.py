"""What a check reports: a flag on a span of the title or the body, with a ground and a score."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Field_ = Literal["title", "body"]


class Flag(BaseModel):
    """One finding of an automated check.

    `score` is the check's confidence that the span breaches `ground` (0..1). `term` names what matched
    (a lexicon word, a pattern, a kind of personal datum); it never holds the personal datum itself.
    """

    check: str
    ground: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    score: float = Field(ge=0.0, le=1.0)
    field: Field_ = "body"
    kind: str | None = None  # for personal data: email, phone, iban, nir, address, name
    term: str | None = None
    detail: str | None = None

    def in_field(self, field: Field_) -> Flag:
        return self if field == self.field else self.model_copy(update={"field": field})


def overlaps(a: Flag, b: Flag) -> bool:
    return a.start < b.end and b.start < a.end
