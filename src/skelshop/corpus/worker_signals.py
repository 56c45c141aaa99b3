"""Preload of the local Dask workers of `corpus run`: a Ctrl-C is the parent's to handle.

A Ctrl-C at the terminal reaches every process of its group, the workers too; each would
end with a KeyboardInterrupt traceback. The parent stops them itself (it closes the local
cluster and prints the one line `interrupted`), so a worker only silences Dask's loggers: the
scheduler going away first makes its heartbeat log an error with a traceback.
"""

from __future__ import annotations

import logging
import signal

DASK_LOGGERS = ("distributed", "dask", "tornado", "bokeh")


def dask_setup(worker: object) -> None:
    """Called by Dask in each new worker process, in its main thread."""
    signal.signal(signal.SIGINT, lambda signum, frame: quiet_logging())


def quiet_logging() -> None:
    """Nothing from Dask's loggers from now on (a run being stopped)."""
    for name in DASK_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
