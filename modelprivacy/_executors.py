"""Where the engine's tasks run: in this process, in local worker processes, or on Dask.

Every executor runs tasks with single-threaded BLAS (multi-threaded
reductions depend on the thread count, so results would differ in the last
bits between executors) and yields results as tasks finish, keeping only a
few tasks in flight, so memory does not grow with the number of tasks. Local
workers die with the process that started them (a watchdog thread in each
worker), so a killed sweep leaves no orphan processes.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, wait

from joblib.externals.loky import get_reusable_executor
from threadpoolctl import ThreadpoolController, threadpool_limits

__all__ = ["SerialExecutor", "ProcessExecutor", "DaskExecutor", "make_executor", "use_executor", "current_executor"]

_BLAS = ThreadpoolController()


class SerialExecutor:
    """Run tasks one after the other in this process."""

    n_workers = 1

    def map(self, fn, tasks):
        with _BLAS.limit(limits=1, user_api="blas"):
            for task in tasks:
                yield fn(task)


def _watch_parent(parent):
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(1)


def _worker_init(parent):
    threadpool_limits(limits=1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


class ProcessExecutor:
    """Run tasks in ``n_jobs`` local worker processes (joblib's loky executor, reused across sweeps)."""

    def __init__(self, n_jobs):
        self.n_workers = (os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs)

    def map(self, fn, tasks):
        env = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
        pool = get_reusable_executor(max_workers=self.n_workers, initializer=_worker_init,
                                     initargs=(os.getpid(),), env=env, timeout=60)
        yield from _bounded(lambda task: pool.submit(fn, task), tasks, 2 * self.n_workers,
                            lambda fut: fut.result(), _wait_first)


def _wait_first(futures):
    done, _ = wait(futures, return_when=FIRST_COMPLETED)
    return done


class DaskExecutor:
    """Run tasks on a Dask cluster through a ``distributed.Client``."""

    def __init__(self, client):
        self.client = client
        info = client.scheduler_info() if hasattr(client, "scheduler_info") else {}
        self.n_workers = max(len(info.get("workers", {})), 1)

    def map(self, fn, tasks):
        from dask.distributed import wait as dask_wait  # optional dependency

        def first_done(futures):
            return set(dask_wait(list(futures), return_when="FIRST_COMPLETED").done)

        yield from _bounded(lambda task: self.client.submit(_limited, fn, task, pure=False), tasks,
                            2 * self.n_workers, lambda fut: fut.result(), first_done)


def _limited(fn, task):
    with _BLAS.limit(limits=1, user_api="blas"):
        return fn(task)


def _bounded(submit, tasks, limit, result, wait_first):
    """Submit lazily, at most ``limit`` in flight; yield results as they finish."""
    tasks = iter(tasks)
    running = set()
    try:
        for task in tasks:
            running.add(submit(task))
            if len(running) >= limit:
                for fut in wait_first(running):
                    running.discard(fut)
                    yield result(fut)
        while running:
            for fut in wait_first(running):
                running.discard(fut)
                yield result(fut)
    finally:
        for fut in running:
            fut.cancel()


_CURRENT = contextvars.ContextVar("modelprivacy_executor", default=None)


def make_executor(n_jobs=1, scheduler=None):
    """The executor for ``n_jobs`` local workers, or for a Dask ``scheduler`` (a Client or an address).

    ``scheduler="local"`` is handled by :func:`use_executor` (it starts a cluster).
    """
    if scheduler is not None:
        return DaskExecutor(scheduler if hasattr(scheduler, "submit") else _client(scheduler))
    if n_jobs == 1:
        return SerialExecutor()
    return ProcessExecutor(n_jobs)


def _client(address):
    try:
        from dask.distributed import Client
    except ImportError as exc:  # pragma: no cover - the extra is not installed
        raise ImportError("a Dask scheduler needs Dask: pip install 'modelprivacy[dask]'") from exc
    try:
        return Client(address, timeout="5s")
    except (OSError, TimeoutError) as exc:
        raise ConnectionError(f"cannot reach the Dask scheduler at {address!r}: {exc}") from exc


@contextlib.contextmanager
def use_executor(n_jobs=1, scheduler=None):
    """Run the sweeps inside the block on one executor.

    ``scheduler=None`` runs locally (serially, or with ``n_jobs`` worker
    processes); ``"local"`` starts a Dask LocalCluster with ``n_jobs``
    single-threaded workers; any other value is a ``distributed.Client`` or
    the address of a running scheduler (``tcp://host:port``).
    """
    cluster = client = None
    if scheduler == "local":
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - the extra is not installed
            raise ImportError("--scheduler needs Dask: pip install 'modelprivacy[dask]'") from exc
        workers = max(n_jobs, 1) if n_jobs != -1 else (os.cpu_count() or 1)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
        ex = DaskExecutor(client)
    elif scheduler is not None and not hasattr(scheduler, "submit"):
        client = _client(scheduler)
        ex = DaskExecutor(client)
    else:
        ex = make_executor(n_jobs, scheduler)
    token = _CURRENT.set(ex)
    try:
        yield ex
    finally:
        _CURRENT.reset(token)
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def current_executor():
    """The executor set by the innermost :func:`use_executor` block (None outside)."""
    return _CURRENT.get()
