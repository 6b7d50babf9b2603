"""The AsyncAPI documents describe what each consumer takes, schema included: territory systems build
their `palabre.contribution.proposed.v1` events from intake's document."""

import pytest

from palabre.registry import SERVICES, service

CONSUMING = [entry.name for entry in SERVICES if not entry.background]


def _document(name: str) -> dict:
    return service(name).load_app_module().runtime.asyncapi()


def _payload_schema(document: dict, channel: dict) -> dict:
    message_ref = next(iter(channel["messages"].values()))["$ref"]
    message = document["components"]["messages"][_unquote(message_ref.rsplit("/", 1)[1])]
    return document["components"]["schemas"][_unquote(message["payload"]["$ref"].rsplit("/", 1)[1])]


def _unquote(name: str) -> str:
    from urllib.parse import unquote

    return unquote(name)


@pytest.mark.parametrize("name", CONSUMING)
def test_every_consumer_channel_names_the_events_it_takes(name: str):
    document = _document(name)
    consumers = {channel_name: channel for channel_name, channel in document["channels"].items()
                 if ":" in channel_name}
    assert consumers, f"{name} declares no consumer"
    for channel_name, channel in consumers.items():
        schema = _payload_schema(document, channel)
        assert schema.get("title", "").startswith("CloudEvent["), (channel_name, schema)
        assert {"id", "type", "source", "data"} <= set(schema["properties"]), channel_name


def test_intake_documents_the_contribution_a_territory_system_proposes_on_the_bus():
    document = _document("intake")
    [channel] = [c for name, c in document["channels"].items() if name.startswith("intake-proposed:")]
    envelope = _payload_schema(document, channel)
    data = document["components"]["schemas"][_unquote(envelope["properties"]["data"]["$ref"].rsplit("/", 1)[1])]
    assert data["title"] == "ContributionProposed"
    assert {"external_id", "body"} <= set(data["required"])


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(document: dict, ref: str):
    assert ref.startswith("#/"), ref
    node = document
    for token in ref[2:].split("/"):
        node = node[_unquote(token).replace("~1", "/").replace("~0", "~")]
    return node


@pytest.mark.parametrize("name", CONSUMING)
def test_every_reference_of_the_document_resolves(name: str):
    document = _document(name)
    refs = set(_refs(document))
    assert refs
    for ref in refs:
        _resolve(document, ref)


def test_each_operation_says_whether_the_service_sends_or_receives_on_its_channel():
    document = _document("moderation")
    actions = {name: operation["action"] for name, operation in document["operations"].items()}
    assert actions["moderation-submitted:palabre.contribution.submitted.>"] == "receive"
    assert actions["palabre.contribution.published.v1"] == "send"
