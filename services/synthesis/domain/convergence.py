"""Convergences: themes raised in many territories and countries (sub-themes, proposal clusters, terms)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from .models import Convergence


def group_convergence(kind: str, label: str, axis: str | None, keywords: list[str], rows: np.ndarray,
                      territories: Sequence[str], countries: Sequence[str]) -> Convergence:
    member_territories = sorted({territories[r] for r in rows})
    member_countries = sorted({countries[r] for r in rows})
    return Convergence(kind=kind, label=label, axis=axis, keywords=keywords, contributions_count=int(len(rows)),
                       territories_count=len(member_territories), countries_count=len(member_countries),
                       territories=member_territories, countries=member_countries)


def term_convergences(B: sparse.csr_matrix, terms: Sequence[str], territories: Sequence[str],
                      countries: Sequence[str], min_docs: int = 2, min_share: float = 0.02,
                      limit: int = 20, min_territories: int = 2) -> list[Convergence]:
    """Terms that at least `min_docs` contributions (and `min_share` of them) use in many territories.

    `B` is rows × terms (any positive value counts as presence).
    """
    if B.shape[0] == 0:
        return []
    names = sorted(set(territories))
    code = {t: i for i, t in enumerate(names)}
    t_idx = np.array([code[t] for t in territories])
    indicator = sparse.csr_matrix((np.ones(len(t_idx)), (t_idx, np.arange(len(t_idx)))),
                                  shape=(len(names), len(t_idx)))
    presence = (B > 0).astype(np.float32)
    df = (indicator @ presence).toarray()  # territories × terms: contributions using the term
    size = np.bincount(t_idx, minlength=len(names))[:, None]
    raised = (df >= min_docs) & (df >= min_share * size)
    country_of = {t: c for t, c in zip(territories, countries)}
    n_terr = raised.sum(axis=0)
    candidates = np.flatnonzero(n_terr >= min_territories)
    out = []
    for j in candidates:
        terr = [names[i] for i in np.flatnonzero(raised[:, j])]
        ctry = sorted({country_of[t] for t in terr})
        out.append(Convergence(kind="term", label=terms[j], keywords=[terms[j]],
                               contributions_count=int(df[raised[:, j], j].sum()),
                               territories_count=len(terr), countries_count=len(ctry),
                               territories=terr, countries=ctry))
    out.sort(key=lambda c: (-c.territories_count, -c.countries_count, -c.contributions_count, c.label))
    return out[:limit]


def rank(convergences: list[Convergence], min_territories: int = 2) -> list[Convergence]:
    kept = [c for c in convergences if c.territories_count >= min_territories]
    order = {"proposal": 0, "subtheme": 1, "term": 2}
    return sorted(kept, key=lambda c: (-c.territories_count, -c.countries_count, order[c.kind],
                                       -c.contributions_count, c.label))
