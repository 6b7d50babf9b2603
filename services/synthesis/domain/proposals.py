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
from dataclasses import dataclass

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


@dataclass
class ProposalModel:
    """Proposal clusters over every proposal of the corpus; a scope takes those its proposals fall in."""

    variant: np.ndarray  # variant of each proposal (same set of lemmas)
    label: np.ndarray  # cluster of each variant, -1 for a variant without any known term
    group: np.ndarray  # near-duplicate group of each variant (variants closer than `duplicate_cosine`)
    to_centres: np.ndarray  # variants × clusters: cosine of each variant to each cluster's centre
    keywords: list[list[str]]  # per cluster


def fit_proposals(X: sparse.csr_matrix, docs: Sequence[str], terms: Sequence[str], max_k: int = 60,
                  duplicate_cosine: float = 0.8, pairwise_cap: int = 3_000) -> ProposalModel:
    """Variants, k-means over variants (k by silhouette on a geometric grid up to `max_k`), near-duplicate
    groups inside each cluster (of at most `pairwise_cap` variants), over the rows of `X` (sorted by id)."""
    n = X.shape[0]
    variant_of: dict[str, int] = {}
    variant = np.empty(n, dtype=np.int64)
    first_rows: list[int] = []
    for r, doc in enumerate(docs):
        sig = " ".join(sorted(set(doc.split())))
        v = variant_of.get(sig)
        if v is None:
            v = variant_of[sig] = len(first_rows)
            first_rows.append(r)
        variant[r] = v
    nv = len(first_rows)
    if nv == 0:
        return ProposalModel(variant, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
                             np.zeros((0, 0), dtype=np.float32), [])
    Xv = normalize(X.tocsr()[np.array(first_rows)])
    k_top = min(max_k, nv - 1)
    k_range = sorted({int(k) for k in np.geomspace(2, k_top, 8).round()}) if k_top >= 2 else []
    clustering = cluster(Xv, k_range if nv >= 6 else [])
    centroids = clustering.centroids
    to_centres = np.asarray(Xv @ centroids.T, dtype=np.float32)
    group = np.arange(nv, dtype=np.int64)
    for c in range(centroids.shape[0]):
        vs = np.flatnonzero(clustering.labels == c)
        if 1 < len(vs) <= pairwise_cap:
            block = Xv[vs]
            group[vs] = vs[_union_find_groups((block @ block.T).toarray(), duplicate_cosine)]
    keywords = [top_terms(centroids[c], terms, 8) for c in range(centroids.shape[0])]
    return ProposalModel(variant, clustering.labels, group, to_centres, keywords)


def proposal_clusters(model: ProposalModel, members: np.ndarray, rows: np.ndarray, ids: Sequence[str],
                      texts: Sequence[str], territory_of: np.ndarray, names: Sequence[str],
                      country_of: np.ndarray, countries: Sequence[str], axes: Sequence[str | None],
                      min_separation: float = 0.0) -> tuple[list[ProposalCluster], np.ndarray]:
    """A scope's ranked proposal clusters and each member's cluster index in that ranking (-1: none).

    `members` are positions among the corpus's proposals, `rows` their corpus rows (both ascending, so by
    id); `territory_of`/`country_of` code each corpus row into `names`/`countries`. Everything a cluster
    shows (support, variants, coherence, quotes, heading) is worked out from the scope's own proposals.
    """
    variant = model.variant[members]
    label = model.label[variant] if len(members) else np.zeros(0, dtype=np.int64)
    found = []
    for c in np.unique(label[label >= 0]).tolist():
        inside = np.flatnonzero(label == c)
        mine = variant[inside]
        corpus_rows = rows[members[inside]]
        territory = territory_of[corpus_rows]
        vs, first = np.unique(mine, return_index=True)  # each variant's first row in the scope: its smallest id
        vs_rows = corpus_rows[first]
        groups = model.group[vs]
        sims = model.to_centres[vs, c].astype(np.float64)
        coherence = float(sims.mean())
        others = np.delete(model.to_centres[vs].astype(np.float64).mean(axis=0), c)
        separation = coherence - float(others.max()) if len(others) else coherence
        if len(vs) > 1 and separation < min_separation:
            continue
        # support once repetition is discounted: each territory once per near-duplicate thing it said
        said = len(np.unique(territory * (int(model.group.max()) + 1) + model.group[mine]))
        # representative: the variant said in the most territories (a flood in one counts once), then the
        # closest to the centre, then the smallest id
        pairs = np.unique(np.searchsorted(vs, mine) * len(names) + territory)
        spread = np.bincount(pairs // len(names), minlength=len(vs))
        rounded = np.round(sims, 6)
        best = int(np.lexsort((vs_rows, -rounded, -spread))[0])
        rep_row = int(vs_rows[best])
        quoted, seen = [], {int(territory_of[rep_row])}
        for j in np.lexsort((vs_rows, -rounded)).tolist():
            row = int(vs_rows[j])
            if j != best and groups[j] != groups[best] and int(territory_of[row]) not in seen and len(quoted) < 2:
                quoted.append(Quote(contribution_id=ids[row], text=quote(texts[row])))
                seen.add(int(territory_of[row]))
        member_territories = [names[t] for t in np.unique(territory)]
        member_countries = [countries[t] for t in np.unique(country_of[corpus_rows])]
        found.append((c, dict(
            label=heading(texts[rep_row]),
            keywords=model.keywords[c],
            representative=Quote(contribution_id=ids[rep_row], text=quote(texts[rep_row])),
            quotes=quoted,
            contributions_count=int(len(inside)),
            support_weighted=float(said),
            coherence=round(coherence, 4),
            separation=round(separation, 4),
            territories_count=len(member_territories),
            countries_count=len(member_countries),
            variants_count=len(np.unique(groups)),
            territories=member_territories,
            countries=member_countries,
            axes=dict(sorted(Counter(axes[r] for r in corpus_rows.tolist()).items())),
            contribution_ids=[ids[r] for r in corpus_rows.tolist()],
        )))
    found.sort(key=lambda f: (-f[1]["territories_count"], -f[1]["countries_count"], -f[1]["support_weighted"],
                              -f[1]["contributions_count"], f[1]["label"], f[1]["representative"].contribution_id))
    position = np.full(max(len(model.keywords), 1), -1, dtype=np.int64)
    out = []
    for rank, (c, f) in enumerate(found, start=1):
        position[c] = rank - 1
        out.append(ProposalCluster(id=f"P{rank:03d}", **f))
    return out, np.where(label >= 0, position[np.maximum(label, 0)], -1)
