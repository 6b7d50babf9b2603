"""What partners may receive, built from the bus events: public data only, and small.

- A published contribution goes out as it was published (the redacted text where it had to be), never
  the submitted text nor any author data.
- A moderation decision (`decision.taken`) goes out only to a territory's own system: the outcome and the
  statement of reasons, never the text.
- Held and rejected contributions produce nothing else: no feed item, no `contribution.*` delivery.
- A published contribution published again under a later decision (a redaction) goes out as
  `contribution.updated`, with the new text only; one that stops being public (rejected on appeal, erased)
  goes out as `contribution.withdrawn`: ids and time, no text, so that partners delete their copy.
- Every payload stays under a size limit: a long text is cut, `data.text_truncated` says so, and the
  CloudEvents `dataref` attribute points at the full public resource.
"""

from dataclasses import dataclass
from typing import Any

import orjson

from shared.events import (
    CloudEvent,
    ConsultationClosed,
    ConsultationOpened,
    ContributionHeld,
    ContributionPublished,
    ContributionRejected,
    ContributionWithdrawn,
    SynthesisUpdated,
    deterministic_event_id,
)

CONTRIBUTION_PUBLISHED = "contribution.published"
CONTRIBUTION_UPDATED = "contribution.updated"
CONTRIBUTION_WITHDRAWN = "contribution.withdrawn"
TEXT_TYPES = (CONTRIBUTION_PUBLISHED, CONTRIBUTION_UPDATED)
"""Public events that carry a contribution's text: deleted when it is withdrawn or published anew."""
DECISION_TAKEN = "decision.taken"
SYNTHESIS_UPDATED = "synthesis.updated"
CONSULTATION_OPENED = "consultation.opened"
CONSULTATION_CLOSED = "consultation.closed"
PARTNER_EVENT_TYPES = {CONTRIBUTION_PUBLISHED, CONTRIBUTION_UPDATED, CONTRIBUTION_WITHDRAWN, DECISION_TAKEN, SYNTHESIS_UPDATED, CONSULTATION_OPENED,
                       CONSULTATION_CLOSED}
TERRITORY_ONLY_TYPES = {DECISION_TAKEN}
"""Event types only a partner bound to the territory may receive (its own system)."""

TRUNCATION_MARK = "…"


@dataclass(frozen=True)
class PublicEvent:
    """One event as partners see it, with what subscriptions filter on."""

    event_id: str
    event_type: str
    territory: str | None
    country: str | None
    axis: str | None  # '' for a contribution with no axis; None for events that have none at all
    payload: bytes
    occurred_at: Any
    contribution_id: str | None = None


@dataclass(frozen=True)
class Links:
    """Where the full public resources live (base URLs of notifications and synthesis)."""

    notifications: str
    synthesis: str

    def item(self, contribution_id: str) -> str:
        return f"{self.notifications}/v1/items/{contribution_id}"

    def synthesis_document(self, scope: str, key: str) -> str:
        if scope == "network":
            return f"{self.synthesis}/v1/syntheses/network"
        if scope == "country":
            return f"{self.synthesis}/v1/syntheses/countries/{key}"
        if scope == "consultation":
            return f"{self.synthesis}/v1/syntheses/consultations/{key}"
        if scope == "framework":
            return f"{self.synthesis}/v1/syntheses/frameworks/{key}"
        return f"{self.synthesis}/v1/syntheses/territories/{key}"


def _envelope(event: CloudEvent[Any], *, event_id: str, event_type: str, data: dict[str, Any],
              dataref: str | None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "specversion": "1.0", "id": event_id, "source": event.source, "type": event_type,
        "subject": event.subject, "time": event.time.isoformat(), "datacontenttype": "application/json",
    }
    if dataref:
        document["dataref"] = dataref
    document["data"] = data
    return document


def _dumps(document: dict[str, Any]) -> bytes:
    return orjson.dumps(document, default=str)


def fit_payload(document: dict[str, Any], max_bytes: int, text_fields: tuple[str, ...] = ("text",)) -> bytes:
    """The JSON body, under `max_bytes`: the longest text fields of `data` are cut until it fits."""
    body = _dumps(document)
    data = document["data"]
    while len(body) > max_bytes:
        candidates = [f for f in text_fields if isinstance(data.get(f), str) and data[f]]
        if not candidates:
            raise ValueError(f"payload of {len(body)} bytes cannot be brought under {max_bytes}")
        longest = max(candidates, key=lambda f: len(data[f].encode()))
        text = data[longest].removesuffix(TRUNCATION_MARK)
        overflow = len(body) - max_bytes
        keep = max(0, len(text.encode()) - overflow - len(TRUNCATION_MARK.encode()) - 16)
        data[longest] = text.encode()[:keep].decode(errors="ignore") + TRUNCATION_MARK
        data[f"{longest}_truncated"] = True
        body = _dumps(document)
    return body


def from_published(event: CloudEvent[ContributionPublished], links: Links, max_bytes: int, *,
                   update: bool = False) -> PublicEvent:
    """`contribution.published`, or with `update` `contribution.updated` (the same fields, the new text)."""
    data = event.data.model_dump(mode="json")
    if update:
        event_id, event_type = deterministic_event_id(CONTRIBUTION_UPDATED, event.data.decision.id), CONTRIBUTION_UPDATED
    else:
        event_id, event_type = event.id, CONTRIBUTION_PUBLISHED
    document = _envelope(event, event_id=event_id, event_type=f"palabre.{event_type}.v1", data=data,
                         dataref=links.item(event.data.contribution_id))
    return PublicEvent(event_id, event_type, event.data.territory, event.data.country.upper(),
                       event.data.axis or "", fit_payload(document, max_bytes, ("text", "title")),
                       event.data.published_at, event.data.contribution_id)


def withdrawn(event: CloudEvent[ContributionRejected | ContributionHeld | ContributionWithdrawn]) -> PublicEvent:
    """`contribution.withdrawn`: the contribution is no longer public; ids, time and reason, no text."""
    data = event.data
    if isinstance(data, ContributionWithdrawn):
        decision_id, withdrawn_at, reason = data.decision_id, data.withdrawn_at, data.reason
    else:
        decision_id, withdrawn_at, reason = data.decision.id, data.decision.decided_at, data.decision.outcome.value
    event_id = deterministic_event_id(CONTRIBUTION_WITHDRAWN, decision_id)
    document = _envelope(event, event_id=event_id, event_type=ContributionWithdrawn.event_type, data={
        "contribution_id": data.contribution_id, "external_id": data.external_id,
        "territory": data.territory, "country": data.country, "decision_id": decision_id,
        "withdrawn_at": withdrawn_at.isoformat(), "reason": reason,
    }, dataref=None)
    return PublicEvent(event_id, CONTRIBUTION_WITHDRAWN, data.territory, data.country.upper(), None,
                       _dumps(document), withdrawn_at, data.contribution_id)


def decision_taken(event: CloudEvent[ContributionPublished | ContributionRejected | ContributionHeld],
                   max_bytes: int) -> PublicEvent:
    """The decision on a contribution, for the territory's own system: outcome and reasons, no text."""
    decision = event.data.decision
    data = {
        "contribution_id": event.data.contribution_id, "external_id": event.data.external_id,
        "territory": event.data.territory, "country": event.data.country, "consultation": event.data.consultation,
        "decision_id": decision.id, "outcome": decision.outcome.value, "grounds": decision.grounds,
        "automated_decision": decision.automated_decision, "decided_at": decision.decided_at.isoformat(),
        "statement": decision.statement.model_dump(mode="json"),
    }
    event_id = deterministic_event_id("decision.taken", decision.id)
    document = _envelope(event, event_id=event_id, event_type="palabre.decision.taken.v1", data=data, dataref=None)
    return PublicEvent(event_id, DECISION_TAKEN, event.data.territory, event.data.country.upper(), None,
                       fit_payload(document, max_bytes, ("facts_and_circumstances",)), decision.decided_at,
                       event.data.contribution_id)


def from_synthesis(event: CloudEvent[SynthesisUpdated], links: Links, max_bytes: int) -> PublicEvent:
    data = event.data
    territory = data.key if data.scope == "territory" else data.territory
    country = (data.country or (data.key if data.scope == "country" else None) or "").upper() or None
    document = _envelope(event, event_id=event.id, event_type=event.type, data=data.model_dump(mode="json"),
                         dataref=links.synthesis_document(data.scope, data.key))
    return PublicEvent(event.id, SYNTHESIS_UPDATED, territory, country, None, fit_payload(document, max_bytes),
                       data.computed_at)


def from_consultation(event: CloudEvent[ConsultationOpened | ConsultationClosed], max_bytes: int) -> PublicEvent:
    data = event.data.model_dump(mode="json")
    if "framework" in data:  # the axes are what a partner needs; descriptions and seed terms stay home
        framework = data["framework"]
        data["framework"] = {"id": framework.get("id"), "version": framework.get("version"),
                             "axes": [{"id": a.get("id"), "label": a.get("label")} for a in framework.get("axes", [])]}
    short = CONSULTATION_OPENED if isinstance(event.data, ConsultationOpened) else CONSULTATION_CLOSED
    occurred = getattr(event.data, "closed_at", None) or event.time
    document = _envelope(event, event_id=event.id, event_type=event.type, data=data, dataref=None)
    return PublicEvent(event.id, short, event.data.territory, event.data.country.upper(), None,
                       fit_payload(document, max_bytes, ("title",)), occurred)
