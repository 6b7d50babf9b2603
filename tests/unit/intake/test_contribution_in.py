from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared.contribution import (
    BODY_MAX,
    ContributionBatch,
    ContributionIn,
    normalize_language_tag,
    normalize_text,
)
from shared.vocabulary import AuthorRole, Channel, Kind

VALID = {
    "external_id": "dec-457",
    "consultation": "nantes-ia-2024",
    "axis": "services-publics",
    "kind": "proposition",
    "author_role": "usager",
    "channel": "atelier",
    "language": "fr",
    "title": "Un titre",
    "body": "Que l'IA reste sous contrôle humain.",
    "submitted_at": "2024-09-18T14:30:00+02:00",
    "author_ref": "a1b2c3",
}


def errors_of(**changes):
    with pytest.raises(ValidationError) as caught:
        ContributionIn.model_validate({**VALID, **changes})
    return {(e["loc"][0] if e["loc"] else None): e["msg"] for e in caught.value.errors()}


def test_valid_contribution_keeps_every_field():
    c = ContributionIn.model_validate(VALID)
    assert c.kind is Kind.PROPOSITION
    assert c.author_role is AuthorRole.USAGER
    assert c.channel is Channel.ATELIER
    assert c.submitted_at == datetime(2024, 9, 18, 12, 30, tzinfo=UTC)
    assert c.axis == "services-publics"


def test_only_external_id_and_body_are_required():
    c = ContributionIn(external_id="x", body="y")
    assert c.kind is None and c.language is None and c.submitted_at is None
    assert set(errors_of(body=None)) == {"body"}
    with pytest.raises(ValidationError) as caught:
        ContributionIn.model_validate({"body": "y"})
    assert caught.value.errors()[0]["loc"] == ("external_id",)


def test_unknown_field_is_named():
    assert errors_of(texte="hello") == {"texte": "Extra inputs are not permitted"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("kind", "Proposition"), ("kind", "idée"), ("author_role", "citoyen"), ("channel", "email")],
)
def test_wrong_enum_value_lists_the_allowed_ones(field, value):
    message = errors_of(**{field: value})[field]
    assert message.startswith("Input should be")


def test_naive_date_is_refused():
    assert "timezone" in errors_of(submitted_at="2024-09-18T14:30:00")["submitted_at"]


def test_date_must_be_a_date():
    assert "submitted_at" in errors_of(submitted_at="demain")


def test_oversize_body_and_title():
    assert "at most 20000" in errors_of(body="a" * (BODY_MAX + 1))["body"]
    assert ContributionIn(external_id="x", body="a" * BODY_MAX).body == "a" * BODY_MAX
    assert "at most 300" in errors_of(title="t" * 301)["title"]


def test_body_limit_applies_after_normalisation():
    # 20,000 letters plus surrounding spaces and control characters: fits once cleaned
    c = ContributionIn(external_id="x", body="  " + "a" * BODY_MAX + "\x00\x07  ")
    assert len(c.body) == BODY_MAX


@pytest.mark.parametrize("body", ["", "   ", "\n\t ", "\x00\x1b\x7f", "\u0085 \x9f"])
def test_empty_body_after_trim_is_refused(body):
    assert "must not be empty" in errors_of(body=body)["body"]


def test_control_characters_are_removed_but_newlines_and_tabs_kept():
    c = ContributionIn(external_id="x", body="a\x00b\x1bc\td\r\ne\rf\u2028g\x7fh")
    assert c.body == "ab" + "c\td\ne\nf\ngh"


def test_unicode_is_nfc():
    decomposed = "Cafe\u0301 e\u0301lu"
    c = ContributionIn(external_id="x", body=decomposed, title=decomposed)
    assert c.body == "Café élu" and c.title == "Café élu"


def test_lone_surrogates_are_removed():
    assert ContributionIn(external_id="x", body="ok\ud800").body == "ok"


def test_external_id_rules():
    assert ContributionIn(external_id="  42 ", body="b").external_id == "42"
    assert ContributionIn(external_id=42, body="b").external_id == "42"
    assert "printable" in errors_of(external_id="a\nb")["external_id"]
    assert "must not be empty" in errors_of(external_id="  ")["external_id"]
    assert "at most 200" in errors_of(external_id="x" * 201)["external_id"]
    assert "external_id" in errors_of(external_id=True)


def test_blank_optional_fields_mean_absent():
    c = ContributionIn(external_id="x", body="b", title="  ", language="", axis="", author_ref=" ")
    assert (c.title, c.language, c.axis, c.author_ref) == (None, None, None, None)


@pytest.mark.parametrize("slug", ["Services publics", "services_publics", "-x", "a--b", "é"])
def test_axis_and_consultation_are_slugs(slug):
    assert "slug" in errors_of(axis=slug)["axis"]
    assert "slug" in errors_of(consultation=slug)["consultation"]


def test_author_ref_limit():
    assert "at most 200" in errors_of(author_ref="r" * 201)["author_ref"]


@pytest.mark.parametrize(
    ("tag", "canonical"),
    [("fr", "fr"), ("fr-ca", "fr-CA"), ("AR-MA", "ar-MA"), ("fr_BE", "fr-BE"), ("zh-hant-tw", "zh-Hant-TW"),
     ("es-419", "es-419"), ("en-US-x-twain", "en-US-x-twain"), ("de-CH-1996", "de-CH-1996")],
)
def test_language_tags_are_validated_and_canonical(tag, canonical):
    assert normalize_language_tag(tag) == canonical
    assert ContributionIn(external_id="x", body="b", language=tag).language == canonical


@pytest.mark.parametrize("tag", ["french", "f", "fr-", "fr--CA", "12", "fr-CA-x", "fr CA", "français"])
def test_bad_language_tags_are_refused(tag):
    assert "BCP 47" in errors_of(language=tag)["language"]


def test_model_is_frozen():
    c = ContributionIn(external_id="x", body="b")
    with pytest.raises(ValidationError):
        c.body = "other"


def test_batch_bounds():
    one = {"external_id": "x", "body": "b"}
    assert len(ContributionBatch.model_validate({"contributions": [one] * 1000}).contributions) == 1000
    for size in (0, 1001):
        with pytest.raises(ValidationError) as caught:
            ContributionBatch.model_validate({"contributions": [one] * size})
        assert caught.value.errors()[0]["loc"] == ("contributions",)
    with pytest.raises(ValidationError):
        ContributionBatch.model_validate({"contributions": [one], "more": 1})


def test_batch_error_points_at_the_bad_item():
    with pytest.raises(ValidationError) as caught:
        ContributionBatch.model_validate({"contributions": [{"external_id": "a", "body": "b"}, {"external_id": "c"}]})
    assert caught.value.errors()[0]["loc"] == ("contributions", 1, "body")


def test_normalize_text_is_idempotent_on_examples():
    for text in ["  a\r\nb  ", "e\u0301", "\x00x\x00", "tab\there"]:
        once = normalize_text(text)
        assert normalize_text(once) == once


def test_question_answered_is_optional_and_bounded():
    assert ContributionIn.model_validate(VALID).question is None
    question = "Faut-il reconnaître le vote blanc ?"
    assert ContributionIn.model_validate({**VALID, "question": question}).question == question
    assert ContributionIn.model_validate({**VALID, "question": "  "}).question is None
    assert "question" in errors_of(question="q" * 1001)
