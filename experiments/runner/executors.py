"""Where the chunks run: interchangeable executor classes with one life cycle.

Each backend is made from the sweep's options (checked at once, with no side effect), then
``initialize()`` starts it (a process pool, a local Dask cluster, a connection to a scheduler),
``evaluate(fn, *args)`` submits one chunk and returns its future, and ``finalize()`` shuts it
down. ``restart()`` replaces a broken pool (a worker killed by the OS) where the backend can.
This follows the EMA workbench's evaluators (initialize / evaluate / finalize).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import multiprocessing.forkserver
import os
from typing import Any

from experiments.pool_start import preload_for
from experiments.runner.base import DEFAULT_RUN_FN, RunFn
from model.errors import InputError
from model.main_guard import refuse_unguarded_script

SCHEDULER_TIMEOUT_S = 10.0  # connecting to a Dask scheduler: refused after this long


class SerialExecutor(cf.Executor):
    """Runs each task in-process at submit time (no pool): for debugging and tiny sweeps."""

    def submit(self, fn, /, *args, **kwargs):  # noqa: ANN001, ANN201 - Executor signature
        fut: cf.Future = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - delivered through the future
            fut.set_exception(exc)
        return fut


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class Backend:
    """The life cycle every executor class has. ``shared_fs``: the workers see the parent's file
    system, so they write their tables' Parquet files themselves (a remote Dask cluster's need
    not: its workers send the tables back instead)."""

    label = "backend"
    workers = 1
    shared_fs = True
    can_restart = False

    def __init__(self) -> None:
        self.executor: cf.Executor | None = None

    @property
    def serial(self) -> bool:
        """Tasks run at submit time in this process (one chunk in flight is enough)."""
        return isinstance(self.executor, SerialExecutor)

    def initialize(self) -> None:
        raise NotImplementedError

    def evaluate(self, fn: Any, /, *args: Any) -> cf.Future:
        assert self.executor is not None, "initialize() first"
        return self.executor.submit(fn, *args)

    def restart(self) -> None:
        raise RuntimeError(f"{self.label} cannot be restarted")

    def finalize(self) -> None:
        self.executor = None

    def __enter__(self) -> Backend:
        self.initialize()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.finalize()


class SerialBackend(Backend):
    label = "serial"

    def initialize(self) -> None:
        self.executor = SerialExecutor()


class ExternalBackend(Backend):
    """An executor the caller made and owns: used as it is, never shut down or replaced here."""

    def __init__(self, executor: cf.Executor) -> None:
        super().__init__()
        self._given = executor
        self.workers = int(getattr(executor, "_max_workers", None) or default_workers())
        self.label = type(executor).__name__
        self.shared_fs = isinstance(executor, (cf.ProcessPoolExecutor, cf.ThreadPoolExecutor,
                                               SerialExecutor))

    def initialize(self) -> None:
        self.executor = self._given


class ProcessPoolBackend(Backend):
    """A local pool of worker processes started by a fork server (see ``_pool_context``)."""

    can_restart = True

    def __init__(self, workers: int | None, preload: tuple[str, ...] = ()) -> None:
        super().__init__()
        n = workers if workers is not None else default_workers()
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InputError(f"--workers {n}: expected at least 1")
        refuse_unguarded_script("a pool of worker processes", "serial=True, or --serial")
        self.workers, self.preload = n, preload
        self.label = f"{n} worker process{'es' if n > 1 else ''}"
        self.restarts = 0

    def initialize(self) -> None:
        self.executor = cf.ProcessPoolExecutor(max_workers=self.workers,
                                               mp_context=_pool_context(self.preload, start=False))

    def restart(self) -> None:
        """A fresh pool after a worker died (the old one is broken: every pending task failed)."""
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
        self.restarts += 1
        self.initialize()

    def finalize(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
        self.executor = None


class DaskBackend(Backend):
    """A local Dask cluster of ``n_local`` worker processes, or a running scheduler's cluster."""

    def __init__(self, scheduler: str | None = None, n_local: int | None = None,
                 timeout_s: float = SCHEDULER_TIMEOUT_S) -> None:
        super().__init__()
        if (scheduler is None) == (n_local is None):
            raise InputError("choose one of --scheduler and --dask-local")
        if n_local is not None and (isinstance(n_local, bool) or not isinstance(n_local, int)
                                    or n_local < 1):
            raise InputError(f"--dask-local {n_local}: expected at least 1 worker")
        if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
            raise InputError(f"--scheduler {scheduler!r}: expected an address, e.g. tcp://host:8786")
        try:
            import distributed  # noqa: F401 - only checking that it is installed
        except ImportError:
            raise InputError("Dask executors need the 'distributed' package: "
                             "pip install 'chipwar[dask]'") from None
        if n_local is not None:
            refuse_unguarded_script("a local Dask cluster", "serial=True, or --serial")
        self.scheduler, self.n_local, self.timeout_s = scheduler, n_local, timeout_s
        self.label = (f"local Dask cluster of {n_local}" if n_local is not None
                      else f"Dask scheduler {scheduler}")
        self.shared_fs = n_local is not None
        self._client = self._cluster = None

    def initialize(self) -> None:
        from distributed import Client, LocalCluster

        if self.n_local is not None:
            self._cluster = LocalCluster(n_workers=self.n_local, threads_per_worker=1,
                                         processes=True, dashboard_address=None)
            self._client = Client(self._cluster)
        else:
            try:
                self._client = Client(self.scheduler, timeout=self.timeout_s)
            except (OSError, TimeoutError) as exc:
                raise InputError(f"--scheduler {self.scheduler}: cannot connect within "
                                 f"{self.timeout_s:g} s: {exc}") from None
        info = self._client.scheduler_info()["workers"].values()
        self.workers = sum(w.get("nthreads", 1) for w in info) or 1
        self.executor = self._client.get_executor()

    def finalize(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = self.executor = None


def make_backend(executor: cf.Executor | None, workers: int | None, scheduler: str | None,
                 dask_local: int | None, serial: bool, preload: tuple[str, ...] = (),
                 timeout_s: float = SCHEDULER_TIMEOUT_S) -> Backend:
    """The backend these options choose, checked but not started (nothing runs, nothing is
    written): a bad option is an InputError before the sweep folder exists."""
    chosen = sum(x is not None and x is not False for x in (executor, workers, scheduler,
                                                              dask_local, serial or None))
    if chosen > 1:
        raise InputError("choose one of executor, workers, scheduler, dask_local, serial")
    if executor is not None:
        return ExternalBackend(executor)
    if serial:
        return SerialBackend()
    if scheduler is not None or dask_local is not None:
        return DaskBackend(scheduler, dask_local, timeout_s)
    return ProcessPoolBackend(workers, preload)


def _pool_context(preload: tuple[str, ...], *, start: bool) -> multiprocessing.context.BaseContext:
    """The process pool's start method: forkserver. It never fork()s a threaded parent (tqdm,
    Dask) and is cheaper than spawn: the server imports the run function's module once (with the
    model's, it also loads the compiled market kernels) and each worker is forked from it loaded.
    ``start`` launches the server now, in the background: its imports then overlap the parent's
    own set-up (reading the design, preparing the output directory) instead of following it."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(preload_for(preload))
    if start:
        multiprocessing.forkserver.ensure_running()  # returns at once; the server loads alone
    return ctx


def start_pool_early(run_fn: str | RunFn = DEFAULT_RUN_FN) -> None:
    """Launch the worker pool's fork server in the background before the sweep is set up
    (``chipwar sweep`` calls it first thing): a sweep's first runs then start sooner."""
    _pool_context(_preload(run_fn), start=True)


def uses_process_pool(executor: Any, workers: int | None, scheduler: str | None,
                      dask_local: int | None, serial: bool) -> bool:
    """Whether these options choose the local process pool."""
    return (executor is None and scheduler is None and dask_local is None and not serial
            and (workers is None or workers >= 1))


def _preload(run_fn: str | RunFn) -> tuple[str, ...]:
    return (run_fn.split(":")[0],) if isinstance(run_fn, str) else (run_fn.__module__,)
