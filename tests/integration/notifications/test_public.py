"""What partners see, on the shared stack (real NATS, PostgreSQL and the four services): only public
content, decisions only for a territory's own system, small payloads with a link, pull feeds that parse,
paginate and revalidate, open data with its licence, and precise answers to bad input."""

import csv
import io
import json
import random
import uuid
from datetime import UTC, datetime

import feedparser
import httpx
import pytest

from shared.events import (
    ConsultationOpened,
    ContributionHeld,
    ContributionRejected,
    SynthesisUpdated,
    TerritoryRegistered,
)
from shared.frameworks import default_framework
from shared.vocabulary import Outcome
from tests.harness import wait_for
from tests.integration.notifications.support import (
    Receiver,
    create_partner,
    decision,
    partner_post,
    publish,
    published,
    subscribe,
    verify,
)


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def territory() -> str:
    return f"pub-{uuid.uuid4().hex[:10]}"


def get(stack, path: str, **kwargs) -> httpx.Response:
    return httpx.get(f"{stack.url('notifications')}{path}", timeout=30, **kwargs)


def fetch(url: str) -> httpx.Response:
    return httpx.get(url, timeout=30)


def parse_feed(response: httpx.Response) -> tuple[list[dict], str | None]:
    """(entries as {id, title, text}, next page URL) of a JSON Feed 1.1 (checked against the spec's
    required members) or an Atom feed (parsed by feedparser, which must find it well-formed)."""
    if response.headers["content-type"].startswith("application/feed+json"):
        feed = response.json()
        assert feed["version"] == "https://jsonfeed.org/version/1.1" and feed["title"]
        assert feed["feed_url"].startswith("http") and isinstance(feed["items"], list)
        for item in feed["items"]:
            assert item["id"] and ("content_text" in item or "content_html" in item)
            datetime.fromisoformat(item["date_published"])
        return ([{"id": item["id"], "title": item["title"], "text": item["content_text"]} for item in feed["items"]],
                feed.get("next_url"))
    assert response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    links = {link.get("rel"): link["href"] for link in parsed.feed.get("links", [])}
    return ([{"id": e.id.removeprefix("urn:uuid:"), "title": e.title, "text": e.content[0].value}
             for e in parsed.entries], links.get("next"))


def feed_ids(stack, path: str) -> set[str]:
    """The ids of a feed's items; none while its territory is unknown (none of its events processed yet)."""
    response = get(stack, path)
    if response.status_code == 404:
        return set()
    return {entry["id"] for entry in response.json()["items"]}


def not_published(kind, source, outcome: Outcome):
    fields = source.model_dump(exclude={"title", "text", "published_at", "decision"})
    return kind(**fields, decision=decision(source.contribution_id, outcome, ["abuse"]))


async def test_held_and_rejected_content_never_reaches_partners_decisions_reach_only_the_territory(
        stack, receiver):
    place = territory()
    await publish(stack, TerritoryRegistered(territory=place, country="FR", name="Pub", kind="commune"))
    partner_key = create_partner(stack, f"press-{place}")
    own_key = create_partner(stack, f"system-{place}", territory=place)
    press = subscribe(stack, partner_key, f"{receiver.url}/press", territories=[place])
    own = subscribe(stack, own_key, f"{receiver.url}/own", event_types=["decision.taken"])
    assert own["filters"]["territories"] == [place]  # bound to its own territory

    shown = published(place, "Une proposition publiée sur la sobriété énergétique.")
    held = not_published(ContributionHeld, published(place, "Texte retenu SECRET-HELD."), Outcome.HELD)
    rejected = not_published(ContributionRejected, published(place, "Texte rejeté SECRET-REJ."), Outcome.REJECTED)
    await publish(stack, held, rejected, shown)

    wait_for(lambda: len(receiver.accepted("/own")) == 3 and receiver.accepted("/press"), 60,
             what="the decisions and the publication")
    press_events = [verify(r, press["secret"]) for r in receiver.accepted("/press")]
    assert [e["data"]["contribution_id"] for e in press_events] == [shown.contribution_id]
    assert press_events[0]["type"] == "palabre.contribution.published.v1"
    decisions = {verify(r, own["secret"])["data"]["contribution_id"]: verify(r, own["secret"])
                 for r in receiver.accepted("/own")}
    assert set(decisions) == {shown.contribution_id, held.contribution_id, rejected.contribution_id}
    assert decisions[held.contribution_id]["type"] == "palabre.decision.taken.v1"
    assert decisions[held.contribution_id]["data"]["outcome"] == "held"
    assert decisions[rejected.contribution_id]["data"]["statement"]["outcome"] == "rejected"
    everything = json.dumps([r["body"] for r in receiver.requests])
    assert "SECRET-HELD" not in everything and "SECRET-REJ" not in everything
    assert "text" not in decisions[shown.contribution_id]["data"]

    territory_feed = get(stack, f"/feeds/territories/{place}.json").json()
    assert [item["id"] for item in territory_feed["items"]] == [shown.contribution_id]
    assert get(stack, f"/v1/items/{held.contribution_id}").status_code == 404


async def test_decisions_are_only_for_a_territory_own_system(stack):
    place = territory()
    press_key = create_partner(stack, f"press2-{place}")
    own_key = create_partner(stack, f"sys2-{place}", territory=place)
    url = "http://127.0.0.1:9/hook"
    refused = partner_post(stack, press_key, "/v1/subscriptions",
                           {"url": url, "filters": {"event_types": ["decision.taken"]}})
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    other = partner_post(stack, own_key, "/v1/subscriptions",
                         {"url": url, "filters": {"event_types": ["decision.taken"], "territories": ["elsewhere"]}})
    assert other.status_code == 403 and place in other.json()["detail"]


async def test_a_long_text_is_cut_under_20_kb_with_a_link_to_the_whole(stack, receiver):
    place = territory()
    key = create_partner(stack, f"long-{place}")
    subscription = subscribe(stack, key, f"{receiver.url}/long", territories=[place])
    text = "Transparence des algorithmes & <données> publiques. " * 1200  # about 62 KB
    event = published(place, text, title="Très long")
    await publish(stack, event)
    request = wait_for(lambda: receiver.accepted("/long"), 60, what="the delivery")[0]
    assert len(request["body"].encode()) <= 20_000
    payload = verify(request, subscription["secret"])
    assert payload["data"]["text_truncated"] is True
    assert text.startswith(payload["data"]["text"].removesuffix("…"))
    full = fetch(payload["dataref"])
    assert full.status_code == 200 and full.json()["text"] == text


async def test_syntheses_and_consultations_reach_their_subscribers(stack, receiver):
    place = territory()
    key = create_partner(stack, f"synth-{place}")
    subscription = subscribe(stack, key, f"{receiver.url}/s", territories=[place],
                             event_types=["synthesis.updated", "consultation.opened"])
    now = datetime.now(UTC)
    await publish(stack,
                  SynthesisUpdated(scope="territory", key=place, country="FR", version=3, contributions_count=12,
                                   computed_at=now),
                  ConsultationOpened(territory=place, country="FR", consultation=f"{place}-ia", title="Consultation",
                                     framework=default_framework()),
                  published(place, "Une contribution que ce filtre écarte."))
    wait_for(lambda: len(receiver.accepted("/s")) == 2, 60, what="the synthesis and the consultation")
    events = {e["type"]: e for e in (verify(r, subscription["secret"]) for r in receiver.accepted("/s"))}
    assert set(events) == {"palabre.synthesis.updated.v1", "palabre.consultation.opened.v1"}
    assert events["palabre.synthesis.updated.v1"]["dataref"].endswith(f"/v1/syntheses/territories/{place}")
    assert events["palabre.consultation.opened.v1"]["data"]["framework"]["axes"][0]["id"]


async def test_feeds_parse_paginate_escape_and_revalidate(stack):
    place, axis = territory(), f"axe-{uuid.uuid4().hex[:6]}"
    tricky = 'Pas de <script>alert("x")</script> & des « guillemets » \x07 ici.'
    events = [published(place, f"Contribution numéro {i}.", country="BE", axis=axis, title=f"Titre {i}")
              for i in range(4)]
    events.append(published(place, tricky, country="BE", axis=axis, title="<b>Gras</b> & co"))
    await publish(stack, *events)
    wait_for(lambda: len(feed_ids(stack, f"/feeds/territories/{place}.json")) == 5, 60, what="the feed items")
    newest_first = [e.contribution_id for e in reversed(events)]

    orders: dict[str, list[str]] = {}
    for fmt in ("json", "atom"):
        url, seen, pages = f"{stack.url('notifications')}/feeds/territories/{place}.{fmt}?limit=2", [], 0
        while url:
            response = fetch(url)
            assert response.status_code == 200
            entries, url = parse_feed(response)
            seen += [entry["id"] for entry in entries]
            pages += 1
        # every item once, across three pages, in the order the feed took them in (newest first)
        assert len(seen) == len(set(seen)) == 5 and set(seen) == set(newest_first) and pages == 3, fmt
        orders[fmt] = seen
        entry = next(e for e in parse_feed(get(stack, f"/feeds/territories/{place}.{fmt}"))[0]
                     if e["id"] == events[-1].contribution_id)
        assert entry["title"] == "<b>Gras</b> & co"
        # JSON carries any character; XML 1.0 cannot hold a control character, which Atom drops
        assert entry["text"] == (tricky if fmt == "json" else tricky.replace("\x07", ""))
    assert orders["json"] == orders["atom"]
    atom = get(stack, f"/feeds/territories/{place}.atom").text
    assert "<script>" not in atom and "&lt;script&gt;" in atom

    for path in ("/feeds/countries/be.json", f"/feeds/axes/{axis}.atom", "/feeds/network.json?limit=200"):
        response = get(stack, path)
        assert response.status_code == 200
        ids = {entry["id"] for entry in parse_feed(response)[0]}
        assert set(newest_first) <= ids, path

    first = get(stack, f"/feeds/axes/{axis}.json")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert get(stack, f"/feeds/axes/{axis}.json", headers={"If-None-Match": etag}).status_code == 304
    assert get(stack, f"/feeds/axes/{axis}.json", headers={"If-Modified-Since": modified}).status_code == 304
    await publish(stack, published(place, "Une de plus.", country="BE", axis=axis))
    wait_for(lambda: get(stack, f"/feeds/axes/{axis}.json", headers={"If-None-Match": etag}).status_code == 200,
             60, what="the feed to change")
    assert get(stack, f"/feeds/axes/{axis}.json").headers["etag"] != etag


async def test_open_data_with_licence_and_formula_safe_cells(stack):
    place = territory()
    await publish(stack, TerritoryRegistered(territory=place, country="CM", name="Dschang test", kind="ville",
                                             licence="CC-BY-4.0"))
    formula = '=HYPERLINK("http://evil.example","clic")'
    events = [published(place, formula, country="CM", title="@SUM(A1)"),
              published(place, "Des ateliers, des agents formés; et des \"guillemets\".", country="CM")]
    await publish(stack, *events)
    wait_for(lambda: len(feed_ids(stack, f"/feeds/territories/{place}.json")) == 2, 60, what="the items")

    csv_response = get(stack, f"/v1/open-data/territories/{place}/contributions.csv")
    assert csv_response.status_code == 200 and csv_response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_response.text)))
    assert [r["contribution_id"] for r in rows] == [e.contribution_id for e in events]
    assert rows[0]["text"] == "'" + formula and rows[0]["title"] == "'@SUM(A1)"
    assert rows[1]["text"] == events[1].text
    assert {r["licence"] for r in rows} == {"CC-BY-4.0"}
    assert "author_role" not in rows[0] and "external_id" not in rows[0]

    document = get(stack, f"/v1/open-data/territories/{place}/contributions.json").json()
    assert document["licences"] == [{"name": "CC-BY-4.0", "url": None}]
    assert [item["text"] for item in document["items"]] == [formula, events[1].text]

    country = get(stack, "/v1/open-data/countries/cm/contributions.json").json()
    assert {e.contribution_id for e in events} <= {item["contribution_id"] for item in country["items"]}
    network = get(stack, "/v1/open-data/network/contributions.csv")
    assert network.headers["link"].startswith("<https://www.etalab.gouv.fr/")
    network_rows = {r["contribution_id"]: r for r in csv.DictReader(io.StringIO(network.text))}
    assert network_rows[events[0].contribution_id]["licence"] == "CC-BY-4.0"


async def test_every_synthesis_version_is_open_data(stack):
    place = territory()
    version = random.randint(10_000, 1_000_000)
    now = datetime.now(UTC)
    await publish(stack, *[SynthesisUpdated(scope="territory", key=place, country="FR", version=v,
                                            contributions_count=v * 10, computed_at=now) for v in (1, 2)],
                  SynthesisUpdated(scope="network", key="network", version=version, contributions_count=5,
                                   computed_at=now))

    def versions():
        rows = list(csv.DictReader(io.StringIO(get(stack, f"/v1/open-data/territories/{place}/syntheses.csv").text)))
        return rows if len(rows) == 2 else None

    rows = wait_for(versions, 60, what="the synthesis versions")
    assert [(r["version"], r["contributions_count"], r["licence"]) for r in rows] == [
        ("1", "10", "Licence Ouverte 2.0"), ("2", "20", "Licence Ouverte 2.0")]
    network = wait_for(lambda: (d := get(stack, "/v1/open-data/network/syntheses.json").json())["versions"] and d,
                       60, what="the network version")
    assert version in [v["version"] for v in network["versions"]]
    document = httpx.get(network["current_document_url"], timeout=15)  # served by synthesis, linked here
    assert document.status_code == 200 and document.json()["scope"] == "network"


def test_bad_input_gets_a_precise_problem(stack):
    key = create_partner(stack, f"bad-{uuid.uuid4().hex[:8]}")
    cases = [
        ({"url": "http://127.0.0.1:9/h", "filters": {"event_types": ["contribution.submitted"]}}, "/filters/event_types"),
        ({"url": "http://127.0.0.1:9/h", "filters": {"countries": ["FRA"]}}, "/filters/countries"),
        ({"url": "http://127.0.0.1:9/h", "filters": {"territories": ["Not A Slug"]}}, "/filters/territories/0"),
        ({"url": "ftp://example.org/h"}, "/url"),
        ({"url": "http://127.0.0.1:9/h", "secret": "mine"}, "/secret"),
    ]
    for body, pointer in cases:
        response = partner_post(stack, key, "/v1/subscriptions", body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert any(e["pointer"] == pointer for e in response.json()["errors"]), (pointer, response.json())
    anonymous = httpx.post(f"{stack.url('notifications')}/v1/subscriptions", json=cases[0][0], timeout=30)
    assert anonymous.status_code == 401
    no_email = httpx.post(f"{stack.url('notifications')}/v1/partners", headers=stack.admin_headers, timeout=30,
                          json={"id": "digest-without-email", "name": "X", "digest": "daily"})
    assert no_email.status_code == 422 and "email" in no_email.json()["detail"]
    assert get(stack, "/feeds/territories/x.rss").status_code == 404
    assert get(stack, "/feeds/planets/mars.json").status_code == 404
    assert get(stack, "/feeds/network.json?limit=0").status_code == 422
    assert get(stack, "/v1/open-data/network/authors.csv").status_code == 404
