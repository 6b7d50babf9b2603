"""Each territory's flooding window, kept in memory and topped up from the database.

The flooding check compares a new text with the signatures its territory received in the last 24 hours
(the newest 5,000). Reading the whole window for every batch cost more as the corpus grew: a busy
territory meant thousands of rows read for each batch. So a process reads a territory's window once,
then on each batch reads only the rows received since it last looked, from every replica. It reads
from `overlap` earlier than that, to catch the batches other replicas were still committing then (a row's
`received_at` is its transaction's start, and a batch's transaction lasts well under a second). A batch
that takes longer than the overlap to commit may go unseen by another replica's window; two batches
running at the same time on two replicas never saw each other anyway, so the flooding check across
replicas was, and stays, best effort.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
import numpy as np

from services.moderation import store

WINDOW = timedelta(hours=24)
LIMIT = 5_000
OVERLAP = timedelta(seconds=2)


@dataclass
class _Window:
    seen_at: datetime  # the database's time when this window was last read
    entries: deque[tuple[datetime, UUID]] = field(default_factory=deque)  # oldest first
    ids: set[UUID] = field(default_factory=set)
    # The entries' signatures as one array, kept up to date from what was added and trimmed since it was
    # last asked for: building it afresh for each batch cost more than the checks of a small batch.
    _signatures: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    _added: list[int] = field(default_factory=list)
    _trimmed: int = 0

    def add(self, received_at: datetime, signature: int, contribution_id: UUID) -> None:
        if contribution_id not in self.ids:
            self.ids.add(contribution_id)
            self.entries.append((received_at, contribution_id))
            self._added.append(signature)

    def trim(self, since: datetime, limit: int) -> None:
        while self.entries and (len(self.entries) > limit or self.entries[0][0] <= since):
            self.ids.discard(self.entries.popleft()[1])
            self._trimmed += 1

    def signatures(self) -> np.ndarray:
        """The signatures of the entries, oldest first."""
        if self._added or self._trimmed:
            added = np.asarray(self._added, dtype=np.int64)
            self._signatures = np.concatenate([self._signatures, added])[self._trimmed:]
            self._added.clear()
            self._trimmed = 0
        return self._signatures


class FloodWindows:
    def __init__(self, window: timedelta = WINDOW, limit: int = LIMIT, overlap: timedelta = OVERLAP) -> None:
        self.window = window
        self.limit = limit
        self.overlap = overlap
        self._windows: dict[str, _Window] = {}

    async def signatures(self, conn: asyncpg.Connection, territories: Sequence[str], *,
                         now: datetime | None = None) -> dict[str, np.ndarray]:
        """The recent signatures of each territory, oldest first (the domain's `find_floods` input). `now` is
        the transaction's `now()`, read here unless the caller has it already."""
        if now is None:
            now = await conn.fetchval("SELECT now()")
        unread = [t for t in territories if t not in self._windows]
        read = [t for t in territories if t in self._windows]
        if unread:
            rows = await store.recent_signatures(conn, unread, since=now - self.window, limit=self.limit)
            for territory in unread:
                self._windows[territory] = _Window(seen_at=now)
            for row in reversed(rows):  # newest first from the database
                self._windows[row["territory"]].add(row["received_at"], row["signature"], row["id"])
        if read:
            since = min(self._windows[t].seen_at for t in read) - self.overlap
            for row in await store.signatures_received_since(conn, read, since):
                self._windows[row["territory"]].add(row["received_at"], row["signature"], row["id"])
            for territory in read:
                self._windows[territory].seen_at = now
        out = {}
        for territory in territories:
            window = self._windows[territory]
            window.trim(now - self.window, self.limit)
            out[territory] = window.signatures()
        return out
