"""Synthesis's use cases, one transaction each: take published contributions in (axis assigned at once),
withdraw rejected ones, apply the axis corrections moderation announces, store a
recompute."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from services.synthesis import store
from services.synthesis.classifiers import ClassifierCache
from services.synthesis.views import without_contributions
from shared.bus import Unprocessable
from shared.db import apply_in_order, insert_together
from shared.decision_order import Change
from shared.events import (
    AxesPlaced,
    AxisCorrected,
    AxisPlacement,
    CloudEvent,
    ContributionPublished,
    SynthesisUpdated,
    deterministic_event_id,
    utcnow,
)
from shared.frameworks import Framework
from shared.outbox import add_events, outbox_insert

SOURCE = "synthesis"


class NotKnownYet(RuntimeError):
    """An event arrived before what it needs (a consultation's framework, a counted contribution): retried
    shortly."""


async def add_published(conn, contributions: Sequence[ContributionPublished], classifiers: ClassifierCache) -> None:
    """Store and count newly published contributions, each with its axis: the source's when it gave one
    of the framework's axes, else the classifier's (None below its confidence threshold: "non classé")."""
    if not contributions:
        return
    frameworks, corrected = await store.placing_context(conn, sorted({c.consultation for c in contributions}),
                                                        [c.contribution_id for c in contributions])
    missing = sorted({c.consultation for c in contributions} - set(frameworks))
    if missing:
        raise NotKnownYet(f"frameworks not received yet for {missing}")
    assignments = await assign_axes(conn, contributions, frameworks, corrected, classifiers)
    rows = [
        store.PublishedRow(
            id=c.contribution_id, territory=c.territory, country=c.country, consultation=c.consultation,
            kind=_value(c.kind), author_role=_value(c.author_role), channel=_value(c.channel), language=c.language,
            title=c.title, text=c.text, submitted_at=c.submitted_at, published_at=c.published_at,
            source_axis=c.axis, axis=axis, axis_source=source, axis_confidence=confidence, question=c.question,
        )
        for c, (axis, source, confidence) in zip(contributions, assignments, strict=True)
    ]
    inserted_ids = await store.insert_published(conn, rows)
    inserted = [row for row in rows if row.id in inserted_ids]
    placements, _ = outbox_insert(conn, placement_events([
        (r.territory, r.country, AxisPlacement(contribution_id=r.id, consultation=r.consultation,
                                               framework=frameworks[r.consultation]["id"], axis=r.axis,
                                               axis_source=r.axis_source))
        for r in inserted]), source=SOURCE)
    # one statement: the counts and the placements announced (new outbox rows, which no other transaction
    # waits for: the counts keep the order of their locks)
    await insert_together(conn, placements, store.counts_insert(
        [(r.territory, r.country, r.axis, r.kind, r.author_role, r.channel) for r in inserted]))
    await store.request_recompute(conn, store.scopes_of(
        sorted({(c.territory, c.country) for c in contributions})))


async def assign_axes(conn, contributions: Sequence[ContributionPublished], frameworks: dict[str, Any],
                      corrected: dict[str, str],
                      classifiers: ClassifierCache) -> list[tuple[str | None, str, float | None]]:
    """(axis, where it came from, confidence) for each contribution, classifying per framework in batches.
    A person's correction (`corrected`) comes first: a contribution withdrawn on appeal, then published
    again, keeps it."""
    out: list[tuple[str | None, str, float | None]] = [(None, "classifier", None)] * len(contributions)
    to_classify: dict[str, list[int]] = {}
    for i, c in enumerate(contributions):
        axes = {axis["id"] for axis in frameworks[c.consultation]["axes"]}
        if corrected.get(c.contribution_id) in axes:
            out[i] = (corrected[c.contribution_id], "person", None)
        elif c.axis and c.axis in axes:
            out[i] = (c.axis, "source", 1.0)
        else:
            to_classify.setdefault(c.consultation, []).append(i)
    for consultation, indices in to_classify.items():
        framework = Framework.model_validate(frameworks[consultation])
        found = await classifiers.classify(conn, framework, [contributions[i].text for i in indices],
                                           [contributions[i].question for i in indices])
        for i, assignment in zip(indices, found, strict=True):
            out[i] = (assignment.axis, "classifier", assignment.confidence)
    return out


async def apply_decisions(conn, events: Sequence[CloudEvent[Any]], classifiers: ClassifierCache) -> int:
    """Apply new decision events by their time, whatever their order of arrival: a contribution is counted
    while its latest decision publishes it, with its latest text. Returns how many were counted anew."""
    applied = await apply_in_order(conn, list(events))
    published = [a.event.data for a in applied if a.change in (Change.PUBLISH, Change.UPDATE)]
    await add_published(conn, published, classifiers)
    await withdraw(conn, [a.contribution_id for a in applied if a.change is Change.WITHDRAW or a.mark.erased])
    await forget_quotes(conn, {a.contribution_id for a in applied
                               if a.change in (Change.UPDATE, Change.WITHDRAW) or a.mark.erased})
    return sum(a.change is Change.PUBLISH for a in applied)


async def forget_quotes(conn, contribution_ids: set[str]) -> None:
    """Take these contributions' texts out of every stored synthesis version (the pages already leave them
    out when they read one): the next recompute quotes them again if they are still published."""
    versions = await store.versions_mentioning(conn, sorted(contribution_ids))
    await store.rewrite_documents(conn, [{**v, "document": without_contributions(v["document"], contribution_ids)}
                                         for v in versions])


async def withdraw(conn, contribution_ids: Sequence[str]) -> None:
    removed = await store.remove_published(conn, contribution_ids)
    await store.add_counts(conn, removed, sign=-1)
    await store.request_recompute(conn, store.scopes_of(sorted({(r[0], r[1]) for r in removed})))


class NotAnAxis(ValueError):
    def __init__(self, axis: str, allowed: list[str]) -> None:
        super().__init__(f"{axis!r} is not an axis of this contribution's framework")
        self.allowed = allowed


async def apply_axis_corrections(conn, corrections: Sequence[AxisCorrected]) -> None:
    """The corrections moderation announces (a person placed a published contribution on another axis):
    recorded, moved in the counts, and learnt from at the next recompute (each becomes a training example of
    its framework's classifier). A correction older than the one recorded is left out
    (two corrections of one contribution may arrive out of order); one for a contribution the synthesis
    has not counted yet waits for it (`NotKnownYet`, retried)."""
    for correction in corrections:
        row = await store.contribution_for_update(conn, correction.contribution_id)
        if row is None:
            raise NotKnownYet(f"contribution {correction.contribution_id} not counted yet")
        try:
            _check_axis(row, correction.axis)
        except NotAnAxis as exc:
            raise Unprocessable(str(exc)) from exc
        latest = await store.latest_correction_at(conn, correction.contribution_id)
        if latest is not None and latest >= correction.corrected_at:
            continue
        await _place_on_axis(conn, row, correction.axis, correction.corrected_by, correction.corrected_at)


def _check_axis(row: dict[str, Any], axis: str) -> None:
    allowed = [a["id"] for a in (row["framework"] or {}).get("axes", [])]
    if axis not in allowed:
        raise NotAnAxis(axis, allowed)


async def _place_on_axis(conn, row: dict[str, Any], axis: str, corrected_by: str, corrected_at) -> None:
    """Record a person's axis, move the contribution in the counts, and ask for its scopes' recompute."""
    await store.record_correction(conn, str(row["id"]), axis, corrected_by, corrected_at)
    key = (row["territory"], row["country"], row["kind"], row["author_role"], row["channel"])
    await store.add_counts(conn, [(key[0], key[1], row["axis"], *key[2:])], sign=-1)
    await store.add_counts(conn, [(key[0], key[1], axis, *key[2:])])
    await store.request_recompute(conn, store.scopes_of([(row["territory"], row["country"])]))
    await announce_placements(conn, [(row["territory"], row["country"], AxisPlacement(
        contribution_id=str(row["id"]), consultation=row["consultation"], framework=row["framework"]["id"],
        axis=axis, axis_source="person"))])


PLACEMENTS_PER_EVENT = 500


async def announce_placements(conn, placements: Sequence[tuple[str, str, AxisPlacement]]) -> None:
    """`synthesis.axes-placed` for these (territory, country, placement), so that notifications files each
    feed item under its framework and the axis given here."""
    await add_events(conn, placement_events(placements), source=SOURCE)


def placement_events(placements: Sequence[tuple[str, str, AxisPlacement]]) -> list[tuple[AxesPlaced, None]]:
    """One `synthesis.axes-placed` per territory (and per 500 placements)."""
    by_territory: dict[tuple[str, str], list[AxisPlacement]] = {}
    for territory, country, placement in placements:
        by_territory.setdefault((territory, country), []).append(placement)
    placed_at = utcnow()
    return [(AxesPlaced(territory=territory, country=country, placed_at=placed_at,
                        placements=group[start:start + PLACEMENTS_PER_EVENT]), None)
            for (territory, country), group in sorted(by_territory.items())
            for start in range(0, len(group), PLACEMENTS_PER_EVENT)]


async def store_recompute(conn, documents: dict[tuple[str, str], dict[str, Any]],
                          changes: Sequence[tuple[str, str | None, str | None, float, str]],
                          subthemes: dict[str, str | None]) -> list[tuple[str, str, int, datetime]]:
    """Write one recompute: axes re-placed by the refitted classifier (counts moved, each move in the
    contribution's axis history, and announced), sub-themes, a new version of each scope's synthesis, and a
    `synthesis.updated` event per scope (network, country, territory, consultation, framework) saying how
    many contributions moved."""
    moved = await store.move_axes(conn, changes)
    await store.write_subthemes(conn, subthemes)
    consultations = sorted({r["consultation"] for r in moved} | {key for scope, key in documents
                                                                 if scope == "consultation"})
    places = await store.consultation_places(conn, consultations)
    await announce_placements(conn, [(r["territory"], r["country"], AxisPlacement(
        contribution_id=r["id"], consultation=r["consultation"], framework=places[r["consultation"]]["framework"],
        axis=r["axis"], axis_source="classifier")) for r in moved])
    written, events = [], []
    for (scope, key), document in sorted(documents.items()):
        version, computed_at = await store.insert_synthesis(conn, scope, key, document["contributions_count"],
                                                            document)
        written.append((scope, key, version, computed_at))
        where: dict[str, Any] = {}
        if scope == "country":
            where = {"country": key}
        elif scope == "territory":
            where = {"country": await store.territory_country(conn, key)}
        elif scope == "consultation" and key in places:
            where = {k: places[key][k] for k in ("country", "territory", "framework")}
        elif scope == "framework":
            where = {"framework": key}
        events.append((SynthesisUpdated(scope=scope, key=key, version=version, **where,
                                        contributions_count=document["contributions_count"],
                                        computed_at=computed_at, axes_moved=len(moved)),
                       deterministic_event_id("synthesis-updated", scope, key, str(version))))
    await add_events(conn, events, source=SOURCE)
    return written


def _value(enum_value: Any) -> str | None:
    return None if enum_value is None else str(getattr(enum_value, "value", enum_value))
