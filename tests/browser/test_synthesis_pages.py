"""The synthesis pages in a real browser: charts drawn as SVG bars, quotes that lead to their contribution,
the manifesto draft; screenshots kept under var/screenshots/ for a person to look at."""

import re
import secrets
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.harness import wait_for

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

SAYINGS = [
    ("maitrise", "proposition", "Publier un registre public des algorithmes utilisés par la ville."),
    ("maitrise", "vigilance", "Un humain doit relire chaque décision prise avec un algorithme."),
    ("sobriete", "proposition", "Mesurer la consommation d'énergie des serveurs et la publier."),
    ("sobriete", "attente", "Des centres de données moins gourmands en eau et en électricité."),
    ("travail", "proposition", "Former les agents aux outils avant de changer leur travail."),
    ("travail", "vigilance", "Aucun poste d'agent ne doit disparaître à cause de l'automatisation."),
    ("services-publics", "attente", "Garder un accueil humain au guichet pour les démarches."),
    ("services-publics", "vigilance", "Les personnes âgées ne doivent pas subir la fracture numérique."),
    (None, "proposition", "Publier chaque année la liste des algorithmes et leur consommation d'énergie."),
    (None, "attente", "Pouvoir toujours parler à un agent plutôt qu'à un robot au téléphone."),
]
OPENINGS = ["", "Pour nous : ", "Notre atelier dit : "]


@pytest.fixture(scope="module")
def synthesis_network(stack):
    run = secrets.token_hex(3)
    places = [(f"pg-{run}-tours", "FR"), (f"pg-{run}-angers", "FR"), (f"pg-{run}-namur", "BE")]
    for index, (slug, country) in enumerate(places):
        key = stack.create_territory(slug, country)
        response = stack.submit(key, {"contributions": [
            {"external_id": f"p-{i}", "kind": kind, "body": OPENINGS[index] + text, **({"axis": axis} if axis else {})}
            for i, (axis, kind, text) in enumerate(SAYINGS)]})
        assert response.status_code == 202, response.text
        stack.wait_final(key, [a["id"] for a in response.json()["accepted"]], timeout=120)

    def settled():
        doc = httpx.get(f"{stack.url('synthesis')}/v1/syntheses/territories/{places[0][0]}", timeout=30).json()
        network = httpx.get(f"{stack.url('synthesis')}/v1/syntheses/network", timeout=30).json()
        return (doc["version"] and doc["computed_contributions_count"] == doc["contributions_count"]
                and network["computed_contributions_count"] == network["contributions_count"] and doc)

    wait_for(settled, 300, what="the syntheses recomputed", interval=0.5)
    return places


@pytest.fixture
def synthesis_page(browser, stack):
    context = browser.new_context(base_url=stack.url("synthesis"), locale="fr-FR",
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


def drawn_bars(page, chart_title: str) -> int:
    """Bars of non-zero width in the chart whose accessible name is `chart_title`."""
    return page.locator(f'svg[aria-label="{chart_title}"] rect').evaluate_all(
        "rects => rects.filter(r => parseFloat(r.getAttribute('width')) > 0 && parseFloat(r.getAttribute('height')) > 12).length")


def test_the_network_page_draws_its_charts(synthesis_network, synthesis_page):
    page = synthesis_page
    page.goto("/")
    expect(page.locator("h1")).to_have_text("Synthèse du réseau")
    assert drawn_bars(page, "Contributions par axe") >= 4
    assert drawn_bars(page, "Nature des contributions par axe") >= 4
    assert drawn_bars(page, "Comparaison des territoires, par axe") >= 3
    for slug, _ in synthesis_network:
        expect(page.locator(f'nav a[href="/territories/{slug}"]')).to_have_count(1)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "synthesis-network.png"), full_page=True)


def test_a_quote_leads_to_its_contribution(synthesis_network, synthesis_page, stack):
    page = synthesis_page
    slug, _ = synthesis_network[0]
    page.goto(f"/territories/{slug}")
    assert drawn_bars(page, "Contributions par axe") >= 3
    page.screenshot(path=str(SCREENSHOTS / "synthesis-territory.png"), full_page=True)
    quote = page.locator("blockquote").first
    quoted = quote.inner_text().split("»")[0].strip(" «\u00a0")
    quote.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/contributions/[0-9a-f-]{36}$"))
    published = page.locator("blockquote.published").inner_text()
    assert published == quoted or (quoted.endswith("…") and published.startswith(quoted[:-1]))
    expect(page.locator("table")).to_contain_text("sous-thème")


def test_the_manifesto_draft(synthesis_network, synthesis_page):
    page = synthesis_page
    page.goto("/manifesto")
    expect(page.locator("h1")).to_have_text("Projet de manifeste")
    expect(page.locator("ol > li").first).to_be_visible()
    assert page.locator('a[href="/v1/manifesto.pdf"]').count() == 1
    page.screenshot(path=str(SCREENSHOTS / "synthesis-manifesto.png"), full_page=True)
