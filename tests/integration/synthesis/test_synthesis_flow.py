"""Synthesis against the real stack: contributions published through intake and moderation are counted
live, placed on an axis (by their source, the classifier, or a person), summarised in the background,
and every quote traces back to a published contribution."""

import asyncio
import contextlib
import csv
import io
import json
import uuid
from pathlib import Path

import httpx
import psutil
import pytest
from nats.js.api import DeliverPolicy

from services.synthesis import store
from services.synthesis.classifiers import ClassifierCache, dump_classifier
from shared.db import create_pool
from shared.frameworks import DEFAULT_FRAMEWORK_ID, Framework, default_framework
from tests.harness import async_wait_for, wait_for

REPO = Path(__file__).resolve().parents[3]
GRAND_DEBAT = json.loads((REPO / "services/synthesis/data/frameworks/grand-debat.json").read_text())

# (axis, text): varied sentences on each axis of the default framework, said by several territories
SAYINGS = {
    "sobriete": [
        "Les centres de données consomment trop d'électricité et d'eau pour refroidir les serveurs.",
        "Mesurer l'empreinte carbone de chaque outil d'intelligence artificielle avant de l'acheter.",
        "Limiter la consommation d'énergie des serveurs et publier le bilan énergétique chaque année.",
        "Préférer des modèles sobres et petits, moins gourmands en énergie et en matériel.",
    ],
    "travail": [
        "Former les agents aux nouveaux outils avant de changer l'organisation de leur travail.",
        "Aucun emploi d'agent public ne doit être supprimé à cause de l'automatisation.",
        "Associer les syndicats et le dialogue social au choix des outils utilisés par les agents.",
        "Les agents doivent garder la main sur leurs tâches et ne pas être surveillés par les outils.",
    ],
    "maitrise": [
        "Publier le code source et un registre des algorithmes utilisés par la collectivité.",
        "Héberger les données personnelles des habitants en France, avec des logiciels libres.",
        "Un contrôle humain de chaque décision automatisée et un droit de recours pour les usagers.",
        "Expliquer clairement aux habitants comment l'algorithme prend ses décisions, en toute transparence.",
    ],
    "services-publics": [
        "Garder un accueil humain au guichet de la mairie pour les démarches administratives.",
        "Les personnes âgées ne doivent pas subir la fracture numérique dans les services publics.",
        "Chaque usager doit pouvoir parler à un interlocuteur humain plutôt qu'à un robot conversationnel.",
        "Les usagers sans ordinateur doivent garder un accès au service public par téléphone et au guichet.",
    ],
}
OPENINGS = ["", "À mon avis, ", "Selon notre atelier, ", "Nous pensons que "]
KINDS = ["attente", "vigilance", "proposition"]
ROLES = ["usager", "agent", "elu", "societe-civile"]
CHANNELS = ["en-ligne", "atelier", "papier", "reunion-publique"]


def _lower_first(text: str) -> str:
    return text[0].lower() + text[1:]


def contributions_for(territory_index: int) -> list[dict]:
    """Sixteen contributions, each axis said four ways; a third without an axis (the classifier's job)."""
    out = []
    for a_index, (axis, sentences) in enumerate(SAYINGS.items()):
        for s_index, sentence in enumerate(sentences):
            n = a_index * 4 + s_index
            opening = OPENINGS[(n + territory_index) % 4]
            out.append({
                "external_id": f"s-{territory_index}-{n}",
                "kind": KINDS[n % 3],
                "author_role": ROLES[n % 4], "channel": CHANNELS[(n + territory_index) % 4],
                "body": opening + (_lower_first(sentence) if opening else sentence),
                **({} if n % 3 == territory_index % 3 else {"axis": axis}),
            })
    return out


def get(stack, path: str, **kwargs) -> httpx.Response:
    return httpx.get(f"{stack.url('synthesis')}{path}", timeout=30, **kwargs)


def synthesis(stack, path: str) -> dict:
    response = get(stack, path)
    assert response.status_code == 200, response.text
    return response.json()


def settled(stack, path: str, expected: int, after_version: int = 0):
    """The synthesis once its computed version counts what the live counts count (and is newer)."""
    def probe():
        doc = synthesis(stack, path)
        if (doc["contributions_count"] == expected and doc["computed_contributions_count"] == expected
                and doc["version"] > after_version):
            return doc
        return None
    return wait_for(probe, 120, what=f"{path} recomputed over {expected} contributions", interval=0.3)


@pytest.fixture(scope="module")
def network(stack):
    """Three territories in two countries on the default framework, one on the Grand Débat's."""
    run = uuid.uuid4().hex[:6]
    places = [(f"syn-{run}-lyon", "FR"), (f"syn-{run}-brest", "FR"), (f"syn-{run}-liege", "BE")]
    keys, ids = {}, {}
    for index, (slug, country) in enumerate(places):
        keys[slug] = stack.create_territory(slug, country)
        response = stack.submit(keys[slug], {"contributions": contributions_for(index)})
        assert response.status_code == 202, response.text
        ids[slug] = [a["id"] for a in response.json()["accepted"]]
    debate = f"syn-{run}-arlon"
    keys[debate] = stack.create_territory(debate, "BE")
    response = httpx.post(f"{stack.url('intake')}/v1/consultations", headers=stack.admin_headers, timeout=30,
                          json={"id": f"{debate}-grand-debat", "territory": debate, "title": "Grand débat local",
                                "framework": GRAND_DEBAT})
    assert response.status_code == 201, response.text
    debate_texts = [
        ("transition-ecologique", "Développer les transports en commun et les pistes cyclables en ville."),
        ("transition-ecologique", "Isoler les logements pour moins chauffer et réduire la pollution."),
        ("fiscalite-depenses-publiques", "Baisser la TVA sur les produits de première nécessité."),
        ("democratie-citoyennete", "Reconnaître le vote blanc dans toutes les élections."),
        (None, "Créer un référendum d'initiative citoyenne au niveau local."),
    ]
    answer = {"external_id": "gd-answer", "consultation": f"{debate}-grand-debat", "body": "Oui, sans hésiter.",
              "question": "Faut-il reconnaître le vote blanc lors des élections ?"}
    response = stack.submit(keys[debate], {"contributions": [
        {"external_id": f"gd-{i}", "consultation": f"{debate}-grand-debat", "kind": "proposition", "body": text,
         **({"axis": axis} if axis else {})} for i, (axis, text) in enumerate(debate_texts)] + [answer]})
    assert response.status_code == 202, response.text
    ids[debate] = [a["id"] for a in response.json()["accepted"]]
    statuses = {}
    for slug, contribution_ids in ids.items():
        statuses.update(stack.wait_final(keys[slug], contribution_ids, timeout=120))
    published = {cid for cid, s in statuses.items() if s["status"] in ("published", "published-redacted")}
    assert len(published) >= 50, {cid: s["status"] for cid, s in statuses.items()}
    submitted = {}
    for index, (slug, _) in enumerate(places):
        for item, cid in zip(contributions_for(index), ids[slug]):
            submitted[cid] = item
    return {"run": run, "places": places, "debate": debate, "keys": keys, "ids": ids, "statuses": statuses,
            "published": published, "submitted": submitted,
            "territory_of": {cid: slug for slug, cids in ids.items() for cid in cids}}


def published_in(network, slug: str) -> list[str]:
    return [cid for cid in network["ids"][slug] if cid in network["published"]]


def test_published_contributions_are_counted_live_in_every_scope(stack, network):
    for slug, country in network["places"]:
        expected = len(published_in(network, slug))
        doc = wait_for(lambda: (d := synthesis(stack, f"/v1/syntheses/territories/{slug}"))
                       ["contributions_count"] == expected and d, 60, what=f"{slug} counted")
        by_axis = {axis["id"]: axis["count"] for axis in doc["axes"]}
        # an axis given by the source is kept as it is
        for cid in published_in(network, slug):
            given = network["submitted"][cid].get("axis")
            if given:
                assert by_axis[given] >= 1
        assert sum(by_axis.values()) == expected
        assert {row["kind"] for row in doc["counts"]} <= {"attente", "vigilance", "proposition"}
        assert sum(row["n"] for row in doc["counts"]) == expected
        assert {"axis", "kind", "author_role", "channel", "n"} <= set(doc["counts"][0])
    french = sum(len(published_in(network, s)) for s, c in network["places"] if c == "FR")
    country = synthesis(stack, "/v1/syntheses/countries/fr")
    assert country["contributions_count"] >= french
    assert synthesis(stack, "/v1/syntheses/network")["contributions_count"] >= len(network["published"])


def test_each_contribution_tells_its_axis_and_where_it_came_from(stack, network):
    slug = network["places"][0][0]
    sources = set()
    for cid in published_in(network, slug):
        placed = wait_for(lambda: get(stack, f"/v1/contributions/{cid}").status_code == 200
                          and get(stack, f"/v1/contributions/{cid}").json(), 60, what="the contribution placed")
        given = network["submitted"][cid].get("axis")
        if given:
            assert (placed["axis"], placed["axis_source"], placed["confidence"]) == (given, "source", 1.0)
        else:
            assert placed["axis_source"] == "classifier"
            assert 0.0 <= placed["confidence"] <= 1.0
            assert placed["axis"] in {*SAYINGS, "non-classe"}
        sources.add(placed["axis_source"])
    assert sources == {"source", "classifier"}
    assert get(stack, "/v1/contributions/not-a-uuid").status_code == 404
    missing = get(stack, f"/v1/contributions/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


async def test_a_recompute_brings_subthemes_proposals_and_an_updated_event(stack, network):
    slug = network["places"][0][0]
    doc = await asyncio.to_thread(settled, stack, f"/v1/syntheses/territories/{slug}",
                                  len(published_in(network, slug)))
    assert any(axis["subthemes"] for axis in doc["axes"]), doc["axes"]
    assert isinstance(doc["version"], int) and doc["version"] >= 1
    network_doc = await asyncio.to_thread(wait_for, lambda: (
        (d := synthesis(stack, "/v1/syntheses/network"))["computed_contributions_count"] == d["contributions_count"]
        >= len(network["published"]) and d), 120, what="the network recomputed over every territory")
    assert network_doc["proposals"], "the network's proposals are clustered"
    assert any(len(p["territories"]) >= 2 for p in network_doc["proposals"])
    assert network_doc["convergences"]
    assert any(d["territory"] == slug for d in network_doc["distinctive"])

    seen = [e for e in await events_on(stack, "palabre.synthesis.updated.fr.*") if e["data"]["key"] == slug]
    assert seen, "a palabre.synthesis.updated.v1 event for the territory is on the bus"
    assert all(e["type"] == "palabre.synthesis.updated.v1" for e in seen)
    assert doc["version"] in {e["data"]["version"] for e in seen}
    assert all(e["data"]["scope"] == "territory" and e["data"]["country"] == "FR" for e in seen)


async def events_on(stack, subject: str) -> list[dict]:
    """Every event JetStream keeps on `subject` (a wildcard), oldest first."""
    nc = await stack.nats_connect()
    try:
        sub = await nc.jetstream().subscribe(subject, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL)
        seen = []
        while True:
            try:
                msg = await sub.next_msg(timeout=5)
            except TimeoutError:
                return seen
            seen.append(json.loads(msg.data))
    finally:
        await nc.close()


async def test_consultation_and_framework_syntheses_are_announced(stack, network):
    debate = network["debate"]
    consultation = f"{debate}-grand-debat"
    doc = await asyncio.to_thread(settled, stack, f"/v1/syntheses/consultations/{consultation}",
                                  len(published_in(network, debate)))
    framework_doc = await asyncio.to_thread(wait_for, lambda: (
        (d := synthesis(stack, f"/v1/syntheses/frameworks/{GRAND_DEBAT['id']}"))["computed_contributions_count"]
        == d["contributions_count"] and d), 120, what="the framework's synthesis computed")
    seen: dict[str, list[dict]] = {}
    for subject in (f"palabre.synthesis.updated.be.{debate}.*", "palabre.synthesis.updated.framework.*"):
        for event in await events_on(stack, subject):
            seen.setdefault(event["data"]["scope"], []).append(event["data"])
    mine = [e for e in seen.get("consultation", []) if e["key"] == consultation]
    assert doc["version"] in {e["version"] for e in mine}
    assert all((e["territory"], e["country"], e["framework"]) == (debate, "BE", GRAND_DEBAT["id"]) for e in mine)
    across = [e for e in seen.get("framework", []) if e["key"] == GRAND_DEBAT["id"]]
    assert framework_doc["version"] in {e["version"] for e in across}
    assert all(e["framework"] == GRAND_DEBAT["id"] and e["territory"] is None for e in across)


def test_axis_feeds_hold_what_synthesis_placed_on_each_axis_of_the_framework(stack, network):
    """Notifications files each published contribution under the framework and axis synthesis gave it."""
    debate = network["debate"]
    feeds = f"{stack.url('notifications')}/feeds/frameworks/{GRAND_DEBAT['id']}/axes"

    def placed_alike():
        on_axis: dict[str, set[str]] = {}
        for cid in published_in(network, debate):
            on_axis.setdefault(synthesis(stack, f"/v1/contributions/{cid}")["axis"], set()).add(cid)
        filed = {axis: {item["id"] for item in httpx.get(f"{feeds}/{axis}.json", timeout=30).json()["items"]}
                 & set(published_in(network, debate)) for axis in on_axis}
        return on_axis if filed == on_axis else None

    on_axis = wait_for(placed_alike, 120, what="the framework's axis feeds to hold what synthesis placed")
    assert len(on_axis) >= 2, on_axis
    default_axis = httpx.get(f"{stack.url('notifications')}/feeds/axes/maitrise.json?limit=200", timeout=30)
    assert default_axis.status_code == 200
    assert not {item["id"] for item in default_axis.json()["items"]} & set(published_in(network, debate))


def test_every_quote_is_the_published_text_of_a_published_contribution(stack, network):
    checked = 0
    for slug, _ in network["places"]:
        doc = settled(stack, f"/v1/syntheses/territories/{slug}", len(published_in(network, slug)))
        quotes = [q for axis in doc["axes"] for sub in axis["subthemes"] for q in sub["quotes"]]
        quotes += [p["representative"] for p in doc["proposals"]]
        for quote in quotes:
            status = stack.status(network["keys"][slug], quote["contribution_id"])
            assert status["status"] in ("published", "published-redacted")
            published = status["published_text"]
            assert quote["text"] == published or (
                quote["text"].endswith("…") and published.startswith(quote["text"][:-1])), (quote, published)
            checked += 1
    assert checked >= 3


def test_axis_labels_come_from_the_scope_framework(stack, network):
    debate = network["debate"]
    doc = wait_for(lambda: (d := synthesis(stack, f"/v1/syntheses/territories/{debate}"))
                   ["contributions_count"] == len(published_in(network, debate)) and d, 60, what="the debate counted")
    labels = {axis["id"]: axis["label"] for axis in doc["axes"]}
    for axis in GRAND_DEBAT["axes"]:
        assert labels[axis["id"]] == axis["label"]
    assert "maitrise" not in labels  # the default framework's axes are not this territory's
    counts = {axis["id"]: axis["count"] for axis in doc["axes"]}
    assert counts["transition-ecologique"] >= 2 and counts["democratie-citoyennete"] >= 1


def test_each_framework_has_its_own_section_and_scope(stack, network):
    """The network holds two frameworks: one section each, most used first, never one list of both."""
    debate = network["debate"]
    in_debate = len(published_in(network, debate))
    doc = wait_for(lambda: (d := synthesis(stack, "/v1/syntheses/network"))["frameworks"] and len(d["frameworks"]) >= 2
                   and d, 60, what="two frameworks in the network")
    first, *others = doc["frameworks"]
    assert first["framework"]["id"] == DEFAULT_FRAMEWORK_ID and first["contributions_count"] > in_debate
    grand_debat = next(s for s in others if s["framework"]["id"] == GRAND_DEBAT["id"])
    assert [a["id"] for a in grand_debat["axes"]] == [a["id"] for a in GRAND_DEBAT["axes"]] + ["non-classe"]
    assert not {a["id"] for a in doc["axes"]} & {a["id"] for a in GRAND_DEBAT["axes"]}  # not added together

    scoped = wait_for(lambda: (d := synthesis(stack, f"/v1/syntheses/frameworks/{GRAND_DEBAT['id']}"))
                      ["contributions_count"] >= in_debate and d, 60, what="the framework's scope")
    assert [a["id"] for a in scoped["axes"]] == [a["id"] for a in GRAND_DEBAT["axes"]] + ["non-classe"]
    consultation = synthesis(stack, f"/v1/syntheses/consultations/{debate}-grand-debat")
    assert consultation["contributions_count"] == in_debate
    for path in ("/v1/syntheses/frameworks/nothing-such", "/v1/syntheses/consultations/nothing-such"):
        missing = get(stack, path)
        assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")


def _axis_rows(stack, path: str) -> dict[str, list[str]]:
    """framework id → its axes, in the order of a CSV export's axis rows (sub-theme rows left out)."""
    response = get(stack, path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv"), response.text
    axes: dict[str, list[str]] = {}
    for row in csv.DictReader(io.StringIO(response.text)):
        if not row["subtheme"]:
            axes.setdefault(row["framework"], []).append(row["axis"])
    return axes


def test_every_export_follows_the_frameworks(stack, network):
    """Markdown, PDF, CSV and manifesto per consultation and per framework, on that framework's axes only;
    the network's exports show each framework apart and lead to its own."""
    debate = network["debate"]
    in_debate = len(published_in(network, debate))
    consultation = f"/v1/syntheses/consultations/{debate}-grand-debat"
    settled(stack, consultation, in_debate)
    framework = f"/v1/syntheses/frameworks/{GRAND_DEBAT['id']}"
    wait_for(lambda: synthesis(stack, framework)["computed_contributions_count"] >= in_debate, 120,
             what="the framework's synthesis computed")
    debate_axes = [a["id"] for a in GRAND_DEBAT["axes"]] + [store.UNCLASSIFIED]
    default_axes = [a.id for a in default_framework().axes] + [store.UNCLASSIFIED]
    for base in (consultation, framework):
        markdown = get(stack, f"{base}/export.md")
        assert markdown.status_code == 200 and markdown.headers["content-type"].startswith("text/markdown")
        assert all(a["label"] in markdown.text for a in GRAND_DEBAT["axes"])
        assert not any(a.label in markdown.text for a in default_framework().axes)
        assert get(stack, f"{base}/export.pdf").content.startswith(b"%PDF")
        manifesto = get(stack, f"{base}/manifesto.md")
        assert manifesto.status_code == 200 and manifesto.text.startswith("# Projet de manifeste")
        assert get(stack, f"{base}/manifesto.pdf").content.startswith(b"%PDF")
        assert _axis_rows(stack, f"{base}/export.csv") == {GRAND_DEBAT["id"]: debate_axes}

    both = _axis_rows(stack, "/v1/syntheses/network/export.csv")
    assert both[GRAND_DEBAT["id"]] == debate_axes and both[DEFAULT_FRAMEWORK_ID] == default_axes
    network_markdown = get(stack, "/v1/syntheses/network/export.md").text
    assert "## Cadres" in network_markdown
    assert f"{stack.url('synthesis')}{framework}/export.md" in network_markdown
    network_page = get(stack, "/").text
    assert f'href="/frameworks/{GRAND_DEBAT["id"]}"' in network_page
    assert f'href="{framework}/export.csv"' in network_page
    page = get(stack, f"/frameworks/{GRAND_DEBAT['id']}")
    assert page.status_code == 200 and f'href="{framework}/export.pdf"' in page.text
    said = [a["label"] for a in synthesis(stack, framework)["axes"] if a["count"] and a["id"] != store.UNCLASSIFIED]
    assert said and all(label.replace("'", "&#39;") in page.text for label in said)
    assert not any(a.label.replace("'", "&#39;") in page.text for a in default_framework().axes)
    assert f'href="/territories/{debate}"' in page.text
    assert f'href="/territories/{network["places"][0][0]}"' not in page.text  # it answers another framework
    assert get(stack, f"/consultations/{debate}-grand-debat").status_code == 200
    for path in (f"{framework}/export.docx", f"{framework}/manifesto.csv", "/v1/syntheses/planets/mars/export.md",
                 "/v1/syntheses/frameworks/nothing-such/export.csv", "/v1/syntheses/consultations/none/manifesto.md"):
        refused = get(stack, path)
        assert refused.status_code == 404, path
        assert refused.headers["content-type"].startswith("application/problem+json"), path


def test_the_question_answered_reaches_the_synthesis_and_places_a_short_answer(stack, network):
    """Through intake and moderation, the question travels with the contribution; its few words place it."""
    debate = network["debate"]
    cid = network["ids"][debate][-1]  # submitted last
    assert cid in network["published"], network["statuses"][cid]
    placed = wait_for(lambda: (r := get(stack, f"/v1/contributions/{cid}")).status_code == 200 and r.json(), 60,
                      what="the answer counted")
    assert placed["question"] == "Faut-il reconnaître le vote blanc lors des élections ?"
    assert (placed["axis"], placed["axis_source"]) == ("democratie-citoyennete", "classifier")


async def test_a_person_corrects_an_axis(stack, network):
    """Moderation owns axis corrections; the synthesis applies the event: the counts move, and a later
    recompute (which refits the classifier) keeps what the person said."""
    slug = network["places"][1][0]
    path = f"/v1/syntheses/territories/{slug}"
    cid = next(c for c in published_in(network, slug) if not network["submitted"][c].get("axis"))
    before = await asyncio.to_thread(get, stack, f"/v1/contributions/{cid}")
    previous = before.json()["axis"]
    target = next(a for a in SAYINGS if a != previous)
    counts_before = {a["id"]: a["count"] for a in synthesis(stack, path)["axes"]}
    url = f"{stack.url('moderation')}/v1/contributions/{cid}/axis"

    async with httpx.AsyncClient(timeout=30) as client:
        nc = await stack.nats_connect()
        try:
            js = nc.jetstream()
            sub = await js.subscribe("palabre.contribution.axis-corrected.>", ordered_consumer=True,
                                     deliver_policy=DeliverPolicy.NEW)
            corrected = await client.post(url, json={"axis": target}, headers=stack.admin_headers)
            assert corrected.status_code == 200, corrected.text
            msg = await sub.next_msg(timeout=30)
            event = json.loads(msg.data)
        finally:
            await nc.close()
    assert event["type"] == "palabre.contribution.axis-corrected.v1"
    assert event["data"]["contribution_id"] == cid and event["data"]["axis"] == target

    placed = await asyncio.to_thread(wait_for, lambda: (p := synthesis(stack, f"/v1/contributions/{cid}"))
                                     ["axis_source"] == "person" and p, 60, what="the correction applied")
    assert placed["axis"] == target
    move = placed["axis_history"][-1]
    assert (move["previous_axis"], move["axis"], move["axis_source"], move["changed_by"]) == (
        previous, target, "person", "network-admin")
    counts_after = {a["id"]: a["count"] for a in synthesis(stack, path)["axes"]}
    assert counts_after[target] == counts_before[target] + 1
    assert counts_after[previous] == counts_before[previous] - 1
    await asyncio.to_thread(settled, stack, path, sum(counts_before.values()), synthesis(stack, path)["version"])
    assert synthesis(stack, f"/v1/contributions/{cid}")["axis"] == target


def test_synthesis_takes_no_axis_correction_of_its_own(stack, network):
    cid = next(iter(published_in(network, network["places"][0][0])))
    response = httpx.post(f"{stack.url('synthesis')}/v1/contributions/{cid}/axis", json={"axis": "maitrise"},
                          headers=stack.admin_headers, timeout=30)
    assert response.status_code in (404, 405)


def test_a_contribution_rejected_on_appeal_leaves_the_synthesis(stack, network):
    slug = network["places"][2][0]
    path = f"/v1/syntheses/territories/{slug}"
    before = settled(stack, path, len(published_in(network, slug)))
    quoted = {q["contribution_id"] for a in before["axes"] for s in a["subthemes"] for q in s["quotes"]}
    cid = sorted(quoted)[0] if quoted else published_in(network, slug)[0]
    subtheme_rows = "SELECT subtheme FROM synthesis.contribution_subthemes WHERE contribution_id = $1::uuid"
    assert asyncio.run(stack.sql(subtheme_rows, cid)), "a quoted contribution has its sub-theme stored"
    moderation = stack.url("moderation")
    appeal = httpx.post(f"{moderation}/v1/contributions/{cid}/appeal", headers=stack.admin_headers, timeout=30,
                        json={"reason": "Ce texte reprend mot pour mot une publicité."})
    assert appeal.status_code == 201, appeal.text
    decision = httpx.post(f"{moderation}/v1/contributions/{cid}/decision", headers=stack.admin_headers, timeout=30,
                          json={"outcome": "rejected", "grounds": ["spam"], "facts": "Publicité déguisée."})
    assert decision.status_code == 200, decision.text
    wait_for(lambda: stack.status(network["keys"][slug], cid)["status"] == "rejected", 60, what="intake told")

    wait_for(lambda: synthesis(stack, path)["contributions_count"] == before["contributions_count"] - 1, 60,
             what="the rejected contribution leaves the counts")
    assert get(stack, f"/v1/contributions/{cid}").status_code == 404
    assert asyncio.run(stack.sql(subtheme_rows, cid)) == [], "its sub-theme leaves with it"
    after = settled(stack, path, before["contributions_count"] - 1, before["version"])
    assert cid not in {q["contribution_id"] for a in after["axes"] for s in a["subthemes"] for q in s["quotes"]}
    network["published"].discard(cid)


def test_the_same_input_gives_the_same_document(stack, network):
    path = "/v1/syntheses/network"
    first = synthesis(stack, path)
    first = settled(stack, path, first["contributions_count"])
    response = httpx.post(f"{stack.url('synthesis')}/v1/syntheses/recompute", headers=stack.admin_headers,
                          timeout=30)
    assert response.status_code == 202
    assert httpx.post(f"{stack.url('synthesis')}/v1/syntheses/recompute", timeout=30).status_code == 401
    again = settled(stack, path, first["contributions_count"], first["version"])
    volatile = {"version", "computed_at"}
    assert {k: v for k, v in again.items() if k not in volatile} == {
        k: v for k, v in first.items() if k not in volatile}


def test_exports_and_pages(stack, network):
    slug = network["places"][0][0]
    settled(stack, f"/v1/syntheses/territories/{slug}", len(published_in(network, slug)))
    markdown = get(stack, f"/v1/syntheses/territories/{slug}/export.md")
    assert markdown.status_code == 200 and markdown.headers["content-type"].startswith("text/markdown")
    assert "La maîtrise" in markdown.text or "maîtrise" in markdown.text.lower()
    pdf = get(stack, "/v1/syntheses/network/export.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    manifesto = get(stack, "/v1/manifesto.md")
    assert manifesto.status_code == 200 and "Projet de manifeste" in manifesto.text
    assert get(stack, "/v1/manifesto.pdf").content.startswith(b"%PDF")
    assert get(stack, "/v1/syntheses/network/export.docx").status_code == 404
    assert get(stack, "/v1/syntheses/territories/nowhere-at-all/export.md").status_code == 404

    page = get(stack, f"/territories/{slug}")
    assert page.status_code == 200 and "<svg" in page.text
    cid = published_in(network, slug)[0]
    contribution = get(stack, f"/contributions/{cid}")
    assert contribution.status_code == 200
    assert stack.status(network["keys"][slug], cid)["published_text"].split()[-1] in contribution.text


def test_published_text_is_escaped_on_the_pages(stack, network):
    slug = network["places"][0][0]
    key = network["keys"][slug]
    body = "Les <b>algorithmes</b> & les <i>données</i> de la ville doivent rester publics."
    response = stack.submit(key, {"external_id": f"escape-{network['run']}", "kind": "attente", "body": body})
    cid = response.json()["accepted"][0]["id"]
    status = stack.wait_final(key, [cid])[cid]
    if status["status"] not in ("published", "published-redacted"):
        pytest.fail(f"the markup-bearing contribution was not published: {status}")
    page = wait_for(lambda: (r := get(stack, f"/contributions/{cid}")).status_code == 200 and r.text, 60,
                    what="the contribution page")
    assert "&lt;b&gt;algorithmes&lt;/b&gt; &amp; les" in page
    assert "<b>algorithmes</b>" not in page


class FitCountingCache(ClassifierCache):
    """The service's cache, counting the classifiers it fits itself."""

    fits = 0

    def _fit(self, framework, corpus):
        self.fits += 1
        return super()._fit(framework, corpus)


async def test_a_fitted_classifier_is_stored_and_another_process_takes_it(stack, network):
    """Fitting costs ~6 ms of CPU per text: a second replica, or the service after a restart, loads the
    stored classifier instead of fitting its own, and takes a newer one stored elsewhere."""
    async def stored_classifier():
        return await stack.sql("SELECT a.framework_key, a.corpus_size, c.framework FROM synthesis.axis_classifiers "
                               "a JOIN synthesis.consultations c ON a.framework_key = "
                               "(c.framework->>'id') || '@' || (c.framework->>'version') LIMIT 1")

    stored = await async_wait_for(stored_classifier, 120, what="synthesis keeping the classifier it used")
    framework = Framework.model_validate(json.loads(stored[0]["framework"]))
    text = "Les algorithmes utilisés par la mairie doivent être publiés et expliqués aux habitants."
    pool = await create_pool(stack.database_url, "synthesis", max_size=2)
    try:
        secret = stack.env()["PALABRE_SECRET_KEY"]
        other, stale, stranger = FitCountingCache(1000, secret), FitCountingCache(1000, secret), \
            FitCountingCache(1000, "another network's secret")
        async with pool.acquire() as conn:
            [assignment] = await other.classify(conn, framework, [text])
            await stale.classify(conn, framework, [text])
            assert other.fits == stale.fits == 0
            assert assignment.axis is None or assignment.axis in framework.axis_ids()
            assert await stale.refresh(conn) == []
            classifier = other._classifiers[stored[0]["framework_key"]]
            await store.save_classifier(conn, stored[0]["framework_key"], other.seal(dump_classifier(classifier)), 1)
            assert await stale.refresh(conn) == [stored[0]["framework_key"]]
            assert await stale.refresh(conn) == []
            # a classifier sealed with another secret is never unpickled: it is fitted again (in a transaction
            # rolled back, so the service's stored classifier is left as it was)
            transaction = conn.transaction()
            await transaction.start()
            try:
                await stranger.classify(conn, framework, [text])
                assert stranger.fits == 1
            finally:
                await transaction.rollback()
    finally:
        await pool.close()


@contextlib.asynccontextmanager
async def synthesis_transaction_rolled_back(stack):
    """A connection to synthesis's schema inside a transaction that is rolled back: the service's own
    state is left as it was."""
    pool = await create_pool(stack.database_url, "synthesis", max_size=1)
    try:
        async with pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            try:
                yield conn
            finally:
                await transaction.rollback()
    finally:
        await pool.close()


async def test_recomputes_rest_in_proportion_to_the_last_one(stack, network):
    """A recompute reads the whole corpus: under sustained change, the next waits (for every replica)
    `s × (1/share − 1)` after one that took s seconds, however old the requests are."""
    recorded = await async_wait_for(lambda: stack.sql("SELECT seconds, contributions FROM synthesis.last_recompute"),
                                    120, what="a recompute recorded")
    assert recorded[0]["seconds"] > 0 and recorded[0]["contributions"] > 0
    async with synthesis_transaction_rolled_back(stack) as conn:
        await conn.execute("INSERT INTO recompute_requests (scope, key, requested_at) "
                           "VALUES ('territory', 'rest-check', now() - interval '1 hour')")
        await conn.execute("UPDATE last_recompute SET finished_at = now() - interval '20 seconds', seconds = 10")
        assert ("territory", "rest-check") not in (await store.claim_due_requests(conn, 0, 3.0)).scopes
        claimed = await store.claim_due_requests(conn, 0, 1.0)
        assert ("territory", "rest-check") in claimed.scopes
        assert not claimed.asked  # a change, not a person's request


async def test_a_recompute_a_person_asked_for_is_due_at_once_while_changes_wait(stack, network):
    """While the pipeline is busy, recomputes from changes wait (`max_defer_s`); the one an admin asked for
    (`POST /v1/syntheses/recompute`) does not."""
    async with synthesis_transaction_rolled_back(stack) as conn:
        await conn.execute("DELETE FROM last_recompute")
        await store.request_recompute(conn, {("territory", "changed")})
        await store.request_recompute(conn, {("territory", "asked")}, asked=True)
        await store.request_recompute(conn, {("territory", "changed-then-asked")})
        await store.request_recompute(conn, {("territory", "changed-then-asked")}, asked=True)
        claimed = await store.claim_due_requests(conn, 300, 1.0)
        assert claimed.asked
        assert ("territory", "asked") in claimed.scopes
        assert ("territory", "changed-then-asked") in claimed.scopes
        assert ("territory", "changed") not in claimed.scopes


async def test_the_recompute_runs_in_a_worker_process_of_lower_priority_that_sees_the_pipeline(stack, network):
    """`palabre serve synthesis-worker` recomputes; the synthesis service starts no process of its own, and
    the worker reads how busy the pipeline is from what synthesis inserted."""
    service, worker = (psutil.Process(stack.services[name].process.pid) for name in ("synthesis", "synthesis-worker"))
    assert worker.nice() > service.nice()
    assert service.children() == []
    pool = await create_pool(stack.database_url, "synthesis", max_size=1)
    try:
        async def inserted():
            async with pool.acquire() as conn:
                return await store.contributions_inserted(conn) >= len(network["published"])

        await async_wait_for(inserted, 60, what="the inserted contributions in PostgreSQL's statistics")
    finally:
        await pool.close()
