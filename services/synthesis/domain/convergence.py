"""Convergences: themes raised in many territories and countries (sub-themes, proposal clusters, terms)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .models import Convergence


def group_convergence(kind: str, label: str, axis: str | None, keywords: list[str], rows: np.ndarray,
                      territory_of: np.ndarray, names: Sequence[str], country_of: np.ndarray,
                      countries: Sequence[str]) -> Convergence:
    """`rows` index `territory_of`/`country_of`, which code each row into the sorted `names`/`countries`."""
    member_territories = [names[t] for t in np.unique(territory_of[rows])]
    member_countries = [countries[t] for t in np.unique(country_of[rows])]
    return Convergence(kind=kind, label=label, axis=axis, keywords=keywords, contributions_count=int(len(rows)),
                       territories_count=len(member_territories), countries_count=len(member_countries),
                       territories=member_territories, countries=member_countries)


def term_convergences(df: np.ndarray, size: np.ndarray, names: Sequence[str], country_of: dict[str, str],
                      terms: Sequence[str], min_docs: int = 2, min_share: float = 0.02, limit: int = 20,
                      min_territories: int = 2) -> list[Convergence]:
    """Terms that at least `min_docs` contributions (and `min_share` of them) use in many territories.

    `df` is territories (`names`) × terms: how many of a territory's contributions use the term; `size`,
    how many contributions each territory has.
    """
    if not len(names):
        return []
    raised = (df >= min_docs) & (df >= min_share * np.asarray(size)[:, None])
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
