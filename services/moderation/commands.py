"""Moderation's use cases: automated moderation of a batch, human decisions, appeals.

Each runs in one transaction that records the decision (the audit log) and queues the resulting event.
"""

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import asyncpg

from services.moderation import store
from services.moderation.domain import personal_data
from services.moderation.domain.flags import Flag
from services.moderation.domain.pipeline import (
    ModerationInput,
    ModerationResult,
    check_batch,
)
from services.moderation.domain.policy import Decision as PolicyDecision
from services.moderation.domain.policy import TerritoryPolicy
from services.moderation.domain.statement import build_statement
from services.moderation.flood_windows import FloodWindows
from shared.events import (
    AxisCorrected,
    ContributionAppealed,
    ContributionHeld,
    ContributionPublished,
    ContributionRejected,
    ContributionSubmitted,
    Decision,
    RedactedSpan,
    StatementOfReasons,
    deterministic_event_id,
    utcnow,
)
from shared.frameworks import Framework
from shared.errors import Conflict, Gone, Invalid, NotFound
from shared.outbox import add_events, outbox_insert
from shared.vocabulary import ModerationMode, Outcome

SOURCE = "/palabre/moderation"
AUTOMATED_MODERATOR = "palabre-moderation"


class NotKnownYet(RuntimeError):
    """A contribution arrived before its territory's or consultation's event: retried shortly."""


def _policy(territory: dict[str, Any]) -> TerritoryPolicy:
    return TerritoryPolicy(mode=ModerationMode(territory["moderation_mode"]),
                           auto_reject_grounds=frozenset(territory["auto_reject_grounds"]))


Checker = Callable[
    [Sequence[ModerationInput], Mapping[str, TerritoryPolicy], Mapping[str, Sequence[int]]],
    Awaitable[tuple[list[ModerationResult], dict[str, list[int]]]],
]


async def _check_in_thread(items, policies, signatures):
    return await asyncio.to_thread(check_batch, items, policies, signatures)


async def moderate_submitted(conn: asyncpg.Connection, submitted: list[ContributionSubmitted],
                             flood_windows: FloodWindows, check: Checker = _check_in_thread) -> None:
    """Run the charter checks over a batch of new contributions, decide, record and emit. `check` runs
    the CPU-bound checks off the event loop (a thread, or worker processes: see `checks.CheckRunner`)."""
    if not submitted:
        return
    erased, territories, frameworks, transaction_time = await store.batch_context(
        conn, [c.contribution_id for c in submitted], sorted({c.territory for c in submitted}),
        sorted({c.consultation for c in submitted}))
    submitted = [c for c in submitted if c.contribution_id not in erased]  # erased before it got here
    if not submitted:
        return
    territory_ids = sorted({c.territory for c in submitted})
    missing = [t for t in territory_ids if t not in territories]
    missing += [c.consultation for c in submitted if c.consultation not in frameworks]
    if missing:
        raise NotKnownYet(f"registry events not received yet for {sorted(set(missing))}")
    signatures = await flood_windows.signatures(conn, territory_ids, now=transaction_time)
    framework_of = {consultation: Framework.model_validate(framework) for consultation, framework in frameworks.items()}
    inputs = [
        ModerationInput(
            contribution_id=c.contribution_id, territory=c.territory, title=c.title, body=c.body,
            language=c.language, framework=framework_of[c.consultation],
        )
        for c in submitted
    ]
    policies = {t: _policy(territories[t]) for t in territory_ids}
    results, _ = await check(inputs, policies, signatures)

    now = utcnow()
    contribution_rows, decision_rows, outgoing = [], [], []
    for contribution, result in zip(submitted, results, strict=True):
        decision = Decision(
            id=deterministic_event_id("decision", contribution.contribution_id, "automated"),
            outcome=result.outcome, grounds=list(result.grounds),
            facts=result.statement.facts_and_circumstances,
            automated_detection=result.statement.automated_detection,
            automated_decision=result.statement.automated_decision,
            decided_by=AUTOMATED_MODERATOR, decided_at=now,
            redacted_spans=list(result.redactions),
            statement=result.statement,
        )
        contribution_rows.append(store.ContributionRow(
            id=contribution.contribution_id, external_id=contribution.external_id,
            territory=contribution.territory, country=contribution.country, consultation=contribution.consultation,
            axis=contribution.axis, kind=_value(contribution.kind), author_role=_value(contribution.author_role),
            channel=_value(contribution.channel), language=contribution.language, title=contribution.title,
            body=contribution.body, submitted_at=contribution.submitted_at,
            flags=[flag.model_dump(mode="json") for flag in result.flags],
            redacted_title=result.redacted_title, redacted_body=result.redacted_body,
            redacted_spans=[span.model_dump(mode="json") for span in result.redactions],
            signature=result.flood_signature, status=result.outcome.value,
            decided_at=None if result.outcome == Outcome.HELD else now, question=contribution.question,
        ))
        decision_rows.append(_decision_row(contribution.contribution_id, decision))
        outgoing.append(decision_event(contribution, decision, result.redacted_title, result.redacted_body))
    outbox, _ = outbox_insert(conn, outgoing, source=SOURCE)
    await store.insert_decided(conn, contribution_rows, decision_rows, outbox)


def human_statement(contribution: dict[str, Any], outcome: Outcome, grounds: list[str], facts: str,
                    language: str, mode: ModerationMode) -> StatementOfReasons:
    flags = [Flag.model_validate(flag) for flag in contribution["flags"]]
    decision = PolicyDecision(outcome=outcome, suggested_outcome=outcome, grounds=grounds, flagged_grounds=grounds,
                              automated_detection=bool(flags), automated_decision=False)
    statement = build_statement(str(contribution["id"]), decision, flags, mode, language)
    update = {"automated_decision": False}
    if facts:
        update["facts_and_circumstances"] = facts
    return statement.model_copy(update=update)


def decision_event(contribution: Any, decision: Decision, title: str | None, text: str | None):
    """The event a decision produces; its id is the decision's, so it is published once."""
    common = dict(
        contribution_id=str(contribution.contribution_id if hasattr(contribution, "contribution_id")
                            else contribution["id"]),
        **{key: _field(contribution, key) for key in (
            "external_id", "territory", "country", "consultation", "axis", "question", "kind", "author_role",
            "channel", "language", "submitted_at")},
    )
    if decision.outcome in (Outcome.PUBLISHED, Outcome.PUBLISHED_REDACTED):
        event = ContributionPublished(**common, title=title, text=text or "", published_at=decision.decided_at,
                                      decision=decision)
    elif decision.outcome == Outcome.REJECTED:
        event = ContributionRejected(**common, decision=decision)
    else:
        event = ContributionHeld(**common, decision=decision)
    return event, decision.id


def _field(contribution: Any, key: str) -> Any:
    if isinstance(contribution, dict):
        value = contribution[key]
        return value.strip() if isinstance(value, str) and key == "country" else value
    return getattr(contribution, key)


def _decision_row(contribution_id: str, decision: Decision) -> store.DecisionRow:
    return store.DecisionRow(
        id=decision.id, contribution_id=contribution_id, outcome=decision.outcome.value, grounds=decision.grounds,
        automated=decision.automated_decision, decided_by=decision.decided_by, decided_at=decision.decided_at,
        decision=decision.model_dump(mode="json"))


def _value(enum_value: Any) -> str | None:
    return None if enum_value is None else str(getattr(enum_value, "value", enum_value))


PUBLIC_OUTCOMES = (Outcome.PUBLISHED, Outcome.PUBLISHED_REDACTED)
PUBLIC_STATUSES = frozenset(outcome.value for outcome in PUBLIC_OUTCOMES)


def axis_now(contribution: Mapping[str, Any], axis_corrections: Sequence[Mapping[str, Any]]) -> str | None:
    """A contribution's axis: the latest moderator's correction (oldest first), else the source's."""
    return axis_corrections[-1]["axis"] if axis_corrections else contribution["axis"]


def _text_to_publish(contribution: dict[str, Any], outcome: Outcome, redacted_title: str | None,
                     redacted_body: str | None) -> tuple[Outcome, str | None, str]:
    """The title and body a public decision publishes, and its outcome: a text that differs from the
    author's (the automated redaction, or the moderator's own) is published redacted."""
    if redacted_body is not None or redacted_title is not None:
        title = redacted_title if redacted_title is not None else contribution["redacted_title"]
        text = redacted_body if redacted_body is not None else contribution["redacted_body"] or contribution["body"]
    elif outcome == Outcome.PUBLISHED_REDACTED or contribution["redacted_spans"]:
        # personal data was found: publishing means publishing the redacted text
        title, text = contribution["redacted_title"], contribution["redacted_body"] or contribution["body"]
    else:
        title, text = contribution["title"], contribution["body"]
    if title == "":
        title = None
    changed = text != contribution["body"] or (title or None) != (contribution["title"] or None)
    return (Outcome.PUBLISHED_REDACTED if changed else Outcome.PUBLISHED), title, text


def personal_data_left(title: str | None, text: str) -> list[dict[str, Any]]:
    """Where a text about to be published still holds a personal datum (kinds and offsets, never the datum)."""
    return [
        {"field": field, "kind": flag.kind, "start": flag.start, "end": flag.end}
        for field, value in (("title", title or ""), ("body", text))
        for flag in personal_data.find_in_text_to_publish(value)
    ]


async def decide(pool: asyncpg.Pool, contribution_id: str, *, moderator: str, outcome: Outcome,
                 grounds: list[str], facts: str, redacted_title: str | None = None,
                 redacted_body: str | None = None, language: str = "fr") -> Decision:
    """A person's decision: final, recorded in the audit log, and emitted.

    A public outcome publishes a text in which the personal-data check finds nothing (else a 422 problem
    says where). Confirming what is already public (a reported contribution kept, an appeal turned down)
    is recorded in the audit log without publishing it a second time."""
    if outcome == Outcome.HELD:
        raise Invalid("Not a decision", "a person decides to publish, publish redacted, or reject")
    if outcome == Outcome.REJECTED and not grounds:
        raise Invalid("Ground required", "a rejection names at least one charter ground")
    async with pool.acquire() as conn, conn.transaction():
        contribution = await conn.fetchrow("SELECT * FROM contributions WHERE id = $1 FOR UPDATE", contribution_id)
        if contribution is None:
            raise NotFound("Unknown contribution", f"no contribution {contribution_id!r}")
        contribution = dict(contribution)
        if contribution["status"] == "erased":
            raise Gone("Erased", "this contribution was erased at its author's request")
        territory = (await store.territories(conn, [contribution["territory"]])).get(contribution["territory"])
        mode = ModerationMode(territory["moderation_mode"]) if territory else ModerationMode.AUTOMATIC
        previous = await store.latest_decision(conn, contribution_id)
        title, text = None, None
        if outcome in PUBLIC_OUTCOMES:
            outcome, title, text = _text_to_publish(contribution, outcome, redacted_title, redacted_body)
            left = await asyncio.to_thread(personal_data_left, title, text)
            if left:
                raise Invalid("Personal data left in the text",
                              "the personal-data check still finds data in the text to publish: mask it",
                              errors=left)
        now = utcnow()
        automated_spans = outcome == Outcome.PUBLISHED_REDACTED and redacted_body is None and redacted_title is None
        decision = Decision(
            id=str(uuid.uuid4()), outcome=outcome, grounds=grounds, facts=facts,
            automated_detection=bool(contribution["flags"]), automated_decision=False, decided_by=moderator,
            decided_at=now,
            redacted_spans=[RedactedSpan.model_validate(s) for s in contribution["redacted_spans"]]
            if automated_spans else [],
            statement=human_statement(contribution, outcome, grounds, facts, language, mode),
        )
        already_public = (
            previous is not None and previous["outcome"] == outcome.value and outcome in PUBLIC_OUTCOMES
            and _published_text(contribution, outcome) == (title, text)
        )
        await store.set_status(conn, contribution_id, outcome.value, decided_at=now,
                               redacted_title=title if outcome == Outcome.PUBLISHED_REDACTED else None,
                               redacted_body=text if outcome == Outcome.PUBLISHED_REDACTED else None)
        await store.insert_decisions(conn, [_decision_row(contribution_id, decision)])
        await store.mark_reviewed(conn, contribution_id, moderator, now)
        await store.resolve_appeals(conn, contribution_id, moderator, outcome.value)
        if not already_public:
            await add_events(conn, [decision_event(contribution, decision, title, text)], source=SOURCE)
    return decision


def _published_text(contribution: dict[str, Any], outcome: Outcome) -> tuple[str | None, str]:
    if outcome == Outcome.PUBLISHED_REDACTED:
        return contribution["redacted_title"] or None, contribution["redacted_body"]
    return contribution["title"] or None, contribution["body"]


async def correct_axis(pool: asyncpg.Pool, contribution_id: str, *, axis: str, moderator: str) -> AxisCorrected | None:
    """A moderator places a published contribution on another axis of its framework: kept, and announced
    (`contribution.axis-corrected`) so that the synthesis moves it in its counts and learns from it.
    Choosing the axis it already has changes nothing (None)."""
    async with pool.acquire() as conn, conn.transaction():
        contribution = await conn.fetchrow("SELECT * FROM contributions WHERE id = $1 FOR UPDATE", contribution_id)
        if contribution is None:
            raise NotFound("Unknown contribution", f"no contribution {contribution_id!r}")
        if contribution["status"] not in PUBLIC_STATUSES:
            raise Conflict("Not published", "only a published contribution is counted on an axis: decide first")
        framework = await store.framework_of(conn, contribution["consultation"]) or {}
        allowed = [entry["id"] for entry in framework.get("axes", [])]
        if axis not in allowed:
            raise Invalid("Not an axis of this framework",
                          f"{axis!r} is not an axis of the framework of this contribution's consultation",
                          allowed=allowed)
        current = axis_now(contribution, await store.axis_corrections_of(conn, contribution_id))
        if axis == current:
            return None
        correction_id, now = str(uuid.uuid4()), utcnow()
        await store.insert_axis_correction(conn, correction_id, contribution_id, axis, current, moderator, now)
        event = AxisCorrected(territory=contribution["territory"], country=contribution["country"],
                              contribution_id=contribution_id, axis=axis, corrected_by=moderator, corrected_at=now)
        await add_events(conn, [(event, correction_id)], source=SOURCE)
    return event


async def appeal(pool: asyncpg.Pool, contribution_id: str, *, reason: str, filed_by: str) -> str:
    """An appeal reopens a decided contribution for a network moderator."""
    async with pool.acquire() as conn, conn.transaction():
        contribution = await conn.fetchrow("SELECT * FROM contributions WHERE id = $1 FOR UPDATE", contribution_id)
        if contribution is None:
            raise NotFound("Unknown contribution", f"no contribution {contribution_id!r}")
        if contribution["status"] == Outcome.HELD.value:
            raise Conflict("Not decided yet", "a held contribution awaits its first human decision")
        if await store.open_appeal(conn, contribution_id):
            raise Conflict("Appeal pending", "this contribution already has an open appeal")
        appeal_id = str(uuid.uuid4())
        await store.insert_appeal(conn, appeal_id, contribution_id, reason, filed_by)
        await conn.execute("UPDATE contributions SET status = 'appealed' WHERE id = $1", contribution_id)
        contribution = dict(contribution)
        event = ContributionAppealed(
            contribution_id=contribution_id, **{k: _field(contribution, k) for k in (
                "external_id", "territory", "country", "consultation", "axis", "kind", "author_role", "channel",
                "language", "submitted_at")},
            appeal_id=appeal_id, reason=reason, appealed_at=utcnow(),
        )
        await add_events(conn, [(event, appeal_id)], source=SOURCE)
    return appeal_id

