from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.moderation.cli import app
from services.moderation.evaluation import (
    EVASIONS,
    Case,
    LabelledDatum,
    evade,
    evaluate,
    evaluate_lille,
    load_cases,
    spelling_evasions,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
LILLE_DIR = REPO_ROOT.parent / "shared" / "data" / "decidim-lille-grand-debat"
needs_lille = pytest.mark.skipif(
    not (LILLE_DIR / "commentaires_debats.csv").exists(),
    reason=f"Lille Grand Débat comments not found at {LILLE_DIR} (../shared is absent in a user's own clone)",
)


def test_labelled_cases_cover_every_kind_and_country():
    cases = load_cases()
    assert len(cases) >= 150
    kinds = {d.kind for c in cases for d in c.personal_data}
    assert kinds == {"email", "phone", "iban", "nir", "address", "name"}
    countries = {c.id.split("-")[1] for c in cases if c.id.startswith("phone-")}
    assert countries == {"fr", "be", "ca", "ci", "ma", "cm", "de"}
    assert sum(c.violation for c in cases) >= 30
    assert len({c.id for c in cases}) == len(cases)


def test_evaluate_counts_what_was_missed():
    cases = [
        Case(id="a", body="Appelez le 06 12 34 56 78.", personal_data=[LabelledDatum(kind="phone", text="06 12 34 56 78")]),
        Case(id="b", body="Mon code secret est pomme.", personal_data=[LabelledDatum(kind="name", text="pomme")]),
        Case(id="c", body="Espèce de connard.", violation=True, grounds=["insult"]),
        Case(id="d", body="Il faudrait plus de bancs.", violation=True, grounds=["insult"]),
        Case(id="e", body="La concertation du conseil sur la consommation."),
    ]
    report = evaluate(cases)
    assert (report.personal_data_labelled, report.personal_data_masked) == (2, 1)
    assert report.data_missed == ["b:name"]
    assert (report.violations, report.violations_caught, report.violations_missed) == (2, 1, ["d"])
    assert (report.clean, report.clean_wrongly_held) == (1, 0)


@needs_lille
def test_lille_civic_comments_are_rarely_held_and_signatures_are_masked():
    report = evaluate_lille(LILLE_DIR)
    assert report.comments == 693
    assert report.held_rate < 0.03, report.held_ids
    assert report.signature_recall > 0.95


def test_cli_evaluate_prints_the_figures(tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text(
        '{"id": "x", "body": "Appelez le 06 12 34 56 78.", "personal_data": [{"kind": "phone", "text": "06 12 34 56 78"}]}\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["evaluate", "--cases", str(cases), "--lille-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "personal data recall" in result.output and "100.0 %" in result.output
    assert "skipped" in result.output


def test_an_evasion_alters_one_word_of_the_flagged_stretch_the_same_way_each_time():
    text = "Les migrants sont des parasites."
    start, end = 4, 31
    for evasion in EVASIONS:
        altered = evade(text, start, end, evasion, "case-1")
        assert altered == evade(text, start, end, evasion, "case-1") and altered != text
        assert altered[:start] == text[:start]
    assert evade(text, start, end, "letters spaced", "case-1").count(" ") > text.count(" ") + 2
    assert evade(text, 0, 3, "space missing", "case-1") is None  # no space in "Les"


def test_spelling_evasions_count_only_caught_hate_and_threats():
    cases = [
        Case(id="threat", body="Je vais tuer tous les migrants.", violation=True, grounds=["threat"]),
        Case(id="clean", body="Publier la liste des algorithmes de la mairie.", violation=False),
        Case(id="missed", body="Les algorithmes sont opaques.", violation=True, grounds=["hate"]),
    ]
    figures = {f.evasion: f for f in spelling_evasions(cases)}
    assert set(figures) == set(EVASIONS)
    assert all(f.tried == 1 and 0 <= f.still_caught <= 1 for f in figures.values())
    assert figures["leetspeak"].still_caught == 1


def test_unseen_cases_are_read_as_functional_tests_and_never_trained_on():
    from services.moderation.evaluation import UNSEEN_PATH, as_functional_tests

    unseen = load_cases(UNSEEN_PATH)
    tests = {t.id: t for t in as_functional_tests(unseen)}
    for case in unseen:
        tag = case.note.rsplit(": ", 1)[-1]
        assert tests[case.id].hateful == case.violation
        assert tests[case.id].functionality == ("threat_dir_h" if tag == "threat_direct"
                                                else f"{tag}_{'h' if case.violation else 'nh'}")
    # the training reads data/eval/cases.jsonl: none of these is there
    trained_on = {case.body.casefold() for case in load_cases()}
    assert not [case.id for case in unseen if case.body.casefold() in trained_on]
