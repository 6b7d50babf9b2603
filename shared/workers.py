"""Pool worker processes that do not outlive their service.

A service killed with `kill -9` cannot shut its process pool down; its spawned workers would go on
computing and then wait forever to send a result nobody reads, each holding its models in memory. A pool's
initializer therefore starts a watchdog that ends the worker once its parent is gone.
"""

import os
import threading
import time

PARENT_CHECK_S = 1.0


def exit_with_parent(parent_pid: int, check_every_s: float = PARENT_CHECK_S) -> None:
    """Start a daemon thread that exits this process once `parent_pid` is no longer its parent.

    The parent passes its pid (`initargs=(os.getpid(),)`): a spawned worker takes seconds to import its
    libraries, and a service killed meanwhile has already re-parented it when the watchdog starts."""

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            time.sleep(check_every_s)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
