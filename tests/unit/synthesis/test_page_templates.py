"""The pages render a view's per-framework sections, weighted support and quoted singularities, escaped, and
still render a synthesis stored before those fields existed."""

from services.synthesis.ui.routes import render

NEW = {"label": "Une <phrase>", "territories_count": 2, "territories": ["x", "y"], "countries_count": 1,
       "contributions_count": 3, "support_weighted": 2.0, "variants_count": 2,
       "representative": {"contribution_id": "c1", "text": "Texte <script>"},
       "quotes": [{"contribution_id": "c2", "text": "Une autre voix"}]}
OLD = {"label": "Ancienne", "territories_count": 1, "territories": ["x"], "countries_count": 1,
       "contributions_count": 1, "variants_count": 1, "representative": {"contribution_id": "c3", "text": "Vieux"}}


def view(**changes):
    return {"scope": "network", "key": "network", "version": 3, "computed_at": "2026-12-06T10:00:00",
            "computed_contributions_count": 3, "contributions_count": 3, "axes": [], "counts": [],
            "frameworks": [
                {"framework": {"id": "grand-debat", "version": "1", "title": "Grand <b>débat</b>"},
                 "contributions_count": 3, "unclassified_count": 0, "axes": [{"id": "a", "label": "Axe A", "count": 3}]},
                {"framework": {"id": "autre", "version": "1", "title": None}, "contributions_count": 1,
                 "unclassified_count": 0, "axes": [{"id": "a", "label": "Axe A de l'autre cadre", "count": 1}]}],
            "proposals": [NEW, OLD], "convergences": [],
            "distinctive": [{"territory": "x", "contributions_count": 2, "axes": [], "terms": [],
                             "said_more": [{"term": "compost", "z": 3.1, "count": 2,
                                            "quote": {"contribution_id": "c1", "text": "Du compost <i>"}}]},
                            {"territory": "y", "contributions_count": 2, "axes": [], "terms": []}], **changes}


def page(name: str, **context) -> str:
    return render(name, title="T", charts=[], territories=[], countries=[], export_base="/x", kind_labels={},
                  **context).body.decode()


def test_the_scope_page_shows_each_framework_apart_and_quotes_what_a_territory_says_more():
    html = page("synthesis.html", view=view())
    assert html.index("Grand &lt;b&gt;débat&lt;/b&gt;") < html.index("Axe A de l&#39;autre cadre")  # most used first
    assert 'id="cadre-grand-debat"' in html and 'id="cadre-autre"' in html
    assert "Du compost &lt;i&gt;" in html and 'href="/contributions/c1"' in html


def test_the_manifesto_page_shows_weighted_support_and_every_quote():
    html = page("manifesto.html", view=view())
    assert "2.0 une" in html and "répétitions d'un même" in html
    assert "Une autre voix" in html and "Texte &lt;script&gt;" in html
    assert "Vieux" in html  # a cluster stored before weighted support existed still shows


def test_each_framework_section_of_a_page_links_to_its_own_exports():
    html = page("synthesis.html", view=view())
    for framework in ("grand-debat", "autre"):
        for suffix in ("", "/export.md", "/export.pdf", "/export.csv", "/manifesto.md"):
            assert f'href="/v1/syntheses/frameworks/{framework}{suffix}"' in html
        assert f'href="/frameworks/{framework}"' in html
    assert 'href="/x/export.csv"' in html
