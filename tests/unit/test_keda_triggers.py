"""The autoscaling triggers in deploy/ name consumers the services declare, on the stream they read, and
every consumer whose backlog grows with the contributions has one."""

import importlib
from pathlib import Path

import pytest
import yaml

from shared.events import (
    ContributionHeld,
    ContributionProposed,
    ContributionPublished,
    ContributionRejected,
    ContributionSubmitted,
    SynthesisUpdated,
)

SERVICES = ("intake", "moderation", "synthesis", "notifications")
KEDA = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes" / "keda-scaledobjects.yaml"
PER_CONTRIBUTION = {ContributionProposed, ContributionSubmitted, ContributionPublished, ContributionRejected,
                    ContributionHeld, SynthesisUpdated}


def _triggers() -> dict[str, set[tuple[str, str]]]:
    triggers = {}
    for document in yaml.safe_load_all(KEDA.read_text()):
        if document and document.get("kind") == "ScaledObject":
            service = document["spec"]["scaleTargetRef"]["name"].removeprefix("palabre-")
            triggers[service] = {(t["metadata"]["stream"], t["metadata"]["consumer"])
                                 for t in document["spec"]["triggers"] if t["type"] == "nats-jetstream"}
    return triggers


def _consumers(service: str) -> list:
    return importlib.import_module(f"services.{service}.app").runtime.consumers


@pytest.mark.parametrize("service", SERVICES)
def test_each_trigger_names_a_declared_consumer_on_its_stream(service: str):
    declared = {(consumer.stream.name, consumer.durable) for consumer in _consumers(service)}
    triggers = _triggers().get(service, set())
    assert triggers, f"no ScaledObject for {service}"
    assert triggers <= declared, triggers - declared


@pytest.mark.parametrize("service", SERVICES)
def test_every_consumer_fed_by_each_contribution_has_a_trigger(service: str):
    busy = {(consumer.stream.name, consumer.durable) for consumer in _consumers(service)
            if PER_CONTRIBUTION & set(consumer.events)}
    assert busy <= _triggers().get(service, set()), busy - _triggers().get(service, set())
