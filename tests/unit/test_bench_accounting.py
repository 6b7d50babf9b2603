"""The bench counts what it claims: every contribution sent is in the latency percentiles, and every CPU
second spent in a window is in the CPU figures, processes that ended meanwhile included."""

import subprocess
import sys
import time

import numpy as np
import psutil

from bench.measure import _parts_with_load_generator, decision_latencies_ms
from bench.stack import CpuSample, Stack, cpu_by_part, cpu_sample
from palabre.embedded import ServiceProcess

# a service that starts a worker process burning CPU, as synthesis starts its recompute
SERVICE_WITH_WORKER = (
    "import subprocess, sys, time\n"
    "subprocess.Popen([sys.executable, '-c', 'import time\\nend = time.monotonic() + 60\\n"
    "while time.monotonic() < end: pass'])\n"
    "time.sleep(60)\n"
)

# a service whose worker burns CPU, writes down what it spent, and ends when told; the service waits for it
SERVICE_WITH_ENDING_WORKER = (
    "import pathlib, subprocess, sys, time\n"
    "worker = subprocess.Popen([sys.executable, '-c', '''\n"
    "import pathlib, sys, time\n"
    "stop, report = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])\n"
    "while not stop.exists(): pass\n"
    "report.write_text(repr(sum(__import__('os').times()[:2])))\n"
    "''', sys.argv[1], sys.argv[2]])\n"
    "worker.wait()\n"
    "time.sleep(60)\n"
)


def _service(stack: Stack, tmp_path, source: str, *args: str) -> ServiceProcess:
    service = ServiceProcess("synthesis", 0, {}, tmp_path / "synthesis.log")
    service.process = subprocess.Popen([sys.executable, "-c", source, *args])  # nosec B603
    stack.processes[("synthesis", 0)] = service
    deadline = time.monotonic() + 30
    while not psutil.Process(service.process.pid).children() and time.monotonic() < deadline:
        time.sleep(0.05)
    return service


def _end(service: ServiceProcess) -> None:
    for process in psutil.Process(service.process.pid).children(recursive=True):
        process.kill()
    service.process.kill()
    service.process.wait()


def test_the_cpu_of_a_services_worker_processes_is_counted(tmp_path):
    """CPU per contribution must include what a service's worker processes spend."""
    stack = Stack(tmp_path)
    service = _service(stack, tmp_path, SERVICE_WITH_WORKER)
    try:
        before = cpu_sample(_parts_with_load_generator(stack))
        time.sleep(0.5)
        parts = _parts_with_load_generator(stack)
        [worker] = psutil.Process(service.process.pid).children()
        assert parts["synthesis"] == [service.process.pid]
        assert parts["synthesis workers"] == [worker.pid]
        spent = cpu_by_part(before, cpu_sample(parts))
        assert spent["synthesis workers"] > 0  # the busy worker, counted
        assert spent["synthesis"] < spent["synthesis workers"]
    finally:
        _end(service)


def test_a_worker_that_ends_during_the_window_still_counts_what_it_spent_in_it(tmp_path):
    stack = Stack(tmp_path)
    stop, report = tmp_path / "stop", tmp_path / "report"
    service = _service(stack, tmp_path, SERVICE_WITH_ENDING_WORKER, str(stop), str(report))
    try:
        [worker] = psutil.Process(service.process.pid).children()
        time.sleep(0.3)  # the worker spends CPU before the window opens...
        before = cpu_sample(_parts_with_load_generator(stack))
        worker_before = before.own[worker.pid]
        time.sleep(0.5)  # ...and in it, then ends and is waited for
        stop.touch()
        deadline = time.monotonic() + 30
        while psutil.pid_exists(worker.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        after = cpu_sample(_parts_with_load_generator(stack))
        assert worker.pid not in after.own
        spent = cpu_by_part(before, after)
        worker_total = float(report.read_text())
        assert worker_total > worker_before  # it did spend CPU in the window
        assert abs(spent["synthesis workers"] - (worker_total - worker_before)) < 0.05
    finally:
        _end(service)


def test_cpu_by_part_takes_off_what_an_ended_process_spent_before_the_window():
    before = CpuSample(own={1: 10.0, 2: 4.0, 3: 1.0}, reaped={1: 0.0, 2: 0.0, 3: 0.0},
                       part_of={1: "synthesis", 2: "synthesis workers", 3: "postgresql"})
    # worker 2 ended at 6 s of CPU and was waited for by its service; postgres backend 3 is still there
    after = CpuSample(own={1: 10.5, 3: 1.25}, reaped={1: 6.0, 3: 0.0}, part_of={1: "synthesis", 3: "postgresql"})
    assert cpu_by_part(before, after) == {"synthesis": 0.5, "synthesis workers": 2.0, "postgresql": 0.25}


def test_cpu_by_part_counts_a_process_that_started_and_ended_in_the_window():
    before = CpuSample(own={5: 3.0}, reaped={5: 1.0}, part_of={5: "postgresql"})
    after = CpuSample(own={5: 3.0}, reaped={5: 1.75}, part_of={5: "postgresql"})  # a backend came and went
    assert cpu_by_part(before, after) == {"postgresql": 0.75}


def test_every_contribution_sent_is_in_the_latencies():
    sent_at = {"a": 0.0, "b": 1.0, "c": 2.0}
    decided_at = {"a": 0.1, "b": 1.3}  # c never decided
    latencies, undecided = decision_latencies_ms(sent_at, decided_at, refused=1, window_s=30.0)
    assert undecided == 2  # c, and the request intake refused
    assert sorted(latencies.round(6)) == [100.0, 300.0, 30_000.0, 30_000.0]
    assert np.percentile(latencies, 99) > 29_000  # the undecided ones weigh on the p99


def test_a_decision_seen_for_a_contribution_not_sent_in_the_window_is_ignored():
    latencies, undecided = decision_latencies_ms({"a": 0.0}, {"a": 0.2, "other": 5.0}, refused=0, window_s=10.0)
    assert undecided == 0 and latencies.round(6).tolist() == [200.0]
