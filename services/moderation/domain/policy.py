"""The decision policy: from a contribution's flags to an outcome, per territory."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from shared.vocabulary import ModerationMode, Outcome

from .charter import Action, Charter, load_charter
from .flags import Flag


class TerritoryPolicy(BaseModel):
    """How a territory wants its contributions moderated.

    `auto_reject_grounds`: further grounds for which the territory lets the machine reject a contribution
    on its own, at `reject_threshold` confidence or more (only grounds the charter marks eligible); hate
    and threats are always among them, since a territory cannot publish them even for a while. Flags of
    a holding ground below `hold_threshold` only inform moderators (suspect words, mild patterns); weak
    evidence between the two thresholds is held. Strict mode holds every contribution.
    """

    mode: ModerationMode = ModerationMode.AUTOMATIC
    auto_reject_grounds: frozenset[str] = frozenset()
    hold_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    reject_threshold: float = Field(default=0.9, ge=0.0, le=1.0)


# Grounds whose sure cases are rejected in automatic mode whatever the territory lists.
ALWAYS_REJECTED_WHEN_SURE = frozenset({"hate", "threat"})


class Decision(BaseModel):
    outcome: Outcome
    suggested_outcome: Outcome  # what the automatic policy decides; in strict mode it guides the moderator
    grounds: list[str]  # the grounds the outcome rests on, in charter order
    flagged_grounds: list[str]  # every ground some check flagged, decisive or not
    automated_detection: bool
    automated_decision: bool


def _in_charter_order(grounds: set[str], charter: Charter) -> list[str]:
    order = {ground_id: i for i, ground_id in enumerate(charter.ground_ids())}
    return sorted(grounds, key=lambda g: order.get(g, len(order)))


def decide(flags: Sequence[Flag], policy: TerritoryPolicy | None = None, charter: Charter | None = None) -> Decision:
    policy = policy or TerritoryPolicy()
    charter = charter or load_charter()
    actions = {ground.id: ground for ground in charter.grounds}
    holding = [
        f for f in flags
        if actions[f.ground].default_action == Action.HOLD and f.score >= policy.hold_threshold
    ]
    redacting = [f for f in flags if actions[f.ground].default_action == Action.REDACT]
    if holding:
        rejecting = [
            f for f in holding
            if actions[f.ground].auto_reject_eligible
            and (f.ground in policy.auto_reject_grounds or f.ground in ALWAYS_REJECTED_WHEN_SURE)
            and f.score >= policy.reject_threshold
        ]
        suggested = Outcome.REJECTED if rejecting else Outcome.HELD
        grounds = {f.ground for f in (rejecting or holding)}
    elif redacting:
        suggested = Outcome.PUBLISHED_REDACTED
        grounds = {f.ground for f in redacting}
    else:
        suggested = Outcome.PUBLISHED
        grounds = set()
    outcome = Outcome.HELD if policy.mode == ModerationMode.STRICT else suggested
    return Decision(
        outcome=outcome,
        suggested_outcome=suggested,
        grounds=_in_charter_order(grounds, charter),
        flagged_grounds=_in_charter_order({f.ground for f in flags}, charter),
        automated_detection=bool(flags),
        automated_decision=True,
    )
