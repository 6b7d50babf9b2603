"""Worker processes that do not outlive their service.

A service killed with `kill -9` cannot shut its process pool down; its spawned workers would go on
computing and then wait forever to send a result nobody reads, each holding its models in memory. Every
pool's initializer therefore starts a watchdog that ends the worker once its parent is gone.
"""

import os
import threading
import time

PARENT_CHECK_S = 1.0


def exit_with_parent(check_every_s: float = PARENT_CHECK_S) -> None:
    """Start a daemon thread that exits this process when its parent process has gone (it is re-parented)."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(check_every_s)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
