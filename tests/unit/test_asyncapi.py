"""The AsyncAPI documents describe what each consumer takes, schema included: territory systems build
their `palabre.contribution.proposed.v1` events from intake's document."""

import importlib

import pytest

from palabre.registry import SERVICE_NAMES as SERVICES


def _document(service: str) -> dict:
    return importlib.import_module(f"services.{service}.app").runtime.asyncapi()


def _payload_schema(document: dict, channel: dict) -> dict:
    message_ref = next(iter(channel["messages"].values()))["$ref"]
    message = document["components"]["messages"][_unquote(message_ref.rsplit("/", 1)[1])]
    return document["components"]["schemas"][_unquote(message["payload"]["$ref"].rsplit("/", 1)[1])]


def _unquote(name: str) -> str:
    from urllib.parse import unquote

    return unquote(name)


@pytest.mark.parametrize("service", SERVICES)
def test_every_consumer_channel_names_the_events_it_takes(service: str):
    document = _document(service)
    consumers = {name: channel for name, channel in document["channels"].items() if ":" in name}
    assert consumers, f"{service} declares no consumer"
    for name, channel in consumers.items():
        schema = _payload_schema(document, channel)
        assert schema.get("title", "").startswith("CloudEvent["), (name, schema)
        assert {"id", "type", "source", "data"} <= set(schema["properties"]), name


def test_intake_documents_the_contribution_a_territory_system_proposes_on_the_bus():
    document = _document("intake")
    [channel] = [c for name, c in document["channels"].items() if name.startswith("intake-proposed:")]
    envelope = _payload_schema(document, channel)
    data = document["components"]["schemas"][_unquote(envelope["properties"]["data"]["$ref"].rsplit("/", 1)[1])]
    assert data["title"] == "ContributionProposed"
    assert {"external_id", "body"} <= set(data["required"])
