"""What the synthesis works out once over the whole corpus, for every scope to take its share of.

Every scope (network, country, territory, consultation, framework) is a union of cells, the contributions
of one territory to one consultation. Sub-themes (k-means per axis), proposal clusters, each territory's
singularity and how many contributions of each cell use each term are computed once over the corpus; a
scope then keeps what its own contributions fall in: a territory's sub-themes and proposals are the
corpus's clusters its contributions belong to, counted and quoted from its contributions only. So a
recompute clusters every contribution once, however many scopes it summarises.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from scipy import sparse

from shared.frameworks import Framework
from shared.vocabulary import Kind

from .counts import count_cells
from .distinctive import log_odds, strongest
from .models import UNCLASSIFIED, Counts, PublishedContribution, Quote, SaidMore, Scope, TerritoryDistinctive
from .proposals import ProposalModel, fit_proposals
from .subthemes import SubthemeModel, fit_subthemes
from .text import quote

METHOD_VERSION = "synthesis-2"
CHUNK_ROWS = 50_000


def _codes(values: Sequence[str]) -> tuple[list[str], np.ndarray]:
    names = sorted(set(values))
    code = {name: i for i, name in enumerate(names)}
    return names, np.fromiter((code[v] for v in values), dtype=np.int32, count=len(values))


class CorpusResults:
    """The shared results of a prepared corpus (`report.Corpus`) whose rows sit on `axis_of`; each part is
    computed on first use."""

    def __init__(self, corpus, axis_of: Sequence[str | None]) -> None:
        rows: list[PublishedContribution] = corpus.rows
        self.corpus = corpus
        self.axis_of = list(axis_of)
        self.ids = [c.id for c in rows]
        self.names, self.territory_of = _codes([c.territory for c in rows])
        self.countries, self.country_of = _codes([c.country for c in rows])
        self.country_of_territory = {c.territory: c.country for c in rows}
        cells: dict[tuple, int] = {}
        cell_of = np.empty(len(rows), dtype=np.int32)
        self.cell_rows: list[int] = []  # a row of each cell, to ask a scope whether it holds the cell
        for i, c in enumerate(rows):
            key = (c.territory, c.country, c.consultation, c.framework)
            k = cells.get(key)
            if k is None:
                k = cells[key] = len(self.cell_rows)
                self.cell_rows.append(i)
            cell_of[i] = k
        self.cell_of = cell_of
        self.cell_size = np.bincount(cell_of, minlength=len(self.cell_rows))
        self.cell_territory = self.territory_of[self.cell_rows] if self.cell_rows else np.zeros(0, np.int32)
        by_axis: dict[str | None, list[int]] = {}
        for i, axis in enumerate(self.axis_of):
            by_axis.setdefault(axis, []).append(i)
        self.axis_rows = {axis: np.array(members, dtype=np.int64) for axis, members in by_axis.items()}
        self.proposal_rows = np.array([i for i, c in enumerate(rows) if c.kind == Kind.PROPOSITION], dtype=np.int64)
        self.unclassified = np.fromiter((axis is None for axis in self.axis_of), dtype=bool, count=len(rows))
        self.axis_labels = [axis or UNCLASSIFIED for axis in self.axis_of]  # "non classé" named, for counts by axis
        kinds: dict[tuple[str, str, str, str], int] = {}
        self.count_kind = np.fromiter(
            (kinds.setdefault((axis or UNCLASSIFIED, str(c.kind), str(c.author_role), str(c.channel)), len(kinds))
             for c, axis in zip(rows, self.axis_of)), dtype=np.int32, count=len(rows))
        self.count_kinds = list(kinds)  # (axis, kind, author role, channel) of each `count_kind`
        self._subthemes: dict[str, SubthemeModel] = {}
        self._proposals: ProposalModel | None = None
        self._cell_terms: np.ndarray | None = None
        self._distinctive: dict[tuple[str, str], dict[str, TerritoryDistinctive]] = {}
        self._digest: str | None = None

    def counts(self, members: np.ndarray) -> Counts:
        """Counts by axis, kind, author role and channel of the rows `members`."""
        tally = np.bincount(self.count_kind[members], minlength=len(self.count_kinds))
        return count_cells({key: int(n) for key, n in zip(self.count_kinds, tally.tolist())})

    def cells_in(self, scope: Scope) -> np.ndarray:
        rows = self.corpus.rows
        return np.array([k for k, i in enumerate(self.cell_rows) if scope.contains(rows[i])], dtype=np.int64)

    def members(self, scope: Scope) -> np.ndarray:
        """The scope's rows, ascending (by id)."""
        return np.flatnonzero(np.isin(self.cell_of, self.cells_in(scope)))

    def subthemes(self, axis: str) -> SubthemeModel:
        if axis not in self._subthemes:
            rows = self.axis_rows.get(axis, np.zeros(0, dtype=np.int64))
            self._subthemes[axis] = fit_subthemes(self.corpus.X[rows], self.terms)
        return self._subthemes[axis]

    def proposals(self) -> ProposalModel:
        if self._proposals is None:
            docs = self.corpus.docs
            self._proposals = fit_proposals(self.corpus.X[self.proposal_rows],
                                            [docs[i] for i in self.proposal_rows.tolist()], self.terms)
        return self._proposals

    @property
    def terms(self) -> list[str]:
        """The terms as keywords show them (see `Lemmatizer.written_forms`)."""
        shown = self.corpus.shown_terms
        return shown if shown is not None else self.corpus.terms

    def cell_terms(self) -> np.ndarray:
        """cells × terms: how many contributions of each cell use each term (in chunks of rows, so no
        copy of the whole matrix is made)."""
        if self._cell_terms is None:
            X = self.corpus.X
            out = np.zeros((len(self.cell_rows), X.shape[1]), dtype=np.float32)
            for start in range(0, X.shape[0], CHUNK_ROWS):
                block = X[start:start + CHUNK_ROWS]
                presence = sparse.csr_matrix((np.ones(block.nnz, dtype=np.float32), block.indices, block.indptr),
                                             shape=block.shape)
                cells = self.cell_of[start:start + CHUNK_ROWS]
                indicator = sparse.csr_matrix(
                    (np.ones(len(cells), dtype=np.float32), (cells, np.arange(len(cells)))),
                    shape=(len(self.cell_rows), len(cells)))
                out += (indicator @ presence).toarray()
            self._cell_terms = out
        return self._cell_terms

    def territory_terms(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For the territories with contributions in `cells`: their codes, territories × terms counts of
        contributions using each term, and their contributions counts, both within `cells`."""
        territory = self.cell_territory[cells]
        codes, position = np.unique(territory, return_inverse=True)
        indicator = sparse.csr_matrix((np.ones(len(cells), dtype=np.float32), (position, np.arange(len(cells)))),
                                      shape=(len(codes), len(cells)))
        df = np.asarray(indicator @ self.cell_terms()[cells])
        size = np.bincount(position, weights=self.cell_size[cells], minlength=len(codes))
        return codes, df, size

    def digest(self, framework: Framework, scope: Scope) -> str:
        """Changes when any contribution of the corpus, its place or its axis does, or the method."""
        if self._digest is None:
            h = hashlib.sha256()
            for c, axis in zip(self.corpus.rows, self.axis_of):
                h.update(f"\x1e{c.id}\x1f{c.territory}\x1f{c.country}\x1f{axis}\x1f{c.kind}\x1f{c.author_role}"
                         f"\x1f{c.channel}\x1f{c.consultation}\x1f".encode())
                h.update(c.text.encode("utf-8", "surrogatepass"))
            self._digest = h.hexdigest()
        scoped = f"{METHOD_VERSION}|{framework.id}|{framework.version}|{scope.level}|{scope.id}|{self._digest}"
        return hashlib.sha256(scoped.encode()).hexdigest()[:16]

    def distinctive(self, framework: Framework, territories: np.ndarray, top: int = 10,
                    said_more: int = 5) -> list[TerritoryDistinctive]:
        """The `territories` (codes) against the whole corpus, for the framework's axes and for terms."""
        if len(self.names) < 2:
            return []
        key = (framework.id, framework.version)
        if key not in self._distinctive:
            self._distinctive[key] = self._all_distinctive(framework, top, said_more)
        return [self._distinctive[key][self.names[t]] for t in territories.tolist()]

    def _all_distinctive(self, framework: Framework, top: int, said_more: int) -> dict[str, TerritoryDistinctive]:
        """Each territory's strongest terms, each with the contribution of the territory that weighs the
        term most (ties: smallest id), one quote per contribution; and its strongest axes."""
        all_cells = np.arange(len(self.cell_rows))
        codes, term_counts, _ = self.territory_terms(all_cells)
        t_delta, t_z = log_odds(term_counts)
        axis_ids = framework.axis_ids()
        axis_counts = np.zeros((len(self.names), len(axis_ids)))
        for j, axis in enumerate(axis_ids):
            rows = self.axis_rows.get(axis)
            if rows is not None:
                axis_counts[:, j] = np.bincount(self.territory_of[rows], minlength=len(self.names))
        a_delta, a_z = log_odds(axis_counts)
        size = np.bincount(self.territory_of, minlength=len(self.names))
        terms, texts = self.terms, self.corpus.texts
        strong = [strongest(term_counts[i], t_delta[i], t_z[i], terms, n=top) for i in range(len(self.names))]
        position: dict[str, int] = {}
        for j, term in enumerate(terms):
            position.setdefault(term, j)
        wanted = sorted({position[s.term] for found in strong for s in found})
        columns = self.corpus.X[:, wanted].tocsc() if wanted else None
        column_of = {j: k for k, j in enumerate(wanted)}
        out = {}
        for i, name in enumerate(self.names):
            quoted, covered = [], set()
            for s in strong[i]:
                k = column_of[position[s.term]]
                members = columns.indices[columns.indptr[k]:columns.indptr[k + 1]]
                weights = columns.data[columns.indptr[k]:columns.indptr[k + 1]]
                mine = self.territory_of[members] == i
                if not mine.any():
                    continue
                members, weights = members[mine], weights[mine]
                r = int(members[np.lexsort((members, -np.round(weights.astype(np.float64), 6)))[0]])
                if r in covered:  # another term already quoted this contribution: one quote, one thing
                    continue
                covered.add(r)
                quoted.append(SaidMore(term=s.term, z=s.z, count=s.count,
                                       quote=Quote(contribution_id=self.ids[r], text=quote(texts[r]))))
                if len(quoted) == said_more:
                    break
            out[name] = TerritoryDistinctive(
                territory=name, country=self.country_of_territory[name], contributions_count=int(size[i]),
                axes=strongest(axis_counts[i], a_delta[i], a_z[i], axis_ids, n=len(axis_ids)),
                terms=strong[i], said_more=quoted)
        return out
