"""The background recompute: sub-themes, proposals, singularity and convergences of every scope that changed,
debounced (`PALABRE_SYNTHESIS_DEBOUNCE_S`), in a separate process so the service keeps answering.

Changes leave a row in `recompute_requests` (the earliest kept). A replica holding the recompute advisory
lock claims the requests older than the debounce, reads the published corpus, and hands it to a worker
process; the result (placements, documents, refitted classifiers) is written back in one transaction with
its `synthesis.updated` events. Only one replica recomputes at a time; the others keep consuming and answering.
A recompute reads the whole corpus, so under sustained change the next one rests in proportion to how long
the last one took (`PALABRE_SYNTHESIS_RECOMPUTE_SHARE`, recorded in `last_recompute` for every replica),
and while the pipeline is busy a due recompute waits (`Activity`) and one already running is stopped, unless
a person asked for it.
"""

import asyncio
import contextlib
import multiprocessing
import os
import signal
import time
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from services.synthesis import commands, store
from services.synthesis.classifiers import (
    REFRESH_S,
    ClassifierCache,
    classifier_version,
    dump_classifier,
    load_classifier,
)
from services.synthesis.domain.text import Lemmatizer, TaggedTexts
from services.synthesis.settings import get_synthesis_settings
from shared.frameworks import Framework, default_framework
from shared.logging import get_logger
from shared.workers import exit_with_parent

log = get_logger(__name__)

RECOMPUTE_LOCK = 0x5A1_7E5E  # pg advisory lock id: one recomputing replica at a time


RECOMPUTE_NICENESS = 10  # the recompute is background work: the pipeline's processes come first


def limit_threads(threads: int, service_pid: int) -> None:
    """The worker process's initializer: bound the native thread pools (k-means, BLAS), yield the cores to
    the pipeline's processes, and end with the service."""
    from threadpoolctl import threadpool_limits

    exit_with_parent(service_pid)
    threadpool_limits(limits=threads)
    os.nice(RECOMPUTE_NICENESS)


def _worker_pids(executor: ProcessPoolExecutor) -> list[int]:
    return [process.pid for process in executor._processes.values()]  # no public accessor


def _signal(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # the worker died: the executor reports it
            os.kill(pid, signum)


_TAGGED_TEXTS = TaggedTexts()  # in the worker process: kept from one recompute to the next


def run_recompute(rows: list[tuple], consultations: dict[str, tuple[str, dict]],
                  scopes: list[tuple[str, str]]) -> dict[str, Any]:
    """In the worker process: the pure recompute over plain data, returned as plain data."""
    from services.synthesis.domain.models import (
        UNCLASSIFIED,
        AxisSource,
        PublishedContribution,
        Scope,
    )
    from services.synthesis.domain.recompute import framework_key, recompute

    started = time.perf_counter()
    frameworks = {key: Framework.model_validate(framework) for key, (_, framework) in consultations.items()}
    fallback = default_framework()
    territory_framework: dict[str, Framework] = {}
    for consultation in sorted(consultations):
        territory_framework.setdefault(consultations[consultation][0], frameworks[consultation])
    contributions, frameworks_of, stored_subtheme = [], {}, {}
    for cid, territory, country, consultation, kind, role, channel, text, axis, source, subtheme, question in rows:
        frameworks_of[cid] = frameworks.get(consultation, fallback)
        contributions.append(PublishedContribution(
            id=cid, territory=territory, country=country, kind=kind or "-", text=text, axis=axis,
            axis_source=AxisSource(source) if source in {s.value for s in AxisSource} else None,
            author_role=role or "-", channel=channel or "-", question=question, consultation=consultation,
            framework=frameworks_of[cid].id))
        stored_subtheme[cid] = subtheme
    by_id = {framework.id: framework for _, framework in sorted(frameworks.items())}
    pairs = []
    for level, key in scopes:
        scope = Scope(level=level, id=None if level == "network" else key)
        own = {"territory": territory_framework.get(key), "consultation": frameworks.get(key),
               "framework": by_id.get(key)}.get(level)
        pairs.append((scope, own or fallback))
    result = recompute(contributions, frameworks_of, pairs, lemmatizer=Lemmatizer(tagged=_TAGGED_TEXTS))
    fitted_on = Counter(framework_key(framework) for framework in frameworks_of.values())
    documents = {}
    for (level, key), analysis in result.analyses.items():
        document = analysis.synthesis.model_dump(mode="json")
        document["digest"] = document.pop("version")
        document["unclassified_label"] = UNCLASSIFIED
        documents[(level, key)] = document
    network = result.analyses.get(("network", "network"))
    subthemes = {}
    if network is not None:
        subthemes = {cid: p.subtheme for cid, p in network.placements.items() if p.subtheme != stored_subtheme[cid]}
    models = {key: dump_classifier(classifier) for key, classifier in result.classifiers.items()}
    versions = {key: classifier_version(key, model) for key, model in models.items()}
    return {
        "classifiers": {key: (model, fitted_on[key]) for key, model in models.items()},
        "changes": [(c.contribution_id, c.previous_axis, c.axis, c.confidence, versions.get(c.framework, c.framework))
                    for c in result.changes],
        "documents": documents,
        "subthemes": subthemes,
        "seconds": time.perf_counter() - started,
    }


def per_framework_scopes(consultations: dict[str, tuple[str, dict]]) -> set[tuple[str, str]]:
    """A scope for each consultation, and one for each framework across the territories that use it."""
    return ({("consultation", key) for key in consultations}
            | {("framework", framework["id"]) for _, framework in consultations.values()})


class Activity:
    """How many published contributions this replica counted per second lately.

    A recompute takes a core for seconds to minutes; on a machine the pipeline shares, that is time taken
    from decisions (whatever the recompute's priority: measured, a lower-priority process still slowed
    them). So while the pipeline is busy, a due recompute waits, up to `max_defer_s`.
    """

    def __init__(self, window_s: float = 10.0) -> None:
        self.window_s = window_s
        self._counted: deque[tuple[float, int]] = deque()
        self._watching_since = time.monotonic()

    def known(self) -> bool:
        """Whether this replica has watched a whole window: until then its rate says nothing (a replica that
        has just started, with a backlog waiting, has counted nothing yet)."""
        return time.monotonic() - self._watching_since >= self.window_s

    def record(self, count: int) -> None:
        self._counted.append((time.monotonic(), count))
        self._forget()  # a replica that never recomputes (another holds the lock) never asks `per_s`

    def per_s(self) -> float:
        self._forget()
        return sum(count for _, count in self._counted) / self.window_s

    def _forget(self) -> None:
        since = time.monotonic() - self.window_s
        while self._counted and self._counted[0][0] < since:
            self._counted.popleft()


class Recomputer:
    def __init__(self, classifiers: ClassifierCache, activity: Activity) -> None:
        self.settings = get_synthesis_settings()
        self.classifiers = classifiers
        self.activity = activity
        self._executor: ProcessPoolExecutor | None = None
        self._refreshed = 0.0

    def executor(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=limit_threads,
                                                 initargs=(self.settings.worker_threads, os.getpid()))
        return self._executor

    def close(self) -> None:
        """Stop the worker process at once. A recompute in hand is lost (its scopes are asked for again
        when it is cancelled); waiting for it would hold the service's shutdown for as long as it takes,
        past any grace period, until the process is killed."""
        if self._executor is None:
            return
        workers = list(self._executor._processes.values())  # `terminate_workers()` from Python 3.14 on
        self._executor.shutdown(wait=False, cancel_futures=True)
        for process in workers:
            process.kill()  # SIGKILL: it holds nothing to clean up, and a blocked SIGTERM would not end it
        self._executor = None

    async def run(self, runtime) -> None:
        """The background loop: heal stale scopes once, then recompute what is due, forever."""
        async with runtime.db.acquire() as conn:
            await store.request_recompute(conn, await store.stale_scopes(conn))
        try:
            while True:
                await asyncio.sleep(self.settings.poll_s)
                await self.recompute_due(runtime)
                await self.refresh_classifiers(runtime)
        finally:
            self.close()

    async def refresh_classifiers(self, runtime) -> None:
        """Take the classifiers another replica refitted, at most every `REFRESH_S`."""
        if time.monotonic() - self._refreshed < REFRESH_S:
            return
        self._refreshed = time.monotonic()
        async with runtime.db.acquire() as conn:
            taken = await self.classifiers.refresh(conn)
        if taken:
            log.info("axis classifiers taken from the database", frameworks=taken)

    def due_after_s(self) -> float:
        """How long a scope's oldest change waits before its recompute: the debounce, or while the pipeline
        is busy (or, just after this replica started, may be), `max_defer_s`."""
        if not self.activity.known() or self.activity.per_s() > self.settings.busy_per_s:
            return max(self.settings.debounce_s, self.settings.max_defer_s)
        return self.settings.debounce_s

    async def pause_while_busy(self, recompute: asyncio.Future, pids: list[int]) -> float:
        """Until `recompute` is done, stop its worker process (SIGSTOP) while the pipeline is busy and let it
        go on (SIGCONT) once it is quiet, for at most `max_defer_s` stopped in all; returns the seconds stopped.

        A lower scheduling priority is not enough: at 200 contributions/s, a recompute running at nice 10
        through the measurement raised decision p99 from 580 and 750 ms to 1,040 and 1,170 ms (two runs
        each). A recompute started in a lull would otherwise hold its share of the machine when the load
        comes back. A recompute a person asked for is not paused."""
        paused_s, stopped_at = 0.0, None
        try:
            while not recompute.done():
                busy = self.activity.per_s() > self.settings.busy_per_s
                now = time.monotonic()
                if busy and stopped_at is None and paused_s < self.settings.max_defer_s:
                    _signal(pids, signal.SIGSTOP)
                    stopped_at = now
                elif stopped_at is not None and (not busy or paused_s + now - stopped_at >= self.settings.max_defer_s):
                    _signal(pids, signal.SIGCONT)
                    paused_s, stopped_at = paused_s + now - stopped_at, None
                await asyncio.wait({recompute}, timeout=self.settings.poll_s)
        finally:
            if stopped_at is not None:
                _signal(pids, signal.SIGCONT)
                paused_s += time.monotonic() - stopped_at
        return paused_s

    async def recompute_due(self, runtime) -> list[tuple[str, str, int, Any]]:
        async with runtime.db.acquire() as lock_conn:
            if not await lock_conn.fetchval("SELECT pg_try_advisory_lock($1)", RECOMPUTE_LOCK):
                return []
            try:
                return await self._recompute_claimed(runtime)
            finally:
                await lock_conn.execute("SELECT pg_advisory_unlock($1)", RECOMPUTE_LOCK)

    async def _recompute_claimed(self, runtime) -> list[tuple[str, str, int, Any]]:
        pool = runtime.db
        started = time.monotonic()
        async with pool.acquire() as conn:
            claimed = await store.claim_due_requests(conn, self.due_after_s(), 1 / self.settings.recompute_share - 1)
        scopes = claimed.scopes
        if not scopes:
            return []
        try:
            async with pool.acquire() as conn:
                rows = await store.load_corpus(conn)
                consultations = await store.consultation_frameworks(conn)
            if ("network", "network") in scopes:  # every change reaches the network: its consultations too
                scopes = sorted({*scopes, *per_framework_scopes(consultations)})
            loop = asyncio.get_running_loop()
            executor = self.executor()
            recompute = loop.run_in_executor(executor, run_recompute, rows, consultations, scopes)
            paused_s = 0.0 if claimed.asked else await self.pause_while_busy(recompute, _worker_pids(executor))
            result = await recompute
            async with pool.acquire() as conn, conn.transaction():
                written = await commands.store_recompute(conn, result["documents"], result["changes"],
                                                         result["subthemes"])
                fitted_at = {key: await store.save_classifier(conn, key, self.classifiers.seal(model), corpus_size)
                             for key, (model, corpus_size) in result["classifiers"].items()}
                await store.record_recompute(conn, time.monotonic() - started - paused_s, len(scopes), len(rows))
        except BaseException as exc:
            if isinstance(exc, BrokenProcessPool):
                self._executor = None  # the worker process died: a new one next time
            with contextlib.suppress(Exception):
                async with pool.acquire() as conn:  # nothing claimed is lost: ask again
                    await store.request_recompute(conn, set(scopes), asked=claimed.asked)
            raise
        self.classifiers.replace(await asyncio.to_thread(
            lambda: {key: load_classifier(model) for key, (model, _) in result["classifiers"].items()}), fitted_at)
        log.info("syntheses recomputed", scopes=len(scopes), contributions=len(rows),
                 seconds=round(result["seconds"], 3), axes_moved=len(result["changes"]),
                 versions={f"{s}/{k}": v for s, k, v, _ in written})
        return written
