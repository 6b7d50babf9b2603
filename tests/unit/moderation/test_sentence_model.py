"""The sentence model: a second reader for what the statement rules let through, which only ever holds."""

import json

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from services.moderation.domain.pipeline import ModerationInput, check_batch
from services.moderation.domain.policy import TerritoryPolicy
from services.moderation.domain.sentence_model import CHECK, find_model_statements, load_model, threshold_for
from services.moderation.domain.statements import SIGNAL_NAMES, WEAK, find_statements, sentence_signals
from services.moderation.evaluation import Case
from services.moderation.hatecheck import HateCheckCase
from services.moderation.training import (
    MIN_CLEAN_CASES,
    THRESHOLD_GRID,
    thresholds_keeping_clean_published,
    train,
    training_cases,
)
from shared.vocabulary import ModerationMode, Outcome

# Written for these tests, in no training set: the rules see no statement in it.
MISSED_BY_THE_RULES = "Mit den Juden kommt immer Ärger."
MISSED_BY_THE_RULES_FR = "Les Roms volent tout ce qui traîne."


def moderate(text, language="fr"):
    results, _ = check_batch([ModerationInput(contribution_id="c1", territory="t", body=text, language=language)],
                             {"t": TerritoryPolicy(mode=ModerationMode.AUTOMATIC)}, {}, detect_names=False)
    return results[0]


def model_flags(text, language="fr"):
    return find_model_statements(text, language)


def test_the_shipped_model_reads_the_signals_the_code_computes():
    model = load_model()
    assert model.signals == list(SIGNAL_NAMES)
    assert len(model.violation.coefficients) == len(model.threat.coefficients) == 384 + len(SIGNAL_NAMES)
    assert len(model.screen.coefficients) == len(SIGNAL_NAMES) + len(model.grams.vocabulary)
    assert len(model.grams.idf) == len(model.grams.vocabulary) > 1000
    assert 0 < model.screen_threshold < 1
    assert model.trained_on.get("hatecheck-tuning", 0) > 0 and model.trained_on.get("cases", 0) > 0


def test_character_grams_are_scikit_learns():
    grams = load_model().grams
    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=grams.ngram_range, sublinear_tf=True,
                                vocabulary=grams.vocabulary)
    reference.idf_ = np.asarray(grams.idf)
    sentences = ["Les musulmns sont   partout !", "Die J00den kommen.", "Un guichet ouvert le samedi.", "zzz"]
    expected = reference.transform(sentences).toarray()
    assert np.allclose(grams.dense(sentences), expected)
    assert expected[0].any() and not expected[3].any()


def test_only_a_sentence_the_screen_finds_possibly_hateful_is_embedded(monkeypatch):
    import services.moderation.domain.sentence_model as sentence_model

    embedded = []
    real_embed = sentence_model.embed
    monkeypatch.setattr(sentence_model, "embed", lambda sentences: embedded.extend(sentences) or real_embed(sentences))
    model = load_model()
    sentences = ["Les habitants du quartier demandent un guichet ouvert le samedi.", MISSED_BY_THE_RULES_FR]
    readings = sentence_model.score_sentences(model, sentences, [sentence_signals(t, whole=True)[0] for t in sentences])
    assert embedded == [MISSED_BY_THE_RULES_FR]
    assert readings[0] == (0.0, 0.0)
    assert readings[1][0] >= threshold_for(model, "fr")


def test_a_hateful_sentence_the_rules_miss_is_held_for_a_person_never_rejected():
    assert find_statements(MISSED_BY_THE_RULES, "de") == []
    result = moderate(MISSED_BY_THE_RULES, "de")
    assert result.outcome == Outcome.HELD
    [flag] = [f for f in result.flags if f.check == CHECK]
    assert result.grounds == ["hate"] == [flag.ground]  # no word of violence: hate, not a threat
    assert flag.score == WEAK and flag.detail.startswith("model 0.")
    assert result.statement.automated_detection and "modèle de phrases" in result.statement.automated_means


def test_the_rules_outcome_alone_leaves_the_model_out():
    results, _ = check_batch([ModerationInput(contribution_id="c1", territory="t", body=MISSED_BY_THE_RULES,
                                              language="de")], {}, {}, detect_names=False, read_sentences=False)
    assert results[0].outcome == Outcome.PUBLISHED and results[0].flags == []


def test_the_span_is_the_sentence_itself():
    text = f"Guten Abend. {MISSED_BY_THE_RULES} Danke für die Einladung zur Debatte."
    [flag] = model_flags(text, "de")
    assert text[flag.start:flag.end] == MISSED_BY_THE_RULES


@pytest.mark.parametrize("held,contrast,language", [
    # negated, framed and denounced, quoted and reported, others' opinion: the rules' to judge; asked in
    # disbelief: read, and not held
    (MISSED_BY_THE_RULES_FR, "Les Roms ne volent pas plus que les autres.", "fr"),
    (MISSED_BY_THE_RULES_FR, "Dire que les Roms volent tout ce qui traîne, c'est du racisme.", "fr"),
    (MISSED_BY_THE_RULES_FR, "« Les Roms volent tout ce qui traîne » : voilà ce qu'on lit sur les réseaux.", "fr"),
    (MISSED_BY_THE_RULES_FR, "Ceux qui pensent que les Roms volent tout ce qui traîne se trompent.", "fr"),
    (MISSED_BY_THE_RULES_FR, "Comment peut-on croire que les Roms volent tout ce qui traîne ?", "fr"),
    (MISSED_BY_THE_RULES, "Mit den Juden kommt nie Ärger.", "de"),
    (MISSED_BY_THE_RULES, "Wer sagt, dass mit den Juden immer Ärger kommt, lügt.", "de"),
    # longer than any sentence it was trained on
    (MISSED_BY_THE_RULES, "Mit den Juden kommt immer Ärger, sagen manche am Stammtisch, wenn sie über die neue Synagoge, "
                          "die Schule, den Markt, das Rathaus und die Zukunft unserer kleinen Stadt am Fluss reden.", "de"),
])
def test_what_the_model_holds_and_the_contrasts_it_leaves_to_the_rules(held, contrast, language):
    assert model_flags(held, language)
    assert model_flags(contrast, language) == []


@pytest.mark.parametrize("text", [
    "Les élus doivent rendre des comptes sur les algorithmes.",  # a role, not a protected group
    "Les musulmans ? Je les respecte, comme tout le monde.",  # a fragment, read with what follows
    "Les musulmans prient ici.",  # short and without a cue: read alone it scores like hate
    "La mosquée a ouvert ses portes.\n\nLes musulmans prient ici.\n\nMerci.",  # blank lines are no sentences
])
def test_sentences_the_model_does_not_hold(text):
    assert model_flags(text) == []


@pytest.mark.parametrize("text,language", [
    ("Les associations de personnes handicapées demandent des formulaires accessibles.", "fr"),
    ("Viele Flüchtlinge arbeiten heute in der Pflege.", "de"),
    ("Les femmes doivent pouvoir signaler un biais de l'algorithme.", "fr"),
])
def test_neutral_and_positive_mentions_of_groups_stay_published(text, language):
    assert moderate(text, language).outcome == Outcome.PUBLISHED


def test_sentences_already_flagged_by_the_rules_are_not_read_again():
    text = "Je déteste les musulmans."
    assert find_statements(text)
    assert find_model_statements(text, "fr", found=find_statements(text)) == []


def test_a_suspect_word_alone_does_not_spare_a_sentence_the_model():
    from services.moderation.domain.flags import Flag

    suspect = Flag(check="abuse", ground="hate", start=0, end=9, score=0.35, term="x", detail="suspect")
    assert find_model_statements(MISSED_BY_THE_RULES, "de", found=[suspect])
    assert find_model_statements(MISSED_BY_THE_RULES, "de", found=[suspect.model_copy(update={"score": WEAK})]) == []


def test_only_languages_it_was_trained_on_are_read():
    assert find_model_statements(MISSED_BY_THE_RULES, "es") == []


def test_signals_of_a_sentence():
    [negated, plain, short] = sentence_signals("Je ne hais pas les juifs. Les juifs contrôlent tous nos médias ! "
                                               "Les juifs sont partout !")
    assert {"negation", "group"} <= negated.present and not negated.for_the_model
    assert {"group", "cue"} <= plain.present and plain.for_the_model
    assert {"group", "short"} <= short.present and "cue" not in short.present and not short.for_the_model


@pytest.mark.parametrize("text,language,negated", [
    ("Je ne hais pas les juifs.", "fr", True),
    ("Ich habe nichts gegen Muslime.", "de", True),
    ("Les migrants n'apportent que des problèmes.", "fr", False),  # "ne … que" restricts
    ("Ces femmes ne sont rien d'autre que des cafards.", "fr", False),
    ("Diese Flüchtlinge sind nichts als Parasiten.", "de", False),
    ("Nous allons chasser ces migrants sans aucune pitié.", "fr", False),  # "sans aucune" intensifies
    ("Fraun wie ihr seid widerwärtig.", "de", False),  # a French "n'" is no German negation
])
def test_what_negates_a_sentence_for_the_model(text, language, negated):
    [signals] = sentence_signals(text, language)
    assert ("negation" in signals.present) is negated


def test_others_opinions_are_left_to_the_rules_and_questions_are_read():
    [hedged] = sentence_signals("Ceux qui pensent que les Noirs sont inférieurs se trompent.")
    [asked] = sentence_signals("Pourquoi les femmes se plaignent-elles toujours ?")
    assert "hedge" in hedged.present and not hedged.for_the_model
    assert "question" in asked.present and asked.for_the_model


def test_training_takes_hate_and_threat_labels_and_never_the_report_part():
    cases = [Case(id="a", body="Je vais tuer les X.", violation=True, grounds=["threat"]),
             Case(id="b", body="Sale con.", violation=True, grounds=["insult"]),
             Case(id="c", body="Des bornes accessibles.")]
    hatecheck = [HateCheckCase(id=f"h{part}", language="de", functionality="threat_dir_h", text="…", hateful=True,
                               target="x", template_root="r", part=part) for part in ("tuning", "report")]
    out = training_cases(cases, hatecheck)
    assert [(c.violation, c.threat) for c in out] == [(True, True), (False, False), (False, False), (True, True)]
    assert [c.source for c in out] == ["cases", "cases", "cases", "hatecheck-tuning"]


def test_a_model_trained_here_round_trips_and_is_cross_validated_by_group():
    hateful = ["Je déteste les {}.", "Les {} sont des parasites.", "Il faut chasser les {} du pays.",
               "Les {} ne méritent pas de vivre.", "Je vais frapper les {}."]
    neutral = ["Les {} demandent des démarches plus simples.", "J'ai rencontré des {} à la mairie.",
               "Les {} participent au débat.", "Un guichet pour les {} serait utile.", "Les {} votent dimanche."]
    groups = ["musulmans", "juifs", "femmes", "migrants", "handicapés", "homosexuels"]
    cases = [Case(id=f"{kind}-{i}-{g}", body=t.format(g), violation=kind == "h",
                  grounds=([] if kind == "n" else ["threat"] if "frapper" in t else ["hate"]))
             for kind, texts in (("h", hateful), ("n", neutral)) for i, t in enumerate(texts) for g in groups]
    model, held_out = train(training_cases(cases, []), threshold=0.8)
    again = type(model).model_validate(json.loads(model.model_dump_json()))
    assert again.model_dump() == model.model_dump()
    assert model.grams.vocabulary and "mus" in model.grams.vocabulary
    # each case has a model trained without it, which never saw its text
    assert set(held_out) == {f"cases:{c.id}" for c in cases}
    unseen = held_out[f"cases:{cases[0].id}"]
    assert unseen is not model and unseen.trained_on["cases"] < model.trained_on["cases"]
    figures = model.cross_validation["by_threshold"]
    assert [f["threshold"] for f in figures] == [0.6, 0.7, 0.8, 0.9]
    assert figures[0]["own_clean"] == len(neutral) * len(groups)


def test_each_language_has_the_threshold_its_clean_cases_allow():
    model = load_model()
    assert set(model.thresholds) == {"fr", "de"} and all(t in THRESHOLD_GRID for t in model.thresholds.values())
    assert threshold_for(model, "de") == model.thresholds["de"]
    assert threshold_for(model, "en") == model.threshold


def test_a_language_with_too_few_clean_cases_keeps_the_default_threshold():
    few = [Case(id=f"c{i}", body="Les habitants demandent des horaires plus larges.") for i in range(MIN_CLEAN_CASES - 1)]
    assert thresholds_keeping_clean_published({f"cases:{c.id}": load_model() for c in few}, few) == {}


def test_warming_up_loads_the_encoder_before_a_contribution_needs_it():
    import services.moderation.domain.sentence_model as sentence_model

    sentence_model._loaded_encoder.cache_clear()
    sentence_model.warm_up()
    assert sentence_model._loaded_encoder.cache_info().currsize == 1
