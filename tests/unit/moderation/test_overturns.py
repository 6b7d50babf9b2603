"""Overturned automatic decisions: the figures per ground, and the candidate labelled cases."""

import json
import uuid

from services.moderation.domain.overturns import (
    Overturned,
    candidate_cases,
    holding_grounds,
    overturns_by_ground,
)
from services.moderation.evaluation import cases_from_jsonl


def test_figures_per_ground_in_charter_order_with_rates_both_ways():
    rows = overturns_by_ground(40, held={"spam": (5, 0), "insult": (4, 1)}, rejected_after_publication={"hate": 2})
    assert [row.ground for row in rows] == ["insult", "hate", "spam"]
    insult, hate, spam = rows
    assert (insult.held_or_rejected, insult.published_by_a_person, insult.hold_overturned_rate) == (4, 1, 0.25)
    assert (insult.rejected_after_publication, insult.publication_overturned_rate) == (0, 0.0)
    assert (hate.held_or_rejected, hate.hold_overturned_rate) == (0, None)  # nothing held: no rate, not 0 %
    assert (hate.rejected_after_publication, hate.publication_overturned_rate) == (2, 0.05)
    assert spam.hold_overturned_rate == 0.0


def test_no_publication_no_publication_rate():
    (row,) = overturns_by_ground(0, held={"threat": (1, 1)}, rejected_after_publication={})
    assert row.publication_overturned_rate is None and row.hold_overturned_rate == 1.0


def test_only_the_grounds_that_hold_count_as_automatic_holds():
    grounds = holding_grounds()
    assert {"insult", "hate", "threat"} <= set(grounds)
    assert "personal-data" not in grounds  # a strict territory's hold of a redacted text is not a judgement


def test_candidate_cases_are_redacted_labelled_by_the_person_and_loadable():
    contribution_id = str(uuid.uuid4())
    overturned = [
        Overturned(contribution_id=contribution_id, title="Écrivez à paul.martin@example.org",
                   body="Les agents sont des parasites, appelez le 06 12 34 56 78 ou paul.martin@example.org.",
                   language="fr", automatic_outcome="published-redacted", automatic_grounds=["personal-data"],
                   person_outcome="rejected", person_grounds=["hate"]),
        Overturned(contribution_id=str(uuid.uuid4()), title=None, body="Les élus sont nuls sur ce dossier.",
                   language="fr", automatic_outcome="held", automatic_grounds=["insult"],
                   person_outcome="published", person_grounds=[]),
    ]
    rejected, published = candidate_cases(overturned)
    text = json.dumps(rejected, ensure_ascii=False)
    assert "paul.martin" not in text and "06 12 34 56 78" not in text and contribution_id not in text
    assert "[courriel]" in rejected["body"] and "[téléphone]" in rejected["body"]
    assert "[courriel]" in rejected["title"]
    assert (rejected["violation"], rejected["grounds"]) == (True, ["hate"])
    assert (rejected["automatic_outcome"], rejected["person_outcome"]) == ("published-redacted", "rejected")
    assert (published["violation"], published["grounds"], published["title"]) == (False, [], None)
    assert (published["automatic_grounds"], published["person_outcome"]) == (["insult"], "published")
    assert rejected["id"] != published["id"] and rejected["id"].startswith("overturned-")
    loaded = cases_from_jsonl(json.dumps(case) for case in (rejected, published))
    assert [case.body for case in loaded] == [rejected["body"], published["body"]]


def test_the_export_refuses_a_bad_date_and_a_missing_database():
    from typer.testing import CliRunner

    from services.moderation.cli import app

    bad_date = CliRunner().invoke(app, ["disagreements", "--since", "2026-13-01"])
    assert bad_date.exit_code == 2 and "--since" in bad_date.output
    no_database = CliRunner().invoke(app, ["disagreements", "--since", "2026-11-01"],
                                     env={"PALABRE_DATABASE_URL": ""})
    assert no_database.exit_code == 2 and "PALABRE_DATABASE_URL" in no_database.output
