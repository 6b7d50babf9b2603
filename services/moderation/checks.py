"""Runs the CPU-bound charter checks off the event loop, so that the service keeps acking and serving.

With `PALABRE_MODERATION_WORKERS=0` the whole `check_batch` runs in a thread. With N > 0 the name
recogniser (the costly part) runs in N worker processes over slices of the batch, then the rest of
`check_batch` runs in a thread with those entities.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor

from services.moderation.domain import personal_data, sentence_model
from services.moderation.domain.pipeline import (
    ModerationInput,
    ModerationResult,
    check_batch,
)
from services.moderation.domain.policy import TerritoryPolicy
from shared.workers import exit_with_parent


def _warm_up() -> bool:
    personal_data.name_model()
    return True


class CheckRunner:
    def __init__(self, workers: int = 0) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        if workers > 0:
            # spawn: the service process runs threads and an event loop that a fork would copy half-way
            self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=exit_with_parent, initargs=(os.getpid(),))

    async def warm_up(self) -> None:
        """Load the name model where it will run, and the sentence model here, before the first batch needs
        them."""
        await asyncio.to_thread(sentence_model.warm_up)
        if self._pool is None:
            await asyncio.to_thread(_warm_up)
            return
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self._pool, _warm_up) for _ in range(self.workers)))

    async def check(
        self,
        items: Sequence[ModerationInput],
        policies: Mapping[str, TerritoryPolicy],
        signatures: Mapping[str, Sequence[int]],
    ) -> tuple[list[ModerationResult], dict[str, list[int]]]:
        if self._pool is None:
            return await asyncio.to_thread(check_batch, items, policies, signatures)
        texts = [item.title or "" for item in items] + [item.body for item in items]
        entities = await self._entities(texts)
        return await asyncio.to_thread(check_batch, items, policies, signatures, person_entities=entities)

    async def _entities(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        """PER spans of each text; only the texts that could hold a name are shared out, evenly."""
        assert self._pool is not None  # nosec B101 # type narrowing, the caller checked it
        loop = asyncio.get_running_loop()
        candidates = [i for i, text in enumerate(texts) if text and personal_data.could_hold_person_name(text)]
        size = max(1, -(-len(candidates) // self.workers))
        slices = [candidates[i:i + size] for i in range(0, len(candidates), size)]
        found = await asyncio.gather(*(
            loop.run_in_executor(self._pool, personal_data.person_entity_spans, [texts[i] for i in part])
            for part in slices
        ))
        entities: list[list[tuple[int, int]]] = [[] for _ in texts]
        for part, spans in zip(slices, found, strict=True):
            for index, text_spans in zip(part, spans, strict=True):
                entities[index] = text_spans
        return entities

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
