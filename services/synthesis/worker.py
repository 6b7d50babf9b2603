"""The recompute worker (`palabre serve synthesis-worker`): sub-themes, proposals, singularity and
convergences of every scope that changed, debounced (`PALABRE_SYNTHESIS_DEBOUNCE_S`), in a process of its own
so that the synthesis service keeps answering. It runs at a lower priority (`palabre up`) or with a CPU
limit (Kubernetes).

Changes leave a row in `recompute_requests` (the earliest kept). The worker holding the recompute advisory
lock claims the requests older than the debounce, reads the published corpus, recomputes, and writes the
result (placements, documents, refitted classifiers) back in one transaction with its `synthesis.updated`
events; the synthesis replicas take the refitted classifiers from the database. Only one worker recomputes
at a time. A recompute reads the whole corpus, so under sustained change the next one rests in proportion
to how long the last one took (`PALABRE_SYNTHESIS_RECOMPUTE_SHARE`, recorded in `last_recompute`), and while
the pipeline is busy (`Activity`, from the rows synthesis inserts) a due recompute waits, unless a person
asked for it.
"""

import asyncio
import contextlib
import gc
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from services.synthesis import commands, store
from services.synthesis.classifiers import (
    ClassifierCache,
    classifier_version,
    dump_classifier,
)
from services.synthesis.domain.text import Lemmatizer, TaggedTexts
from services.synthesis.settings import get_synthesis_settings
from shared.frameworks import Framework, default_framework
from shared.logging import get_logger

log = get_logger(__name__)

RECOMPUTE_LOCK = 0x5A1_7E5E  # pg advisory lock id: one recomputing worker at a time


def limit_native_threads(threads: int) -> None:
    """Bound the native thread pools (k-means, BLAS) of the recompute, once its libraries are loaded."""
    from threadpoolctl import threadpool_limits

    import services.synthesis.domain.recompute  # noqa: F401 - loads the libraries the limit applies to

    threadpool_limits(limits=threads)


async def in_daemon_thread(function: Callable[..., Any], *args: Any) -> Any:
    """`function(*args)` in a thread that does not hold the process's exit: a worker told to stop does not
    wait for a recompute in hand (its scopes are asked for again when it is cancelled), which would hold
    the shutdown past any grace period."""
    loop = asyncio.get_running_loop()
    result: asyncio.Future = loop.create_future()

    def settle(outcome: Callable[[Any], None], value: Any) -> None:
        if not result.done():
            outcome(value)

    def run() -> None:
        try:
            value = function(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            loop.call_soon_threadsafe(settle, result.set_exception, exc)
        else:
            loop.call_soon_threadsafe(settle, result.set_result, value)

    threading.Thread(target=run, name="recompute", daemon=True).start()
    return await result


_TAGGED_TEXTS = TaggedTexts()  # kept from one recompute to the next


def run_recompute(rows: list[tuple], consultations: dict[str, tuple[str, dict]],
                  scopes: list[tuple[str, str]]) -> dict[str, Any]:
    """The pure recompute over plain data, returned as plain data (in a thread of its own). `rows` are
    emptied as they are read, so that the corpus is held once."""
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
    sources = {s.value: s for s in AxisSource}
    rows.reverse()
    while rows:
        cid, territory, country, consultation, kind, role, channel, text, axis, source, subtheme, question = rows.pop()
        frameworks_of[cid] = frameworks.get(consultation, fallback)
        contributions.append(PublishedContribution(
            id=cid, territory=territory, country=country, kind=kind or "-", text=text, axis=axis,
            axis_source=sources.get(source),
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
    gc.freeze()  # the corpus lives through the recompute: the collector need not walk it again and again
    try:
        result = recompute(contributions, frameworks_of, pairs, lemmatizer=Lemmatizer(tagged=_TAGGED_TEXTS))
    finally:
        gc.unfreeze()
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
    """How many published contributions synthesis counted per second lately, from the rows it inserted.

    A recompute takes a core for seconds to minutes; on a machine the pipeline shares, that is time taken
    from decisions, even at a lower priority. So while the pipeline is busy, a due recompute waits, up to
    `max_defer_s`.
    """

    def __init__(self, window_s: float = 10.0) -> None:
        self.window_s = window_s
        self._counted: deque[tuple[float, int]] = deque()
        self._watching_since = time.monotonic()
        self._last_total: int | None = None

    def known(self) -> bool:
        """Whether a whole window was watched: until then the rate says nothing (a worker that has just
        started, with a backlog waiting, has counted nothing yet)."""
        return time.monotonic() - self._watching_since >= self.window_s

    def observe_total(self, total: int) -> None:
        """Record how many rows were inserted since the last look, from the ever-growing `total`."""
        if self._last_total is not None:
            self.record(max(0, total - self._last_total))  # statistics reset by a crash count as nothing
        self._last_total = total

    def record(self, count: int) -> None:
        self._counted.append((time.monotonic(), count))
        self._forget()

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
        self.classifiers = classifiers  # only to seal the refitted classifiers it stores
        self.activity = activity

    async def run(self, runtime) -> None:
        """The worker's loop: heal stale scopes once, then recompute what is due, forever."""
        await in_daemon_thread(limit_native_threads, self.settings.worker_threads)
        async with runtime.db.acquire() as conn:
            await store.request_recompute(conn, await store.stale_scopes(conn))
        while True:
            await asyncio.sleep(self.settings.poll_s)
            async with runtime.db.acquire() as conn:
                self.activity.observe_total(await store.contributions_inserted(conn))
            await self.recompute_due(runtime)

    def due_after_s(self) -> float:
        """How long a scope's oldest change waits before its recompute: the debounce, or while the pipeline
        is busy (or, just after this worker started, may be), `max_defer_s`."""
        if not self.activity.known() or self.activity.per_s() > self.settings.busy_per_s:
            return max(self.settings.debounce_s, self.settings.max_defer_s)
        return self.settings.debounce_s

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
            contributions_count = len(rows)  # run_recompute empties `rows`
            result = await in_daemon_thread(run_recompute, rows, consultations, scopes)
            async with pool.acquire() as conn, conn.transaction():
                written = await commands.store_recompute(conn, result["documents"], result["changes"],
                                                         result["subthemes"])
                for key, (model, corpus_size) in result["classifiers"].items():
                    await store.save_classifier(conn, key, self.classifiers.seal(model), corpus_size)
                await store.record_recompute(conn, time.monotonic() - started, len(scopes), contributions_count)
        except BaseException:
            with contextlib.suppress(Exception):
                async with pool.acquire() as conn:  # nothing claimed is lost: ask again
                    await store.request_recompute(conn, set(scopes), asked=claimed.asked)
            raise
        log.info("syntheses recomputed", scopes=len(scopes), contributions=contributions_count,
                 seconds=round(result["seconds"], 3), axes_moved=len(result["changes"]),
                 versions={f"{s}/{k}": v for s, k, v, _ in written})
        return written
