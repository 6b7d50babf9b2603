"""An `external_id` sent again with another text is a conflict said to the sender (409, or a row error in an
import), never a duplicate that silently drops the new text; the same text again stays a harmless
duplicate."""

import asyncio

import httpx
import pytest

from tests.integration.intake.conftest import post_import

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def conflicts(intake_stack) -> tuple:
    return intake_stack, intake_stack.create_territory("conflits")


def post(stack, key: str, payload) -> httpx.Response:
    return httpx.post(f"{stack.url('intake')}/v1/contributions", json=payload, timeout=60,
                      headers={"Authorization": f"Bearer {key}"})


async def stored_text(stack, external_id: str) -> list[tuple]:
    rows = await stack.sql("SELECT title, body FROM intake.contributions WHERE territory = 'conflits' "
                           "AND external_id = $1", external_id)
    return [(row["title"], row["body"]) for row in rows]


async def test_the_same_external_id_with_another_body_or_title_is_a_409_naming_the_contribution(conflicts):
    stack, key = conflicts
    first = {"external_id": "c-1", "title": "Registre", "body": "Un registre public des algorithmes."}
    accepted = post(stack, key, first)
    assert accepted.status_code == 202, accepted.text
    contribution_id = accepted.json()["accepted"][0]["id"]

    again = post(stack, key, first)
    assert again.status_code == 202 and again.json()["duplicates"] == [{"id": contribution_id,
                                                                          "external_id": "c-1"}]

    for changed in ({**first, "body": "Un registre public des algorithmes, mis à jour."},
                    {**first, "title": "Un autre titre"}):
        conflict = post(stack, key, changed)
        assert conflict.status_code == 409, conflict.text
        assert conflict.headers["content-type"] == PROBLEM
        problem = conflict.json()
        assert problem["contribution"] == contribution_id
        assert problem["conflicts"] == [{"pointer": "/external_id", "external_id": "c-1",
                                         "contribution": contribution_id, "detail": problem["detail"]}]
    assert await stored_text(stack, "c-1") == [("Registre", "Un registre public des algorithmes.")]


async def test_concurrent_requests_are_each_refused_only_for_their_own_conflict(conflicts):
    """Single-contribution requests at once, written together: the ten that change a stored text get a
    409 each and change nothing; the thirty new ones are accepted, whatever request they were grouped with."""
    stack, key = conflicts
    for n in range(10):
        assert post(stack, key, {"external_id": f"g-{n}", "body": f"Texte d'origine {n}."}).status_code == 202
    payloads = [{"external_id": f"g-{n}", "body": f"Texte changé {n}."} for n in range(10)]
    payloads += [{"external_id": f"h-{n}", "body": f"Nouvelle proposition {n}."} for n in range(30)]

    async def send(client: httpx.AsyncClient, payload: dict) -> httpx.Response:
        return await client.post(f"{stack.url('intake')}/v1/contributions", json=payload,
                                 headers={"Authorization": f"Bearer {key}"})

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=40)) as client:
        answers = await asyncio.gather(*(send(client, payload) for payload in payloads))
    for payload, answer in zip(payloads, answers, strict=True):
        if payload["external_id"].startswith("g-"):
            assert answer.status_code == 409, answer.text
            assert answer.json()["conflicts"][0]["external_id"] == payload["external_id"]
        else:
            assert answer.status_code == 202, answer.text
            assert [a["external_id"] for a in answer.json()["accepted"]] == [payload["external_id"]]
    for n in range(10):
        assert await stored_text(stack, f"g-{n}") == [(None, f"Texte d'origine {n}.")]
    for n in range(30):
        assert await stored_text(stack, f"h-{n}") == [(None, f"Nouvelle proposition {n}.")]


async def test_a_batch_with_one_conflicting_item_is_refused_whole(conflicts):
    stack, key = conflicts
    original = post(stack, key, {"external_id": "c-2", "body": "Former les agents d'abord."})
    assert original.status_code == 202, original.text
    batch = {"contributions": [{"external_id": "c-3", "body": "Un texte neuf."},
                               {"external_id": "c-2", "body": "Former les agents, et les élus."}]}
    conflict = post(stack, key, batch)
    assert conflict.status_code == 409, conflict.text
    listed = conflict.json()["conflicts"]
    assert [(c["pointer"], c["contribution"]) for c in listed] == [
        ("/contributions/1/external_id", original.json()["accepted"][0]["id"])]
    assert await stored_text(stack, "c-3") == []

    # the same external_id twice in one batch, with two texts
    twice = post(stack, key, {"contributions": [{"external_id": "c-4", "body": "Premier texte."},
                                                {"external_id": "c-4", "body": "Second texte."}]})
    assert twice.status_code == 409 and twice.json()["conflicts"][0]["pointer"] == "/contributions/1/external_id"
    assert await stored_text(stack, "c-4") == []

    # identical items stay duplicates
    same = post(stack, key, {"contributions": [{"external_id": "c-5", "body": "Même texte."},
                                               {"external_id": "c-5", "body": "Même texte."}]})
    assert same.status_code == 202 and (len(same.json()["accepted"]), len(same.json()["duplicates"])) == (1, 1)


async def test_an_import_reports_a_conflicting_row_and_takes_the_others(conflicts):
    stack, key = conflicts
    assert post(stack, key, {"external_id": "c-6", "body": "Texte d'origine."}).status_code == 202
    csv = ("external_id;body\n"
           "c-6;Texte d'origine.\n"
           "c-7;Une nouvelle proposition.\n"
           "c-6;Texte modifié depuis.\n"
           "c-8;Une autre.\n"
           "c-8;Une autre, mais changée.\n").encode()
    answer = post_import(stack, key, csv, "csv").json()
    assert (answer["accepted"], answer["duplicates"]) == (2, 1)
    errors = {error["row"]: error["detail"] for error in answer["errors"]}
    assert sorted(errors) == [4, 6]
    assert "'c-6'" in errors[4] and "another title or body" in errors[4]
    assert "'c-8'" in errors[6]
    assert await stored_text(stack, "c-6") == [(None, "Texte d'origine.")]
    assert await stored_text(stack, "c-8") == [(None, "Une autre.")]
