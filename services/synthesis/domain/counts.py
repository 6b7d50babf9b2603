"""Counts by axis × kind × author role × channel: a pure aggregation over rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from .models import CountRow, Counts


def count(rows: Iterable[tuple[str, str, str, str]]) -> Counts:
    """`rows` are (axis, kind, author_role, channel); use models.UNCLASSIFIED for a missing axis."""
    return count_cells(Counter(rows))


def count_cells(cells: Mapping[tuple[str, str, str, str], int]) -> Counts:
    """`count` of rows already tallied by (axis, kind, author_role, channel)."""
    cells = Counter({key: n for key, n in cells.items() if n})
    by = [Counter() for _ in range(4)]
    by_axis_kind: dict[str, Counter] = {}
    for (axis, kind, role, channel), n in cells.items():
        for i, key in enumerate((axis, kind, role, channel)):
            by[i][key] += n
        by_axis_kind.setdefault(axis, Counter())[kind] += n

    def ordered(counter: Counter) -> dict[str, int]:
        return {k: counter[k] for k in sorted(counter)}

    return Counts(
        total=sum(cells.values()),
        by_axis=ordered(by[0]),
        by_kind=ordered(by[1]),
        by_author_role=ordered(by[2]),
        by_channel=ordered(by[3]),
        by_axis_kind={a: ordered(by_axis_kind[a]) for a in sorted(by_axis_kind)},
        rows=[CountRow(axis=a, kind=k, author_role=r, channel=c, count=n)
              for (a, k, r, c), n in sorted(cells.items())],
    )
