"""A service killed with `kill -9` must not leave its pool's worker processes running."""

import os
import signal
import subprocess
import sys
import textwrap
import time

SERVICE = textwrap.dedent("""
    import multiprocessing, os, sys, time
    from concurrent.futures import ProcessPoolExecutor
    from shared.workers import exit_with_parent

    def busy():
        print(os.getpid(), flush=True)
        end = time.monotonic() + 120
        while time.monotonic() < end:
            sum(range(10_000))

    if __name__ == "__main__":
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=exit_with_parent, initargs=(os.getpid(), 0.1))
        pool.submit(busy)
        time.sleep(120)
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has exited
        return stat.read().split(")")[-1].split()[0] != "Z"


def _kill_and_expect_the_worker_gone(service: subprocess.Popen, worker: int) -> None:
    service.send_signal(signal.SIGKILL)
    service.wait()
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(worker):
        os.kill(worker, signal.SIGKILL)
        raise AssertionError("the worker outlived its service")


def test_a_pool_worker_exits_when_its_service_is_killed(tmp_path):
    script = tmp_path / "service.py"
    script.write_text(SERVICE)
    service = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": os.getcwd()})
    worker = int(service.stdout.readline())
    assert _alive(worker)
    _kill_and_expect_the_worker_gone(service, worker)


def test_a_service_process_uses_one_native_math_thread():
    """BLAS pools of several threads per service spin for the cores the other services need."""
    probe = ("from palabre.cli import single_threaded_native_math; single_threaded_native_math(); "
             "from threadpoolctl import threadpool_info; print(max(i['num_threads'] for i in threadpool_info()))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONPATH": os.getcwd(), "OPENBLAS_NUM_THREADS": "2"})
    assert result.stdout.strip() == "1"


def test_a_worker_whose_service_died_while_it_was_starting_exits():
    """A spawned worker imports for seconds before its initializer runs; if its service was killed meanwhile,
    it has already been re-parented when the watchdog starts, and must still end."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a pid that is nobody's parent any more, as the dead service's
    worker = subprocess.Popen(
        [sys.executable, "-c", f"import time; from shared.workers import exit_with_parent; "
                               f"exit_with_parent({gone.pid}, 0.1); time.sleep(60)"],
        env={**os.environ, "PYTHONPATH": os.getcwd()}, stderr=subprocess.PIPE, text=True)
    try:
        _, errors = worker.communicate(timeout=30)
    finally:
        worker.kill()
    assert (worker.returncode, errors) == (1, "")  # ended by the watchdog, not by an error
