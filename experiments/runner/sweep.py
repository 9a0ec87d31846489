"""A sweep: every (design point, replication) run in chunks on a backend, streamed to the store.

Runs execute in chunks on an executor class (serial in-process, a local process pool, or Dask;
see ``executors``). The parent writes each finished chunk as Parquet parts under
``DIR/<table>/`` (temp file + ``os.replace``) and then a completion marker
``DIR/done/<chunk>.json``; only marked chunks count, so a sweep killed at any moment resumes
to exactly the tables of an uninterrupted one. Failed runs go to ``DIR/failures.jsonl``.

Everything that can be checked is checked before the folder is touched (the folder, the
executor options, the run function); one writer holds the folder's lock for the session; a
worker process that dies (``BrokenProcessPool``) is replaced and its lost chunks retried up to
``MAX_RETRIES`` times, after which :class:`SweepInterrupted` says how to ``--resume``. The
manifest is never left "running": a session that stops early marks it "interrupted".
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import itertools
import math
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from experiments.progress import Progress
from experiments.runner.base import DEFAULT_RUN_FN, RunFn, _jsonable, _now, _write_json
from experiments.runner.chunks import ChunkResult, resolve_run_fn, run_chunk
from experiments.runner.design import Design, Run
from experiments.runner.executors import (
    SCHEDULER_TIMEOUT_S,
    Backend,
    ProcessPoolBackend,
    SerialBackend,
    _preload,
    make_backend,
    start_pool_early,
)
from experiments.runner.manifest import _new_manifest
from experiments.runner.store import (
    _rewrite_failures,
    _write_chunk,
    check_out_dir,
    clear_sweep,
    discard_new,
    make_subdirs,
    open_store,
    remove_worker_leftovers,
    resume_state,
)
from model.errors import InputError

# Chunking: ~4 chunks per worker over the sweep, each at most ~3 s of work and ~16 MB of
# tables (so the parent's memory is bounded by the in-flight window, whatever the run count).
# A chunk's runs are stepped together (runner/lockstep.py), sharing each month's core call:
# a few seconds (~8 baseline runs) pays it once for several runs.
_CHUNKS_PER_WORKER = 4
_CHUNK_TARGET_S = 3.0
_CHUNK_TARGET_BYTES = 16 * 2**20
# The guided tail's chunks shrink to no fewer runs than this while that many take at most
# _TAIL_S: cheap runs stepped alone cost ~1.3-1.6x runs stepped with a chunk's others, more than
# the workers then lose waiting for each other at the end.
_TAIL_RUNS = 3
_TAIL_S = 0.5
MAX_RETRIES = 3  # a chunk lost with a dead worker process is retried this many times


class SweepInterrupted(RuntimeError):
    """The sweep stopped before its end (a worker process kept dying, a disk error). Every
    finished chunk is kept and ``--resume`` completes the sweep; the CLI prints it on one line
    and exits 1."""

    def __init__(self, message: str, out_dir: Path | None = None, n_done: int = 0, n_runs: int = 0):
        super().__init__(message)
        self.out_dir, self.n_done, self.n_runs = out_dir, n_done, n_runs


@dataclass(frozen=True)
class SweepResult:
    """Counts of a sweep session (``resumed`` runs were already done before it started)."""

    out_dir: Path
    n_runs: int
    n_resumed: int
    n_ok: int
    n_failed: int
    n_chunks: int
    elapsed_s: float
    executor: str

    @property
    def failures_path(self) -> Path:
        return self.out_dir / "failures.jsonl"

    def summary(self) -> str:
        fail = f", {self.n_failed} failed (see {self.failures_path})" if self.n_failed else ""
        resumed = f", {self.n_resumed} already done" if self.n_resumed else ""
        return (f"{self.n_runs} runs: {self.n_ok} ok now{resumed}{fail}; {self.n_chunks} chunks "
                f"on {self.executor} in {self.elapsed_s:.1f} s")


def run_sweep(design: Design, out_dir: str | Path, *, run_fn: str | RunFn = DEFAULT_RUN_FN,
              executor: cf.Executor | None = None, workers: int | None = None,
              scheduler: str | None = None, dask_local: int | None = None, serial: bool = False,
              chunk_size: int | None = None, resume: bool = False, overwrite: bool = False,
              allow_code_change: bool = False, connect_timeout: float = SCHEDULER_TIMEOUT_S,
              progress: bool | None = None) -> SweepResult:
    """Run every (design point, replication) and stream the tables to ``out_dir``.

    One of ``executor`` (caller-owned, not shut down), ``workers`` (process pool; default
    all cores), ``scheduler`` (Dask address, reached within ``connect_timeout`` s),
    ``dask_local`` (local Dask cluster) or ``serial``. ``resume`` completes an interrupted
    sweep in ``out_dir`` (refused if the code version changed, unless ``allow_code_change``);
    ``overwrite`` replaces a previous chipwar sweep there. Raises InputError/DesignError before
    writing anything (a folder it made for a backend that then failed to start is removed);
    SweepInterrupted if it stops early. ``progress``: see ``experiments.progress.Progress``.
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    if chunk_size is not None and chunk_size < 1:
        raise InputError(f"--chunk-size {chunk_size}: expected at least 1")
    check_out_dir(out, resume=resume, overwrite=overwrite)
    backend = make_backend(executor, workers, scheduler, dask_local, serial, _preload(run_fn),
                           connect_timeout)
    if isinstance(backend, ProcessPoolBackend):
        start_pool_early(run_fn)  # its server loads while this process sets the sweep up
    resolve_run_fn(run_fn)  # fail early, before writing, if it cannot be imported
    runs = design.runs()
    manifest = _new_manifest(design, run_fn_label(run_fn))
    lock, created = open_store(out)
    try:
        done_ok, session = (resume_state(out, manifest, allow_code_change) if resume
                            else (set(), 1))
        pending = [r for r in runs if r.run_id not in done_ok]
        if not pending:  # nothing left to do (a finished sweep resumed): start no pool or cluster
            backend = SerialBackend()
            backend.label = "nothing to run"
        backend.initialize()
    except BaseException:
        discard_new(out, lock, created) if created else lock.release()
        raise
    try:
        if overwrite:
            clear_sweep(out)
        make_subdirs(out)
        manifest.update(sessions=session, executor=backend.label)
        _write_json(out / "manifest.json", manifest)
        counts = _session(backend, run_fn, pending, chunk_size, out, session, manifest,
                          n_runs=len(runs), n_resumed=len(runs) - len(pending), progress=progress)
    except OSError as exc:
        raise SweepInterrupted(f"cannot write {exc.filename or out}: {exc.strerror or exc}", out,
                               0, len(runs)) from None
    finally:
        backend.finalize()
        remove_worker_leftovers(out)
        lock.release()
    n_ok, n_failed, n_chunks = counts
    return SweepResult(out_dir=out, n_runs=len(runs), n_resumed=len(runs) - len(pending),
                       n_ok=n_ok, n_failed=n_failed, n_chunks=n_chunks,
                       elapsed_s=time.perf_counter() - t0, executor=backend.label)


def run_fn_label(run_fn: str | RunFn) -> str:
    return run_fn if isinstance(run_fn, str) else f"{run_fn.__module__}:{run_fn.__qualname__}"


def _session(backend: Backend, run_fn: str | RunFn, pending: list[Run], chunk_size: int | None,
             out: Path, session: int, manifest: dict, *, n_runs: int, n_resumed: int,
             progress: bool | None) -> tuple[int, int, int]:
    """Run the pending runs and write each chunk as it comes; the manifest ends "finished", or
    "interrupted" if anything stops the session (it is never left "running")."""
    n_ok = n_failed = n_chunks = 0
    try:
        with Progress(n_runs, "runs", initial=n_resumed, enabled=progress) as bar:
            for res in _execute(backend, run_fn, pending, chunk_size,
                                out_dir=str(out.resolve()) if backend.shared_fs else None):
                try:
                    _write_chunk(out, res, session)
                except OSError as exc:
                    raise SweepInterrupted(f"cannot write {exc.filename or out}: "
                                           f"{exc.strerror or exc}") from None
                n_ok += len(res.ok)
                n_failed += len(res.failures)
                n_chunks += 1
                bar.update(len(res.run_ids), failed=len(res.failures))
    except BaseException as exc:
        manifest.update(status="interrupted", interrupted=_now(),
                        counts={"runs": n_runs, "ok": n_resumed + n_ok})
        try:
            _write_json(out / "manifest.json", manifest)
        except OSError:
            pass
        if isinstance(exc, SweepInterrupted):
            raise SweepInterrupted(str(exc), out, n_resumed + n_ok, n_runs) from None
        raise
    _rewrite_failures(out)
    done_before = n_resumed
    manifest.update(finished=_now(), status="finished",
                    counts={"runs": n_runs, "ok": done_before + n_ok,
                            "failed": n_runs - done_before - n_ok,
                            "this_session": {"ok": n_ok, "failed": n_failed, "chunks": n_chunks,
                                             "resumed": n_resumed}})
    _write_json(out / "manifest.json", manifest)
    return n_ok, n_failed, n_chunks


def _execute(handle: Backend, run_fn: str | RunFn, pending: list[Run],
             chunk_size: int | None, out_dir: str | None = None) -> Iterator[ChunkResult]:
    """Submit chunks with a bounded window and yield results as they complete.

    At most ~4 chunks per worker are in flight (one when serial; one per worker until the first
    chunk is done), so finished tables never pile up in the parent. Automatic chunk size: a
    quarter per worker of the runs not yet submitted (guided self-scheduling: small chunks at the
    end, see _auto_size; one worker: a quarter of the sweep), capped at ~3 s of work and ~16 MB
    of tables as measured on the chunks done so far (the first chunks hold one run each).
    """
    window = 1 if handle.serial else max(1, _CHUNKS_PER_WORKER * handle.workers)
    submitted = 0
    runs_done = 0
    compute_s = 0.0
    table_bytes = 0
    queue = iter(pending)
    in_flight: dict[cf.Future, list[Run]] = {}
    retry: collections.deque[list[Run]] = collections.deque()  # chunks lost with a dead worker
    attempts: dict[str, int] = {}

    def next_chunk() -> list[Run]:
        if retry:
            return retry.popleft()
        size = chunk_size or _auto_size(handle.workers, len(pending), submitted, runs_done,
                                        compute_s, table_bytes)
        return list(itertools.islice(queue, size))

    def fill() -> None:
        nonlocal submitted
        # until a run was timed, one single-run chunk per worker: more would be runs stepped alone
        # (a chunk's runs share each month's core call: a run alone costs ~1.3x one in a chunk)
        while len(in_flight) < (window if runs_done else min(window, handle.workers)):
            chunk = next_chunk()
            if not chunk:
                return
            try:
                fut = handle.evaluate(run_chunk, run_fn, chunk, out_dir)
            except cf.BrokenExecutor:  # the pool broke since the last wait: retry it later
                retry.appendleft(chunk)
                return
            submitted += len(chunk)
            in_flight[fut] = chunk

    try:
        fill()
        while in_flight or retry:
            if not in_flight:  # a submit found the pool broken, with nothing else in flight
                _replace_pool(handle, [retry[0]], attempts)
                fill()
                continue
            finished, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
            lost: list[list[Run]] = []
            if any(_broken(f) for f in finished):  # a dead worker breaks the whole pool: every
                cf.wait(in_flight)  # task still in flight fails too (or finished just before)
                finished = set(in_flight)
            for fut in finished:
                chunk = in_flight.pop(fut)
                if _broken(fut):
                    lost.append(chunk)
                    continue
                res = _result(fut, chunk, out_dir)
                runs_done += len(res.run_ids)
                compute_s += res.compute_s
                table_bytes += res.nbytes
                yield res
            if lost:
                _replace_pool(handle, lost, attempts)
                retry.extend(lost)
            fill()
    finally:
        for fut in in_flight:
            fut.cancel()


def _auto_size(workers: int, n_pending: int, submitted: int, runs_done: int, compute_s: float,
               table_bytes: int) -> int:
    """The next chunk's size: one run until a run was timed, then guided (with several workers:
    a share of what is left, so chunks shrink at the end and the workers finish together, but not
    below _TAIL_RUNS runs while those take at most _TAIL_S), capped at ~3 s of work and ~16 MB of
    tables."""
    if runs_done == 0:
        return 1
    per_run_s = max(compute_s / runs_done, 1e-6)
    per_run_bytes = max(table_bytes / runs_done, 1.0)
    left = n_pending if workers == 1 else n_pending - submitted
    by_count = math.ceil(left / (_CHUNKS_PER_WORKER * workers))
    if workers > 1:
        by_count = max(by_count, min(_TAIL_RUNS, int(_TAIL_S / per_run_s)))
    return max(1, min(by_count, int(_CHUNK_TARGET_S / per_run_s),
                      int(_CHUNK_TARGET_BYTES / per_run_bytes)))


def _result(fut: cf.Future, chunk: list[Run], out_dir: str | None) -> ChunkResult:
    """A finished task's result; a task that failed outside the run function (e.g. Dask
    KilledWorker) fails its runs; a worker that could not write its parts stops the sweep."""
    try:
        return fut.result()  # a run's own errors are inside the result
    except OSError as exc:
        raise SweepInterrupted(f"cannot write {exc.filename or out_dir}: "
                               f"{exc.strerror or exc}") from None
    except Exception:
        return _chunk_failed(chunk, traceback.format_exc())


def _broken(fut: cf.Future) -> bool:
    return fut.done() and not fut.cancelled() and isinstance(fut.exception(), cf.BrokenExecutor)


def _replace_pool(handle: Backend, lost: list[list[Run]], attempts: dict[str, int]) -> None:
    """After a worker died: count the lost chunks' attempts and start a fresh pool, or give up
    (SweepInterrupted) when a chunk was lost more than MAX_RETRIES times or the executor is the
    caller's (it cannot be replaced here)."""
    n = sum(len(c) for c in lost)
    if not handle.can_restart:
        raise SweepInterrupted(f"a worker process of the {handle.label} died and that executor "
                               f"cannot be replaced here; {n} runs in flight were lost")
    for chunk in lost:
        key = chunk[0].run_id
        attempts[key] = attempts.get(key, 0) + 1
        if attempts[key] > MAX_RETRIES:
            raise SweepInterrupted(f"a worker process died {attempts[key]} times with run {key} "
                                   f"in flight (the pool was replaced {MAX_RETRIES} times)")
    print(f"chipwar sweep: a worker process died; starting a new pool and retrying the {n} runs "
          "that were in flight", file=sys.stderr)
    handle.restart()


def _chunk_failed(chunk: list[Run], tb: str) -> ChunkResult:
    """Every run of a chunk whose task failed outside the run function, as failures."""
    failures = [{"run_id": r.run_id, "seed": r.seed, "replication": r.replication,
                 "params": _jsonable(r.params), "traceback": tb} for r in chunk]
    return ChunkResult(run_ids=[r.run_id for r in chunk], ok=[], failures=failures, tables={},
                       compute_s=0.0)


