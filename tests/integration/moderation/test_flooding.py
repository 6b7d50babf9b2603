"""Flooding across batches: the signature stored with a contribution is the one the next batch compares with."""

import secrets

from tests.harness import Stack


def test_a_text_repeated_after_its_first_copy_was_decided_is_held_for_flooding(stack: Stack):
    territory = f"flood-{secrets.token_hex(3)}"
    key = stack.create_territory(territory, "FR")
    body = ("Chaque algorithme utilisé par la mairie pour attribuer une aide devrait être publié, "
            "avec une explication claire de ses critères.")
    first = stack.submit(key, {"external_id": "f-1", "kind": "proposition", "body": body}).json()["accepted"][0]["id"]
    assert stack.wait_final(key, [first])[first]["status"] == "published"

    repeated = body.replace("critères.", "critères !")  # the same words: the same signature
    second = stack.submit(key, {"external_id": "f-2", "kind": "proposition", "body": repeated}).json()["accepted"][0]["id"]
    decided = stack.wait_final(key, [second])[second]
    assert decided["status"] == "held"
    assert "flooding" in decided["decision"]["grounds"]
