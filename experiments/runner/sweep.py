"""A sweep: every (design point, replication) run in chunks on a backend, streamed to the store.

Runs execute in chunks on an executor class (serial in-process, a local process pool, or Dask;
see ``executors``). The parent writes each finished chunk as Parquet parts under
``DIR/<table>/`` (temp file + ``os.replace``) and then a completion marker
``DIR/done/<chunk>.json``; only marked chunks count, so a sweep killed at any moment resumes
to exactly the tables of an uninterrupted one. Failed runs go to ``DIR/failures.jsonl``.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import math
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from experiments.runner.base import DEFAULT_RUN_FN, RunFn, _jsonable, _now, _write_json
from experiments.runner.chunks import ChunkResult, resolve_run_fn, run_chunk
from experiments.runner.design import Design, Run
from experiments.runner.executors import (
    Backend,
    SerialBackend,
    _preload,
    make_backend,
    start_pool_early,
    uses_process_pool,
)
from experiments.runner.manifest import _new_manifest
from experiments.runner.store import _prepare_dir, _rewrite_failures, _write_chunk
from model.errors import InputError

# Chunking: ~4 chunks per worker over the sweep, each at most ~1 s of work and ~16 MB of
# tables (so the parent's memory is bounded by the in-flight window, whatever the run count).
_CHUNKS_PER_WORKER = 4
_CHUNK_TARGET_S = 1.0
_CHUNK_TARGET_BYTES = 16 * 2**20


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
              progress: bool | None = None) -> SweepResult:
    """Run every (design point, replication) and stream the tables to ``out_dir``.

    One of ``executor`` (caller-owned, not shut down), ``workers`` (process pool; default
    all cores), ``scheduler`` (Dask address), ``dask_local`` (local Dask cluster) or
    ``serial``. ``resume`` completes an interrupted sweep in ``out_dir``; ``overwrite``
    replaces a previous sweep there. Raises InputError/DesignError before writing anything.
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    if resume and overwrite:
        raise InputError("choose --resume or --overwrite, not both")
    if chunk_size is not None and chunk_size < 1:
        raise InputError(f"--chunk-size {chunk_size}: expected at least 1")
    run_fn_label = (run_fn if isinstance(run_fn, str)
                    else f"{run_fn.__module__}:{run_fn.__qualname__}")
    if uses_process_pool(executor, workers, scheduler, dask_local, serial):
        start_pool_early(run_fn)  # its server loads while this process sets the sweep up
    resolve_run_fn(run_fn)  # fail early, before writing, if it cannot be imported
    runs = design.runs()
    manifest = _new_manifest(design, run_fn_label)
    done_ok, session = _prepare_dir(out, manifest, resume=resume, overwrite=overwrite)
    manifest["sessions"] = session
    pending = [r for r in runs if r.run_id not in done_ok]
    n_resumed = len(runs) - len(pending)
    _write_json(out / "manifest.json", manifest)

    if pending:
        handle = make_backend(executor, workers, scheduler, dask_local, serial, _preload(run_fn))
    else:  # nothing left to do (a finished sweep resumed): start no pool or cluster
        handle = SerialBackend()
        handle.label = "nothing to run"
    handle.initialize()
    manifest["executor"] = handle.label
    show = sys.stderr.isatty() if progress is None else progress
    n_ok = n_failed = n_chunks = 0
    try:
        from tqdm import tqdm

        bar = tqdm(total=len(runs), initial=n_resumed, unit="run", disable=not show,
                   dynamic_ncols=True, smoothing=0.1)
        with bar:
            for res in _execute(handle, run_fn, pending, chunk_size,
                                out_dir=str(out.resolve()) if handle.shared_fs else None):
                _write_chunk(out, res, session)
                n_ok += len(res.ok)
                n_failed += len(res.failures)
                n_chunks += 1
                bar.update(len(res.run_ids))
                bar.set_postfix(failed=n_failed, refresh=False)
    finally:
        handle.finalize()
    _rewrite_failures(out)
    manifest.update(finished=_now(), status="finished",
                    counts={"runs": len(runs), "ok": len(done_ok) + n_ok,
                            "failed": len(runs) - len(done_ok) - n_ok,
                            "this_session": {"ok": n_ok, "failed": n_failed, "chunks": n_chunks,
                                             "resumed": n_resumed}})
    _write_json(out / "manifest.json", manifest)
    return SweepResult(out_dir=out, n_runs=len(runs), n_resumed=n_resumed, n_ok=n_ok,
                       n_failed=n_failed, n_chunks=n_chunks,
                       elapsed_s=time.perf_counter() - t0, executor=handle.label)


def _execute(handle: Backend, run_fn: str | RunFn, pending: list[Run],
             chunk_size: int | None, out_dir: str | None = None) -> Iterator[ChunkResult]:
    """Submit chunks with a bounded window and yield results as they complete.

    At most ~4 chunks per worker are in flight (one when serial), so finished tables never
    pile up in the parent. Automatic chunk size: a quarter per worker of the runs not yet
    submitted (guided self-scheduling: single runs at the end; one worker: a quarter of the
    sweep), capped at ~1 s of work and ~16 MB of tables as measured on the chunks done so far
    (the first chunks hold one run each).
    """
    window = 1 if handle.serial else max(1, _CHUNKS_PER_WORKER * handle.workers)
    submitted = 0
    runs_done = 0
    compute_s = 0.0
    table_bytes = 0
    queue = iter(pending)
    in_flight: dict[cf.Future, list[Run]] = {}

    def next_chunk() -> list[Run]:
        if chunk_size is not None:
            size = chunk_size
        elif runs_done == 0:
            size = 1
        else:
            per_run_s = max(compute_s / runs_done, 1e-6)
            per_run_bytes = max(table_bytes / runs_done, 1.0)
            # guided (with several workers): a share of what is left, so chunks shrink to single
            # runs at the end and the workers finish together
            left = len(pending) if handle.workers == 1 else len(pending) - submitted
            by_count = math.ceil(left / (_CHUNKS_PER_WORKER * handle.workers))
            size = max(1, min(by_count, int(_CHUNK_TARGET_S / per_run_s),
                              int(_CHUNK_TARGET_BYTES / per_run_bytes)))
        return list(itertools.islice(queue, size))

    def fill() -> None:
        nonlocal submitted
        while len(in_flight) < window:
            chunk = next_chunk()
            if not chunk:
                return
            submitted += len(chunk)
            in_flight[handle.evaluate(run_chunk, run_fn, chunk, out_dir)] = chunk

    try:
        fill()
        while in_flight:
            finished, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                chunk = in_flight.pop(fut)
                try:
                    res = fut.result()  # a run's own errors are inside the result
                except cf.BrokenExecutor:
                    raise  # the pool is gone: stop; finished chunks are kept for --resume
                except Exception:  # the task itself failed (e.g. Dask KilledWorker)
                    res = _chunk_failed(chunk, traceback.format_exc())
                runs_done += len(res.run_ids)
                compute_s += res.compute_s
                table_bytes += res.nbytes
                yield res
            fill()
    finally:
        for fut in in_flight:
            fut.cancel()


def _chunk_failed(chunk: list[Run], tb: str) -> ChunkResult:
    """Every run of a chunk whose task failed outside the run function, as failures."""
    failures = [{"run_id": r.run_id, "seed": r.seed, "replication": r.replication,
                 "params": _jsonable(r.params), "traceback": tb} for r in chunk]
    return ChunkResult(run_ids=[r.run_id for r in chunk], ok=[], failures=failures, tables={},
                       compute_s=0.0)


