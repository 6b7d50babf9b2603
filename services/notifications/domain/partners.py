"""What a partner asks of notifications: its registration, its subscriptions with their filters and limits,
and replays, validated at the boundary."""

import re
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from services.notifications.domain.public_events import PARTNER_EVENT_TYPES

EVENT_TYPES = PARTNER_EVENT_TYPES
SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"


def iso_countries(countries: list[str]) -> list[str]:
    for country in countries:
        if not re.fullmatch(r"[A-Za-z]{2}", country):
            raise ValueError(f"{country!r} is not an ISO 3166-1 alpha-2 code")
    return [country.upper() for country in countries]


class DigestFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    territories: list[Annotated[str, Field(pattern=SLUG)]] = Field(default_factory=list, max_length=500)
    countries: list[str] = Field(default_factory=list, max_length=250)
    axes: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=100)

    @field_validator("countries")
    @classmethod
    def _countries(cls, countries: list[str]) -> list[str]:
        return iso_countries(countries)


class PartnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    territory: str | None = Field(default=None, pattern=SLUG,
                                  description="The territory whose own system this partner is: it may then "
                                              "subscribe to `decision.taken` for that territory")
    digest: Literal["none", "daily", "weekly"] = "none"
    digest_filters: DigestFilters = Field(default_factory=DigestFilters)

    @model_validator(mode="after")
    def _digest_needs_email(self) -> "PartnerIn":
        if self.digest != "none" and not self.email:
            raise ValueError("an e-mail digest needs an `email`")
        return self


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    territories: list[Annotated[str, Field(pattern=SLUG)]] = Field(default_factory=list, max_length=500)
    countries: list[str] = Field(default_factory=list, max_length=250)
    axes: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=100)
    event_types: list[str] = Field(default_factory=list, max_length=10)

    @field_validator("countries")
    @classmethod
    def _countries(cls, countries: list[str]) -> list[str]:
        return iso_countries(countries)

    @field_validator("event_types")
    @classmethod
    def _types(cls, event_types: list[str]) -> list[str]:
        unknown = set(event_types) - EVENT_TYPES
        if unknown:
            raise ValueError(f"unknown event types {sorted(unknown)}; known: {sorted(EVENT_TYPES)}")
        return list(dict.fromkeys(event_types))


class LimitsIn(BaseModel):
    """What a subscription asks of Palabre's sender; unset, the service's defaults apply. The service's
    maxima (`PALABRE_WEBHOOK_MAX_CONCURRENCY`, `PALABRE_WEBHOOK_MAX_RATE_PER_S`) bound what may be asked."""

    model_config = ConfigDict(extra="forbid")
    max_in_flight: int | None = Field(default=None, ge=1, description="Requests in flight at once")
    max_rate_per_s: float | None = Field(default=None, gt=0, description="Requests per second")


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=8, max_length=2000)
    filters: Filters = Field(default_factory=Filters)
    limits: LimitsIn = Field(default_factory=LimitsIn)


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: AwareDatetime = Field(alias="from")
    end: AwareDatetime = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> "ReplayIn":
        if self.end <= self.start:
            raise ValueError("`to` must come after `from`")
        return self
