import asyncio
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor

import psutil

from services.synthesis.worker import RECOMPUTE_NICENESS, limit_threads


def test_the_recompute_worker_yields_the_cores_to_the_pipeline():
    """The recompute is background work: its process runs at a lower priority than the services."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=limit_threads,
                             initargs=(1, os.getpid())) as pool:
        worker_niceness = pool.submit(os.nice, 0).result(timeout=60)
    assert worker_niceness == min(19, os.nice(0) + RECOMPUTE_NICENESS)


def test_closing_the_recomputer_stops_a_recompute_in_hand(monkeypatch):
    """A service told to stop does not wait for a recompute to finish (it would be killed past its grace
    period): closing the recomputer ends its worker process at once."""
    from services.synthesis import worker
    from services.synthesis.settings import SynthesisSettings

    monkeypatch.setattr(worker, "get_synthesis_settings", lambda: SynthesisSettings())
    recomputer = worker.Recomputer(classifiers=None, activity=worker.Activity())
    executor = recomputer.executor()
    assert executor.submit(os.getpid).result(timeout=60) != os.getpid()  # the worker process is up
    executor.submit(time.sleep, 600)  # a recompute that would take ten minutes
    [process] = executor._processes.values()
    recomputer.close()
    # Not `process.is_alive()`: the executor's own thread may reap the child first, and then `is_alive()`
    # keeps answering True. The process is gone (or a zombie waiting to be reaped) long before its sleep ends.
    deadline = time.monotonic() + 30
    while _running(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(process.pid)


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_recompute_waits_while_the_pipeline_is_busy_and_not_longer_than_the_cap(monkeypatch):
    """Decisions come first: while this replica counts more than `busy_per_s` contributions a second, or has
    not yet watched a whole window since it started, a due recompute waits up to `max_defer_s`; once the
    pipeline is quiet, the debounce alone applies."""
    from services.synthesis import worker
    from services.synthesis.settings import SynthesisSettings

    clock = [1000.0]
    monkeypatch.setattr(worker.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(worker, "get_synthesis_settings",
                        lambda: SynthesisSettings(debounce_s=10, busy_per_s=20, max_defer_s=300))
    activity = worker.Activity(window_s=10)
    recomputer = worker.Recomputer(classifiers=None, activity=activity)
    assert recomputer.due_after_s() == 300  # just started: a backlog may be waiting, nothing counted yet
    clock[0] += 10
    assert recomputer.due_after_s() == 10  # a whole quiet window watched

    for _ in range(10):  # 210 contributions in the last 10 s: 21/s
        activity.record(21)
        clock[0] += 0.9
    assert activity.per_s() == 21
    assert recomputer.due_after_s() == 300

    clock[0] += 5  # the older half of those batches is now out of the window
    assert activity.per_s() < 20
    assert recomputer.due_after_s() == 10


def test_activity_forgets_old_batches_even_when_nobody_asks_for_the_rate(monkeypatch):
    """A replica that never holds the recompute lock records every batch and never asks `per_s`."""
    from services.synthesis import worker

    clock = [0.0]
    monkeypatch.setattr(worker.time, "monotonic", lambda: clock[0])
    activity = worker.Activity(window_s=10)
    for _ in range(1000):
        activity.record(50)
        clock[0] += 1
    assert len(activity._counted) <= 11


def _status(pid: int) -> str:
    return psutil.Process(pid).status()


async def _until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_a_recompute_in_hand_is_stopped_while_the_pipeline_is_busy_and_goes_on_when_it_is_quiet(monkeypatch):
    """A recompute started in a lull must not take the cores from decisions when the load comes back: its
    worker process is stopped while this replica counts more than `busy_per_s`, and continued after."""
    from services.synthesis import worker
    from services.synthesis.settings import SynthesisSettings

    monkeypatch.setattr(worker, "get_synthesis_settings",
                        lambda: SynthesisSettings(busy_per_s=20, max_defer_s=300, poll_s=0.02))
    rate = [50.0]
    activity = worker.Activity()
    monkeypatch.setattr(activity, "per_s", lambda: rate[0])
    recomputer = worker.Recomputer(classifiers=None, activity=activity)
    try:
        executor = recomputer.executor()
        executor.submit(os.getpid).result(timeout=60)  # the worker process is up
        recompute = asyncio.get_running_loop().run_in_executor(executor, time.sleep, 1.0)
        [pid] = worker._worker_pids(executor)
        pausing = asyncio.create_task(recomputer.pause_while_busy(recompute, [pid]))
        await _until(lambda: _status(pid) == psutil.STATUS_STOPPED)
        await asyncio.sleep(1.5)
        assert not recompute.done()  # a second's work, stopped for longer
        rate[0] = 5.0  # quiet
        paused_s = await asyncio.wait_for(pausing, 30)
        await asyncio.wait_for(recompute, 30)
        assert paused_s >= 1.5
        assert _status(pid) != psutil.STATUS_STOPPED
    finally:
        recomputer.close()


async def test_a_recompute_in_hand_is_stopped_no_longer_than_the_cap(monkeypatch):
    from services.synthesis import worker
    from services.synthesis.settings import SynthesisSettings

    monkeypatch.setattr(worker, "get_synthesis_settings",
                        lambda: SynthesisSettings(busy_per_s=20, max_defer_s=1.0, poll_s=0.02))
    activity = worker.Activity()
    monkeypatch.setattr(activity, "per_s", lambda: 1000.0)  # busy all along
    recomputer = worker.Recomputer(classifiers=None, activity=activity)
    try:
        executor = recomputer.executor()
        recompute = asyncio.get_running_loop().run_in_executor(executor, time.sleep, 0.5)
        paused_s = await asyncio.wait_for(recomputer.pause_while_busy(recompute, worker._worker_pids(executor)), 30)
        assert recompute.done()
        assert 1.0 <= paused_s < 5.0
    finally:
        recomputer.close()
