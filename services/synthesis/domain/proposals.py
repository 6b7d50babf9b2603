"""Proposals across territories → the manifesto draft.

Proposals with the same set of lemmas are one variant; variants closer than `duplicate_cosine` inside a
cluster are merged too; clusters (k-means over variants, k by silhouette on a geometric grid up to `max_k`) are ranked by
support: territories, then countries, then the support once repetition is discounted (one territory saying
the same thing N times weighs 1, as La Grande Annotation weighted repeated answers by 1/N), then contributions.

Each cluster is headed by its representative proposal's own words. Its coherence is the mean cosine of its
variants to its centre; its separation, that minus their mean cosine to the nearest other centre. A cluster
of several variants whose separation is below `min_separation` is closer to another than to itself: dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.preprocessing import normalize

from .models import ProposalCluster, Quote
from .subthemes import cluster, top_terms
from .text import heading, quote


def _union_find_groups(sim: np.ndarray, threshold: float) -> list[int]:
    parent = list(range(sim.shape[0]))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    rows, cols = np.nonzero(np.triu(sim >= threshold, k=1))
    for a, b in zip(rows.tolist(), cols.tolist()):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return [find(a) for a in range(sim.shape[0])]


def proposal_clusters(X: sparse.csr_matrix, docs: Sequence[str], terms: Sequence[str], ids: Sequence[str],
                      texts: Sequence[str], territories: Sequence[str], countries: Sequence[str],
                      axes: Sequence[str], max_k: int = 60, duplicate_cosine: float = 0.8,
                      pairwise_cap: int = 3_000, min_separation: float = 0.0
                      ) -> tuple[list[ProposalCluster], np.ndarray]:
    """Ranked proposal clusters, and each row's cluster index in that ranking (-1: no known term)."""
    n = X.shape[0]
    labels_out = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return [], labels_out
    X = normalize(X.tocsr())
    # 1. variants: identical sets of lemmas (rows are sorted by id, so the first row is the smallest id)
    variant_of: dict[str, int] = {}
    row_variant = np.empty(n, dtype=np.int64)
    first_rows: list[int] = []
    for r, doc in enumerate(docs):
        sig = " ".join(sorted(set(doc.split())))
        v = variant_of.get(sig)
        if v is None:
            v = variant_of[sig] = len(first_rows)
            first_rows.append(r)
        row_variant[r] = v
    reps = np.array(first_rows)
    Xv = X[reps]
    nv = len(reps)
    k_top = min(max_k, nv - 1)
    k_range = sorted({int(k) for k in np.geomspace(2, k_top, 8).round()}) if k_top >= 2 else []
    clustering = cluster(Xv, k_range if nv >= 6 else [])
    variant_label = clustering.labels
    row_label = variant_label[row_variant]
    centroids = clustering.centroids
    found = []
    for c in range(clustering.centroids.shape[0]):
        vs = np.flatnonzero(variant_label == c)
        if not len(vs):
            continue
        rows = np.flatnonzero(row_label == c)
        # 2. merge near-duplicate variants inside the cluster
        if len(vs) <= pairwise_cap:
            block = Xv[vs]
            groups = _union_find_groups((block @ block.T).toarray(), duplicate_cosine)
        else:
            groups = list(range(len(vs)))
        variants_count = len(set(groups))
        group_of = dict(zip(vs.tolist(), groups))
        said = {(territories[r], group_of[int(row_variant[r])]) for r in rows}  # once per territory and thing
        centroid = centroids[c]
        to_centres = np.asarray(Xv[vs] @ centroids.T)
        sims = to_centres[:, c]
        coherence = float(sims.mean())
        others = np.delete(to_centres.mean(axis=0), c)
        separation = coherence - float(others.max()) if len(others) else coherence
        if len(vs) > 1 and separation < min_separation:
            continue
        # representative: the variant said in the most territories (a flood in one counts once), then the
        # closest to the centre, then the smallest id
        spread = Counter(v for v, _ in {(int(row_variant[r]), territories[r]) for r in rows})
        best = min(range(len(vs)), key=lambda j: (-spread[int(vs[j])], -round(float(sims[j]), 6), ids[reps[vs[j]]]))
        rep_row = int(reps[vs[best]])
        others, seen = [], {territories[rep_row]}
        for j in sorted(range(len(vs)), key=lambda j: (-round(float(sims[j]), 6), ids[reps[vs[j]]])):
            row = int(reps[vs[j]])
            if j != best and groups[j] != groups[best] and territories[row] not in seen and len(others) < 2:
                others.append(Quote(contribution_id=ids[row], text=quote(texts[row])))
                seen.add(territories[row])
        keywords = top_terms(centroid, terms, 8)
        member_territories = sorted({territories[r] for r in rows})
        member_countries = sorted({countries[r] for r in rows})
        found.append(dict(
            label=heading(texts[rep_row]),
            keywords=keywords,
            representative=Quote(contribution_id=ids[rep_row], text=quote(texts[rep_row])),
            quotes=others,
            contributions_count=int(len(rows)),
            support_weighted=float(len(said)),
            coherence=round(coherence, 4),
            separation=round(separation, 4),
            territories_count=len(member_territories),
            countries_count=len(member_countries),
            variants_count=variants_count,
            territories=member_territories,
            countries=member_countries,
            axes=dict(sorted(Counter(axes[r] for r in rows).items())),
            contribution_ids=[ids[r] for r in rows],
            _cluster=c,
        ))
    found.sort(key=lambda f: (-f["territories_count"], -f["countries_count"], -f["support_weighted"],
                              -f["contributions_count"], f["label"], f["representative"].contribution_id))
    clusters_out = []
    position = np.full(max(clustering.centroids.shape[0], 1), -1, dtype=np.int64)
    for rank, f in enumerate(found, start=1):
        position[f.pop("_cluster")] = rank - 1
        clusters_out.append(ProposalCluster(id=f"P{rank:03d}", **f))
    labels_out = np.where(row_label >= 0, position[np.maximum(row_label, 0)], -1)
    return clusters_out, labels_out
