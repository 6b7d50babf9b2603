import pytest

from services.intake.domain import language
from services.intake.domain.language import detect_language, detect_languages

SAMPLES = {
    "fr": "La collectivité doit expliquer quels algorithmes elle utilise et comment les habitants peuvent "
    "contester une décision automatique.",
    "en": "We need clear rules about how artificial intelligence is used in public services and who is "
    "accountable when it fails.",
    "de": "Die Stadt sollte offenlegen, welche Algorithmen bei der Vergabe von Sozialleistungen eingesetzt "
    "werden und wer sie kontrolliert.",
    "nl": "De gemeente moet uitleggen welke algoritmes worden gebruikt en hoe burgers bezwaar kunnen maken "
    "tegen een beslissing.",
    "es": "El ayuntamiento debe explicar qué algoritmos utiliza y cómo los ciudadanos pueden oponerse a una "
    "decisión automática.",
    "it": "Il comune deve spiegare quali algoritmi utilizza e come i cittadini possono opporsi a una "
    "decisione automatica.",
    "pt": "A prefeitura deve explicar quais algoritmos usa e como os cidadãos podem contestar uma decisão "
    "automática.",
    "ar": "يجب على البلدية أن تشرح الخوارزميات التي تستخدمها وكيف يمكن للمواطنين الاعتراض على قرار آلي.",
}


def test_each_network_language_is_recognised_in_one_batch():
    codes = list(SAMPLES)
    assert detect_languages([SAMPLES[c] for c in codes]) == codes


def test_order_is_kept_when_quick_and_model_answers_mix():
    texts = [SAMPLES["en"], SAMPLES["fr"], SAMPLES["ar"], "Oui", SAMPLES["de"]]
    assert detect_languages(texts) == ["en", "fr", "ar", "fr", "de"]


@pytest.mark.parametrize("text", ["Oui", "100 %", "", "   ", "on est raccord ;)", "Non"])
def test_short_or_unclear_text_gets_the_default(text):
    assert detect_language(text) == "fr"
    assert detect_language(text, default="en") == "en"


def test_french_with_an_english_quote_stays_french():
    text = "Nous pensons que le slogan « AI for good » est trop vague et il faut des règles claires pour tous."
    assert detect_language(text) == "fr"


def test_quick_path_does_not_claim_other_languages_for_french():
    # the function-word shortcut must leave non-French text to the model
    for code, text in SAMPLES.items():
        if code not in ("fr", "ar"):
            assert language._quick(text) is None, code


def test_empty_batch():
    assert detect_languages([]) == []


def test_detector_is_built_once():
    assert language.detector() is language.detector()
