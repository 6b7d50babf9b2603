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
from .shared import CorpusResults
from .text import Lemmatizer

EXAMPLE_CAP = 30_000
PREDICT_CHUNK = 20_000  # contributions re-placed at a time, so that their scores are never all held at once
# A recompute moves a contribution the classifier placed only when its new best axis beats the axis it has by
# this much probability: a refit on a slightly larger corpus otherwise flips the texts near a boundary back
# and forth. "Non classé", when a classifier said so, is worth its threshold: leaving it takes the same
# margin over that. A contribution no classifier has judged yet, or whose axis is no longer supported at
# all, moves at once.
MOVE_MARGIN = 0.25


def framework_key(framework: Framework) -> str:
    return f"{framework.id}@{framework.version}"


@dataclass(frozen=True, slots=True)
class AxisChange:
    contribution_id: str
    previous_axis: str | None
    axis: str | None
    confidence: float
    framework: str = ""  # the framework key of the classifier that moved it


@dataclass
class RecomputeResult:
    classifiers: dict[str, AxisClassifier] = field(default_factory=dict)
    changes: list[AxisChange] = field(default_factory=list)
    analyses: dict[tuple[str, str], Analysis] = field(default_factory=dict)
    frameworks: dict[tuple[str, str], str] = field(default_factory=dict)


def fit_classifier(framework: Framework, docs: Sequence[str], examples: Sequence[tuple[str, str]],
                   lemmatizer: Lemmatizer | None = None, questions: Sequence[str | None] | None = None
                   ) -> AxisClassifier:
    """A classifier for `framework` fitted on lemmatised `docs`, (text, axis) examples and the question each
    doc answers."""
    return AxisClassifier(framework, lemmatizer=lemmatizer).fit_docs(list(docs), list(examples), questions)


def settled_axis(previous: str | None, assignment, margin: float = MOVE_MARGIN,
                 unclassified_worth: float | None = None) -> str | None:
    """The axis a contribution the classifier placed keeps after a refit (see `MOVE_MARGIN`).
    `unclassified_worth`: for a contribution a classifier left "non classé" (`previous` None), its
    threshold; None when no classifier has judged it yet."""
    if previous is None:
        if (unclassified_worth is not None and assignment.axis is not None
                and assignment.confidence - unclassified_worth < margin):
            return None
        return assignment.axis
    if assignment.axis == previous or previous not in assignment.scores:
        return assignment.axis
    kept = assignment.scores[previous]
    return previous if kept > 0 and assignment.confidence - kept < margin else assignment.axis


def training_examples(rows: Sequence[PublishedContribution], axis_ids: set[str],
                      cap: int = EXAMPLE_CAP) -> list[tuple[str, str]]:
    """Every axis a person gave, and up to `cap` of those the sources gave (spread evenly)."""
    person = [c for c in rows if c.axis in axis_ids and c.axis_source == AxisSource.PERSON]
    source = [c for c in rows if c.axis in axis_ids and c.axis_source == AxisSource.SOURCE]
    chosen = person + [source[j] for j in _evenly(len(source), cap)]
    return [(c.text, c.axis) for c in sorted(chosen, key=lambda c: c.id)]


def reclassify(corpus: Corpus, frameworks_of: dict[str, Framework], lemmatizer: Lemmatizer | None = None,
               margin: float = MOVE_MARGIN) -> tuple[dict[str, AxisClassifier], list[AxisChange], list[PublishedContribution]]:
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
                             training_examples(member_rows, axis_ids), lemmatizer,
                             [corpus.rows[i].question for i in members])
        classifiers[key] = clf
        placed = [i for i in members
                  if corpus.rows[i].axis_source not in (AxisSource.SOURCE, AxisSource.PERSON)
                  or corpus.rows[i].axis not in axis_ids]
        if not placed:
            continue
        found = (assignment for start in range(0, len(placed), PREDICT_CHUNK)
                 for assignment in clf.predict_docs([corpus.docs[i] for i in placed[start:start + PREDICT_CHUNK]],
                                                    [corpus.rows[i].question
                                                     for i in placed[start:start + PREDICT_CHUNK]]))
        for i, assignment in zip(placed, found):
            row = corpus.rows[i]
            by_classifier = row.axis_source == AxisSource.CLASSIFIER
            previous = row.axis if row.axis in axis_ids and by_classifier else None
            judged_unclassified = by_classifier and row.axis is None
            axis = settled_axis(previous, assignment, margin, clf.threshold if judged_unclassified else None)
            source = AxisSource.CLASSIFIER  # "non classé" too: the classifier said so
            if (row.axis, row.axis_source) != (axis, source):
                rows[i] = dataclasses.replace(row, axis=axis, axis_source=source)
            if row.axis != axis:
                confidence = assignment.scores.get(axis, assignment.confidence) if axis else assignment.confidence
                changes.append(AxisChange(row.id, row.axis, axis, confidence, key))
    return classifiers, changes, rows


def scope_framework(counted: Counter[str], by_key: dict[str, Framework], fallback: Framework) -> Framework:
    """The framework most of a scope's contributions answer (`counted` by framework key; the default one
    first on a tie), or `fallback` when it holds none."""
    counted = +counted
    if not counted:
        return fallback
    return by_key[max(counted, key=lambda k: (counted[k], by_key[k].id == DEFAULT_FRAMEWORK_ID, k))]


def recompute(contributions: Sequence[PublishedContribution], frameworks_of: dict[str, Framework],
              scopes: Sequence[tuple[Scope, Framework]], lemmatizer: Lemmatizer | None = None) -> RecomputeResult:
    """Refit and re-place (`reclassify`), then analyse each scope with the axes as placed (where each
    contribution landed is kept for the network only: it holds them all).

    `scopes` pairs each scope with the framework to use when it holds no contribution.
    """
    lemmatizer = lemmatizer if lemmatizer is not None else Lemmatizer()
    corpus = prepare(contributions, lemmatizer)
    classifiers, changes, rows = reclassify(corpus, frameworks_of, lemmatizer)
    placed = dataclasses.replace(corpus, rows=rows)
    result = RecomputeResult(classifiers=classifiers, changes=changes)
    shared = CorpusResults(placed, [c.axis for c in rows])
    distinct = {id(f): f for f in frameworks_of.values()}  # a few Framework objects shared by many rows
    key_of = {i: framework_key(f) for i, f in distinct.items()}
    by_key = {key_of[i]: f for i, f in sorted(distinct.items(), key=lambda item: key_of[item[0]])}
    per_cell: list[Counter[str]] = [Counter() for _ in shared.cell_rows]
    for cell, c in zip(shared.cell_of.tolist(), rows):
        per_cell[cell][key_of[id(frameworks_of[c.id])]] += 1
    for scope, fallback in scopes:
        framework = scope_framework(sum((per_cell[k] for k in shared.cells_in(scope).tolist()), Counter()),
                                    by_key, fallback)
        key = (scope.level, scope.id or "network")
        result.analyses[key] = analyse_corpus(placed, framework, scope, classify=False, shared=shared,
                                              placed=scope.level == "network")
        result.frameworks[key] = framework_key(framework)
    return result
