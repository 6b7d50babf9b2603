"""One recompute of the synthesis service, as pure functions: refit each framework's axis classifier on the
published corpus, re-place the contributions it placed, then summarise every scope that asked for it.

The service assigns axes as contributions arrive (so the counts are live); this is where the classifier
learns from the whole corpus, from the axes the sources gave and from the corrections people made.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from shared.frameworks import DEFAULT_FRAMEWORK_ID, Framework

from .classify import AxisClassifier, _evenly
from .models import AxisSource, PublishedContribution, Scope
from .report import Analysis, Corpus, analyse_corpus, prepare
from .text import Lemmatizer

EXAMPLE_CAP = 30_000


def framework_key(framework: Framework) -> str:
    return f"{framework.id}@{framework.version}"


@dataclass(frozen=True, slots=True)
class AxisChange:
    contribution_id: str
    previous_axis: str | None
    axis: str | None
    confidence: float


@dataclass
class RecomputeResult:
    classifiers: dict[str, AxisClassifier] = field(default_factory=dict)
    changes: list[AxisChange] = field(default_factory=list)
    analyses: dict[tuple[str, str], Analysis] = field(default_factory=dict)
    frameworks: dict[tuple[str, str], str] = field(default_factory=dict)


def fit_classifier(framework: Framework, docs: Sequence[str], examples: Sequence[tuple[str, str]],
                   lemmatizer: Lemmatizer | None = None) -> AxisClassifier:
    """A classifier for `framework` fitted on lemmatised `docs` and (text, axis) examples."""
    return AxisClassifier(framework, lemmatizer=lemmatizer).fit_docs(list(docs), list(examples))


def training_examples(rows: Sequence[PublishedContribution], axis_ids: set[str],
                      cap: int = EXAMPLE_CAP) -> list[tuple[str, str]]:
    """Every axis a person gave, and up to `cap` of those the sources gave (spread evenly)."""
    person = [c for c in rows if c.axis in axis_ids and c.axis_source == AxisSource.PERSON]
    source = [c for c in rows if c.axis in axis_ids and c.axis_source == AxisSource.SOURCE]
    chosen = person + [source[j] for j in _evenly(len(source), cap)]
    return [(c.text, c.axis) for c in sorted(chosen, key=lambda c: c.id)]


def reclassify(corpus: Corpus, frameworks_of: dict[str, Framework], lemmatizer: Lemmatizer | None = None
               ) -> tuple[dict[str, AxisClassifier], list[AxisChange], list[PublishedContribution]]:
    """Refit one classifier per framework and re-place every contribution whose axis did not come from its
    source or a person; returns the classifiers, the axes that moved, and the rows as now placed.
    `frameworks_of` maps contribution id to its consultation's framework."""
    by_framework: dict[str, list[int]] = {}
    framework_by_key: dict[str, Framework] = {}
    for i, c in enumerate(corpus.rows):
        framework = frameworks_of[c.id]
        key = framework_key(framework)
        framework_by_key[key] = framework
        by_framework.setdefault(key, []).append(i)
    classifiers, changes, rows = {}, [], list(corpus.rows)
    for key in sorted(by_framework):
        framework, members = framework_by_key[key], by_framework[key]
        axis_ids = set(framework.axis_ids())
        member_rows = [corpus.rows[i] for i in members]
        clf = fit_classifier(framework, [corpus.docs[i] for i in members],
                             training_examples(member_rows, axis_ids), lemmatizer)
        classifiers[key] = clf
        placed = [i for i in members
                  if corpus.rows[i].axis_source not in (AxisSource.SOURCE, AxisSource.PERSON)
                  or corpus.rows[i].axis not in axis_ids]
        if not placed:
            continue
        for i, assignment in zip(placed, clf.predict_docs([corpus.docs[i] for i in placed])):
            row = corpus.rows[i]
            source = AxisSource.CLASSIFIER if assignment.axis else None
            rows[i] = dataclasses.replace(row, axis=assignment.axis, axis_source=source)
            if row.axis != assignment.axis:
                changes.append(AxisChange(row.id, row.axis, assignment.axis, assignment.confidence))
    return classifiers, changes, rows


def scope_framework(scope: Scope, rows: Sequence[PublishedContribution], frameworks_of: dict[str, Framework],
                    fallback: Framework) -> Framework:
    """The framework most of the scope's contributions answer (the default one first on a tie)."""
    counter: Counter[str] = Counter()
    by_key: dict[str, Framework] = {}
    for c in rows:
        if scope.contains(c):
            framework = frameworks_of[c.id]
            key = framework_key(framework)
            by_key[key] = framework
            counter[key] += 1
    if not counter:
        return fallback
    best = max(counter, key=lambda k: (counter[k], by_key[k].id == DEFAULT_FRAMEWORK_ID, k))
    return by_key[best]


def recompute(contributions: Sequence[PublishedContribution], frameworks_of: dict[str, Framework],
              scopes: Sequence[tuple[Scope, Framework]], lemmatizer: Lemmatizer | None = None) -> RecomputeResult:
    """Refit and re-place (`reclassify`), then analyse each scope with the axes as placed.

    `scopes` pairs each scope with the framework to use when it holds no contribution.
    """
    lemmatizer = lemmatizer if lemmatizer is not None else Lemmatizer()
    corpus = prepare(contributions, lemmatizer)
    classifiers, changes, rows = reclassify(corpus, frameworks_of, lemmatizer)
    placed = Corpus(rows, corpus.texts, corpus.docs, corpus.X, corpus.terms)
    result = RecomputeResult(classifiers=classifiers, changes=changes)
    for scope, fallback in scopes:
        framework = scope_framework(scope, rows, frameworks_of, fallback)
        key = (scope.level, scope.id or "network")
        result.analyses[key] = analyse_corpus(placed, framework, scope, classify=False)
        result.frameworks[key] = framework_key(framework)
    return result
