"""Axis assignment against a consultation's framework.

Baseline (`PrototypeClassifier`): TF-IDF over lemmas, cosine with one document per axis made of its label,
description and seed terms. `AxisClassifier` starts from the same prototypes and then learns the corpus's
own words: it pseudo-labels the contributions the prototypes place with a clear margin (balanced across
axes), adds the seed terms as tiny labelled documents and the known examples (axes given by the source,
corrections made by a person, weighted higher), trains a logistic regression, and repeats once with the
regression's confident predictions. Below `threshold` the answer is None ("non classé"), never forced.

A contribution that answers a question (a debate's question, where the source gives one) is placed on the
mean of three probability vectors, equal weights: its own text's, the question's, and the mean of what every
contribution of the fitting corpus answering that question says (the debate as a whole). On arrival, a
question the fitting corpus did not hold counts its own text only (text and question, halves).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize
from sklearn.utils.extmath import softmax
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

from shared.frameworks import Framework

from .text import Lemmatizer


@dataclass(frozen=True, slots=True)
class Assignment:
    axis: str | None
    confidence: float
    scores: dict[str, float] = field(default_factory=dict)


def unigrams_and_bigrams(doc: str) -> list[str]:
    r"""The terms of a doc of space-joined lemmas: its words, then each pair of neighbours. The same terms,
    in the same order, as `TfidfVectorizer(token_pattern=r"\S+", lowercase=False, ngram_range=(1, 2))`
    reads, at a fraction of the cost (a unit test holds the two equal)."""
    words = doc.split()
    return words + [" ".join(pair) for pair in zip(words, words[1:])]


def _vectorizer(max_features: int) -> TfidfVectorizer:
    return TfidfVectorizer(analyzer=unigrams_and_bigrams, sublinear_tf=True, max_features=max_features,
                           dtype=np.float32)


def tfidf_rows(vectorizer: TfidfVectorizer, docs: Sequence[str]) -> sparse.csr_matrix:
    """`vectorizer.transform(docs)` bit for bit (same counts, sublinear tf, idf and l2 norm, in the same
    order and dtype), without scikit-learn's input checks: those cost about a millisecond a call, most of
    the work for the few contributions of a live batch (a unit test holds the two equal). A vectorizer set
    otherwise than `_vectorizer` makes it (binary counts, another norm, no idf) goes through scikit-learn."""
    if vectorizer.binary or vectorizer.norm != "l2" or not vectorizer.use_idf:
        return vectorizer.transform(docs)
    analyze = vectorizer.build_analyzer()
    vocabulary = vectorizer.vocabulary_
    indices: list[int] = []
    counts: list[int] = []
    indptr = [0]
    for doc in docs:
        counter: dict[int, int] = {}
        for feature in analyze(doc):
            index = vocabulary.get(feature)
            if index is not None:
                counter[index] = counter.get(index, 0) + 1
        indices.extend(counter)
        counts.extend(counter.values())
        indptr.append(len(indices))
    X = sparse.csr_matrix((np.asarray(counts, dtype=vectorizer.dtype), np.asarray(indices, dtype=np.int32),
                           np.asarray(indptr, dtype=np.int32)), shape=(len(indptr) - 1, len(vocabulary)))
    X.sort_indices()
    if vectorizer.sublinear_tf:
        np.log(X.data, X.data)
        X.data += 1.0
    X.data *= vectorizer.idf_[X.indices]
    inplace_csr_row_normalize_l2(X)
    return X


def multinomial_proba(model: LogisticRegression, X: sparse.csr_matrix) -> np.ndarray:
    """`model.predict_proba(X)` of a fitted multinomial (three classes or more) logistic regression, bit for
    bit, without the input checks (see `tfidf_rows`)."""
    return softmax(np.asarray(X @ model.coef_.T) + model.intercept_, copy=False)


def _evenly(n: int, cap: int) -> np.ndarray:
    """At most `cap` indices spread evenly over range(n) (deterministic sampling of sorted inputs)."""
    if n <= cap:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, cap).astype(np.int64))


class PrototypeClassifier:
    """The baseline: cosine between a contribution and each axis's label + description + seed terms."""

    def __init__(self, framework: Framework, threshold: float = 0.01, lemmatizer: Lemmatizer | None = None,
                 max_features: int = 200_000, fit_sample: int = 50_000) -> None:
        self.framework = framework
        self.axis_ids = framework.axis_ids()
        self.threshold = threshold
        self.lemmatizer = lemmatizer if lemmatizer is not None else Lemmatizer()
        self.max_features = max_features
        self.fit_sample = fit_sample

    def _axis_doc(self, axis) -> str:
        seeds = " . ".join(axis.seed_terms)
        return f"{axis.label} . {axis.description} . {seeds} . {seeds}"

    def _seed_docs(self) -> tuple[list[str], list[int]]:
        """Each seed term and each clause of each description as a small document labelled with its axis."""
        texts, labels = [], []
        for i, axis in enumerate(self.framework.axes):
            parts = list(axis.seed_terms) + [axis.label]
            parts += [p for p in re.split(r"[,;:.()]", axis.description) if p.strip()]
            texts.extend(parts)
            labels.extend([i] * len(parts))
        return texts, labels

    def fit(self, texts: Sequence[str] = (), examples: Sequence[tuple[str, str]] = ()):
        return self.fit_docs(self.lemmatizer.docs(list(texts)), examples)

    def fit_docs(self, docs: Sequence[str], examples: Sequence[tuple[str, str]] = ()):
        examples = [(t, a) for t, a in examples if a in self.axis_ids]
        self._example_docs = self.lemmatizer.docs([t for t, _ in examples])
        self._example_labels = np.array([self.axis_ids.index(a) for _, a in examples], dtype=np.int64)
        seed_texts, seed_labels = self._seed_docs()
        self._seed_doc_list = self.lemmatizer.docs(seed_texts)
        self._seed_labels = np.array(seed_labels, dtype=np.int64)
        axis_docs = self.lemmatizer.docs([self._axis_doc(a) for a in self.framework.axes])
        sample = [docs[i] for i in _evenly(len(docs), self.fit_sample)]
        self.vectorizer = _vectorizer(self.max_features)
        self.vectorizer.fit(sample + self._example_docs + self._seed_doc_list + axis_docs)
        proto = self.vectorizer.transform(axis_docs).toarray()
        if len(self._example_docs):
            ex = normalize(self.vectorizer.transform(self._example_docs))
            for i in range(len(self.axis_ids)):
                rows = ex[np.flatnonzero(self._example_labels == i)]
                if rows.shape[0]:
                    mean = np.asarray(rows.mean(axis=0))
                    proto[i] = normalize(proto[i : i + 1])[0] + normalize(mean)[0]
        self.prototypes = normalize(proto).astype(np.float32)
        return self

    def transform(self, docs: Sequence[str]) -> sparse.csr_matrix:
        return tfidf_rows(self.vectorizer, docs)

    def prototype_scores(self, X: sparse.csr_matrix) -> np.ndarray:
        return np.asarray(X @ self.prototypes.T)

    def scores(self, X: sparse.csr_matrix) -> np.ndarray:
        return self.prototype_scores(X)

    def predict_docs(self, docs: Sequence[str], questions: Sequence[str | None] | None = None,
                     lemmatizer: Lemmatizer | None = None) -> list[Assignment]:
        """`questions`: for each doc, the question it answers, as the source gave it (None: none);
        `lemmatizer` reads a question the fitting corpus did not hold (default: the classifier's own)."""
        S = self.scores(self.transform(docs))
        if questions is not None and any(questions):
            S = self._with_questions(S, questions, lemmatizer or self.lemmatizer)
        return self._assign(S)

    def _with_questions(self, S: np.ndarray, questions: Sequence[str | None], lemmatizer: Lemmatizer) -> np.ndarray:
        priors = self.question_priors(sorted({q for q in questions if q}), lemmatizer)
        out = S.copy()
        for i, q in enumerate(questions):
            if q and q in priors:
                prior, parts = priors[q]
                out[i] = (S[i] + prior) / (1 + parts)
        return out

    def question_priors(self, questions: Sequence[str], lemmatizer: Lemmatizer
                        ) -> dict[str, tuple[np.ndarray, int]]:
        """For each question, (summed probability vectors, how many): the question's own text's, plus the
        mean over its answers in the fitting corpus when it held any."""
        known = getattr(self, "_question_priors", {})
        unknown = [q for q in questions if q not in known]
        out = {q: known[q] for q in questions if q in known}
        if unknown:
            docs = lemmatizer.docs(unknown, learn=False)
            for q, row in zip(unknown, self.scores(self.transform(docs))):
                if row.any():
                    out[q] = (row, 1)
        return out

    def predict(self, texts: Sequence[str]) -> list[Assignment]:
        return self.predict_docs(self.lemmatizer.docs(list(texts)))

    def _assign(self, S: np.ndarray) -> list[Assignment]:
        out = []
        for row in S:
            best = int(np.argmax(row))  # argmax takes the first on ties: framework order
            conf = float(row[best])
            scores = {a: round(float(s), 4) for a, s in zip(self.axis_ids, row)}
            axis = self.axis_ids[best] if conf >= self.threshold and conf > 0 else None
            out.append(Assignment(axis, round(conf, 4), scores))
        return out


class AxisClassifier(PrototypeClassifier):
    """Prototypes, then self-training on the corpus, seed terms and known examples (see module docstring)."""

    def __init__(self, framework: Framework, threshold: float | None = None, lemmatizer: Lemmatizer | None = None,
                 max_features: int = 50_000, fit_sample: int = 50_000, rounds: int = 1,
                 pseudo_share: float = 0.8, pseudo_cap: int = 20_000, example_weight: float = 3.0,
                 C: float = 16.0, max_iter: int = 100) -> None:
        # default threshold: 1.4 times the uniform probability (0.35 with four axes, 0.23 with six)
        threshold = 1.4 / len(framework.axes) if threshold is None else threshold
        super().__init__(framework, threshold, lemmatizer, max_features, fit_sample)
        self.rounds = rounds
        self.pseudo_share = pseudo_share
        self.pseudo_cap = pseudo_cap
        self.example_weight = example_weight
        self.C = C
        self.max_iter = max_iter

    def fit_docs(self, docs: Sequence[str], examples: Sequence[tuple[str, str]] = (),
                 questions: Sequence[str | None] | None = None):
        """`questions`: for each doc, the question it answers as the source gave it (None: none)."""
        self._fit_model(docs, examples)
        self._question_priors = self._debate_priors(docs, questions) if questions is not None else {}
        return self

    def _debate_priors(self, docs: Sequence[str], questions: Sequence[str | None]
                       ) -> dict[str, tuple[np.ndarray, int]]:
        members: dict[str, list[int]] = {}
        for i, q in enumerate(questions):
            if q:
                members.setdefault(q, []).append(i)
        if not members:
            return {}
        asked = sorted(members)
        own = self.scores(self.transform(self.lemmatizer.docs(asked)))
        priors = {}
        for q, row in zip(asked, own):
            answers = self.scores(self.transform([docs[i] for i in members[q]]))
            answered = answers[answers.any(axis=1)]
            parts = [row] if row.any() else []
            if len(answered):
                parts.append(answered.mean(axis=0))
            if parts:
                priors[q] = (np.sum(parts, axis=0), len(parts))
        return priors

    def _fit_model(self, docs: Sequence[str], examples: Sequence[tuple[str, str]]) -> None:
        super().fit_docs(docs, examples)
        sample_idx = _evenly(len(docs), self.fit_sample * 2)
        X = self.transform([docs[i] for i in sample_idx]) if len(sample_idx) else None
        X_seed = self.transform(self._seed_doc_list)
        X_ex = self.transform(self._example_docs) if len(self._example_docs) else None
        self.model = None
        confidence = self.prototype_scores(X) if X is not None else None
        for _ in range(max(1, self.rounds)):
            parts, labels, weights = [X_seed], [self._seed_labels], [np.ones(len(self._seed_labels))]
            if X_ex is not None:
                parts.append(X_ex)
                labels.append(self._example_labels)
                weights.append(np.full(len(self._example_labels), self.example_weight))
            if confidence is not None:
                idx, lab = self._pseudo_labels(confidence)
                if len(idx):
                    parts.append(X[idx])
                    labels.append(lab)
                    weights.append(np.ones(len(idx)))
            y = np.concatenate(labels)
            if len(np.unique(y)) < 2:
                break
            model = LogisticRegression(C=self.C, max_iter=self.max_iter, tol=1e-3, class_weight="balanced")
            model.fit(sparse.vstack(parts).tocsr(), y, sample_weight=np.concatenate(weights))
            self.model = model
            if X is None:
                break
            confidence = self._proba(X)

    def _pseudo_labels(self, S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The most clearly placed rows of each axis (by margin between best and second), balanced."""
        if S.shape[1] < 2:
            return np.arange(0), np.arange(0)
        order = np.sort(S, axis=1)
        margin = order[:, -1] - order[:, -2]
        best = np.argmax(S, axis=1)
        chosen, labels = [], []
        for a in range(S.shape[1]):
            rows = np.flatnonzero((best == a) & (margin > 0))
            if not len(rows):
                continue
            take = min(self.pseudo_cap, max(1, int(len(rows) * self.pseudo_share)))
            top = rows[np.lexsort((rows, -margin[rows]))][:take]
            chosen.append(top)
            labels.append(np.full(len(top), a))
        if not chosen:
            return np.arange(0), np.arange(0)
        # keep the axes balanced: no axis contributes more than 3x the smallest
        floor = min(len(c) for c in chosen) * 3
        chosen = [c[:floor] for c in chosen]
        labels = [lab[:floor] for lab in labels]
        return np.concatenate(chosen), np.concatenate(labels)

    def _proba(self, X: sparse.csr_matrix) -> np.ndarray:
        proba = np.zeros((X.shape[0], len(self.axis_ids)), dtype=np.float64)
        classes = self.model.classes_
        proba[:, classes] = multinomial_proba(self.model, X) if len(classes) > 2 else self.model.predict_proba(X)
        return proba

    def scores(self, X: sparse.csr_matrix) -> np.ndarray:
        if self.model is None:
            return self.prototype_scores(X)
        proba = self._proba(X)
        empty = np.asarray(X.getnnz(axis=1)) == 0
        proba[empty] = 0.0  # no known word: no evidence, whatever the priors say
        return proba
