"""The sweep runner: a design x replications, run on any executor, streamed to Parquet.

A *design* (``design``, ``points``) is a table of parameter sets built from a grid, a Latin
hypercube, a Sobol or Morris sample (SALib) or a table file; each point is run ``replications``
times with seeds from ``numpy.random.SeedSequence(root_seed).spawn(n_runs)``, every run calling
the model's boundary ``run_one(params, seed) -> {"model", "adoption", "vendors"}``.
Chunks of runs (``chunks``) execute on an executor class (``executors``: serial, process pool,
Dask; initialize / evaluate / finalize); the parent writes them to the sweep folder (``store``:
Parquet parts, completion markers, resume) described by its ``manifest``; ``sweep`` ties these
together in :func:`run_sweep`.

Every name other modules use is importable from ``experiments.runner`` itself.
"""

from experiments.runner.base import DEFAULT_RUN_FN, TABLES, RunFn
from experiments.runner.chunks import ChunkResult, resolve_run_fn, run_chunk
from experiments.runner.design import (
    DESIGN_KEYS,
    SAMPLERS,
    Design,
    Run,
    build_design,
    default_max_runs,
    load_design,
)
from experiments.runner.executors import (
    SCHEDULER_TIMEOUT_S,
    Backend,
    DaskBackend,
    ExternalBackend,
    ProcessPoolBackend,
    SerialBackend,
    SerialExecutor,
    default_workers,
    make_backend,
    start_pool_early,
    uses_process_pool,
)
from experiments.runner.manifest import code_version, package_versions
from experiments.runner.store import SweepLock, read_tables
from experiments.runner.sweep import MAX_RETRIES, SweepInterrupted, SweepResult, run_sweep

__all__ = [
    "DEFAULT_RUN_FN", "DESIGN_KEYS", "MAX_RETRIES", "SAMPLERS", "SCHEDULER_TIMEOUT_S", "TABLES",
    "Backend", "SweepInterrupted", "SweepLock", "default_max_runs", "ChunkResult", "DaskBackend",
    "Design", "ExternalBackend", "ProcessPoolBackend", "Run", "RunFn", "SerialBackend",
    "SerialExecutor", "SweepResult", "build_design", "code_version", "default_workers",
    "load_design", "make_backend", "package_versions", "read_tables", "resolve_run_fn",
    "run_chunk", "run_sweep", "start_pool_early", "uses_process_pool",
]
