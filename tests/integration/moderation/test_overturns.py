"""Automatic decisions overturned by people, on the real services and database: the figures per ground
a moderator's dashboard shows, and the candidate labelled cases `palabre moderation disagreements` exports."""

import asyncio
import json
import os
import secrets
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import asyncpg

from services.moderation import store
from services.moderation.domain.overturns import case_id, holding_grounds
from tests.harness import Stack
from tests.integration.moderation.test_human_cycle import decide, moderator_auth

INSULT = "Les élus sont tous des connards incompétents."


def _decided(stack: Stack, key: str, bodies: list[str]) -> list[str]:
    response = stack.submit(key, {"contributions": [{"external_id": f"o-{i}", "body": body}
                                                    for i, body in enumerate(bodies)]})
    assert response.status_code == 202, response.text
    ids = [accepted["id"] for accepted in response.json()["accepted"]]
    stack.wait_final(key, ids)
    return ids


def _decide(stack: Stack, auth, contribution_id: str, **decision) -> None:
    response = decide(stack, auth, contribution_id, **decision)
    assert response.status_code == 200, response.text


async def _age_decisions(database_url: str, contribution_id: str, days: int) -> None:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "moderation"})
    try:
        await conn.execute("UPDATE decisions SET decided_at = decided_at - make_interval(days => $2) "
                           "WHERE contribution_id = $1", contribution_id, days)
    finally:
        await conn.close()


async def _overturns(database_url: str, territory: str) -> dict:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "moderation"})
    try:
        return await store.overturns(conn, since=datetime.now(UTC) - timedelta(days=30), territory=territory,
                                     holding_grounds=holding_grounds())
    finally:
        await conn.close()


def test_overturns_both_ways_counted_per_ground_and_exported_redacted(stack: Stack):
    suffix = secrets.token_hex(3)
    territory, elsewhere = f"ov-{suffix}", f"ov-other-{suffix}"
    key = stack.create_territory(territory, "FR")
    other_key = stack.create_territory(elsewhere, "FR")
    local = moderator_auth(stack, f"ov-{suffix}", territory)
    other = moderator_auth(stack, f"ov-other-{suffix}", elsewhere)
    leaky = ("Le service des cantines devrait publier ses menus. Écrivez-moi : claire.morel@example.org "
             "ou au 06 98 76 54 32.")
    published_then_rejected, held_then_published, held_then_rejected, old = _decided(
        stack, key, [leaky, INSULT, INSULT, INSULT])
    (elsewhere_published,) = _decided(stack, other_key, [INSULT])

    _decide(stack, local, published_then_rejected, outcome="rejected", grounds=["spam"])
    _decide(stack, local, held_then_published, outcome="published")
    _decide(stack, local, held_then_rejected, outcome="rejected", grounds=["insult"])
    _decide(stack, local, old, outcome="published")
    _decide(stack, other, elsewhere_published, outcome="published")
    asyncio.run(_age_decisions(stack.database_url, old, 31))

    figures = asyncio.run(_overturns(stack.database_url, territory))
    assert figures == {"published_automatically": 1, "held": {"insult": (2, 1)},
                       "rejected_after_publication": {"spam": 1}}
    assert asyncio.run(_overturns(stack.database_url, elsewhere))["held"] == {"insult": (1, 1)}

    since = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
    exported = subprocess.run(
        [sys.executable, "-m", "palabre.cli", "moderation", "disagreements", "--since", since],
        env={**os.environ, "PALABRE_DATABASE_URL": stack.database_url}, capture_output=True, text=True,
        timeout=300, check=True)
    cases = [json.loads(line) for line in exported.stdout.splitlines()]
    assert "claire.morel" not in exported.stdout and "06 98 76 54 32" not in exported.stdout
    assert published_then_rejected not in exported.stdout and territory not in exported.stdout
    ours = [case for case in cases if case["body"].startswith("Le service des cantines")]
    assert len(ours) == 1
    assert ours[0]["body"].endswith("Écrivez-moi : [courriel] ou au [téléphone].")
    assert (ours[0]["automatic_outcome"], ours[0]["person_outcome"]) == ("published-redacted", "rejected")
    assert (ours[0]["violation"], ours[0]["grounds"]) == (True, ["spam"])
    by_id = {case["id"]: case for case in cases}
    # held then published, here and elsewhere; neither the confirmed hold nor the 31-day-old one
    for overturned in (held_then_published, elsewhere_published):
        case = by_id[case_id(overturned)]
        assert (case["body"], case["automatic_outcome"], case["automatic_grounds"], case["person_outcome"],
                case["violation"]) == (INSULT, "held", ["insult"], "published", False)
    assert case_id(held_then_rejected) not in by_id and case_id(old) not in by_id
    assert set(cases[0]) >= {"id", "title", "body", "language", "personal_data", "violation", "grounds"}
