"""The AsyncAPI 3.0 document of a service, generated from the events its consumers take and the events it
publishes (their pydantic models give the payload schemas)."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shared.events import EventData, envelope_model, payload_union


@dataclass(frozen=True)
class Channel:
    """One channel of the document: a durable consumer (`receive`) or an event published (`send`)."""

    name: str
    address: str
    action: str  # "receive" or "send"
    events: tuple[type[EventData], ...]
    description: str | None = None
    durable: str | None = None  # a consumer's durable name


def document(*, title: str, description: str, servers: list[str], channels: list[Channel]) -> dict[str, Any]:
    envelopes: list[type[BaseModel]] = list(dict.fromkeys(envelope_model(payload_union(c.events)) for c in channels))
    refs, definitions = models_json_schema([(model, "validation") for model in envelopes],
                                           ref_template="#/components/schemas/{model}")
    schemas = definitions.get("$defs", {})
    messages: dict[str, Any] = {}
    out_channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for channel in channels:
        payload = refs[(envelope_model(payload_union(channel.events)), "validation")]
        message_name = f"{channel.name}:Message"
        messages[message_name] = {
            "name": message_name,
            "title": " | ".join(model.event_type for model in channel.events),
            "contentType": "application/json",
            "payload": payload,
        }
        out_channels[channel.name] = {
            "address": channel.address,
            **({"description": channel.description} if channel.description else {}),
            "messages": {"Message": {"$ref": f"#/components/messages/{_ref(message_name)}"}},
        }
        operations[channel.name] = {
            "action": channel.action,
            "channel": {"$ref": f"#/channels/{_ref(channel.name)}"},
            "messages": [{"$ref": f"#/channels/{_ref(channel.name)}/messages/Message"}],
            **({"x-durable-consumer": channel.durable, "x-stream": channel.events[0].stream}
               if channel.durable else {}),
        }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": title, "version": "1.0.0", "description": description},
        "defaultContentType": "application/json",
        "servers": {_server_name(index): {"host": urlsplit(url).netloc, "protocol": "nats"}
                    for index, url in enumerate(servers)},
        "channels": out_channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def _ref(name: str) -> str:
    """A name as a JSON pointer token inside a URI fragment."""
    return quote(name.replace("~", "~0").replace("/", "~1"), safe=":.-_")


def _server_name(index: int) -> str:
    return "development" if index == 0 else f"development-{index + 1}"
