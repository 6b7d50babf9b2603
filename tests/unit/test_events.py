"""Parsing events from the bus: a valid event comes back typed; every bad one raises a ValueError that
says what is wrong (the consumer dead-letters it with that reason)."""

import orjson
import pytest
from pydantic import ValidationError

from shared.events import ContributionSubmitted, UnknownEventType, envelope, parse_event, utcnow


def _submitted() -> bytes:
    data = ContributionSubmitted(contribution_id="c1", external_id="e1", territory="nantes", country="FR",
                                 consultation="nantes-ia", submitted_at=utcnow(), body="Un texte.")
    return envelope(data, source="/test", event_id="evt-1").model_dump_json().encode()


def test_a_valid_event_comes_back_with_its_own_payload_model():
    event = parse_event(_submitted())
    assert isinstance(event.data, ContributionSubmitted)
    assert event.id == "evt-1" and event.data.body == "Un texte."


def test_an_unknown_type_is_named():
    document = orjson.loads(_submitted())
    document["type"] = "palabre.nothing.v1"
    with pytest.raises(UnknownEventType, match="palabre.nothing.v1"):
        parse_event(orjson.dumps(document))


@pytest.mark.parametrize("change, error", [
    (lambda d: d.pop("type"), "type"),
    (lambda d: d.update(type=12), "type"),
    (lambda d: d["data"].pop("body"), "body"),
    (lambda d: d.update(time="yesterday"), "time"),
    (lambda d: d.update(specversion="0.3"), "specversion"),
])
def test_a_malformed_event_raises_a_validation_error_naming_the_field(change, error):
    document = orjson.loads(_submitted())
    change(document)
    with pytest.raises(ValidationError, match=error):
        parse_event(orjson.dumps(document))


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"", "é".encode("latin-1")])
def test_bytes_that_are_not_an_event_object_raise_a_validation_error(raw):
    with pytest.raises(ValidationError):
        parse_event(raw)
