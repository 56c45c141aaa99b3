"""Run per-video tasks serially, on local worker processes, or on a Dask cluster."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

from tqdm import tqdm

from skelshop.corpus.artifacts import VideoArtifacts
from skelshop.corpus.video_task import VideoResult
from skelshop.corpus.worker_signals import DASK_LOGGERS, quiet_logging
from skelshop.errors import SkelshopError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5  # an unreachable scheduler is reported after this, not after Dask's 30 s


def _quiet_dask_logging() -> None:
    """Dask logs at INFO to its own stderr handler: make it follow skelshop's -q/-v instead."""
    level = logging.getLogger().getEffectiveLevel()  # WARNING by default, ERROR under -q
    name = logging.getLevelName(level).lower()
    # Worker processes read this when they import distributed; the parent is set directly.
    os.environ["DASK_LOGGING__DISTRIBUTED"] = name
    import dask

    dask.config.set({"logging.distributed": name})
    import distributed  # noqa: F401  (configures its loggers on import; reset them after)

    for logger_name in DASK_LOGGERS:
        logging.getLogger(logger_name).setLevel(level)


class TaskRunner:
    """Runs per-video tasks on the executor chosen when it was opened."""

    def __init__(self, client: Any = None) -> None:
        self.client = client

    def run(self, task: Callable[..., VideoResult], arts: list[VideoArtifacts], task_args: tuple,
            progress: bool = True) -> list[VideoResult]:
        """Run `task(art, *task_args)` for every video; a failing video never stops the others."""
        bar = tqdm(total=len(arts), desc="videos", unit="video", disable=not progress)
        try:
            if self.client is None:
                results = []
                for art in arts:
                    results.append(_guarded(task, art, task_args))
                    bar.update()
                return results
            return _run_dask(self.client, task, arts, task_args, bar)
        finally:
            bar.close()


@contextlib.contextmanager
def task_runner(workers: int = 1, scheduler: str | None = None) -> Iterator[TaskRunner]:
    """Open the executor (connecting to a scheduler fails fast, in one line) and close it after."""
    if scheduler is None and workers <= 1:
        yield TaskRunner()
        return
    _quiet_dask_logging()
    import dask
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler:
        client = _connect(Client, scheduler)
    else:
        # Separate processes, one thread each: the models are not thread-safe and each
        # process loads them once (a module-level cache in the task module). Dask's default
        # MALLOC_TRIM_THRESHOLD_ makes every frame-sized allocation an mmap: 1.4x slower here.
        # A worker stopped mid-video (Ctrl-C) leaves a semaphore that multiprocessing's
        # resource tracker (a process started now, reading this) cleans up with a warning.
        os.environ["PYTHONWARNINGS"] = ",".join(
            w for w in (os.environ.get("PYTHONWARNINGS"), "ignore:resource_tracker:UserWarning")
            if w)
        with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None,
                                   preload=["skelshop.corpus.worker_signals"])
        client = Client(cluster)
    try:
        yield TaskRunner(client)
    finally:
        # Finished or stopped (Ctrl-C, SIGTERM, an error): what Dask logs while its processes
        # go is noise (cancelled tasks, a worker's heartbeat finding the scheduler closed
        # first, with a traceback); the run's own lines say what happened.
        _quiet_shutdown(client, local=cluster is not None)
        client.close()
        if cluster is not None:
            cluster.close()


def _quiet_shutdown(client: Any, local: bool) -> None:
    """Dask's loggers silenced here, and in the workers and their nannies when they are ours
    (a shared cluster's workers keep their logging)."""
    quiet_logging()
    if local:
        for nanny in (False, True):
            with contextlib.suppress(Exception):
                client.run(quiet_logging, nanny=nanny)



def _connect(client_type: Any, scheduler: str) -> Any:
    try:
        return client_type(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as err:
        raise SkelshopError(scheduler, f"cannot reach the Dask scheduler within "
                                       f"{CONNECT_TIMEOUT_S} s ({type(err).__name__}); give "
                                       "its address as tcp://HOST:PORT") from None
    except (ValueError, TypeError) as err:
        raise SkelshopError(scheduler, f"not a Dask scheduler address ({err}); give it as "
                                       "tcp://HOST:PORT") from None


def run_tasks(task: Callable[..., VideoResult], arts: list[VideoArtifacts], task_args: tuple,
              workers: int = 1, scheduler: str | None = None,
              progress: bool = True) -> list[VideoResult]:
    """Open an executor, run every video's task on it, close it."""
    with task_runner(workers, scheduler) as runner:
        return runner.run(task, arts, task_args, progress)


def _guarded(task: Callable[..., VideoResult], art: VideoArtifacts, task_args: tuple) -> VideoResult:
    try:
        return task(art, *task_args)
    except Exception as err:  # an unexpected failure of one video must not end the corpus run
        log.debug("video %s failed", art.video, exc_info=True)
        return VideoResult(art.video, "failed", f"{art.video}: {type(err).__name__}: {err}")


def _run_dask(client: Any, task: Callable[..., VideoResult], arts: list[VideoArtifacts],
              task_args: tuple, bar: Any) -> list[VideoResult]:
    from distributed import as_completed

    futures = {client.submit(_guarded, task, art, task_args, pure=False): art for art in arts}
    by_video = {}
    for future in as_completed(futures):
        art = futures[future]
        try:
            by_video[art.video] = future.result()
        except Exception as err:  # the worker itself died
            by_video[art.video] = VideoResult(art.video, "failed", f"{art.video}: {err}")
        bar.update()
    return [by_video[a.video] for a in arts]
