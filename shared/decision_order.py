"""Which decision on a contribution holds: the latest by its time, whatever order the events arrive in.

Decisions reach a service on separate durable consumers (published, rejected, held, withdrawn), so a
rejection may be handled before the publication it overturns. Each service keeps, per contribution, the
mark of the decision it applied last, and applies an incoming decision only when it comes later. Ties on
the time are broken by the decision id, so every order of arrival ends in the same state. An erasure is
final: nothing decided before or after it makes the contribution public again.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from shared.events import ContributionPublished, ContributionWithdrawn


@dataclass(frozen=True)
class DecisionMark:
    decision_id: str
    decided_at: datetime
    public: bool
    erased: bool = False

    def rank(self) -> tuple[bool, datetime, str]:
        return self.erased, self.decided_at, self.decision_id


def supersedes(incoming: DecisionMark, current: DecisionMark | None) -> bool:
    """Whether `incoming` replaces the decision applied so far (None: none applied yet)."""
    return current is None or incoming.rank() > current.rank()


def latest(marks: list[DecisionMark]) -> DecisionMark | None:
    """The decision that holds among these."""
    return max(marks, key=DecisionMark.rank, default=None)


def mark_of(data: Any) -> DecisionMark:
    """The mark of a decision event's payload: published, rejected, held (with a `decision`) or withdrawn."""
    if isinstance(data, ContributionWithdrawn):
        return DecisionMark(data.decision_id, data.withdrawn_at, public=False, erased=data.reason == "erased")
    decision = data.decision
    return DecisionMark(decision.id, decision.decided_at, public=isinstance(data, ContributionPublished))


class Change(Enum):
    """What a contribution's public life does when decisions are applied."""

    NONE = "none"  # public before and after with the same decision, or public neither before nor after
    PUBLISH = "publish"  # now public, and was not
    UPDATE = "update"  # public before and after, under a later decision (its text may have changed)
    WITHDRAW = "withdraw"  # was public, is no longer


def resolve(current: DecisionMark | None, incoming: Iterable[DecisionMark]) -> tuple[DecisionMark | None, Change]:
    """The decision that holds once `incoming` are applied over `current`, and what that changes.

    Intermediate states within one batch are skipped: published then rejected within it publishes nothing."""
    final = current
    for mark in incoming:
        if supersedes(mark, final):
            final = mark
    was_public = current is not None and current.public
    if final is current or final is None:
        return final, Change.NONE
    if final.public:
        return final, Change.UPDATE if was_public else Change.PUBLISH
    return final, Change.WITHDRAW if was_public else Change.NONE


@dataclass(frozen=True)
class Applied:
    """A contribution whose holding decision changed: the decision, the event that carried it, the change."""

    contribution_id: str
    mark: DecisionMark
    change: Change
    event: Any


def resolve_all(current: Mapping[str, DecisionMark], decided: Iterable[tuple[str, DecisionMark, Any]]) -> list[Applied]:
    """`resolve` for each contribution of (contribution id, mark, event), over the marks applied so far."""
    by_contribution: dict[str, dict[DecisionMark, Any]] = {}
    for contribution_id, mark, event in decided:
        by_contribution.setdefault(contribution_id, {})[mark] = event
    applied = []
    for contribution_id, events in by_contribution.items():
        before = current.get(contribution_id)
        final, change = resolve(before, events)
        if final is not None and final is not before:
            applied.append(Applied(contribution_id, final, change, events[final]))
    return applied
