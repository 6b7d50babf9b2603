import numpy as np

from services.synthesis.domain.counts import count
from services.synthesis.domain.distinctive import log_odds, strongest
from services.synthesis.domain.text import Lemmatizer, is_traceable, quote


def test_lemmas_fold_inflections_and_drop_stop_words():
    docs = Lemmatizer().docs(["Les agents municipaux sont formés aux algorithmes.", "Un agent formé à l'algorithme"])
    first, second = (set(d.split()) for d in docs)
    assert {"agent", "algorithme"} <= first & second
    assert not {"les", "sont", "aux", "un"} & (first | second)


def test_without_learning_forms_are_looked_up_and_nothing_is_learned():
    lemmatizer = Lemmatizer()
    docs = lemmatizer.docs(["Les agents municipaux sont formés aux algorithmes."], learn=False)
    assert {"agent", "algorithme", "municipal"} <= set(docs[0].split())
    assert len(lemmatizer) == 0  # nothing tagged, nothing cached as learned


def test_quote_is_the_text_or_a_word_boundary_prefix():
    text = "mot " * 200
    cut = quote(text, limit=50)
    assert cut.endswith("…") and len(cut) <= 51 and is_traceable(cut, text)
    assert quote("court") == "court" and is_traceable("court", "court")
    assert not is_traceable("autre chose…", text)


def test_counts_aggregate_every_dimension():
    rows = [("a", "attente", "elu", "en-ligne")] * 3 + [("b", "proposition", "agent", "atelier")]
    c = count(rows)
    assert c.total == 4 and c.by_axis == {"a": 3, "b": 1} and c.by_axis_kind["b"] == {"proposition": 1}
    assert sum(r.count for r in c.rows) == 4 and len(c.rows) == 2


def test_log_odds_finds_a_planted_over_represented_term():
    rng = np.random.default_rng(0)
    counts = rng.poisson(20, size=(5, 30)).astype(float)
    counts[2, 7] += 60  # territory 2 says term 7 far more than the others
    delta, z = log_odds(counts)
    names = [f"t{j}" for j in range(30)]
    top = strongest(counts[2], delta[2], z[2], names, n=3)
    assert top[0].term == "t7" and top[0].z > 3
    assert all(s.term != "t7" for i in (0, 1, 3, 4) for s in strongest(counts[i], delta[i], z[i], names))
