"""One fetch may hand synthesis's consumers several events about the same row: a decision and the one that
overturns it, a redelivered copy of an event beside its first delivery, two corrections of one axis, a
territory or consultation registered twice. On a real PostgreSQL, each batch commits as one (no "ON
CONFLICT DO UPDATE command cannot affect row a second time") and ends in the state the decision order says."""

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from palabre.embedded import Postgres
from services.synthesis import handlers
from services.synthesis.classifiers import ClassifierCache
from shared.db import create_pool
from shared.events import (
    AxisCorrected,
    ConsultationOpened,
    ContributionPublished,
    ContributionRejected,
    Decision,
    TerritoryRegistered,
    envelope,
)
from shared.frameworks import default_framework
from shared.migrations import upgrade
from shared.outbox import OutboxRelay
from shared.service import ServiceRuntime
from shared.settings import Settings
from shared.vocabulary import Outcome
from tests.integration.notifications.support import decision

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "synthesis" / "migrations"
T0 = datetime.now(UTC) - timedelta(hours=1)
TERRITORY, COUNTRY, CONSULTATION = "lot-test", "FR", "lot-test-ia"


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    postgres = Postgres(tmp_path_factory.mktemp("pg"))
    yield postgres.url
    postgres.stop()


@pytest.fixture
async def synthesis(database_url):
    """Synthesis's consumers on a freshly migrated schema of their own; `process(durable, events)` hands
    them one fetch, as the runtime does (processed-event records, one transaction)."""
    schema = f"synthesis_{secrets.token_hex(3)}"
    await upgrade(database_url, schema, MIGRATIONS)
    runtime = ServiceRuntime(schema, Settings(nats_url="nats://127.0.0.1:4222"), title="t", description="d",
                             migrations=MIGRATIONS)
    handlers.register(runtime, ClassifierCache(corpus_size=100, secret_key="test"))
    runtime.pool = await create_pool(database_url, schema, max_size=3)
    runtime.relay = OutboxRelay(runtime.pool, bus=None, schema=schema)
    by_durable = {consumer.durable: consumer.settle.__self__.process for consumer in runtime.consumers}

    async def process(durable: str, events) -> None:
        await by_durable[durable](events)

    await process("synthesis-territories", [envelope(_territory("Lot"), source="/tests")])
    await process("synthesis-consultations", [envelope(_consultation(), source="/tests")])
    yield runtime, process
    await runtime.pool.close()


def _territory(name: str) -> TerritoryRegistered:
    return TerritoryRegistered(territory=TERRITORY, country=COUNTRY, name=name, kind="commune")


def _consultation(title: str = "Concertation") -> ConsultationOpened:
    return ConsultationOpened(territory=TERRITORY, country=COUNTRY, consultation=CONSULTATION, title=title,
                              framework=default_framework())


def _decided(contribution_id: str, outcome: Outcome, minutes: int) -> Decision:
    made = decision(contribution_id, outcome).model_dump()
    return Decision(**{**made, "decided_at": T0 + timedelta(minutes=minutes)})


def _published(contribution_id: str, text: str, minutes: int, axis: str = "sobriete") -> ContributionPublished:
    return ContributionPublished(
        territory=TERRITORY, country=COUNTRY, contribution_id=contribution_id, external_id=f"x-{contribution_id[:8]}",
        consultation=CONSULTATION, axis=axis, kind="proposition", language="fr", submitted_at=T0, text=text,
        published_at=T0 + timedelta(minutes=minutes), decision=_decided(contribution_id, Outcome.PUBLISHED, minutes))


def _rejected(contribution_id: str, minutes: int) -> ContributionRejected:
    return ContributionRejected(
        territory=TERRITORY, country=COUNTRY, contribution_id=contribution_id, external_id=f"x-{contribution_id[:8]}",
        consultation=CONSULTATION, axis="sobriete", kind="proposition", language="fr", submitted_at=T0,
        decision=_decided(contribution_id, Outcome.REJECTED, minutes))


async def _counted(runtime) -> dict[str, int]:
    rows = await runtime.pool.fetch("SELECT axis, sum(n)::int AS n FROM counts GROUP BY axis HAVING sum(n) <> 0")
    return {row["axis"]: row["n"] for row in rows}


@pytest.mark.parametrize("arrival", [("first", "redacted", "first"), ("redacted", "first", "redacted")])
async def test_a_publication_its_redelivered_copy_and_its_redaction_in_one_batch(synthesis, arrival):
    runtime, process = synthesis
    contribution_id = str(uuid.uuid4())
    events = {"first": envelope(_published(contribution_id, "Mesurer l'énergie, 06 12 34 56 78", 0), source="/t"),
              "redacted": envelope(_published(contribution_id, "Mesurer l'énergie, [téléphone]", 1), source="/t")}

    await process("synthesis-published", [events[name] for name in arrival])

    rows = await runtime.pool.fetch("SELECT text FROM contributions")
    assert [row["text"] for row in rows] == ["Mesurer l'énergie, [téléphone]"]
    assert await _counted(runtime) == {"sobriete": 1}


async def test_a_publication_and_its_rejection_in_one_batch_count_nothing(synthesis):
    runtime, process = synthesis
    kept, overturned = str(uuid.uuid4()), str(uuid.uuid4())
    await process("synthesis-published", [envelope(_published(kept, "Un texte qui reste", 0), source="/t")])
    rejection = envelope(_rejected(kept, 2), source="/t")
    publication = envelope(_published(overturned, "Un texte rejeté", 0), source="/t")
    overturn = envelope(_rejected(overturned, 1), source="/t")

    await process("synthesis-rejected", [rejection, overturn, rejection, publication])

    assert await runtime.pool.fetch("SELECT id FROM contributions") == []
    assert await _counted(runtime) == {}


async def test_two_corrections_of_one_axis_in_one_batch_end_on_the_later(synthesis):
    runtime, process = synthesis
    contribution_id = str(uuid.uuid4())
    await process("synthesis-published", [envelope(_published(contribution_id, "Un texte", 0), source="/t")])

    def corrected(axis: str, minutes: int):
        return envelope(AxisCorrected(territory=TERRITORY, country=COUNTRY, contribution_id=contribution_id,
                                      axis=axis, corrected_by="moderatrice",
                                      corrected_at=T0 + timedelta(minutes=minutes)), source="/moderation")

    later, earlier = corrected("travail", 20), corrected("maitrise", 10)
    await process("synthesis-axis-corrections", [later, earlier, later])

    row = await runtime.pool.fetchrow("SELECT axis, axis_source FROM contributions")
    assert (row["axis"], row["axis_source"]) == ("travail", "person")
    assert await _counted(runtime) == {"travail": 1}


async def test_a_territory_and_a_consultation_registered_twice_in_one_batch_keep_the_last(synthesis):
    runtime, process = synthesis
    renamed = envelope(_territory("Lot renommé"), source="/t")
    await process("synthesis-territories", [envelope(_territory("Lot bis"), source="/t"), renamed, renamed])
    retitled = envelope(_consultation("Concertation bis"), source="/t")
    await process("synthesis-consultations", [retitled, envelope(_consultation(), source="/t"), retitled])

    assert await runtime.pool.fetchval("SELECT name FROM territories") == "Lot renommé"


async def test_a_copy_redelivered_within_the_fetch_reaches_the_decision_once(synthesis):
    runtime, _ = synthesis
    seen: list[str] = []

    @runtime.consumer(TerritoryRegistered, durable="test-copies", envelopes=True)
    async def record(conn, events) -> None:
        seen.extend(event.id for event in events)

    once, other = envelope(_territory("Lot"), source="/t"), envelope(_territory("Lot"), source="/t")
    await runtime.consumers[-1].settle.__self__.process([once, other, once])
    await runtime.consumers[-1].settle.__self__.process([once, other])

    assert seen == [once.id, other.id]
