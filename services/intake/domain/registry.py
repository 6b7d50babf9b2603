"""What the network admin registers: territories and their consultations (validated input)."""

from datetime import datetime
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.frameworks import Framework
from shared.vocabulary import ModerationMode, TerritoryKind

SLUG = r"^[a-z0-9][a-z0-9-]{1,62}$"
LANGUAGE_TAG = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


class TerritoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=SLUG, description="Slug, e.g. nantes-metropole")
    name: str = Field(min_length=1, max_length=200)
    kind: TerritoryKind
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    languages: list[str] = Field(default_factory=lambda: ["fr"], min_length=1, max_length=10)
    timezone: str = "Europe/Paris"
    charter_version: str | None = Field(default=None, max_length=40)
    charter_accepted_at: datetime | None = None
    moderation_mode: ModerationMode = ModerationMode.AUTOMATIC
    auto_reject_grounds: list[str] = Field(default_factory=list, max_length=20)
    licence: str = Field(default="Licence Ouverte 2.0", max_length=200)

    @field_validator("languages")
    @classmethod
    def _tags(cls, languages: list[str]) -> list[str]:
        import re

        for tag in languages:
            if not re.match(LANGUAGE_TAG, tag):
                raise ValueError(f"{tag!r} is not a BCP 47 language tag")
        return languages

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, timezone: str) -> str:
        if timezone not in available_timezones():
            raise ValueError(f"{timezone!r} is not an IANA time zone")
        return timezone


class ConsultationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=SLUG)
    territory: str = Field(pattern=SLUG)
    title: str = Field(min_length=1, max_length=300)
    framework: Framework | str = Field(description="A framework object, or the id of a shipped framework")
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    local_questions: list[str] = Field(default_factory=list, max_length=50)


def default_consultation_id(territory: str) -> str:
    return f"{territory}-concertation-ia"
