"""Intake's use cases, shared by the HTTP API, the file import, the bus intake and the CLI.

Each runs in one transaction that changes intake's state and queues the resulting events in the outbox
(an import runs one transaction per chunk of `IMPORT_CHUNK_ROWS` rows).
"""

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.intake import nats_auth, store
from shared.contribution import ContributionIn
from services.intake.domain.language import detect_languages
from services.intake.domain.registry import ConsultationIn, TerritoryIn, default_consultation_id
from shared.auth import hash_api_key, new_api_key
from shared.db import transaction
from shared.events import (
    ConsultationClosed,
    ConsultationOpened,
    ContributionSubmitted,
    ContributionWithdrawn,
    TerritoryRegistered,
    contribution_id_for,
    deterministic_event_id,
    utcnow,
)
from shared.frameworks import Framework, default_framework, shipped_frameworks
from shared import errors
from shared.outbox import OutboxRelay, add_events, hand_over_rows, outbox_insert
from shared.settings import Settings

SOURCE = "/palabre/intake"
IMPORT_CHUNK_ROWS = 1_000


@dataclass
class SubmitResult:
    accepted: list[dict[str, str]] = field(default_factory=list)
    duplicates: list[dict[str, str]] = field(default_factory=list)


@dataclass
class ItemError:
    """A contribution refused for what it says about this territory (unknown axis, closed consultation…)."""

    index: int
    field: str
    detail: str


@dataclass
class Conflict:
    """An `external_id` sent again with another title or body than the contribution it already names."""

    index: int
    contribution_id: str
    external_id: str


class ConflictingContributions(Exception):
    def __init__(self, conflicts: list[Conflict]) -> None:
        super().__init__(f"{len(conflicts)} conflicting contributions")
        self.conflicts = conflicts


@dataclass
class ImportOutcome:
    """Counts of an import; `errors` are (index in the input, reason), index 0-based."""

    accepted: int = 0
    duplicates: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class _Prepared:
    rows: list[store.ContributionRow] = field(default_factory=list)
    events: dict[str, ContributionSubmitted] = field(default_factory=dict)
    indexes: list[int] = field(default_factory=list)  # input index of each row
    errors: list[ItemError] = field(default_factory=list)


# --- territories, keys, consultations ---------------------------------------------------------------


def resolve_framework(framework: Framework | str) -> Framework:
    if isinstance(framework, Framework):
        return framework
    shipped = shipped_frameworks()
    if framework not in shipped:
        raise errors.Invalid("Unknown framework", f"no shipped framework {framework!r}; known: {sorted(shipped)}")
    return shipped[framework]


async def register_territory(pool, territory: TerritoryIn, settings: Settings | None = None) -> dict[str, Any]:
    """Register a territory, issue its first API key (and, with the embedded NATS, its NATS user) and open
    its default consultation. Secrets are in the answer only; intake keeps their hashes."""
    key = new_api_key(f"pk_{territory.id}")
    nats_password = nats_auth.new_password() if settings and nats_auth.enabled(settings) else None
    nats_hash = await nats_auth.hash_password(nats_password) if nats_password else None
    async with pool.acquire() as conn, conn.transaction():
        if not await store.insert_territory(conn, territory):
            raise errors.Conflict("Territory exists", f"territory {territory.id!r} is already registered")
        await store.add_api_key(conn, territory.id, hash_api_key(key))
        if nats_hash:
            await store.set_nats_user(conn, territory.id, nats_auth.territory_username(territory.id), nats_hash)
        await add_events(conn, [(TerritoryRegistered(territory=territory.id, **territory.model_dump(
            exclude={"id"})), deterministic_event_id("territory-registered", territory.id))], source=SOURCE)
        consultation = ConsultationIn(
            id=default_consultation_id(territory.id), territory=territory.id,
            title=f"Concertation territoriale de l'IA — {territory.name}", framework=default_framework(),
        )
        await _open_consultation(conn, consultation, territory.country)
    answer: dict[str, Any] = {"territory": territory.model_dump(mode="json"), "api_key": key,
                              "default_consultation": consultation.id}
    if nats_password and settings:
        await nats_auth.sync_users_file(pool, settings)
        answer["nats"] = nats_auth.credentials_answer(settings, territory.id, nats_password)
    return answer


async def rotate_key(pool, territory: str, *, revoke_others: bool) -> str:
    key = new_api_key(f"pk_{territory}")
    async with pool.acquire() as conn, conn.transaction():
        if await store.get_territory(conn, territory) is None:
            raise errors.NotFound("Unknown territory", f"no territory {territory!r}")
        if revoke_others:
            await store.revoke_api_keys(conn, territory)
        await store.add_api_key(conn, territory, hash_api_key(key))
    return key


async def rotate_nats_credentials(pool, settings: Settings, territory: str) -> dict[str, Any]:
    """A new NATS password for the territory (the old one stops working at the server's reload)."""
    if not nats_auth.enabled(settings):
        raise errors.Conflict("Bus intake credentials are managed outside Palabre",
                              "this deployment uses an external NATS: issue credentials with the cluster's own tooling")
    password = nats_auth.new_password()
    password_hash = await nats_auth.hash_password(password)
    async with pool.acquire() as conn, conn.transaction():
        if await store.get_territory(conn, territory) is None:
            raise errors.NotFound("Unknown territory", f"no territory {territory!r}")
        await store.set_nats_user(conn, territory, nats_auth.territory_username(territory), password_hash)
    await nats_auth.sync_users_file(pool, settings)
    return nats_auth.credentials_answer(settings, territory, password)


async def revoke_nats_credentials(pool, settings: Settings, territory: str) -> bool:
    async with pool.acquire() as conn, conn.transaction():
        if await store.get_territory(conn, territory) is None:
            raise errors.NotFound("Unknown territory", f"no territory {territory!r}")
        revoked = await store.revoke_nats_user(conn, territory)
    await nats_auth.sync_users_file(pool, settings)
    return revoked


async def open_consultation(pool, consultation: ConsultationIn) -> dict[str, Any]:
    async with pool.acquire() as conn, conn.transaction():
        territory = await store.get_territory(conn, consultation.territory)
        if territory is None:
            raise errors.Invalid("Unknown territory", f"no territory {consultation.territory!r}")
        framework = await _open_consultation(conn, consultation, territory["country"])
    return {**consultation.model_dump(mode="json", exclude={"framework"}), "framework": framework.model_dump()}


async def _open_consultation(conn, consultation: ConsultationIn, country: str) -> Framework:
    framework = resolve_framework(consultation.framework)
    if not await store.insert_consultation(conn, consultation, framework):
        raise errors.Conflict("Consultation exists", f"consultation {consultation.id!r} already exists")
    event = ConsultationOpened(
        territory=consultation.territory, country=country, consultation=consultation.id,
        title=consultation.title, opens_at=consultation.opens_at, closes_at=consultation.closes_at,
        framework=framework, local_questions=consultation.local_questions,
    )
    await add_events(conn, [(event, deterministic_event_id("consultation-opened", consultation.id))],
                     source=SOURCE)
    return framework


async def close_consultation(pool, consultation: str, closed_at: datetime | None = None) -> dict[str, Any]:
    """Close a consultation: it takes no more contributions, and the other services are told."""
    async with pool.acquire() as conn, conn.transaction():
        existing = await store.get_consultation(conn, consultation)
        if existing is None:
            raise errors.NotFound("Unknown consultation", f"no consultation {consultation!r}")
        closed = await store.close_consultation(conn, consultation, closed_at or utcnow())
        if closed is None:
            raise errors.Conflict("Consultation already closed",
                                  f"consultation {consultation!r} was closed at {existing['closed_at'].isoformat()}")
        territory = await store.get_territory(conn, closed["territory"])
        event = ConsultationClosed(territory=closed["territory"], country=territory["country"],
                                   consultation=consultation, closed_at=closed["closed_at"])
        await add_events(conn, [(event, deterministic_event_id("consultation-closed", consultation))],
                         source=SOURCE)
    _consultations_read.pop(closed["territory"], None)
    return {"id": consultation, "territory": closed["territory"], "closed_at": closed["closed_at"].isoformat()}


CONSULTATIONS_CACHE_S = 5.0
_consultations_read: dict[str, tuple[float, list[dict[str, Any]]]] = {}


async def _consultations(pool, territory: str, *, fresh: bool = False) -> list[dict[str, Any]]:
    """A territory's consultations, read at most every `CONSULTATIONS_CACHE_S` seconds by a process:
    every submission needs them and they rarely change. A submission they would refuse reads them again
    first, so a new consultation is usable at once; one closed through another intake process is refused
    there within the delay, as a revoked key is."""
    now = time.monotonic()
    cached = _consultations_read.get(territory)
    if cached and not fresh and now - cached[0] < CONSULTATIONS_CACHE_S:
        return cached[1]
    consultations = await store.consultations_of(pool, territory)
    _consultations_read[territory] = (now, consultations)  # keys: territories whose key was checked
    return consultations


# --- contributions ----------------------------------------------------------------------------------


def _prepare(territory: dict[str, Any], consultations: list[dict[str, Any]], items: Sequence[ContributionIn],
             *, default_consultation: str | None = None, first_index: int = 0) -> _Prepared:
    """Check each contribution against the territory's consultations and frameworks; build rows and events.

    An item naming an unknown axis or consultation, or a closed one, is an `ItemError`; the others go on.
    """
    open_ids = [c["id"] for c in consultations if c["closed_at"] is None]
    known = {c["id"]: c for c in consultations}
    axes_of = {c["id"]: {axis["id"] for axis in c["framework"]["axes"]} for c in consultations}
    missing_language = [i for i, item in enumerate(items) if not item.language]
    detected = detect_languages([items[i].body for i in missing_language]) if missing_language else []
    languages = dict(zip(missing_language, detected, strict=True))
    now = utcnow()
    prepared = _Prepared()
    for offset, item in enumerate(items):
        index = first_index + offset
        consultation = item.consultation or default_consultation or (open_ids[-1] if open_ids else None)
        if consultation is None:
            prepared.errors.append(ItemError(index, "consultation",
                                             f"territory {territory['id']!r} has no open consultation; "
                                             "name one with 'consultation'"))
            continue
        if consultation not in known:
            prepared.errors.append(ItemError(index, "consultation",
                                             f"no consultation {consultation!r} in territory {territory['id']!r}"))
            continue
        if known[consultation]["closed_at"] is not None:
            prepared.errors.append(ItemError(index, "consultation", f"consultation {consultation!r} is closed"))
            continue
        axis_ids = axes_of[consultation]
        if item.axis and item.axis not in axis_ids:
            prepared.errors.append(ItemError(index, "axis",
                                             f"axis {item.axis!r} is not in the framework of {consultation!r} "
                                             f"({', '.join(sorted(axis_ids))})"))
            continue
        contribution_id = contribution_id_for(territory["id"], item.external_id)
        language = item.language or languages[offset]
        submitted_at = item.submitted_at or now
        prepared.rows.append(store.ContributionRow(
            id=contribution_id, territory=territory["id"], external_id=item.external_id, consultation=consultation,
            axis=item.axis, kind=_value(item.kind), author_role=_value(item.author_role),
            channel=_value(item.channel), language=language, title=item.title, body=item.body,
            submitted_at=submitted_at, author_ref=item.author_ref))
        prepared.indexes.append(index)
        prepared.events.setdefault(contribution_id, ContributionSubmitted(
            contribution_id=contribution_id, external_id=item.external_id, territory=territory["id"],
            country=territory["country"], consultation=consultation, axis=item.axis, question=item.question,
            kind=item.kind,
            author_role=item.author_role, channel=item.channel, language=language, title=item.title,
            body=item.body, submitted_at=submitted_at, author_ref=item.author_ref,
        ))
    return prepared


def _conflicts(prepared: _Prepared, kept: dict[str, tuple[str | None, str]]) -> list[Conflict]:
    """The rows whose title or body differ from those `kept` under their id."""
    return [Conflict(index, row.id, row.external_id) for index, row in zip(prepared.indexes, prepared.rows, strict=True)
            if row.id in kept and kept[row.id] != row.text]


async def _store(pool, prepared: _Prepared, relay: OutboxRelay | None = None, *,
                 refuse_conflicts: bool = True) -> tuple[set[str], list[Conflict]]:
    """Insert the new rows and queue their events, in one transaction; returns the ids inserted and the
    conflicting rows (raised as `ConflictingContributions`, writing nothing, with `refuse_conflicts`)."""
    inserted, conflicts = (await _store_together(pool, [prepared], relay, refuse_conflicts=refuse_conflicts))[0]
    if refuse_conflicts and conflicts:  # a lone row that conflicts was not written
        raise ConflictingContributions(conflicts)
    return inserted, conflicts


async def _store_together(pool, batches: Sequence[_Prepared], relay: OutboxRelay | None = None, *,
                          refuse_conflicts: bool = True) -> list[tuple[set[str], list[Conflict]]]:
    """Several requests' rows in one transaction; for each request, the ids it inserted and its rows that
    conflict with a stored contribution. An id sent by two of them is the first one's (the other sees a
    duplicate, or a conflict), as within one request. With the service's `relay`, the events are
    published right after the commit.

    When each request holds one row, the insert (rows and events together) is one statement and runs
    without a transaction block: a row that conflicts is not written by it, so there is nothing to roll
    back, and the caller refuses that request alone. Otherwise, with `refuse_conflicts`, any conflict rolls
    the whole back (`ConflictingContributions`)."""
    rows: dict[str, store.ContributionRow] = {}
    owner: dict[str, int] = {}
    for number, prepared in enumerate(batches):
        for row in prepared.rows:
            if row.id not in rows:
                rows[row.id], owner[row.id] = row, number
    one_row_each = all(len(prepared.rows) <= 1 for prepared in batches)
    async with (relay.transaction(atomic=not one_row_each) if relay
                else transaction(pool, atomic=not one_row_each)) as conn:
        # the events of the contributions actually inserted are written by the same statement
        events, _ = outbox_insert(
            conn, [(batches[owner[cid]].events[cid], deterministic_event_id("contribution-submitted", cid))
                   for cid in rows], source=SOURCE, hand_over=False)
        inserted = await store.insert_contributions(conn, list(rows.values()), events)
        kept = await store.contribution_texts(conn, [cid for cid in rows if cid not in inserted])
        kept.update({cid: rows[cid].text for cid in inserted})
        conflicts = [_conflicts(prepared, kept) for prepared in batches]
        if refuse_conflicts and not one_row_each and any(conflicts):
            raise ConflictingContributions([c for listed in conflicts for c in listed])
        hand_over_rows(conn, [row for row, cid in zip(events.rows, rows, strict=True) if cid in inserted])
    per_request: list[set[str]] = [set() for _ in batches]
    for cid in inserted:
        per_request[owner[cid]].add(cid)
    return list(zip(per_request, conflicts, strict=True))


class GroupCommit:
    """Writes the contributions of concurrent requests in one transaction.

    A request arriving while a write is under way waits for the next one, which takes every request
    queued meanwhile: idle, a request is written at once; under load, one commit serves many requests
    (single-contribution requests cost four round trips each otherwise). If a grouped write fails, each
    request of the group is written alone, so one bad request fails only itself.
    """

    def __init__(self, pool, relay: OutboxRelay | None = None) -> None:
        self.pool = pool
        self.relay = relay
        self._queue: list[tuple[_Prepared, asyncio.Future]] = []
        self._writer: asyncio.Task | None = None

    async def store(self, prepared: _Prepared) -> set[str]:
        """The ids inserted; raises `ConflictingContributions` for this request's conflicts alone."""
        done = asyncio.get_running_loop().create_future()
        self._queue.append((prepared, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_queued())
        return await done

    async def _write_queued(self) -> None:
        try:
            while self._queue:
                group, self._queue = self._queue, []
                try:
                    results = await _store_together(self.pool, [prepared for prepared, _ in group], self.relay)
                except Exception:  # noqa: BLE001 - isolate the request that fails, below
                    results = None
                for index, (prepared, done) in enumerate(group):
                    if done.done():
                        continue
                    if results is not None:
                        inserted, conflicts = results[index]
                        if conflicts:  # a request of one row, not written
                            done.set_exception(ConflictingContributions(conflicts))
                        else:
                            done.set_result(inserted)
                        continue
                    try:
                        done.set_result((await _store(self.pool, prepared, self.relay))[0])
                    except Exception as exc:  # noqa: BLE001 - the request's own error, answered to it
                        done.set_exception(exc)
        finally:
            self._writer = None


_group_commits: dict[int, GroupCommit] = {}  # by pool (asyncpg pools cannot be weakly referenced)


def _group_commit(pool, relay: OutboxRelay | None) -> GroupCommit:
    commit = _group_commits.get(id(pool))
    if commit is None or commit.pool is not pool or commit.relay is not relay:
        commit = _group_commits[id(pool)] = GroupCommit(pool, relay)
    return commit


def _invalid_items(refused: list[ItemError], *, batch: bool) -> errors.InvalidContent:
    listed = [{"pointer": (f"/contributions/{e.index}" if batch else "") + f"/{e.field}", "detail": e.detail,
               "type": f"unknown_or_closed_{e.field}"} for e in refused]
    detail = "; ".join(f"{e['pointer']}: {e['detail']}" for e in listed[:10])
    return errors.InvalidContent("Invalid contribution", detail, errors=listed[:200])


def _repeated_with_other_text(prepared: _Prepared) -> list[Conflict]:
    """Items of one request naming the same `external_id` as an earlier one, with another text."""
    first: dict[str, tuple[str | None, str]] = {}
    for row in prepared.rows:
        first.setdefault(row.id, row.text)
    return _conflicts(prepared, first)


def _conflict_problem(conflicts: list[Conflict], *, batch: bool) -> errors.Conflict:
    """Stripe's answer to an idempotency key reused with other parameters: 409, naming what exists."""
    listed = [{"pointer": f"/contributions/{c.index}/external_id" if batch else "/external_id",
               "external_id": c.external_id, "contribution": c.contribution_id,
               "detail": f"external_id {c.external_id!r} already names contribution {c.contribution_id} with "
                         "another title or body; it keeps its first text (send a new external_id)"}
              for c in conflicts]
    return errors.Conflict("Conflicting contribution", "; ".join(e["detail"] for e in listed[:5]),
                           kind="conflicting-contribution", contribution=listed[0]["contribution"],
                           conflicts=listed[:200])


@dataclass
class TakenIn:
    """What became of each contribution of one call, by its index in the input."""

    accepted: list[tuple[int, store.ContributionRow]] = field(default_factory=list)
    duplicates: list[tuple[int, store.ContributionRow]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (index, reason)


class RefusedItems(Exception):
    def __init__(self, refused: list[ItemError]) -> None:
        super().__init__(f"{len(refused)} contributions refused")
        self.refused = refused


async def take_in(pool, territory: dict[str, Any], items: Sequence[ContributionIn], *, all_or_nothing: bool,
                  default_consultation: str | None = None, first_index: int = 0,
                  relay: OutboxRelay | None = None) -> TakenIn:
    """The one way contributions come in, whether over HTTP, from a file or from the bus: checked against
    the territory's consultations, stored with their `contribution.submitted` events in one transaction,
    a re-send counted as a duplicate.

    `all_or_nothing` (HTTP): one item that does not fit refuses the call (`RefusedItems`, or
    `ConflictingContributions` for an `external_id` sent again with another text), and concurrent calls share
    one commit. Otherwise (imports, the bus) the good items go in and the others are listed in `refused`.
    """
    prepared = _prepare(territory, await _consultations(pool, territory["id"]), items,
                        default_consultation=default_consultation, first_index=first_index)
    if prepared.errors:  # a consultation opened or closed a moment ago: read them again
        prepared = _prepare(territory, await _consultations(pool, territory["id"], fresh=True), items,
                            default_consultation=default_consultation, first_index=first_index)
    repeated = _repeated_with_other_text(prepared)
    if all_or_nothing:
        if prepared.errors:
            raise RefusedItems(prepared.errors)
        if repeated:
            raise ConflictingContributions(repeated)
        inserted, conflicts = await _group_commit(pool, relay).store(prepared), []
    else:
        inserted, conflicts = await _store(pool, prepared, relay, refuse_conflicts=False) if prepared.rows \
            else (set(), [])
    taken = TakenIn(refused=[(e.index, f"{e.field}: {e.detail}") for e in prepared.errors])
    conflicting = {c.index for c in conflicts} | {c.index for c in repeated}
    seen: set[str] = set()
    for index, row in zip(prepared.indexes, prepared.rows, strict=True):
        if index in conflicting:
            taken.refused.append((index, f"external_id: {row.external_id!r} already names contribution {row.id} "
                                         "with another title or body (it keeps its first text)"))
        elif row.id in inserted and row.id not in seen:
            taken.accepted.append((index, row))
        else:
            taken.duplicates.append((index, row))
        seen.add(row.id)
    taken.refused.sort()
    return taken


async def submit(pool, territory: dict[str, Any], items: list[ContributionIn], *, batch: bool = False,
                 relay: OutboxRelay | None = None) -> SubmitResult:
    """Store new contributions and emit `contribution.submitted` for each; re-sends are duplicates.
    With the service's `relay`, the events are published right after the commit.

    All or nothing: one item that does not fit the territory (unknown axis, closed consultation) refuses
    the request, listing every such item.
    """
    try:
        taken = await take_in(pool, territory, items, all_or_nothing=True, relay=relay)
    except RefusedItems as exc:
        raise _invalid_items(exc.refused, batch=batch) from None
    except ConflictingContributions as exc:
        raise _conflict_problem(exc.conflicts, batch=batch) from None
    return SubmitResult(
        accepted=[{"id": row.id, "external_id": row.external_id, "status": "submitted"} for _, row in taken.accepted],
        duplicates=[{"id": row.id, "external_id": row.external_id} for _, row in taken.duplicates])


async def import_rows(pool, territory: dict[str, Any] | str, contributions: Sequence[ContributionIn], *,
                      consultation: str | None = None, chunk_rows: int = IMPORT_CHUNK_ROWS) -> ImportOutcome:
    """The bulk path (file imports, the bus, and `make bench`): `take_in` by chunks of `chunk_rows`, each
    one multi-row insert plus its outbox rows in one transaction. Good rows go in even when others are
    refused (listed in `errors` with their index); a re-import counts everything as duplicates.
    """
    if isinstance(territory, str):
        found = await store.get_territory(pool, territory)
        if found is None:
            raise errors.NotFound("Unknown territory", f"no territory {territory!r}")
        territory = {"id": found["id"], "country": found["country"]}
    if consultation is not None and consultation not in {
            c["id"] for c in await _consultations(pool, territory["id"], fresh=True)}:
        raise errors.Invalid("Unknown consultation", f"no consultation {consultation!r} in {territory['id']!r}")
    outcome = ImportOutcome()
    for start in range(0, len(contributions), chunk_rows):
        taken = await take_in(pool, territory, contributions[start:start + chunk_rows], all_or_nothing=False,
                              default_consultation=consultation, first_index=start)
        outcome.accepted += len(taken.accepted)
        outcome.duplicates += len(taken.duplicates)
        outcome.errors.extend(taken.refused)
    outcome.errors.sort()
    return outcome


async def erase(pool, contribution_id: str, erased_by: str) -> dict[str, Any] | None:
    """GDPR Art. 17: the contribution's text leaves intake at once, and every other service on
    `contribution.withdrawn` (partners are told too). Its decisions stay, without the text. None when unknown."""
    erasure_id = deterministic_event_id("erasure", contribution_id)
    async with transaction(pool) as conn:
        erased = await store.erase_contribution(conn, contribution_id, erasure_id, erased_by)
        if erased is None:
            return None
        event = ContributionWithdrawn(territory=erased["territory"], country=erased["country"],
                                      contribution_id=contribution_id, external_id=erased["external_id"],
                                      decision_id=erased["erasure_id"], withdrawn_at=erased["erased_at"],
                                      reason="erased")
        await add_events(conn, [(event, deterministic_event_id("withdrawn", erased["erasure_id"]))], source=SOURCE)
    return erased


def _value(enum_value: Any) -> str | None:
    return None if enum_value is None else str(enum_value.value if hasattr(enum_value, "value") else enum_value)
