"""The synthesis of a scope (network, country, territory): the entry point of the synthesis domain.

`contributions` are all the published contributions the caller holds (the network): the scope selects
what is summarised, and the rest is the background against which a territory's singularity is measured.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from shared.frameworks import Framework
from shared.vocabulary import Kind

from .classify import AxisClassifier, _evenly
from .convergence import group_convergence, rank, term_convergences
from .counts import count
from .distinctive import log_odds, strongest
from .models import (
    UNCLASSIFIED,
    AxisSource,
    AxisSummary,
    FrameworkRef,
    Placement,
    PublishedContribution,
    Quote,
    SaidMore,
    Scope,
    Synthesis,
    TerritoryDistinctive,
)
from .proposals import proposal_clusters
from .subthemes import subthemes
from .text import Lemmatizer, quote

METHOD_VERSION = "synthesis-1"


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


def _version(rows: Sequence[PublishedContribution], axes: Sequence[str | None], framework: Framework,
             scope: Scope) -> str:
    h = hashlib.sha256()
    h.update(f"{METHOD_VERSION}|{framework.id}|{framework.version}|{scope.level}|{scope.id}".encode())
    for c, axis in zip(rows, axes):
        h.update(f"\x1e{c.id}\x1f{c.territory}\x1f{c.country}\x1f{axis}\x1f{c.kind}\x1f{c.author_role}"
                 f"\x1f{c.channel}\x1f".encode())
        h.update(c.text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:16]


def _features(docs: Sequence[str], max_features: int, fit_sample: int) -> tuple[sparse.csr_matrix, list[str]]:
    vectorizer = TfidfVectorizer(token_pattern=r"\S+", lowercase=False, ngram_range=(1, 2), sublinear_tf=True,
                                 min_df=2 if len(docs) >= 50 else 1, max_features=max_features,
                                 dtype=np.float32)  # nosec B106 # a tokenizer regex, not a password
    sample = [docs[i] for i in _evenly(len(docs), fit_sample)]
    try:
        vectorizer.fit(sample)
    except ValueError:  # nothing but stop words
        return sparse.csr_matrix((len(docs), 0), dtype=np.float32), []
    return vectorizer.transform(docs).tocsr(), vectorizer.get_feature_names_out().tolist()


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
    docs = lemmatizer.docs(texts)
    X, terms = _features(docs, max_features, fit_sample)
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


def keep_axes(rows: Sequence[PublishedContribution]) -> list[Placement]:
    """Placements that keep every row's axis as it is (already assigned upstream), None included."""
    return [Placement(contribution_id=c.id, axis=c.axis, axis_source=c.axis_source if c.axis else None)
            for c in rows]


def analyse_corpus(corpus: Corpus, framework: Framework, scope: Scope | None = None,
                   corrections: Sequence[tuple[str, str]] = (), lemmatizer: Lemmatizer | None = None,
                   classify: bool = True) -> Analysis:
    """`analyse` over a prepared corpus. With `classify=False` the rows' axes are taken as they are (a
    service that assigns axes as contributions arrive), so the document agrees with its live counts."""
    scope = scope or Scope()
    rows, texts, docs, X = corpus.rows, corpus.texts, corpus.docs, corpus.X
    terms = corpus.shown_terms if corpus.shown_terms is not None else corpus.terms  # what keywords show
    placements = (assign_axes(rows, docs, framework, corrections, lemmatizer) if classify
                  else keep_axes(rows))
    axis_of = [p.axis for p in placements]
    ids = [c.id for c in rows]
    territories = [c.territory for c in rows]
    countries = [c.country for c in rows]
    in_scope = np.array([i for i, c in enumerate(rows) if scope.contains(c)], dtype=np.int64)

    counts = count((axis_of[i] or UNCLASSIFIED, str(rows[i].kind), str(rows[i].author_role), str(rows[i].channel))
                   for i in in_scope)

    # sub-themes, axis by axis
    axes, silhouettes, conv = [], {}, []
    for axis in framework.axes:
        members = in_scope[[axis_of[i] == axis.id for i in in_scope]] if len(in_scope) else in_scope
        found, labels, sil = subthemes(X[members], terms, [ids[i] for i in members], [texts[i] for i in members],
                                       [territories[i] for i in members], [countries[i] for i in members])
        silhouettes[axis.id] = sil
        for j, r in enumerate(members):
            if labels[j] >= 0:
                placements[r].subtheme = found[labels[j]].label
        for s_index, s in enumerate(found):
            conv.append(group_convergence("subtheme", s.label, axis.id, s.keywords,
                                          members[labels == s_index], territories, countries))
        axes.append(AxisSummary(id=axis.id, label=axis.label, count=len(members), subthemes=found))

    # proposals → manifesto draft
    props = in_scope[[rows[i].kind == Kind.PROPOSITION for i in in_scope]] if len(in_scope) else in_scope
    clusters, p_labels = proposal_clusters(
        X[props], [docs[i] for i in props], terms, [ids[i] for i in props], [texts[i] for i in props],
        [territories[i] for i in props], [countries[i] for i in props],
        [axis_of[i] or UNCLASSIFIED for i in props])
    for c_index, c in enumerate(clusters):
        conv.append(group_convergence("proposal", c.label, None, c.keywords, props[p_labels == c_index],
                                      territories, countries).model_copy(update={"quote": c.representative}))

    distinctive = _distinctive(rows, axis_of, X, terms, scope, framework, texts)
    conv += term_convergences(X[in_scope], terms, [territories[i] for i in in_scope],
                              [countries[i] for i in in_scope])
    synthesis = Synthesis(
        version=_version(rows, axis_of, framework, scope),
        scope=scope,
        framework=FrameworkRef(id=framework.id, version=framework.version),
        contributions_count=int(len(in_scope)),
        unclassified_count=int(sum(axis_of[i] is None for i in in_scope)),
        axes=axes,
        proposals=clusters,
        distinctive=distinctive,
        convergences=rank(conv)[:50],
        counts=counts,
    )
    return Analysis(synthesis, {placements[i].contribution_id: placements[i] for i in in_scope}, silhouettes)


def _distinctive(rows: Sequence[PublishedContribution], axis_of: Sequence[str | None], X: sparse.csr_matrix,
                 terms: Sequence[str], scope: Scope, framework: Framework, texts: Sequence[str] = (),
                 top: int = 10, said_more: int = 5) -> list[TerritoryDistinctive]:
    """Each territory with contributions in the scope against the whole input, for axes and terms; its
    `said_more` are its strongest terms, each with the contribution of the territory that weighs the term most (ties: smallest
    id), quoted as published."""
    names = sorted({c.territory for c in rows})
    if len(names) < 2:
        return []
    code = {t: i for i, t in enumerate(names)}
    t_idx = np.array([code[c.territory] for c in rows])
    indicator = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (t_idx, np.arange(len(rows)))),
                                  shape=(len(names), len(rows)))
    term_counts = (indicator @ (X > 0).astype(np.float32)).toarray()
    t_delta, t_z = log_odds(term_counts)
    axis_ids = framework.axis_ids()
    axis_code = {a: j for j, a in enumerate(axis_ids)}
    axis_counts = np.zeros((len(names), len(axis_ids)))
    for t, a in zip(t_idx, axis_of):
        if a in axis_code:
            axis_counts[t, axis_code[a]] += 1
    a_delta, a_z = log_odds(axis_counts)
    country_of = {c.territory: c.country for c in rows}
    size = np.bincount(t_idx, minlength=len(names))
    columns = X.tocsc()
    position: dict[str, int] = {}
    for j, term in enumerate(terms):
        position.setdefault(term, j)
    in_scope = {c.territory for c in rows if scope.contains(c)}
    out = []
    for i, name in enumerate(names):
        if name not in in_scope:  # a territory of another country, or that answers none of the scope's consultations
            continue
        strong = strongest(term_counts[i], t_delta[i], t_z[i], terms, n=top)
        quoted, covered = [], set()
        for s in strong:
            j = position[s.term]
            members = columns.indices[columns.indptr[j]:columns.indptr[j + 1]]
            weights = columns.data[columns.indptr[j]:columns.indptr[j + 1]]
            mine = [(-round(float(w), 6), rows[r].id, r) for r, w in zip(members, weights) if t_idx[r] == i]
            if not mine or not texts:
                continue
            r = min(mine)[2]
            if r in covered:  # another term already quoted this contribution: one quote, one thing
                continue
            covered.add(r)
            quoted.append(SaidMore(term=s.term, z=s.z, count=s.count,
                                   quote=Quote(contribution_id=rows[r].id, text=quote(texts[r]))))
            if len(quoted) == said_more:
                break
        out.append(TerritoryDistinctive(
            territory=name, country=country_of[name], contributions_count=int(size[i]),
            axes=strongest(axis_counts[i], a_delta[i], a_z[i], axis_ids, n=len(axis_ids)),
            terms=strong, said_more=quoted))
    return out


def build_synthesis(contributions: Sequence[PublishedContribution], framework: Framework,
                    scope: Scope | None = None, corrections: Sequence[tuple[str, str]] = ()) -> Synthesis:
    """The synthesis document of `scope` (default: the network) over `contributions`."""
    return analyse(contributions, framework, scope, corrections).synthesis
