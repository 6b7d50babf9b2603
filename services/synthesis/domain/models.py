"""The synthesis's input rows and its public document (DESIGN §5: `version`, `contributions_count`, `axes`,
`proposals`, `distinctive`, `convergences`, plus `counts`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from shared.vocabulary import AuthorRole, Channel, Kind

UNCLASSIFIED = "non-classe"
UNCLASSIFIED_LABEL = "Non classé"


class AxisSource(StrEnum):
    """Where a contribution's axis came from."""

    SOURCE = "source"
    CLASSIFIER = "classifier"
    PERSON = "person"


@dataclass(frozen=True, slots=True)
class PublishedContribution:
    """One published contribution as the synthesis sees it; `text` is the published (possibly redacted) text.

    A slotted dataclass rather than a pydantic model: a full recompute holds a million of them.
    """

    id: str
    territory: str
    country: str
    kind: Kind
    text: str
    axis: str | None = None
    axis_source: AxisSource | None = None
    author_role: AuthorRole = AuthorRole.AUTRE
    channel: Channel = Channel.AUTRE
    submitted_at: datetime | None = None
    question: str | None = None
    consultation: str | None = None
    framework: str | None = None  # the id of its consultation's framework


class Scope(BaseModel):
    """network, country, territory; or a consultation, or a framework across the territories that use it."""

    level: Literal["network", "country", "territory", "consultation", "framework"] = "network"
    id: str | None = None

    def contains(self, contribution: PublishedContribution) -> bool:
        if self.level == "network":
            return True
        if self.level == "country":
            return contribution.country == self.id
        if self.level == "consultation":
            return contribution.consultation == self.id
        if self.level == "framework":
            return contribution.framework == self.id
        return contribution.territory == self.id


class Quote(BaseModel):
    contribution_id: str
    text: str


class Subtheme(BaseModel):
    label: str
    keywords: list[str]
    count: int
    quotes: list[Quote]
    territories_count: int = 0
    countries_count: int = 0


class AxisSummary(BaseModel):
    id: str
    label: str
    count: int
    subthemes: list[Subtheme] = Field(default_factory=list)


class ProposalCluster(BaseModel):
    """Proposals that say the same thing, across territories; the manifesto draft is the ranked list."""

    id: str
    label: str = Field(description="the representative proposal's own words, trimmed at a word boundary")
    keywords: list[str] = Field(description="as written by the contributors, not lemmas")
    representative: Quote
    quotes: list[Quote] = Field(default_factory=list, description="other variants, from other territories first")
    contributions_count: int
    support_weighted: float = Field(0.0, description="support once repetition is discounted: the same thing said "
                                                     "N times in one territory weighs 1")
    coherence: float = Field(0.0, description="mean cosine of the cluster's proposals to its centre")
    separation: float = Field(0.0, description="coherence minus the mean cosine to the nearest other centre")
    territories_count: int
    countries_count: int
    variants_count: int = Field(description="distinct proposals once near-duplicates are merged")
    territories: list[str]
    countries: list[str]
    axes: dict[str, int] = Field(default_factory=dict)
    contribution_ids: list[str]


class Strength(BaseModel):
    """An axis or term over-represented in a territory: weighted log-odds and its z-score (the strength)."""

    term: str
    count: int
    log_odds: float
    z: float


class SaidMore(BaseModel):
    """Something a territory says more than the network, in its own contributors' words."""

    term: str
    z: float
    count: int = Field(description="the territory's contributions that say it")
    quote: Quote


class TerritoryDistinctive(BaseModel):
    territory: str
    country: str
    contributions_count: int
    axes: list[Strength]
    terms: list[Strength]
    said_more: list[SaidMore] = Field(default_factory=list, description="up to five, strongest first, each quoted")


class Convergence(BaseModel):
    kind: Literal["subtheme", "proposal", "term"]
    label: str
    quote: Quote | None = None
    axis: str | None = None
    keywords: list[str] = Field(default_factory=list)
    contributions_count: int
    territories_count: int
    countries_count: int
    territories: list[str]
    countries: list[str]


class CountRow(BaseModel):
    axis: str
    kind: str
    author_role: str
    channel: str
    count: int


class Counts(BaseModel):
    total: int
    by_axis: dict[str, int]
    by_kind: dict[str, int]
    by_author_role: dict[str, int]
    by_channel: dict[str, int]
    by_axis_kind: dict[str, dict[str, int]]
    rows: list[CountRow]


class FrameworkRef(BaseModel):
    id: str
    version: str


class SectionFramework(BaseModel):
    id: str
    version: str
    title: str | None = None


class SectionAxis(BaseModel):
    id: str
    label: str
    count: int


class FrameworkSection(BaseModel):
    """The live counts of a scope's contributions on one framework: its own axes, then "non classé"."""

    framework: SectionFramework
    contributions_count: int
    unclassified_count: int
    axes: list[SectionAxis]


class Synthesis(BaseModel):
    version: str = Field(description="digest of the input, the framework and the method: same input, same version")
    scope: Scope
    framework: FrameworkRef
    contributions_count: int
    unclassified_count: int
    axes: list[AxisSummary]
    proposals: list[ProposalCluster]
    distinctive: list[TerritoryDistinctive]
    convergences: list[Convergence]
    counts: Counts


@dataclass(slots=True)
class Placement:
    """Where one contribution landed: its axis (and where that came from) and its sub-theme. A slotted
    dataclass: a recompute holds one per contribution."""

    contribution_id: str
    axis: str | None
    axis_source: AxisSource | None
    confidence: float | None = None
    subtheme: str | None = None
