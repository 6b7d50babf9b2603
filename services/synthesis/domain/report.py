"""The synthesis of a scope (network, country, territory): the entry point of the synthesis domain.

`contributions` are all the published contributions the caller holds (the network): the scope selects
what is summarised, and the rest is the background against which a territory's singularity is measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from shared.frameworks import Framework

from .classify import AxisClassifier, _evenly, tfidf_rows, unigrams_and_bigrams
from .convergence import group_convergence, rank, term_convergences
from .models import (
    AxisSource,
    AxisSummary,
    FrameworkRef,
    Placement,
    PublishedContribution,
    Scope,
    Synthesis,
)
from .proposals import proposal_clusters
from .shared import CorpusResults
from .subthemes import subthemes_of
from .text import Lemmatizer


TRANSFORM_CHUNK = 100_000  # texts vectorised at a time (the vectoriser holds each one's terms as Python ints)


@dataclass
class Analysis:
    synthesis: Synthesis
    placements: dict[str, Placement]
    silhouettes: dict[str, float | None]


def _unique_sorted(contributions: Sequence[PublishedContribution]) -> list[PublishedContribution]:
    """Sorted by id; a repeated id keeps one row chosen by content, not by arrival order."""
    rows = sorted(contributions, key=lambda c: (c.id, c.text, c.territory))
    out = []
    for c in rows:
        if not out or out[-1].id != c.id:
            out.append(c)
    return out


def _features(docs: Sequence[str], max_features: int, fit_sample: int, distinct_docs: Sequence[str],
              distinct: np.ndarray) -> tuple[sparse.csr_matrix, list[str]]:
    """TF-IDF rows of `docs` (each `distinct_docs[distinct[i]]`), fitted on an evenly spread sample."""
    vectorizer = TfidfVectorizer(analyzer=unigrams_and_bigrams, sublinear_tf=True,
                                 min_df=2 if len(docs) >= 50 else 1, max_features=max_features, dtype=np.float32)
    sample = [docs[i] for i in _evenly(len(docs), fit_sample)]
    try:
        vectorizer.fit(sample)
    except ValueError:  # nothing but stop words
        return sparse.csr_matrix((len(docs), 0), dtype=np.float32), []
    rows = sparse.vstack([tfidf_rows(vectorizer, distinct_docs[start:start + TRANSFORM_CHUNK])
                          for start in range(0, len(distinct_docs), TRANSFORM_CHUNK)], format="csr")
    return rows[distinct], vectorizer.get_feature_names_out().tolist()


def assign_axes(rows: Sequence[PublishedContribution], docs: Sequence[str], framework: Framework,
                corrections: Sequence[tuple[str, str]] = (), lemmatizer: Lemmatizer | None = None,
                example_cap: int = 30_000) -> list[Placement]:
    """Keep the axis the source (or a person) gave; classify the others, or leave them None."""
    known = set(framework.axis_ids())
    placements = []
    missing = [i for i, c in enumerate(rows) if c.axis not in known]
    labelled = [i for i, c in enumerate(rows) if c.axis in known]
    predicted = {}
    if missing:
        person = [i for i in labelled if rows[i].axis_source == AxisSource.PERSON]
        others = [i for i in labelled if rows[i].axis_source != AxisSource.PERSON]
        chosen = person + [others[j] for j in _evenly(len(others), example_cap)]
        examples = [(rows[i].text, rows[i].axis) for i in sorted(chosen)]
        examples += [(t, a) for t, a in corrections if a in known]
        clf = AxisClassifier(framework, lemmatizer=lemmatizer).fit_docs(docs, examples)
        for i, a in zip(missing, clf.predict_docs([docs[i] for i in missing])):
            predicted[i] = a
    for i, c in enumerate(rows):
        if i in predicted:
            a = predicted[i]
            placements.append(Placement(contribution_id=c.id, axis=a.axis,
                                        axis_source=AxisSource.CLASSIFIER if a.axis else None,
                                        confidence=a.confidence))
        else:
            placements.append(Placement(contribution_id=c.id, axis=c.axis,
                                        axis_source=c.axis_source or AxisSource.SOURCE))
    return placements


@dataclass
class Corpus:
    """Published contributions made ready once for every scope of a recompute: sorted, lemmatised, vectorised."""

    rows: list[PublishedContribution]
    texts: list[str]
    docs: list[str]
    X: sparse.csr_matrix
    terms: list[str]
    shown_terms: list[str] | None = None  # `terms` as written (see `Lemmatizer.written_forms`)


def prepare(contributions: Sequence[PublishedContribution], lemmatizer: Lemmatizer | None = None,
            max_features: int = 20_000, fit_sample: int = 100_000) -> Corpus:
    """Sort, lemmatise and vectorise the input once; `analyse_corpus` then summarises any scope of it."""
    lemmatizer = lemmatizer if lemmatizer is not None else Lemmatizer()
    rows = _unique_sorted(contributions)
    texts = [c.text for c in rows]
    # a text said many times (a flood, a copied answer) is lemmatised and vectorised once
    first: dict[str, int] = {}
    distinct = np.fromiter((first.setdefault(t, len(first)) for t in texts), dtype=np.int64, count=len(texts))
    distinct_docs = lemmatizer.docs(list(first))
    del first
    docs = [distinct_docs[j] for j in distinct.tolist()]
    X, terms = _features(docs, max_features, fit_sample, distinct_docs, distinct)
    forms = lemmatizer.written_forms([texts[i] for i in _evenly(len(texts), fit_sample)])
    shown = [" ".join(forms.get(lemma, lemma) for lemma in term.split()) for term in terms]
    return Corpus(rows, texts, docs, X, terms, shown)


def analyse(contributions: Sequence[PublishedContribution], framework: Framework, scope: Scope | None = None,
            corrections: Sequence[tuple[str, str]] = (), lemmatizer: Lemmatizer | None = None,
            max_features: int = 20_000, fit_sample: int = 100_000) -> Analysis:
    """The synthesis plus where each contribution of the scope landed (axis, source, confidence, sub-theme)."""
    lemmatizer = lemmatizer if lemmatizer is not None else Lemmatizer()
    corpus = prepare(contributions, lemmatizer, max_features, fit_sample)
    return analyse_corpus(corpus, framework, scope, corrections, lemmatizer)


def keep_axes(rows: Sequence[PublishedContribution], which: Sequence[int]) -> dict[int, Placement]:
    """Placements of the rows `which` that keep their axis as it is (already assigned upstream), None
    included."""
    return {i: Placement(contribution_id=rows[i].id, axis=rows[i].axis,
                         axis_source=rows[i].axis_source if rows[i].axis else None) for i in which}


def analyse_corpus(corpus: Corpus, framework: Framework, scope: Scope | None = None,
                   corrections: Sequence[tuple[str, str]] = (), lemmatizer: Lemmatizer | None = None,
                   classify: bool = True, shared: CorpusResults | None = None,
                   placed: bool = True) -> Analysis:
    """`analyse` over a prepared corpus. With `classify=False` the rows' axes are taken as they are (a
    service that assigns axes as contributions arrive), so the document agrees with its live counts;
    `shared` then carries the clusterings over the corpus from one scope to the next (see `shared`).
    With `placed=False` the analysis leaves out where each contribution landed (the document only)."""
    scope = scope or Scope()
    rows, texts = corpus.rows, corpus.texts
    if classify:
        placements = dict(enumerate(assign_axes(rows, corpus.docs, framework, corrections, lemmatizer)))
        shared = CorpusResults(corpus, [p.axis for p in placements.values()])
    elif shared is None:
        shared = CorpusResults(corpus, [c.axis for c in rows])
    ids, territory_of, country_of = shared.ids, shared.territory_of, shared.country_of
    names, countries = shared.names, shared.countries
    cells = shared.cells_in(scope)
    scope_mask = np.isin(shared.cell_of, cells)  # whether each row of the corpus is in the scope
    in_scope = np.flatnonzero(scope_mask)
    if not classify:
        placements = keep_axes(rows, in_scope.tolist() if placed else [])

    counts = shared.counts(in_scope)

    # sub-themes, axis by axis: the corpus's sub-themes of the axis that the scope's contributions fall in
    axes, silhouettes, conv = [], {}, []
    for axis in framework.axes:
        axis_rows = shared.axis_rows.get(axis.id, np.zeros(0, dtype=np.int64))
        members = np.flatnonzero(scope_mask[axis_rows])
        model = shared.subthemes(axis.id)
        found, labels = subthemes_of(model, axis_rows, members, ids, texts, territory_of, country_of)
        silhouettes[axis.id] = model.silhouette
        for r, label in zip(axis_rows[members].tolist(), labels.tolist()):
            if label >= 0 and r in placements:
                placements[r].subtheme = found[label].subtheme.label
        for s in found:
            conv.append(group_convergence("subtheme", s.subtheme.label, axis.id, s.subtheme.keywords, s.rows,
                                          territory_of, names, country_of, countries))
        axes.append(AxisSummary(id=axis.id, label=axis.label, count=len(members),
                                subthemes=[s.subtheme for s in found]))

    # proposals → manifesto draft
    props = np.flatnonzero(scope_mask[shared.proposal_rows])
    clusters, p_labels = proposal_clusters(shared.proposals(), props, shared.proposal_rows, ids, texts,
                                           territory_of, names, country_of, countries,
                                           shared.axis_labels)
    prop_rows = shared.proposal_rows[props]
    for c_index, c in enumerate(clusters):
        conv.append(group_convergence("proposal", c.label, None, c.keywords, prop_rows[p_labels == c_index],
                                      territory_of, names, country_of, countries
                                      ).model_copy(update={"quote": c.representative}))

    codes, df, size = shared.territory_terms(cells)
    distinctive = shared.distinctive(framework, codes)
    conv += term_convergences(df, size, [names[t] for t in codes.tolist()], shared.country_of_territory,
                              shared.terms)
    synthesis = Synthesis(
        version=shared.digest(framework, scope),
        scope=scope,
        framework=FrameworkRef(id=framework.id, version=framework.version),
        contributions_count=int(len(in_scope)),
        unclassified_count=int(np.count_nonzero(shared.unclassified[in_scope])),
        axes=axes,
        proposals=clusters,
        distinctive=distinctive,
        convergences=rank(conv)[:50],
        counts=counts,
    )
    return Analysis(synthesis, {placements[i].contribution_id: placements[i] for i in in_scope.tolist()
                                if i in placements},
                    silhouettes)


def build_synthesis(contributions: Sequence[PublishedContribution], framework: Framework,
                    scope: Scope | None = None, corrections: Sequence[tuple[str, str]] = ()) -> Synthesis:
    """The synthesis document of `scope` (default: the network) over `contributions`."""
    return analyse(contributions, framework, scope, corrections).synthesis
