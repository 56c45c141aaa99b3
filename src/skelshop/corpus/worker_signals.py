"""Preload of the local Dask workers of `corpus run`: a Ctrl-C is the parent's to handle.

A Ctrl-C at the terminal reaches every process of its group, the workers too; each would
end with a KeyboardInterrupt traceback. The parent stops them itself (it closes the local
cluster and prints the one line `interrupted`), so they ignore SIGINT.
"""

from __future__ import annotations

import signal


def dask_setup(worker: object) -> None:
    """Called by Dask in each new worker process, in its main thread."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
