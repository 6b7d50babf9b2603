import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from services.synthesis.worker import RECOMPUTE_NICENESS, limit_threads


def test_the_recompute_worker_yields_the_cores_to_the_pipeline():
    """The recompute is background work: its process runs at a lower priority than the services."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=limit_threads,
                             initargs=(1,)) as pool:
        worker_niceness = pool.submit(os.nice, 0).result(timeout=60)
    assert worker_niceness == min(19, os.nice(0) + RECOMPUTE_NICENESS)
