"""Synthesis's use cases: take published contributions in (classified at once), withdraw rejected ones."""

from collections.abc import Sequence
from typing import Any

from services.synthesis import store
from shared.events import ContributionPublished


class NotKnownYet(RuntimeError):
    """A contribution arrived before its consultation's framework: retried shortly."""


async def add_published(conn, contributions: Sequence[ContributionPublished]) -> None:
    if not contributions:
        return
    frameworks = await store.frameworks(conn, sorted({c.consultation for c in contributions}))
    missing = sorted({c.consultation for c in contributions} - set(frameworks))
    if missing:
        raise NotKnownYet(f"frameworks not received yet for {missing}")
    assignments = assign_axes(contributions, frameworks)
    rows = []
    for contribution, (axis, source, confidence) in zip(contributions, assignments, strict=True):
        rows.append((
            contribution.contribution_id, contribution.territory, contribution.country, contribution.consultation,
            _value(contribution.kind), _value(contribution.author_role), _value(contribution.channel),
            contribution.language, contribution.title, contribution.text, contribution.submitted_at,
            contribution.published_at, contribution.axis, axis, source, confidence,
        ))
    inserted = await store.insert_published(conn, rows)
    await store.add_counts(conn, inserted)


def assign_axes(contributions: Sequence[ContributionPublished], frameworks: dict[str, Any]) -> list[tuple]:
    """(axis, where it came from, confidence) for each contribution: the source's axis when it gave one."""
    return [
        (c.axis, "source", 1.0) if c.axis else (None, "none", None)
        for c in contributions
    ]


async def withdraw(conn, contribution_ids: Sequence[str]) -> None:
    removed = await store.remove_published(conn, contribution_ids)
    await store.add_counts(conn, removed, sign=-1)


def _value(enum_value: Any) -> str | None:
    return None if enum_value is None else str(getattr(enum_value, "value", enum_value))
