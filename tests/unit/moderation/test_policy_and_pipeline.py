import json

from services.moderation.domain.flags import Flag
from services.moderation.domain.pipeline import ModerationInput, check_batch, statement_for
from services.moderation.domain.policy import TerritoryPolicy, decide
from shared.frameworks import default_framework
from shared.vocabulary import ModerationMode, Outcome


def flag(ground, score, kind=None):
    return Flag(check="test", ground=ground, start=0, end=1, score=score, kind=kind)


def test_clean_is_published():
    assert decide([]).outcome == Outcome.PUBLISHED


def test_personal_data_only_is_published_redacted():
    assert decide([flag("personal-data", 0.95, "phone")]).outcome == Outcome.PUBLISHED_REDACTED


def test_a_clear_violation_is_held_unless_the_territory_allows_rejection():
    flags = [flag("insult", 0.95)]
    assert decide(flags).outcome == Outcome.HELD
    policy = TerritoryPolicy(auto_reject_grounds=frozenset({"insult"}))
    assert decide(flags, policy).outcome == Outcome.REJECTED
    assert decide([flag("insult", 0.7)], policy).outcome == Outcome.HELD  # not confident enough


def test_sure_hate_and_threats_are_rejected_in_automatic_mode_weak_evidence_held():
    for ground in ("hate", "threat"):
        sure = decide([flag(ground, 0.95)])
        assert sure.outcome == Outcome.REJECTED and sure.grounds == [ground]
        assert sure.automated_detection and sure.automated_decision
        weak = decide([flag(ground, 0.7)])
        assert weak.outcome == Outcome.HELD and weak.grounds == [ground]


def test_strict_mode_holds_sure_hate_and_keeps_rejection_as_the_suggestion():
    strict = TerritoryPolicy(mode=ModerationMode.STRICT)
    decision = decide([flag("threat", 0.95)], strict)
    assert decision.outcome == Outcome.HELD and decision.suggested_outcome == Outcome.REJECTED
    assert decision.grounds == ["threat"]
    assert decide([flag("hate", 0.7)], strict).suggested_outcome == Outcome.HELD


def test_grounds_the_charter_keeps_for_people_are_never_rejected():
    policy = TerritoryPolicy(auto_reject_grounds=frozenset({"electoral-propaganda", "defamation"}))
    assert decide([flag("electoral-propaganda", 0.99)], policy).outcome == Outcome.HELD


def test_suspect_and_off_topic_flags_only_inform():
    decision = decide([flag("insult", 0.35), flag("off-topic", 0.3)])
    assert decision.outcome == Outcome.PUBLISHED
    assert decision.flagged_grounds == ["insult", "off-topic"]


def test_strict_mode_holds_everything_but_keeps_the_suggestion():
    policy = TerritoryPolicy(mode=ModerationMode.STRICT)
    decision = decide([flag("personal-data", 0.9, "email")], policy)
    assert decision.outcome == Outcome.HELD
    assert decision.suggested_outcome == Outcome.PUBLISHED_REDACTED


def test_check_batch_end_to_end():
    framework = default_framework()
    items = [
        ModerationInput(contribution_id="c1", territory="nantes-metropole", framework=framework,
                        body="Je souhaite plus de transparence sur les algorithmes de la CAF."),
        ModerationInput(contribution_id="c2", territory="nantes-metropole", title="Contact",
                        body="Je m'appelle Jean Dupont, joignable au 06 12 34 56 78. Dupont est d'accord."),
        ModerationInput(contribution_id="c3", territory="rennes", body="Espèce de connard, je vais te tuer."),
        ModerationInput(contribution_id="c4", territory="namur", body="Bonjour, voici mon avis sur l'IA à la commune."),
    ]
    policies = {"rennes": TerritoryPolicy(auto_reject_grounds=frozenset({"threat", "insult"})),
                "namur": TerritoryPolicy(mode=ModerationMode.STRICT)}
    results, signatures = check_batch(items, policies, {})
    outcomes = {r.contribution_id: r.outcome for r in results}
    assert outcomes == {"c1": Outcome.PUBLISHED, "c2": Outcome.PUBLISHED_REDACTED, "c3": Outcome.REJECTED, "c4": Outcome.HELD}
    redacted = results[1]
    assert "Dupont" not in redacted.redacted_body and "06 12" not in redacted.redacted_body
    assert redacted.published_text == redacted.redacted_body
    assert {r.kind for r in redacted.redactions} == {"name", "phone"}
    assert results[2].published_text is None
    assert set(signatures) == {"nantes-metropole", "namur"}  # texts under eight words get no signature
    # JSON-serialisable, with the DSA fields
    payload = json.loads(results[2].model_dump_json())
    statement = payload["statement"]
    assert statement["grounds"][0]["id"] in {"threat", "insult"}
    assert statement["automated_detection"] is True and statement["automated_decision"] is True
    assert statement["redress"]["endpoint"] == "POST /v1/contributions/c3/appeal"
    assert statement["language"] == "fr"
    assert statement_for(results[1], "en").measure == "Contribution published with personal data masked."
    assert "06 12" not in results[1].model_dump_json().split('"redacted_body"')[1]


def test_flooding_signatures_round_trip():
    body = "Il faudrait que chaque algorithme utilisé par la mairie soit publié avec une explication claire pour tous."
    items = [ModerationInput(contribution_id=str(i), territory="tours", body=body) for i in range(2)]
    results, signatures = check_batch(items, {}, {}, detect_names=False)
    assert [r.outcome for r in results] == [Outcome.PUBLISHED, Outcome.HELD]
    again, _ = check_batch(items[:1], {}, signatures, detect_names=False)
    assert again[0].grounds == ["flooding"]
