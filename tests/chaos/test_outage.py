"""PostgreSQL away under load, then back: an outage is never an event's fault. Contributions keep coming
over HTTP (retried while intake answers 5xx) and on the bus (acknowledged by JetStream while the database
is away); afterwards every one ends in exactly one final state, decided, announced, counted and delivered
once, and the dead-letter stream is empty. The short outage runs in `make test`, five minutes in
`make test-chaos`."""

import json
import time

import pytest

from bench.receiver import ReceiverProcess
from tests.chaos.accounting import BusLoad, Load, account, dead_letters, register_territory
from tests.harness import Stack

TERRITORIES = [("panne-lyon", "FR"), ("panne-liege", "BE"), ("panne-sfax", "TN")]
BUS_FIRST_SEQ = 1_000_000  # bus proposals are numbered apart from HTTP submissions


class OutageStack(Stack):
    """Three deliveries before an event is dead-lettered (1 s and 2 s apart): were an outage blamed on the
    events, the short outage would dead-letter them."""

    def env(self, **extra: str) -> dict[str, str]:
        return super().env(**{"PALABRE_MAX_DELIVER": "3", **extra})


@pytest.fixture
def outage_stack(tmp_path):
    stack = OutageStack(tmp_path / "stack", batch_size=100).start_infra().start_all()
    receiver = ReceiverProcess(tmp_path / "stack" / "logs").start()
    yield stack, receiver
    receiver.stop()
    stack.stop()


async def run_outage(stack: Stack, receiver: ReceiverProcess, *, outage_s: float, http_per_s: float,
                     bus_per_s: float, lead_s: float = 5, tail_s: float = 5) -> dict:
    territories = {slug: register_territory(stack, slug, country) for slug, country in TERRITORIES}
    partner = stack.create_partner("panne-observatoire")
    stack.subscribe(partner, f"{receiver.url}/all")
    load_s = lead_s + outage_s + tail_s
    http = Load(stack, {slug: t["api_key"] for slug, t in territories.items()}, count=int(http_per_s * load_s),
                per_second=http_per_s, attempts=100_000).start()
    bus = BusLoad({slug: t["nats"] for slug, t in territories.items()}, count=int(bus_per_s * load_s),
                  per_second=bus_per_s, first=BUS_FIRST_SEQ).start()
    time.sleep(lead_s)
    stack.stop_postgres()
    time.sleep(outage_s)
    stack.start_postgres()
    back = time.monotonic()
    sent = {**http.join(timeout=load_s + 900), **bus.join(timeout=load_s + 900)}
    report = await account(stack, receiver, sent, timeout=900)
    figures = {"outage_s": outage_s, "sent_http": len(http.sent), "sent_bus": len(bus.sent),
               "final_states": dict(report.outcomes), "dead_lettered": await dead_letters(stack),
               "drained_s_after_database_back": round(time.monotonic() - back, 1)}
    print("outage figures:", json.dumps(figures))
    assert figures["dead_lettered"] == 0, stack.logs_text()[-5000:]
    assert sum(report.outcomes.values()) == len(sent)
    return figures


@pytest.mark.timeout(900)
async def test_a_short_database_outage_under_load_loses_and_dead_letters_nothing(outage_stack):
    stack, receiver = outage_stack
    await run_outage(stack, receiver, outage_s=8, http_per_s=40, bus_per_s=20, lead_s=3, tail_s=3)
    assert "holding the events in hand" in stack.logs_text()  # the consumers did meet the outage


@pytest.mark.chaos
@pytest.mark.timeout(2400)
async def test_five_minutes_without_the_database_under_load_loses_and_dead_letters_nothing(outage_stack):
    stack, receiver = outage_stack
    await run_outage(stack, receiver, outage_s=300, http_per_s=40, bus_per_s=20, lead_s=10, tail_s=10)
