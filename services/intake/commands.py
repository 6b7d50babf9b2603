"""Intake's use cases, shared by the HTTP API, the file import, the bus intake and the CLI.

Each runs in one transaction that changes intake's state and queues the resulting events in the outbox.
"""

from dataclasses import dataclass, field
from typing import Any

from services.intake import store
from services.intake.domain.contribution import ContributionIn
from services.intake.domain.language import detect_languages
from services.intake.domain.registry import ConsultationIn, TerritoryIn, default_consultation_id
from shared.auth import hash_api_key, new_api_key
from shared.events import (
    ConsultationOpened,
    ContributionSubmitted,
    TerritoryRegistered,
    contribution_id_for,
    deterministic_event_id,
    utcnow,
)
from shared.frameworks import Framework, default_framework, shipped_frameworks
from shared.http import Problem
from shared.outbox import add_events

SOURCE = "/palabre/intake"


@dataclass
class SubmitResult:
    accepted: list[dict[str, str]] = field(default_factory=list)
    duplicates: list[dict[str, str]] = field(default_factory=list)


def resolve_framework(framework: Framework | str) -> Framework:
    if isinstance(framework, Framework):
        return framework
    shipped = shipped_frameworks()
    if framework not in shipped:
        raise Problem(422, "Unknown framework", f"no shipped framework {framework!r}; known: {sorted(shipped)}")
    return shipped[framework]


async def register_territory(pool, territory: TerritoryIn) -> dict[str, Any]:
    """Register a territory, issue its first API key (shown once) and open its default consultation."""
    key = new_api_key(f"pk_{territory.id}")
    async with pool.acquire() as conn, conn.transaction():
        if not await store.insert_territory(conn, territory):
            raise Problem(409, "Territory exists", f"territory {territory.id!r} is already registered")
        await store.add_api_key(conn, territory.id, hash_api_key(key))
        await add_events(conn, [(TerritoryRegistered(territory=territory.id, **territory.model_dump(
            exclude={"id"})), deterministic_event_id("territory-registered", territory.id))], source=SOURCE)
        consultation = ConsultationIn(
            id=default_consultation_id(territory.id), territory=territory.id,
            title=f"Concertation territoriale de l'IA — {territory.name}", framework=default_framework(),
        )
        await _open_consultation(conn, consultation, territory.country)
    return {"territory": territory.model_dump(mode="json"), "api_key": key,
            "default_consultation": consultation.id}


async def rotate_key(pool, territory: str, *, revoke_others: bool) -> str:
    key = new_api_key(f"pk_{territory}")
    async with pool.acquire() as conn, conn.transaction():
        if await store.get_territory(conn, territory) is None:
            raise Problem(404, "Unknown territory", f"no territory {territory!r}")
        if revoke_others:
            await store.revoke_api_keys(conn, territory)
        await store.add_api_key(conn, territory, hash_api_key(key))
    return key


async def open_consultation(pool, consultation: ConsultationIn) -> dict[str, Any]:
    async with pool.acquire() as conn, conn.transaction():
        territory = await store.get_territory(conn, consultation.territory)
        if territory is None:
            raise Problem(422, "Unknown territory", f"no territory {consultation.territory!r}")
        framework = await _open_consultation(conn, consultation, territory["country"])
    return {**consultation.model_dump(mode="json", exclude={"framework"}), "framework": framework.model_dump()}


async def _open_consultation(conn, consultation: ConsultationIn, country: str) -> Framework:
    framework = resolve_framework(consultation.framework)
    if not await store.insert_consultation(conn, consultation, framework):
        raise Problem(409, "Consultation exists", f"consultation {consultation.id!r} already exists")
    event = ConsultationOpened(
        territory=consultation.territory, country=country, consultation=consultation.id,
        title=consultation.title, opens_at=consultation.opens_at, closes_at=consultation.closes_at,
        framework=framework, local_questions=consultation.local_questions,
    )
    await add_events(conn, [(event, deterministic_event_id("consultation-opened", consultation.id))],
                     source=SOURCE)
    return framework


async def submit(pool, territory: dict[str, Any], items: list[ContributionIn]) -> SubmitResult:
    """Store new contributions and emit `contribution.submitted` for each; re-sends are duplicates."""
    consultations = await store.consultations_of(pool, territory["id"])
    open_ids = [c["id"] for c in consultations if c["closed_at"] is None]
    known = {c["id"]: c for c in consultations}
    missing_language = [i for i, item in enumerate(items) if not item.language]
    detected = detect_languages([items[i].body for i in missing_language]) if missing_language else []
    languages = {i: lang for i, lang in zip(missing_language, detected, strict=True)}

    rows, events = [], {}
    for index, item in enumerate(items):
        consultation = item.consultation or (open_ids[-1] if open_ids else None)
        if consultation is None:
            raise Problem(422, "No open consultation",
                          f"territory {territory['id']!r} has no open consultation; name one with 'consultation'")
        if consultation not in known:
            raise Problem(422, "Unknown consultation",
                          f"contribution {item.external_id!r}: no consultation {consultation!r} in {territory['id']!r}")
        if known[consultation]["closed_at"] is not None:
            raise Problem(422, "Consultation closed", f"consultation {consultation!r} is closed")
        axis_ids = {axis["id"] for axis in known[consultation]["framework"]["axes"]}
        if item.axis and item.axis not in axis_ids:
            raise Problem(422, "Unknown axis",
                          f"contribution {item.external_id!r}: axis {item.axis!r} is not in the framework "
                          f"of {consultation!r} ({', '.join(sorted(axis_ids))})")
        contribution_id = contribution_id_for(territory["id"], item.external_id)
        language = item.language or languages[index]
        submitted_at = item.submitted_at or utcnow()
        rows.append((contribution_id, territory["id"], item.external_id, consultation, item.axis,
                     _value(item.kind), _value(item.author_role), _value(item.channel), language,
                     item.title, item.body, submitted_at, item.author_ref))
        events[contribution_id] = ContributionSubmitted(
            contribution_id=contribution_id, external_id=item.external_id, territory=territory["id"],
            country=territory["country"], consultation=consultation, axis=item.axis, kind=item.kind,
            author_role=item.author_role, channel=item.channel, language=language, title=item.title,
            body=item.body, submitted_at=submitted_at, author_ref=item.author_ref,
        )
    result = SubmitResult()
    async with pool.acquire() as conn, conn.transaction():
        inserted = await store.insert_contributions(conn, rows)
        await add_events(
            conn,
            [(events[cid], deterministic_event_id("contribution-submitted", cid)) for cid in events if cid in inserted],
            source=SOURCE,
        )
    seen: set[str] = set()
    for row in rows:
        cid, external_id = row[0], row[2]
        entry = {"id": cid, "external_id": external_id}
        if cid in inserted and cid not in seen:
            result.accepted.append({**entry, "status": "submitted"})
        else:
            result.duplicates.append(entry)
        seen.add(cid)
    return result


def _value(enum_value: Any) -> str | None:
    return None if enum_value is None else str(enum_value.value if hasattr(enum_value, "value") else enum_value)
