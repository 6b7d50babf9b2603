"""The UI's pure parts: flagged spans cut into pieces (escaped by the template), the string catalogues."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jinja2

from services.moderation.ui.highlight import pieces
from services.moderation.ui.i18n import CATALOGUE_DIR, LANGUAGES, catalogue
from services.moderation.ui.routes import audit_trail

TEMPLATES = Path(__file__).resolve().parents[3] / "services" / "moderation" / "ui"


def test_flagged_spans_become_marked_pieces_and_the_rest_stays_plain():
    text = "Appelez Jean Dupont au 06 12 34 56 78 demain."
    flags = [
        {"ground": "personal-data", "kind": "name", "start": 8, "end": 19, "field": "body"},
        {"ground": "personal-data", "kind": "phone", "start": 23, "end": 37, "field": "body"},
        {"ground": "insult", "start": 0, "end": 5, "field": "title"},  # another field: ignored here
    ]
    result = pieces(text, flags)
    assert "".join(p.text for p in result) == text
    assert [(p.text, p.kinds) for p in result if p.flagged] == [("Jean Dupont", ("name",)),
                                                               ("06 12 34 56 78", ("phone",))]


def test_overlapping_flags_give_their_piece_both_grounds_and_bad_offsets_are_clipped():
    text = "abcdefghij"
    flags = [{"ground": "insult", "start": 2, "end": 6}, {"ground": "hate", "start": 4, "end": 8},
             {"ground": "spam", "start": 9, "end": 400}, {"ground": "spam", "start": 50, "end": 60}]
    result = pieces(text, flags)
    assert "".join(p.text for p in result) == text
    assert [(p.text, p.grounds) for p in result] == [
        ("ab", ()), ("cd", ("insult",)), ("ef", ("insult", "hate")), ("gh", ("hate",)), ("i", ()),
        ("j", ("spam",)),
    ]


def test_marked_text_is_escaped_by_the_template():
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES / "templates"), autoescape=True)
    macros = environment.get_template("_macros.html").make_module({"ground_label": str, "t": str})
    text = '<script>alert(1)</script> <img src=x onerror="x()">'
    html = str(macros.marked(pieces(text, [{"ground": "spam", "start": 0, "end": 8}])))
    assert "<script>" not in html and "<img" not in html
    assert '<mark class="flag"' in html and "&lt;script&gt;" in html and "&lt;img src=x" in html


def test_both_catalogues_hold_every_string_the_ui_uses():
    keys = {language: set(catalogue(language)) for language in LANGUAGES}
    assert keys["fr"] == keys["en"]
    sources = [p.read_text() for p in (TEMPLATES / "templates").glob("*.html")] + [(TEMPLATES / "routes.py").read_text()]
    used = {key for source in sources for key in re.findall(r"""t\(["']([a-z0-9-]+\.[a-z0-9.-]*[a-z0-9])["']""", source)}
    used |= {key for source in sources for key in re.findall(r'"((?:error|login)\.[a-z.-]+[a-z])"', source)
             if not key.endswith(".html")}
    assert used, "no string found: the pattern no longer matches the templates"
    assert used - keys["fr"] == set()
    assert sorted(p.stem for p in CATALOGUE_DIR.glob("*.json")) == sorted(LANGUAGES)


def test_the_audit_trail_lists_decisions_axis_corrections_and_appeals_in_the_order_they_happened():
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    at = [start + timedelta(minutes=m) for m in range(6)]
    decisions = [{"decided_at": at[0], "who": "automated"}, {"decided_at": at[3], "who": "appeal ruling"}]
    corrections = [{"corrected_at": at[1], "who": "first correction"}, {"corrected_at": at[5], "who": "second"}]
    appeals = [{"filed_at": at[2], "who": "appeal"}]
    trail = audit_trail(decisions, corrections, appeals)
    assert [(kind, row["who"]) for kind, row in trail] == [
        ("decision", "automated"), ("axis", "first correction"), ("appeal", "appeal"),
        ("decision", "appeal ruling"), ("axis", "second"),
    ]
