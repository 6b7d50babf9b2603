import subprocess
import sys
import time

import psutil

from bench.measure import _parts_with_load_generator
from bench.stack import Stack, cpu_seconds, cpu_spent
from palabre.embedded import ServiceProcess

# a service that starts a worker process burning CPU, as synthesis starts its recompute
SERVICE_WITH_WORKER = (
    "import subprocess, sys, time\n"
    "subprocess.Popen([sys.executable, '-c', 'import time\\nend = time.monotonic() + 60\\n"
    "while time.monotonic() < end: pass'])\n"
    "time.sleep(60)\n"
)


def test_the_cpu_of_a_services_worker_processes_is_counted(tmp_path):
    """CPU per contribution must include what a service's worker processes spend (the recompute took a
    fifth of the machine at 200/s and was missing from the bench's figures)."""
    stack = Stack(tmp_path)
    service = ServiceProcess("synthesis", 0, {}, tmp_path / "synthesis.log")
    service.process = subprocess.Popen([sys.executable, "-c", SERVICE_WITH_WORKER])  # nosec B603
    stack.processes[("synthesis", 0)] = service
    try:
        deadline = time.monotonic() + 30
        while not psutil.Process(service.process.pid).children() and time.monotonic() < deadline:
            time.sleep(0.05)
        before = {part: cpu_seconds(pids) for part, pids in _parts_with_load_generator(stack).items()}
        time.sleep(0.5)
        parts = _parts_with_load_generator(stack)
        [worker] = psutil.Process(service.process.pid).children()
        assert parts["synthesis"] == [service.process.pid]
        assert parts["synthesis workers"] == [worker.pid]
        spent = {part: cpu_spent(before.get(part, {}), cpu_seconds(pids)) for part, pids in parts.items()}
        assert spent["synthesis workers"] > 0.2  # the busy worker, counted
        assert spent["synthesis"] < spent["synthesis workers"]
    finally:
        for process in psutil.Process(service.process.pid).children(recursive=True):
            process.kill()
        service.process.kill()
        service.process.wait()
