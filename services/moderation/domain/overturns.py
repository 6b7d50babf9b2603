"""What people overturn of the automatic decisions, per charter ground, and the overturned cases as
candidate labelled cases.

Two ways: an automatic publication a person later rejects (counted on the person's grounds), and an
automatic hold or rejection on a holding ground a person later publishes (counted on the automatic
grounds). A strict territory's hold with no holding ground is the routine of pre-moderation, not a
judgement a person can overturn. The person's word is their latest decision.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from pydantic import BaseModel

from shared.vocabulary import Outcome

from .charter import Action, Charter, load_charter
from .pipeline import ModerationInput, check_batch

PUBLISHED = (Outcome.PUBLISHED.value, Outcome.PUBLISHED_REDACTED.value)
HELD_OR_REJECTED = (Outcome.HELD.value, Outcome.REJECTED.value)


def holding_grounds(charter: Charter | None = None) -> list[str]:
    """The grounds on which the machine holds (or rejects) a contribution, in charter order."""
    return [g.id for g in (charter or load_charter()).grounds if g.default_action == Action.HOLD]


class GroundOverturns(BaseModel):
    ground: str
    held_or_rejected: int  # automatic holds and rejections on this ground
    published_by_a_person: int  # of those, published by a person afterwards
    published_automatically: int  # automatic publications of the period, whatever their ground
    rejected_after_publication: int  # of those, rejected by a person on this ground afterwards

    @property
    def hold_overturned_rate(self) -> float | None:
        return self.published_by_a_person / self.held_or_rejected if self.held_or_rejected else None

    @property
    def publication_overturned_rate(self) -> float | None:
        if not self.published_automatically:
            return None
        return self.rejected_after_publication / self.published_automatically


def overturns_by_ground(published_automatically: int, held: Mapping[str, tuple[int, int]],
                        rejected_after_publication: Mapping[str, int],
                        charter: Charter | None = None) -> list[GroundOverturns]:
    """One row per ground with an automatic hold or a person's rejection, in charter order.
    `held`: ground → (automatic holds and rejections, of those published by a person)."""
    order = {ground_id: i for i, ground_id in enumerate((charter or load_charter()).ground_ids())}
    grounds = sorted(set(held) | set(rejected_after_publication), key=lambda g: (order.get(g, len(order)), g))
    return [
        GroundOverturns(ground=ground, held_or_rejected=held.get(ground, (0, 0))[0],
                        published_by_a_person=held.get(ground, (0, 0))[1],
                        published_automatically=published_automatically,
                        rejected_after_publication=rejected_after_publication.get(ground, 0))
        for ground in grounds
    ]


class Overturned(BaseModel):
    """An automatic decision a person overturned, with the contribution's text as submitted."""

    contribution_id: str
    title: str | None
    body: str
    language: str
    automatic_outcome: str
    automatic_grounds: list[str]
    person_outcome: str
    person_grounds: list[str]


def case_id(contribution_id: str) -> str:
    """A stable id that does not carry the contribution's own."""
    return "overturned-" + hashlib.sha256(contribution_id.encode()).hexdigest()[:12]


def candidate_cases(overturned: Sequence[Overturned]) -> list[dict]:
    """Labelled cases in the shape of `data/eval/cases.jsonl`, labelled by the person's decision, with the
    texts as the checks redact them (so `personal_data` is empty: what was there is now a placeholder),
    and both outcomes. Nothing that points to the author."""
    inputs = [ModerationInput(contribution_id=case.contribution_id, territory="disagreements", title=case.title,
                              body=case.body, language=case.language) for case in overturned]
    results, _ = check_batch(inputs, {}, {}) if inputs else ([], {})
    return [
        {
            "id": case_id(case.contribution_id),
            "title": result.redacted_title,
            "body": result.redacted_body,
            "language": case.language,
            "personal_data": [],
            "violation": case.person_outcome == Outcome.REJECTED.value,
            "grounds": case.person_grounds if case.person_outcome == Outcome.REJECTED.value else [],
            "note": f"candidate: {case.automatic_outcome} automatically"
                    f"{' (' + ', '.join(case.automatic_grounds) + ')' if case.automatic_grounds else ''}, "
                    f"{case.person_outcome} by a person",
            "automatic_outcome": case.automatic_outcome,
            "automatic_grounds": case.automatic_grounds,
            "person_outcome": case.person_outcome,
            "person_grounds": case.person_grounds,
        }
        for case, result in zip(overturned, results, strict=True)
    ]
