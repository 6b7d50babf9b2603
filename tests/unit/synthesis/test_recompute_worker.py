import os
import subprocess
import sys
import textwrap

import pytest

from services.synthesis import worker
from services.synthesis.settings import SynthesisSettings


def test_a_worker_told_to_stop_does_not_wait_for_the_recompute_in_hand():
    """Waiting for a recompute would hold the shutdown past any grace period, until the process is killed:
    the worker's process ends once its loop does, whatever the recompute thread is doing."""
    script = textwrap.dedent("""
        import asyncio, time
        from services.synthesis.worker import in_daemon_thread

        async def main():
            recompute = asyncio.ensure_future(in_daemon_thread(time.sleep, 600))  # ten minutes of work
            await asyncio.sleep(0.2)
            recompute.cancel()

        asyncio.run(main())
        print("stopped", flush=True)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert (done.returncode, done.stdout.strip()) == (0, "stopped"), done.stderr


async def test_the_recompute_thread_hands_back_its_result_or_its_error():
    assert await worker.in_daemon_thread(sum, [1, 2, 3]) == 6
    with pytest.raises(ZeroDivisionError):
        await worker.in_daemon_thread(lambda: 1 / 0)


def test_a_recompute_waits_while_the_pipeline_is_busy_and_not_longer_than_the_cap(monkeypatch):
    """Decisions come first: while synthesis counted more than `busy_per_s` contributions a second, or the
    worker has not yet watched a whole window since it started, a due recompute waits up to `max_defer_s`;
    once the pipeline is quiet, the debounce alone applies."""
    clock = [1000.0]
    monkeypatch.setattr(worker.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(worker, "get_synthesis_settings",
                        lambda: SynthesisSettings(debounce_s=10, busy_per_s=20, max_defer_s=300))
    activity = worker.Activity(window_s=10)
    recomputer = worker.Recomputer(classifiers=None, activity=activity)
    activity.observe_total(5000)  # what was inserted before the worker started is no activity
    assert recomputer.due_after_s() == 300  # just started: a backlog may be waiting, nothing counted yet
    clock[0] += 10
    assert recomputer.due_after_s() == 10  # a whole quiet window watched

    total = 5000
    for _ in range(10):  # 210 contributions in the last 10 s: 21/s
        total += 21
        activity.observe_total(total)
        clock[0] += 0.9
    assert activity.per_s() == 21
    assert recomputer.due_after_s() == 300

    clock[0] += 5  # the older half of those batches is now out of the window
    assert activity.per_s() < 20
    assert recomputer.due_after_s() == 10


def test_statistics_reset_by_a_database_crash_count_as_no_activity(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(worker.time, "monotonic", lambda: clock[0])
    activity = worker.Activity(window_s=10)
    activity.observe_total(90_000)
    activity.observe_total(0)  # PostgreSQL restarted after a crash: its counters start again
    activity.observe_total(30)
    assert activity.per_s() == 3.0


def test_activity_forgets_old_batches_even_when_nobody_asks_for_the_rate(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(worker.time, "monotonic", lambda: clock[0])
    activity = worker.Activity(window_s=10)
    for total in range(0, 50_000, 50):
        activity.observe_total(total)
        clock[0] += 1
    assert len(activity._counted) <= 11


def test_the_recompute_uses_the_native_threads_it_is_given():
    probe = ("from services.synthesis.worker import limit_native_threads; limit_native_threads(1); "
             "from threadpoolctl import threadpool_info; print(max(i['num_threads'] for i in threadpool_info()))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONPATH": os.getcwd(), "OMP_NUM_THREADS": "2",
                                 "OPENBLAS_NUM_THREADS": "2"})
    assert result.stdout.strip() == "1"


