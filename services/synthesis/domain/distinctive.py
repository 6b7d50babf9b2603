"""What is singular to a territory: weighted log-odds with an informative Dirichlet prior.

Monroe, Colaresi & Quinn (2008), "Fightin' Words", §3.5: for a word w, group i (the territory) against
the rest of the network j, with prior α_w proportional to the network's frequency of w,

    δ_w = log((y_iw + α_w) / (n_i + α_0 − y_iw − α_w)) − log((y_jw + α_w) / (n_j + α_0 − y_jw − α_w))
    σ²(δ_w) ≈ 1 / (y_iw + α_w) + 1 / (y_jw + α_w)

and z = δ_w / σ, the strength shown. Works on any count matrix: territories × terms, or × axes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from .models import Strength


def log_odds(counts: np.ndarray | sparse.spmatrix, alpha0: float = 1000.0) -> tuple[np.ndarray, np.ndarray]:
    """(δ, z) for every group (row) against all other rows, with a prior from the column totals."""
    if sparse.issparse(counts):
        counts = counts.toarray()
    y = np.asarray(counts, dtype=np.float64)
    total_w = y.sum(axis=0)
    total = total_w.sum()
    if total == 0:
        return np.zeros_like(y), np.zeros_like(y)
    a0 = min(alpha0, total)
    alpha = a0 * total_w / total
    alpha = np.maximum(alpha, 1e-3)
    n_i = y.sum(axis=1, keepdims=True)
    y_j = total_w - y
    n_j = total - n_i
    a0 = alpha.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        num_i = np.log(y + alpha) - np.log(np.maximum(n_i + a0 - y - alpha, 1e-9))
        num_j = np.log(y_j + alpha) - np.log(np.maximum(n_j + a0 - y_j - alpha, 1e-9))
        delta = num_i - num_j
        z = delta / np.sqrt(1.0 / (y + alpha) + 1.0 / (y_j + alpha))
    return np.nan_to_num(delta), np.nan_to_num(z)


def strongest(counts_row: np.ndarray, delta_row: np.ndarray, z_row: np.ndarray, names: Sequence[str],
              n: int = 10, min_z: float = 1.96, min_count: int = 2) -> list[Strength]:
    """The over-represented names of one group, strongest first (ties: by name)."""
    keep = np.flatnonzero((z_row >= min_z) & (counts_row >= min_count))
    keep = sorted(keep, key=lambda i: (-round(float(z_row[i]), 6), names[i]))[:n]
    return [Strength(term=names[i], count=int(counts_row[i]), log_odds=round(float(delta_row[i]), 4),
                     z=round(float(z_row[i]), 3)) for i in keep]
