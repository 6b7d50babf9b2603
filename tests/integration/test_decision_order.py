"""Decisions that reach notifications and synthesis in any order, on the real bus and database, end in the
state their times say: every order of a contribution's decision events is published on JetStream, one
contribution per order, and each ends public with its latest text, or nowhere."""

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from shared.events import ContributionPublished, ContributionRejected, Decision
from shared.vocabulary import Outcome
from tests.harness import async_wait_for
from tests.integration.notifications.support import decision, publish

T0 = datetime.now(UTC) - timedelta(hours=1)


def history(territory: str, country: str, contribution_id: str, steps: list[tuple[str, int]]):
    """Decision events of one contribution: ('published' | 'rejected', minutes after T0), texts by step."""
    common = {"territory": territory, "country": country, "contribution_id": contribution_id,
              "external_id": f"ord-{contribution_id[:8]}", "consultation": f"{territory}-concertation-ia",
              "axis": "sobriete", "kind": "proposition", "submitted_at": T0}
    events = []
    for index, (outcome, minutes) in enumerate(steps):
        at = T0 + timedelta(minutes=minutes)
        made = decision(contribution_id, Outcome(outcome))
        made = Decision(**{**made.model_dump(), "decided_at": at})
        if outcome == "published":
            events.append(ContributionPublished(**common, text=f"Version {index} : {contribution_id}", published_at=at,
                                                decision=made))
        else:
            events.append(ContributionRejected(**common, decision=made))
    return events


def expected_text(events) -> str | None:
    last = max(events, key=lambda e: e.decision.decided_at)
    return last.text if isinstance(last, ContributionPublished) else None


async def notifications_text(client: httpx.AsyncClient, stack, contribution_id: str) -> str | None:
    response = await client.get(f"{stack.url('notifications')}/v1/items/{contribution_id}")
    assert response.status_code in (200, 404, 410), response.text
    return response.json()["text"] if response.status_code == 200 else None


async def synthesis_text(stack, contribution_id: str) -> str | None:
    rows = await stack.sql("SELECT text FROM synthesis.contributions WHERE id = $1", uuid.UUID(contribution_id))
    return rows[0]["text"] if rows else None


async def test_every_arrival_order_ends_in_the_latest_decision(stack):
    territory = f"ord-{uuid.uuid4().hex[:8]}"
    stack.create_territory(territory, "FR")
    steps_by_history = {
        "published, redacted, rejected": [("published", 0), ("published", 1), ("rejected", 2)],
        "published, rejected, published again": [("published", 0), ("rejected", 1), ("published", 2)],
    }
    cases = []
    for steps in steps_by_history.values():
        for order in itertools.permutations(range(len(steps))):
            contribution_id = str(uuid.uuid4())
            events = history(territory, "FR", contribution_id, steps)
            cases.append((contribution_id, [events[i] for i in order], expected_text(events)))
    event_ids = []
    for _, arrival, _ in cases:
        event_ids += await publish(stack, *arrival)

    async def processed(schema: str) -> bool:
        rows = await stack.sql(f"SELECT count(DISTINCT event_id) AS n FROM {schema}.processed_events "
                               "WHERE event_id = ANY($1::text[])", event_ids)
        return rows[0]["n"] == len(event_ids)

    for schema in ("notifications", "synthesis"):
        await async_wait_for(lambda schema=schema: processed(schema), 90, what=f"{schema} to take every event")
    async with httpx.AsyncClient(timeout=30) as client:
        for contribution_id, arrival, text in cases:
            order = [(type(e).__name__, e.decision.decided_at.minute) for e in arrival]
            assert await notifications_text(client, stack, contribution_id) == text, order
            assert await synthesis_text(stack, contribution_id) == text, order
    for contribution_id, _, text in cases:
        feed = httpx.get(f"{stack.url('notifications')}/feeds/territories/{territory}.json", timeout=30).json()
        shown = [item["content_text"] for item in feed["items"] if item["id"] == contribution_id]
        assert shown == ([text] if text else [])
