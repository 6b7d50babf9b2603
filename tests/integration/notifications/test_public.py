"""What partners see, on the shared stack (real NATS, PostgreSQL and the four services): only public
content, decisions only for a territory's own system, small payloads with a link, pull feeds that parse,
paginate and revalidate, open data with its licence, and precise answers to bad input."""

import csv
import io
import json
import random
import uuid
from datetime import UTC, datetime, timedelta

import feedparser
import httpx
import pytest

from shared.events import (
    AxesPlaced,
    AxisPlacement,
    ConsultationOpened,
    ContributionPublished,
    ContributionHeld,
    ContributionRejected,
    SynthesisUpdated,
    TerritoryRegistered,
)
from shared.dlq import dead_letters
from shared.frameworks import DEFAULT_FRAMEWORK_ID, default_framework
from shared.vocabulary import Outcome
from tests.harness import async_wait_for, wait_for
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


def placed(place: str, country: str, framework: str, axis: str | None, *events: ContributionPublished,
           at: datetime | None = None) -> AxesPlaced:
    """What synthesis announces once it has placed these contributions on `axis` of `framework`."""
    return AxesPlaced(territory=place, country=country, placed_at=at or datetime.now(UTC), placements=[
        AxisPlacement(contribution_id=e.contribution_id, consultation=e.consultation, framework=framework, axis=axis,
                      axis_source="classifier") for e in events])


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


async def test_consultation_and_framework_syntheses_are_announced(stack, receiver):
    """A consultation's synthesis reaches the subscribers of its territory and country; a framework's, those
    who follow no territory; each points at its own document."""
    place, framework = territory(), f"cadre-{uuid.uuid4().hex[:6]}"
    own = subscribe(stack, create_partner(stack, f"cons-{place}"), f"{receiver.url}/own", territories=[place],
                    event_types=["synthesis.updated"])
    everything = subscribe(stack, create_partner(stack, f"all-{place}"), f"{receiver.url}/all",
                           event_types=["synthesis.updated"])
    now = datetime.now(UTC)
    consultation = SynthesisUpdated(scope="consultation", key=f"{place}-ia", country="FR", territory=place,
                                    framework=framework, version=2, contributions_count=7, computed_at=now)
    across = SynthesisUpdated(scope="framework", key=framework, framework=framework, version=5,
                              contributions_count=70, computed_at=now)
    assert consultation.bus_subject() == f"palabre.synthesis.updated.fr.{place}.{place}-ia"
    assert across.bus_subject() == f"palabre.synthesis.updated.framework.{framework}"
    await publish(stack, consultation, across)
    wait_for(lambda: len(receiver.accepted("/own")) == 1, 60, what="the consultation's synthesis")
    [mine] = [verify(r, own["secret"]) for r in receiver.accepted("/own")]
    assert mine["data"]["scope"] == "consultation" and mine["data"]["territory"] == place
    assert mine["dataref"].endswith(f"/v1/syntheses/consultations/{place}-ia")

    def seen_by_everyone():
        documents = [verify(r, everything["secret"]) for r in receiver.accepted("/all")]
        mine = {d["data"]["scope"]: d for d in documents if d["data"]["key"] in (f"{place}-ia", framework)}
        return mine if len(mine) == 2 else None

    both = wait_for(seen_by_everyone, 60, what="both syntheses for an unfiltered subscriber")
    assert both["framework"]["dataref"].endswith(f"/v1/syntheses/frameworks/{framework}")
    assert both["framework"]["data"]["framework"] == framework


async def test_feeds_parse_paginate_escape_and_revalidate(stack):
    place, axis, framework = territory(), f"axe-{uuid.uuid4().hex[:6]}", f"cadre-{uuid.uuid4().hex[:6]}"
    axis_feed = f"/feeds/frameworks/{framework}/axes/{axis}"
    tricky = 'Pas de <script>alert("x")</script> & des « guillemets » \x07 ici.'
    events = [published(place, f"Contribution numéro {i}.", country="BE", axis=axis, title=f"Titre {i}")
              for i in range(4)]
    events.append(published(place, tricky, country="BE", axis=axis, title="<b>Gras</b> & co"))
    await publish(stack, *events, placed(place, "BE", framework, axis, *events))
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

    for path in ("/feeds/countries/be.json", f"{axis_feed}.atom", "/feeds/network.json?limit=200"):
        response = get(stack, path)
        assert response.status_code == 200
        ids = {entry["id"] for entry in parse_feed(response)[0]}
        assert set(newest_first) <= ids, path

    first = get(stack, f"{axis_feed}.json")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert get(stack, f"{axis_feed}.json", headers={"If-None-Match": etag}).status_code == 304
    assert get(stack, f"{axis_feed}.json", headers={"If-Modified-Since": modified}).status_code == 304
    one_more = published(place, "Une de plus.", country="BE", axis=axis)
    await publish(stack, one_more, placed(place, "BE", framework, axis, one_more))
    wait_for(lambda: get(stack, f"{axis_feed}.json", headers={"If-None-Match": etag}).status_code == 200,
             60, what="the feed to change")
    assert get(stack, f"{axis_feed}.json").headers["etag"] != etag


async def test_axis_feeds_follow_where_synthesis_placed_each_contribution_in_its_framework(stack):
    """Two frameworks with an axis of the same name keep apart; an item moves feed when synthesis moves it,
    not on an older placement arriving late; the old `/feeds/axes/{axis}` is the common framework's axis."""
    place = territory()
    own, other = f"cadre-{uuid.uuid4().hex[:6]}", f"cadre-{uuid.uuid4().hex[:6]}"
    said_economy = [published(place, f"Relancer l'économie locale, idée {i}.", axis="economie") for i in range(3)]
    first, second, moved = said_economy
    common = published(place, "Publier le registre des algorithmes de la ville.", axis=None)
    earlier = datetime.now(UTC)
    await publish(stack, *said_economy, common,
                  ConsultationOpened(territory=place, country="FR", consultation=f"{place}-commune",
                                     title="Consultation", framework=default_framework()),
                  placed(place, "FR", own, "economie", first, moved, at=earlier),
                  placed(place, "FR", other, "economie", second),
                  placed(place, "FR", DEFAULT_FRAMEWORK_ID, "maitrise", common))
    feed = f"/feeds/frameworks/{own}/axes/economie.json"
    wait_for(lambda: get(stack, feed).status_code == 200 and feed_ids(stack, feed) == {first.contribution_id,
                                                                                       moved.contribution_id},
             60, what="the items placed on the framework's axis")
    assert feed_ids(stack, f"/feeds/frameworks/{other}/axes/economie.json") == {second.contribution_id}
    assert common.contribution_id in feed_ids(stack, "/feeds/axes/maitrise.json")
    assert get(stack, "/feeds/axes/economie.json").status_code == 404  # not an axis of the common framework
    item = get(stack, feed).json()["items"][0]
    assert item["_palabre"]["framework"] == own and item["_palabre"]["axis"] == "economie"

    # a recompute moves one to "non classé"; a placement older than the kept one changes nothing
    await publish(stack, placed(place, "FR", own, None, moved, at=earlier + timedelta(seconds=1)),
                  placed(place, "FR", own, "fiscalite", first, at=earlier - timedelta(seconds=1)))
    unclassified = f"/feeds/frameworks/{own}/axes/non-classe.json"
    wait_for(lambda: feed_ids(stack, unclassified) == {moved.contribution_id}, 60, what="the move")
    assert feed_ids(stack, feed) == {first.contribution_id}
    assert feed_ids(stack, f"/feeds/frameworks/{own}.json") == {first.contribution_id, moved.contribution_id}
    assert get(stack, f"/v1/items/{moved.contribution_id}").json()["axis"] is None

    for path, title in ((f"/feeds/frameworks/{own}/axes/fiscalite.json", "Unknown axis"),
                        ("/feeds/frameworks/no-such-framework/axes/economie.json", "Unknown framework"),
                        ("/feeds/frameworks/no-such-framework.atom", "Unknown framework"),
                        (f"/feeds/frameworks/{own}/axes/Not%20A%20Slug.json", "Unknown feed")):
        response = get(stack, path)
        assert response.status_code == 404 and response.json()["title"] == title, (path, response.text)


async def test_a_placement_without_its_framework_is_dead_lettered_with_its_reason(stack):
    place, event_id = territory(), f"bad-placement-{uuid.uuid4().hex[:8]}"
    bad = {"specversion": "1.0", "id": event_id, "source": "/tests/notifications", "time": datetime.now(UTC).isoformat(),
           "type": AxesPlaced.event_type, "data": {"territory": place, "country": "FR",
                                                   "placed_at": datetime.now(UTC).isoformat(),
                                                   "placements": [{"contribution_id": str(uuid.uuid4()),
                                                                   "consultation": f"{place}-ia", "axis": "x",
                                                                   "axis_source": "classifier"}]}}
    nc = await stack.nats_connect()
    try:
        js = nc.jetstream()
        await js.publish(f"{AxesPlaced.subject_prefix}.fr.{place}", json.dumps(bad).encode(),
                         headers={"Nats-Msg-Id": event_id})

        async def dead_lettered():
            return [d for d in await dead_letters(js) if d.event_id == event_id]

        [letter] = await async_wait_for(dead_lettered, timeout=60, what="the placement dead-lettered")
    finally:
        await nc.close()
    assert letter.consumer == "notifications-axes-placed"
    assert "placements.0.framework" in letter.reason and "Field required" in letter.reason, letter.reason


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
