"""The event contract: CloudEvents 1.0 envelopes around versioned pydantic payloads.

Every event that crosses the bus is declared here, once: its name and version give its type
(`palabre.<noun>.<verb>.v<version>`), the subjects it is published on and the stream that keeps them.
Consumers, streams, the AsyncAPI documents and the deployment's autoscaling triggers are derived from these
declarations; no other module spells a subject. Subjects carry country and territory so that a partner or a
NATS permission can select by wildcard: `palabre.contribution.published.<country>.<territory>`.
"""

import functools
import operator
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Literal, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field

from shared.contribution import ContributionIn
from shared.frameworks import Framework
from shared.vocabulary import AuthorRole, Channel, Kind, ModerationMode, Outcome

EVENT_NAMESPACE = uuid.UUID("5b8f0c62-3c39-4d55-9a7e-7d2f1f0b9a10")


def contribution_id_for(territory: str, external_id: str) -> str:
    """Deterministic id: the same (territory, external_id) is always the same contribution."""
    return str(uuid.uuid5(EVENT_NAMESPACE, f"contribution/{territory}/{external_id}"))


def deterministic_event_id(*parts: str) -> str:
    """An event id derived from what the event is about, so a re-publication is de-duplicated."""
    return str(uuid.uuid5(EVENT_NAMESPACE, "/".join(parts)))


def utcnow() -> datetime:
    return datetime.now(UTC)


SUBJECT_ROOT = "palabre"
EVENTS_STREAM_NAME = "PALABRE_EVENTS"
INTAKE_STREAM_NAME = "PALABRE_INTAKE"
DEAD_LETTER_STREAM_NAME = "PALABRE_DLQ"
DEAD_LETTER_PREFIX = f"{SUBJECT_ROOT}.dlq"


def dead_letter_subject(durable: str) -> str:
    """Where the events a consumer could not process are kept, with their reason."""
    return f"{DEAD_LETTER_PREFIX}.{durable}"


class EventData(BaseModel):
    """Base of every event payload. A subclass declares itself once, in its class line:
    `class ContributionPublished(ContributionFields, name="contribution.published", version=1)`.
    From that come its CloudEvent type, its subject prefix (`palabre.<name>`, unless `subject` says
    otherwise), the filter a consumer of it uses and the stream that keeps it."""

    model_config = ConfigDict(extra="ignore")
    event_type: ClassVar[str]
    subject_prefix: ClassVar[str]
    subject_filter: ClassVar[str]
    stream: ClassVar[str]

    def __init_subclass__(cls, *, name: str | None = None, version: int = 1, subject: str | None = None,
                          filter_tail: str = ">", stream: str = EVENTS_STREAM_NAME, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if name is not None:
            cls.event_type = f"{SUBJECT_ROOT}.{name}.v{version}"
            cls.subject_prefix = f"{SUBJECT_ROOT}.{subject or name}"
            cls.subject_filter = f"{cls.subject_prefix}.{filter_tail}"
            cls.stream = stream

    def bus_subject(self) -> str:
        return self.subject_prefix

    def ce_subject(self) -> str | None:
        return None


class TerritoryScoped(EventData):
    territory: str
    country: str

    def bus_subject(self) -> str:
        return f"{self.subject_prefix}.{self.country.lower()}.{self.territory}"


# --- registry ------------------------------------------------------------------------------------


class GroundReference(BaseModel):
    id: str
    label: str
    explanation: str


class Redress(BaseModel):
    method: str = "appeal"
    endpoint: str
    description: str


class StatementOfReasons(BaseModel):
    """EU DSA Art. 17 statement of reasons, as read by the author's system and by moderators."""

    language: str
    contribution_id: str
    charter_version: str
    outcome: Outcome
    measure: str
    facts_and_circumstances: str
    grounds: list[GroundReference]
    automated_detection: bool
    automated_decision: bool
    automated_means: str
    redress: Redress


class RedactedSpan(BaseModel):
    """A stretch of the original text masked in the published one (offsets in the original)."""

    field: Literal["title", "body"] = "body"
    start: int
    end: int
    kind: str
    placeholder: str


class Decision(BaseModel):
    id: str
    outcome: Outcome
    grounds: list[str] = Field(default_factory=list)
    facts: str = ""
    automated_detection: bool = True
    automated_decision: bool = True
    decided_by: str = "palabre-moderation"
    decided_at: datetime
    redacted_spans: list[RedactedSpan] = Field(default_factory=list)
    statement: StatementOfReasons


class TerritoryRegistered(TerritoryScoped, name="territory.registered", version=1):
    name: str
    kind: str
    languages: list[str] = Field(default_factory=lambda: ["fr"])
    timezone: str = "Europe/Paris"
    charter_version: str | None = None
    charter_accepted_at: datetime | None = None
    moderation_mode: ModerationMode = ModerationMode.AUTOMATIC
    auto_reject_grounds: list[str] = Field(default_factory=list)
    licence: str = "Licence Ouverte 2.0"


class ConsultationOpened(TerritoryScoped, name="consultation.opened", version=1):
    consultation: str
    title: str
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    framework: Framework
    local_questions: list[str] = Field(default_factory=list)


class ConsultationClosed(TerritoryScoped, name="consultation.closed", version=1):
    consultation: str
    closed_at: datetime


# --- contributions -------------------------------------------------------------------------------


class ContributionFields(TerritoryScoped):
    contribution_id: str
    external_id: str
    consultation: str
    axis: str | None = None
    question: str | None = Field(default=None, max_length=1000,
                                 description="the question or debate the contribution answers, where the source gives one")
    kind: Kind | None = None
    author_role: AuthorRole | None = None
    channel: Channel | None = None
    language: str = "fr"
    submitted_at: datetime

    def ce_subject(self) -> str | None:
        return self.contribution_id


class ContributionSubmitted(ContributionFields, name="contribution.submitted", version=1):
    """Taken in by intake, not yet moderated. Carries the raw text: never public."""

    title: str | None = None
    body: str
    author_ref: str | None = None


class ContributionPublished(ContributionFields, name="contribution.published", version=1):
    """Public from now on: carries only the published (possibly redacted) text."""

    title: str | None = None
    text: str
    published_at: datetime
    decision: Decision


class ContributionRejected(ContributionFields, name="contribution.rejected", version=1):
    decision: Decision


class ContributionHeld(ContributionFields, name="contribution.held", version=1):
    decision: Decision


class ContributionAppealed(ContributionFields, name="contribution.appealed", version=1):
    appeal_id: str
    reason: str
    appealed_at: datetime


class ContributionWithdrawn(TerritoryScoped, name="contribution.withdrawn", version=1):
    """No longer public, and its text to be deleted wherever it was kept: ids and time, never any text.

    Intake emits it when the network admin erases a contribution (GDPR Art. 17, `reason="erased"`), and an
    erasure is final. Notifications sends it to partners as `contribution.withdrawn`, also when a published
    contribution is later rejected or held (`reason` = that outcome)."""

    contribution_id: str
    external_id: str
    decision_id: str = Field(description="the decision (or erasure) that withdrew the contribution")
    withdrawn_at: datetime
    reason: Literal["erased", "rejected", "held"] = "erased"

    def ce_subject(self) -> str | None:
        return self.contribution_id


class AxisCorrected(TerritoryScoped, name="contribution.axis-corrected", version=1):
    """A person corrected the axis that synthesis assigned."""

    contribution_id: str
    axis: str
    corrected_by: str
    corrected_at: datetime


class ContributionProposed(EventData, ContributionIn, name="contribution.proposed", version=1, subject="intake",
                           filter_tail="*", stream=INTAKE_STREAM_NAME):
    """Published by a territory system on `palabre.intake.<territory>`: one contribution, as
    `POST /v1/contributions` takes it. The territory is the one of the subject, which NATS permissions tie
    to the publisher's credentials."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def subject_for(cls, territory: str) -> str:
        return f"{cls.subject_prefix}.{territory}"

    @classmethod
    def territory_of(cls, subject: str) -> str | None:
        """The territory a subject names; None for a subject that is not `palabre.intake.<territory>`."""
        prefix = cls.subject_prefix + "."
        rest = subject[len(prefix):] if subject.startswith(prefix) else ""
        return rest if rest and "." not in rest else None


class SynthesisUpdated(EventData, name="synthesis.updated", version=1):
    """A scope's synthesis has a new version. Subjects: `palabre.synthesis.updated.network`, `….<cc>`,
    `….<cc>.<territory>`, `….<cc>.<territory>.<consultation>` (a consultation, under its territory) and
    `….framework.<framework>` (a framework across the territories that use it)."""

    scope: Literal["network", "country", "territory", "consultation", "framework"]
    key: str = Field(description="'network', a country code, a territory slug, a consultation id or a framework id")
    country: str | None = Field(default=None, description="the country of a territory's or a consultation's scope")
    territory: str | None = Field(default=None, description="the territory holding a consultation's scope")
    framework: str | None = Field(default=None, description="the framework of a consultation's or a framework's "
                                                            "scope (the one whose axes its synthesis counts)")
    version: int
    contributions_count: int
    computed_at: datetime
    axes_moved: int = Field(default=0, description="contributions this recompute moved to another axis "
                                                   "(network-wide; each move is in the contribution's axis history)")

    def bus_subject(self) -> str:
        if self.scope == "network":
            return f"{self.subject_prefix}.network"
        if self.scope == "country":
            return f"{self.subject_prefix}.{self.key.lower()}"
        if self.scope == "framework":
            return f"{self.subject_prefix}.framework.{self.key}"
        place = f"{self.subject_prefix}.{(self.country or 'xx').lower()}"
        if self.scope == "consultation":
            return f"{place}.{self.territory or 'unknown'}.{self.key}"
        return f"{place}.{self.key}"


class AxisPlacement(BaseModel):
    contribution_id: str
    consultation: str
    framework: str = Field(description="the id of the consultation's framework")
    axis: str | None = Field(description="an axis of that framework; null: on none of its axes (non classé)")
    axis_source: str = Field(description="'source', 'classifier' or 'person'")


class AxesPlaced(TerritoryScoped, name="synthesis.axes-placed", version=1):
    """Where synthesis placed published contributions of one territory: on arrival, when a recompute moved
    them, or when a person corrected them. Ids and axes, no text."""

    placements: list[AxisPlacement]
    placed_at: datetime


ALL_EVENTS: list[type[EventData]] = [
    TerritoryRegistered,
    ConsultationOpened,
    ConsultationClosed,
    ContributionSubmitted,
    ContributionPublished,
    ContributionRejected,
    ContributionHeld,
    ContributionAppealed,
    ContributionWithdrawn,
    AxisCorrected,
    SynthesisUpdated,
    AxesPlaced,
    ContributionProposed,
]
EVENT_TYPES: dict[str, type[EventData]] = {model.event_type: model for model in ALL_EVENTS}

D = TypeVar("D", bound=BaseModel)


class CloudEvent(BaseModel, Generic[D]):
    """CloudEvents 1.0, structured JSON mode."""

    model_config = ConfigDict(extra="allow")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=500)
    type: str = Field(min_length=1, max_length=200)
    subject: str | None = None
    time: datetime
    datacontenttype: str = "application/json"
    data: D


# Parametrised once: pydantic keeps `CloudEvent[X]` only weakly, so writing it per message rebuilt the
# class each time (a tenth of the intake's CPU under load).
_ENVELOPE_HEAD = CloudEvent[dict[str, Any]]
_ENVELOPES: dict[type, type[CloudEvent[Any]]] = {model: CloudEvent[model] for model in ALL_EVENTS}


def envelope_model(data_model: type[D]) -> type[CloudEvent[D]]:
    """`CloudEvent[data_model]`, built once per payload model."""
    model = _ENVELOPES.get(data_model)
    if model is None:
        model = _ENVELOPES[data_model] = CloudEvent[data_model]
    return model


def envelope(data: EventData, *, source: str, event_id: str | None = None) -> CloudEvent[Any]:
    """Wrap a payload in its CloudEvent, with a deterministic id when one is given."""
    return envelope_model(type(data))(
        id=event_id or str(uuid.uuid4()),
        source=source,
        type=data.event_type,
        subject=data.ce_subject(),
        time=utcnow(),
        data=data,
    )


class UnknownEventType(ValueError):
    pass


def stream_subjects(stream: str) -> list[str]:
    """The subjects a stream keeps: one wildcard per first word of its events' names."""
    return list(dict.fromkeys(f"{'.'.join(model.subject_prefix.split('.')[:2])}.>"
                              for model in ALL_EVENTS if model.stream == stream))


def consumer_filter(models: tuple[type[EventData], ...]) -> str:
    """The narrowest subject filter that takes every event of `models` (they share one stream)."""
    if len({model.stream for model in models}) != 1:
        raise ValueError(f"{[m.__name__ for m in models]} are not kept in one stream")
    if len(models) == 1:
        return models[0].subject_filter
    common: list[str] = []
    for words in zip(*(model.subject_prefix.split(".") for model in models), strict=False):
        if len(set(words)) > 1:
            break
        common.append(words[0])
    return ".".join([*common, ">"])


def payload_union(models: tuple[type[EventData], ...]) -> Any:
    return functools.reduce(operator.or_, models) if len(models) > 1 else models[0]


def parse_event(raw: bytes) -> CloudEvent[Any]:
    """Parse and validate an event from the bus; raises ValueError (pydantic or unknown type).

    The type is read with a plain JSON parse, then the event is validated once against its own model;
    only an event without a known type goes through the envelope's validation, for a precise error."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        document = None
    event_type = document.get("type") if isinstance(document, dict) else None
    model = EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
    if model is None:
        head = _ENVELOPE_HEAD.model_validate_json(raw)
        raise UnknownEventType(f"unknown event type {head.type!r}")
    return envelope_model(model).model_validate_json(raw)
