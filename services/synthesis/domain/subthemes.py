"""Sub-themes within an axis: k-means over TF-IDF rows of lemmas, k chosen by silhouette.

Rows arrive sorted by contribution id; every random choice has a fixed seed and every tie is broken by
term or id, so the same input gives the same sub-themes whatever order it came in. For large axes the
model is fitted on an evenly spread sample and then assigns every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize

from .classify import _evenly
from .models import Quote, Subtheme
from .text import quote

SEED = 0


@dataclass
class Clustering:
    labels: np.ndarray  # cluster index per row, -1 for rows without any known term
    centroids: np.ndarray  # k × vocabulary, L2-normalised
    silhouette: float | None


def _kmeans(X: sparse.csr_matrix, k: int):
    """Full k-means up to 5,000 rows; above, mini-batches of scikit-learn's default size (1,024, so k-means++
    starts from 3,072 rows): a third faster than batches of 4,096 on a 75,000-row axis, with the same
    silhouettes to within 0.001."""
    if X.shape[0] <= 5_000:
        return KMeans(n_clusters=k, n_init=4, random_state=SEED).fit(X)
    return MiniBatchKMeans(n_clusters=k, n_init=1, random_state=SEED, batch_size=1024).fit(X)


def cluster(X: sparse.csr_matrix, k_range: Sequence[int], fit_sample: int = 20_000,
            silhouette_sample: int = 2_000) -> Clustering:
    """k-means with the k of best cosine silhouette in `k_range` (ties: the smaller k)."""
    n = X.shape[0]
    if n == 0:
        return Clustering(np.full(0, -1, dtype=np.int64), np.zeros((0, X.shape[1])), None)
    X = normalize(X.tocsr())
    usable = np.flatnonzero(X.getnnz(axis=1) > 0)
    labels = np.full(n, -1, dtype=np.int64)
    ks = [k for k in k_range if 2 <= k < len(usable)]
    if not ks:
        if len(usable):
            labels[usable] = 0
            centroid = normalize(np.asarray(X[usable].mean(axis=0)))
            return Clustering(labels, centroid, None)
        return Clustering(labels, np.zeros((0, X.shape[1])), None)
    sample = usable[_evenly(len(usable), fit_sample)]
    Xs = X[sample]
    sil_rows = _evenly(len(sample), silhouette_sample)
    best = None
    for k in ks:
        model = _kmeans(Xs, k)
        found = model.labels_[sil_rows]
        if len(np.unique(found)) < 2:
            continue
        score = float(silhouette_score(Xs[sil_rows], found, metric="cosine"))
        if best is None or score > best[0] + 1e-9:
            best = (score, k, model)
    if best is None:
        labels[usable] = 0
        return Clustering(labels, normalize(np.asarray(X[usable].mean(axis=0))), None)
    score, _, model = best
    labels[usable] = model.predict(X[usable])
    return Clustering(labels, normalize(model.cluster_centers_), score)


def top_terms(weights: np.ndarray, terms: Sequence[str], n: int) -> list[str]:
    """The n heaviest terms, ties broken alphabetically; unigrams already inside a chosen bigram are skipped."""
    order = sorted(np.flatnonzero(weights > 0), key=lambda i: (-round(float(weights[i]), 6), terms[i]))
    out: list[str] = []
    for i in order:
        term = terms[i]
        if term in out or any(term in chosen.split() for chosen in out if " " in chosen):
            continue
        out.append(term)
        if len(out) == n:
            break
    return out


@dataclass
class SubthemeModel:
    """The sub-themes of one axis over the whole corpus; a scope takes those its members fall in."""

    labels: np.ndarray  # cluster of each row of the axis, -1 for rows without any known term
    sims: np.ndarray  # cosine of each row to its cluster's centre
    keywords: list[list[str]]  # per cluster
    silhouette: float | None


def fit_subthemes(X: sparse.csr_matrix, terms: Sequence[str], max_k: int = 8, min_rows: int = 10) -> SubthemeModel:
    """k-means over every row of one axis (k by silhouette up to `max_k`; one cluster under `min_rows`)."""
    n = X.shape[0]
    k_max = min(max_k, max(1, n // 5))
    result = cluster(X, range(2, k_max + 1) if n >= min_rows else range(0))
    return SubthemeModel(result.labels, centre_similarity(X, result), [
        top_terms(result.centroids[c], terms, 8) for c in range(result.centroids.shape[0])], result.silhouette)


def centre_similarity(X: sparse.csr_matrix, result: Clustering) -> np.ndarray:
    """The cosine of each row to the centre of its cluster (0 for a row in none)."""
    sims = np.zeros(X.shape[0], dtype=np.float64)
    for c in range(result.centroids.shape[0]):
        rows = np.flatnonzero(result.labels == c)
        if len(rows):
            sims[rows] = np.asarray(normalize(X[rows]) @ result.centroids[c]).ravel()
    return sims


def representatives(order: np.ndarray, ids: Sequence[str], texts: Sequence[str], n: int = 3) -> list[Quote]:
    """The first `n` distinct texts of the rows in `order` (closest to the centre first), quoted as published."""
    quotes, seen = [], set()
    for r in order.tolist():
        text = texts[r].strip()
        if not text or text.lower() in seen:
            continue
        seen.add(text.lower())
        quotes.append(Quote(contribution_id=ids[r], text=quote(text)))
        if len(quotes) == n:
            break
    return quotes


@dataclass
class ScopeSubtheme:
    subtheme: Subtheme
    rows: np.ndarray  # the scope's rows in it


def subthemes_of(model: SubthemeModel, rows: np.ndarray, members: np.ndarray, ids: Sequence[str],
                 texts: Sequence[str], territory_of: np.ndarray, country_of: np.ndarray
                 ) -> tuple[list[ScopeSubtheme], np.ndarray]:
    """A scope's sub-themes of one axis: the axis's clusters its `members` (positions among the axis's
    `rows`, which index the corpus) fall in, counted and quoted from those members only (closest to the
    centre first, ties: smallest id), largest first. Also the sub-theme index of each member (-1: none)."""
    labels = model.labels[members]
    out = []
    for c in np.unique(labels[labels >= 0]).tolist():
        mine = members[labels == c]
        order = rows[mine[np.lexsort((mine, -np.round(model.sims[mine], 6)))]]
        keywords = model.keywords[c]
        corpus_rows = rows[mine]
        out.append((c, ScopeSubtheme(Subtheme(
            label=", ".join(keywords[:3]) or "divers",
            keywords=keywords,
            count=int(len(mine)),
            quotes=representatives(order, ids, texts),
            territories_count=len(np.unique(territory_of[corpus_rows])),
            countries_count=len(np.unique(country_of[corpus_rows])),
        ), corpus_rows)))
    out.sort(key=lambda item: (-item[1].subtheme.count, item[1].subtheme.label))
    position = np.full(max(len(model.keywords), 1), -1, dtype=np.int64)
    for new, (c, _) in enumerate(out):
        position[c] = new
    return [s for _, s in out], np.where(labels >= 0, position[np.maximum(labels, 0)], -1)
