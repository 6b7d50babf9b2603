"""A moderator places a published contribution on another axis, on a real bus and database: moderation keeps
the correction and announces it once; the synthesis moves the contribution in its counts and learns from it."""

import asyncio
import json
import secrets

import httpx

from shared.bus import DEAD_LETTER_STREAM, DLQ_REASON, EVENTS_STREAM
from shared.events import AxisCorrected, envelope, utcnow
from tests.harness import async_wait_for, wait_for
from tests.integration.moderation.test_human_cycle import decide, moderator_auth


def post_axis(stack, auth, contribution_id: str, axis: str) -> httpx.Response:
    return httpx.post(f"{stack.url('moderation')}/v1/contributions/{contribution_id}/axis", json={"axis": axis},
                      auth=auth, timeout=30)


def axis_counts(stack, territory: str) -> dict[str, int]:
    response = httpx.get(f"{stack.url('synthesis')}/v1/syntheses/territories/{territory}", timeout=10)
    return {axis["id"]: axis["count"] for axis in response.json()["axes"]} if response.status_code == 200 else {}


def synthesis_view(stack, contribution_id: str) -> dict:
    response = httpx.get(f"{stack.url('synthesis')}/v1/contributions/{contribution_id}", timeout=10)
    return response.json() if response.status_code == 200 else {}


async def announced(stack, subject: str) -> int:
    nc = await stack.nats_connect()
    try:
        info = await nc.jetstream().stream_info(EVENTS_STREAM.name, subjects_filter=subject)
        return sum((info.state.subjects or {}).values())
    finally:
        await nc.close()


def test_a_moderator_moves_a_published_contribution_and_the_synthesis_follows(stack):
    suffix = secrets.token_hex(3)
    territory = f"ax-{suffix}"
    key = stack.create_territory(territory, "FR", moderation_mode="strict")
    local = moderator_auth(stack, f"axis-{suffix}", territory)
    elsewhere = moderator_auth(stack, f"other-{suffix}", f"ax-other-{suffix}")
    body = "Un algorithme de tri des demandes de logement social doit pouvoir être contesté devant un agent."
    [accepted] = stack.submit(key, {"external_id": "ax-1", "kind": "vigilance", "axis": "opportunites",
                                    "body": body}).json()["accepted"]
    contribution_id = accepted["id"]
    assert stack.wait_final(key, [contribution_id])[contribution_id]["status"] == "held"

    held = post_axis(stack, local, contribution_id, "maitrise")
    assert held.status_code == 409, held.text  # not counted anywhere yet: decide first

    assert decide(stack, local, contribution_id, outcome="published").status_code == 200
    wait_for(lambda: axis_counts(stack, territory).get("opportunites") == 1, what="synthesis to count it")

    assert post_axis(stack, elsewhere, contribution_id, "maitrise").status_code == 404  # not their territory
    wrong = post_axis(stack, local, contribution_id, "climat")
    assert wrong.status_code == 422 and "maitrise" in wrong.json()["allowed"], wrong.text
    moved = post_axis(stack, local, contribution_id, "maitrise")
    assert moved.status_code == 200 and moved.json()["changed"] is True, moved.text
    again = post_axis(stack, local, contribution_id, "maitrise")
    assert again.status_code == 200 and again.json()["changed"] is False

    view = wait_for(lambda: (v := synthesis_view(stack, contribution_id)).get("axis") == "maitrise" and v,
                    what="synthesis to apply the moderator's correction")
    assert (view["axis_source"], view["corrected_by"]) == ("person", f"axis-{suffix}")
    counts = axis_counts(stack, territory)
    assert (counts["opportunites"], counts["maitrise"]) == (0, 1)

    record = httpx.get(f"{stack.url('moderation')}/v1/contributions/{contribution_id}", auth=local, timeout=30).json()
    assert record["axis"] == "maitrise"
    assert [(c["previous_axis"], c["axis"], c["corrected_by"]) for c in record["axis_corrections"]] == [
        ("opportunites", "maitrise", f"axis-{suffix}")]
    # announced once: by moderation, not again by the synthesis that applied it
    assert asyncio.run(announced(stack, f"palabre.contribution.axis-corrected.fr.{territory}")) == 1

    # rejected on appeal (out of the synthesis), then published again on a second appeal: still where the
    # person placed it
    for outcome, grounds in (("rejected", ["spam"]), ("published", [])):
        assert appeal_and_decide(stack, contribution_id, outcome, grounds).status_code == 200
        wait_for(lambda: axis_counts(stack, territory).get("maitrise") == (1 if outcome == "published" else 0),
                 what=f"synthesis to follow the contribution {outcome} on appeal")
    view = synthesis_view(stack, contribution_id)
    assert (view["axis"], view["axis_source"]) == ("maitrise", "person")
    assert axis_counts(stack, territory)["opportunites"] == 0


def appeal_and_decide(stack, contribution_id: str, outcome: str, grounds: list[str]) -> httpx.Response:
    moderation = stack.url("moderation")
    appeal = httpx.post(f"{moderation}/v1/contributions/{contribution_id}/appeal", headers=stack.admin_headers,
                        json={"reason": "Décision contestée."}, timeout=30)
    assert appeal.status_code == 201, appeal.text
    return httpx.post(f"{moderation}/v1/contributions/{contribution_id}/decision", headers=stack.admin_headers,
                      json={"outcome": outcome, "grounds": grounds, "facts": "Recours examiné."}, timeout=30)


def test_a_correction_naming_no_axis_of_the_framework_is_dead_lettered_with_its_reason(stack):
    suffix = secrets.token_hex(3)
    territory = f"ax-bad-{suffix}"
    key = stack.create_territory(territory, "BE")
    [accepted] = stack.submit(key, {"external_id": "axb-1", "kind": "attente", "axis": "sobriete",
                                    "body": "Mesurer l'énergie consommée par chaque service numérique."}).json()["accepted"]
    contribution_id = accepted["id"]
    wait_for(lambda: axis_counts(stack, territory).get("sobriete") == 1, what="synthesis to count it")

    event = envelope(AxisCorrected(territory=territory, country="BE", contribution_id=contribution_id,
                                   axis="astrologie", corrected_by="someone", corrected_at=utcnow()), source="/test")
    dead = asyncio.run(dead_letter_reason(stack, event, "synthesis-axis-corrections"))
    assert dead.startswith("unprocessable:") and "astrologie" in dead
    assert synthesis_view(stack, contribution_id)["axis"] == "sobriete"
    assert axis_counts(stack, territory)["sobriete"] == 1


async def dead_letter_reason(stack, event, durable: str) -> str:
    """Publish `event` and wait for `durable` to dead-letter it: the reason it gives."""
    nc = await stack.nats_connect()
    js = nc.jetstream()
    subject = f"palabre.dlq.{durable}"
    try:
        await js.publish(event.data.bus_subject(), event.model_dump_json().encode(), headers={"Nats-Msg-Id": event.id})

        async def reason() -> str | None:
            info = await js.stream_info(DEAD_LETTER_STREAM.name, subjects_filter=subject)
            if not info.state.subjects:
                return None
            for seq in range(info.state.last_seq, 0, -1):
                message = await js.get_msg(DEAD_LETTER_STREAM.name, seq)
                if message.subject == subject and json.loads(message.data)["id"] == event.id:
                    return message.headers[DLQ_REASON]
            return None

        return await async_wait_for(reason, what=f"{durable} to dead-letter the event")
    finally:
        await nc.close()
