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
    if X.shape[0] <= 5_000:
        return KMeans(n_clusters=k, n_init=4, random_state=SEED).fit(X)
    return MiniBatchKMeans(n_clusters=k, n_init=3, random_state=SEED, batch_size=4096).fit(X)


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


def representatives(X: sparse.csr_matrix, rows: np.ndarray, centroid: np.ndarray, ids: Sequence[str],
                    texts: Sequence[str], n: int = 3) -> list[Quote]:
    """The members closest to the centroid (ties: smallest id), distinct texts only, quoted as published."""
    if not len(rows):
        return []
    sims = np.asarray(normalize(X[rows]) @ centroid).ravel()
    order = sorted(range(len(rows)), key=lambda j: (-round(float(sims[j]), 6), ids[rows[j]]))
    quotes, seen = [], set()
    for j in order:
        r = rows[j]
        text = texts[r].strip()
        if not text or text.lower() in seen:
            continue
        seen.add(text.lower())
        quotes.append(Quote(contribution_id=ids[r], text=quote(text)))
        if len(quotes) == n:
            break
    return quotes


def subthemes(X: sparse.csr_matrix, terms: Sequence[str], ids: Sequence[str], texts: Sequence[str],
              territories: Sequence[str], countries: Sequence[str], max_k: int = 8,
              min_rows: int = 10) -> tuple[list[Subtheme], np.ndarray, float | None]:
    """Sub-themes of one axis's rows, with the sub-theme index of each row and the silhouette."""
    n = X.shape[0]
    k_max = min(max_k, max(1, n // 5))
    k_range = range(2, k_max + 1) if n >= min_rows else range(0)
    result = cluster(X, k_range)
    out, clusters = [], []
    for c in range(result.centroids.shape[0]):
        rows = np.flatnonzero(result.labels == c)
        if not len(rows):
            continue
        keywords = top_terms(result.centroids[c], terms, 8)
        clusters.append(c)
        out.append(Subtheme(
            label=", ".join(keywords[:3]) or "divers",
            keywords=keywords,
            count=int(len(rows)),
            quotes=representatives(X, rows, result.centroids[c], ids, texts),
            territories_count=len({territories[r] for r in rows}),
            countries_count=len({countries[r] for r in rows}),
        ))
    order = sorted(range(len(out)), key=lambda i: (-out[i].count, out[i].label))
    position = np.full(max(result.centroids.shape[0], 1), -1, dtype=np.int64)
    for new, i in enumerate(order):
        position[clusters[i]] = new
    labels = np.where(result.labels >= 0, position[np.maximum(result.labels, 0)], -1)
    return [out[i] for i in order], labels, result.silhouette
