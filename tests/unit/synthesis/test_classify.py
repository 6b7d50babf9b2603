import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from shared.frameworks import default_framework
from services.synthesis.domain.classify import (
    AxisClassifier,
    PrototypeClassifier,
    multinomial_proba,
    tfidf_rows,
    unigrams_and_bigrams,
)

PROBES = {
    "sobriete": "La consommation d'électricité des centres de données et leur empreinte carbone m'inquiètent.",
    "travail": "Il faut former les agents et protéger leurs emplois.",
    "maitrise": "Transparence des algorithmes et protection des données personnelles.",
    "services-publics": "Garder un accueil humain au guichet de la mairie pour les personnes âgées.",
    "conditions": "Évaluer chaque projet et respecter le RGPD avant tout marché public.",
}


@pytest.fixture(scope="module")
def classifier(phrases):
    corpus = [p for texts in phrases.values() for p in texts]
    return AxisClassifier(default_framework()).fit(corpus)


@pytest.mark.parametrize("axis", sorted(PROBES))
def test_clear_french_probes_land_on_their_axis(classifier, axis):
    assert classifier.predict([PROBES[axis]])[0].axis == axis


def test_lean_transform_and_probabilities_equal_scikit_learns_bit_for_bit(classifier, phrases):
    """The live path skips scikit-learn's input checks; what it computes must stay exactly what
    `TfidfVectorizer.transform` and `LogisticRegression.predict_proba` compute (a change in either fails here)."""
    texts = [p for ps in phrases.values() for p in ps][:300] + list(PROBES.values())
    texts += ["", "Zorglub zorglub zorglub", "données données personnelles données", texts[0] + " " + texts[0]]
    docs = classifier.lemmatizer.docs(texts, learn=False)
    for batch in (docs, docs[:1], docs[-4:]):
        expected = classifier.vectorizer.transform(batch)
        got = tfidf_rows(classifier.vectorizer, batch)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        for part in ("indptr", "indices", "data"):
            assert np.array_equal(getattr(got, part), getattr(expected, part)), part
        assert np.array_equal(multinomial_proba(classifier.model, got), classifier.model.predict_proba(expected))
    for settings in ({"binary": True}, {"norm": "l1"}, {"use_idf": False}):  # set otherwise: still the same
        vectorizer = TfidfVectorizer(token_pattern=r"\S+", sublinear_tf=True, **settings).fit(docs)
        assert np.array_equal(tfidf_rows(vectorizer, docs).toarray(), vectorizer.transform(docs).toarray())


def test_the_fast_analyser_reads_the_terms_scikit_learns_word_bigrams_read(classifier, phrases):
    """The vectorisers read docs with `unigrams_and_bigrams`; it must give exactly what scikit-learn's own
    word analyser with the same settings gives, so vocabularies, counts and stored models stay the same."""
    texts = [p for ps in phrases.values() for p in ps][:300]
    docs = classifier.lemmatizer.docs(texts, learn=False)
    docs += ["", "seul", "deux mots", "  espaces   en\ttrop\n", "a\u00a0b\u2003c", "x" * 3]
    reference = TfidfVectorizer(token_pattern=r"\S+", lowercase=False, ngram_range=(1, 2)).build_analyzer()
    for doc in docs:
        assert unigrams_and_bigrams(doc) == reference(doc), doc
    fast = TfidfVectorizer(analyzer=unigrams_and_bigrams, sublinear_tf=True).fit(docs)
    slow = TfidfVectorizer(token_pattern=r"\S+", lowercase=False, ngram_range=(1, 2), sublinear_tf=True).fit(docs)
    assert fast.vocabulary_ == slow.vocabulary_
    assert np.array_equal(fast.transform(docs).toarray(), slow.transform(docs).toarray())


def test_no_evidence_means_not_classified(classifier):
    for text in ["Bonjour, merci.", "Le chat dort sur le canapé bleu."]:
        got = classifier.predict([text])[0]
        assert got.axis is None and got.confidence < classifier.threshold


def test_baseline_also_refuses_texts_without_known_terms():
    base = PrototypeClassifier(default_framework()).fit([])
    assert base.predict(["Le chat dort sur le canapé bleu."])[0].axis is None


def test_corrections_teach_new_words():
    framework = default_framework()
    text = "Le projet Zorglub de la métropole"
    before = AxisClassifier(framework).fit([text]).predict([text])[0]
    examples = [("Zorglub doit être évalué par les agents", "travail"), ("Zorglub et les métiers", "travail")]
    after = AxisClassifier(framework).fit([text], examples).predict([text])[0]
    assert after.axis == "travail"
    assert after.scores["travail"] > before.scores.get("travail", 0)


def test_the_question_answered_places_a_text_that_says_little():
    framework = default_framework()
    reply = "Je suis tout à fait d'accord avec vous."
    question = "Comment garder un accueil humain au guichet de la mairie pour les personnes âgées ?"
    corpus = [p for p in ["Former les agents avant de changer leurs métiers.",
                          "Publier le code des algorithmes utilisés par la collectivité.", reply]]
    classifier = AxisClassifier(framework).fit(corpus)
    lem = classifier.lemmatizer
    assert classifier.predict_docs(lem.docs([reply]))[0].axis is None
    placed = classifier.predict_docs(lem.docs([reply]), [question])[0]
    assert placed.axis == "services-publics"
    assert classifier.predict_docs(lem.docs([reply]), [None])[0].axis is None  # no question: as before


def test_a_debate_is_learnt_from_what_is_said_under_it():
    """Refitted with the questions, a question's answers pull its unclear replies along with them."""
    framework = default_framework()
    question = "https://participation.example.org/debates/30"  # says nothing of an axis by itself
    answers = ["Les centres de données consomment trop d'électricité.",
               "L'empreinte carbone des serveurs doit baisser.", "Je partage cet avis."]
    classifier = AxisClassifier(framework)
    lem = classifier.lemmatizer
    docs = lem.docs(answers)
    assert classifier.fit_docs(docs).predict_docs(docs[2:], [question])[0].axis is None
    classifier.fit_docs(docs, (), [question] * len(answers))
    assert classifier.predict_docs(docs[2:], [question])[0].axis == "sobriete"
