"""`palabre dlq list` and `palabre dlq replay` against the real bus: a dead letter is listed with its
reason, subject, age and count; once what made it fail is mended, a replay takes it in, once, however
many times it is run."""

import json
import os
import subprocess  # nosec B404 # the installed CLI, fixed argv
import sys
from pathlib import Path

import httpx

from shared.bus import INTAKE_STREAM
from shared.dlq import dead_letters, replay
from shared.events import contribution_id_for
from tests.harness import async_wait_for

PALABRE = Path(sys.executable).parent / "palabre"
SUBJECT = "palabre.intake.dlq-tardive"


def palabre(stack, *args: str) -> str:
    result = subprocess.run([str(PALABRE), *args], capture_output=True, text=True, timeout=120,  # nosec B603
                            env={**os.environ, "PALABRE_NATS_URL": stack.nats_url})
    assert result.returncode == 0, result.stderr
    return result.stdout


def proposal(external_id: str) -> bytes:
    return json.dumps({"specversion": "1.0", "id": f"dlq-{external_id}", "source": "/decidim/dlq",
                       "time": "2026-03-01T10:00:00Z", "type": "palabre.contribution.proposed.v1",
                       "data": {"external_id": external_id, "body": "Publier la liste des algorithmes utilisés."}
                       }).encode()


def listed(stack) -> list[dict]:
    return [g for g in json.loads(palabre(stack, "dlq", "list", "--json")) if g["subject"] == SUBJECT]


async def test_a_dead_letter_is_listed_then_replayed_once_its_cause_is_mended(stack):
    nc = await stack.nats_connect()
    js = nc.jetstream()
    for external_id in ("t-1", "t-2"):  # the territory is not registered yet: intake cannot take them
        await js.publish(SUBJECT, proposal(external_id), headers={"Nats-Msg-Id": f"dlq-{external_id}"})

    async def both_dead_lettered():
        return [g for g in listed(stack) if g["count"] == 2]

    [group] = await async_wait_for(both_dead_lettered, timeout=60, what="two dead letters")
    assert group["consumer"] == "intake-proposed"
    assert "unknown territory 'dlq-tardive'" in group["reason"]
    assert 0 <= group["age_s"] < 3600
    assert "intake-proposed" in palabre(stack, "dlq", "list")  # the table for people

    response = httpx.post(f"{stack.url('intake')}/v1/territories", headers=stack.admin_headers, timeout=30,
                          json={"id": "dlq-tardive", "name": "Tardive", "kind": "commune", "country": "FR"})
    assert response.status_code == 201, response.text
    letters = [d for d in await dead_letters(js) if d.subject == SUBJECT]
    assert palabre(stack, "dlq", "replay", "--subject", SUBJECT, "--since", "1h",
                   "--consumer", "intake-proposed").strip().startswith("replayed 2 of")

    ids = [contribution_id_for("dlq-tardive", external_id) for external_id in ("t-1", "t-2")]

    async def taken_in():
        rows = await stack.sql("SELECT id::text AS id, status FROM intake.contributions WHERE id = ANY($1::uuid[])",
                               ids)
        return len(rows) == 2 and all(r["status"] != "submitted" for r in rows) and rows

    await async_wait_for(taken_in, timeout=60, what="the replayed proposals taken in and decided")
    assert listed(stack) == []
    assert palabre(stack, "dlq", "replay", "--subject", SUBJECT).strip() == "replayed 0 of 0 dead letters"
    assert await replay(js, letters) == 2  # as if interrupted before the deletes: published again...
    info = await js.stream_info(INTAKE_STREAM.name, subjects_filter=SUBJECT)
    assert sum((info.state.subjects or {}).values()) == 4  # ...and dropped: two originals, two replays
    decided = await stack.sql("SELECT count(*) AS n FROM moderation.decisions WHERE contribution_id = ANY($1::uuid[])",
                              ids)
    assert decided[0]["n"] == 2
    await nc.close()
