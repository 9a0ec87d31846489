"""Chunks of runs, as a worker executes them: the run function resolved from its name, each run's
tables stamped with its id, seed and varied parameters, and written (or sent back) as Arrow."""

from __future__ import annotations

import functools
import importlib
import os
import sys
import time
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from experiments.runner.base import TABLES, RunFn, _jsonable
from experiments.runner.design import Run
from model.arrow_pool import take
from model.errors import InputError


def resolve_run_fn(run_fn: str | RunFn) -> RunFn:
    """A callable from ``"module:function"`` (the module may live in the working directory)."""
    if callable(run_fn):
        return run_fn
    if not isinstance(run_fn, str) or run_fn.count(":") != 1:
        raise InputError(f"run function {run_fn!r}: expected 'module:function'")
    return _import_run_fn(run_fn)


@functools.lru_cache(maxsize=8)
def _import_run_fn(spec: str) -> RunFn:
    modname, fname = spec.split(":")
    try:
        mod = importlib.import_module(modname)
    except ModuleNotFoundError as exc:
        cwd = os.getcwd()
        if exc.name is None or not modname.startswith(exc.name) or cwd in sys.path:
            raise InputError(f"run function {spec!r}: cannot import {modname}: {exc}") from None
        sys.path.insert(0, cwd)  # like `python -m`: modules in the working directory
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as exc2:
            raise InputError(f"run function {spec!r}: cannot import {modname}: {exc2}") from None
    fn = getattr(mod, fname, None)
    if not callable(fn):
        raise InputError(f"run function {spec!r}: {modname} has no function {fname!r}")
    return fn


# --------------------------------------------------------------------------- chunks (workers)


@dataclass
class ChunkResult:
    """What one task sends back: the chunk's tables (or, when the worker wrote them itself, the
    temporary files holding them) and its bookkeeping."""

    run_ids: list[str]
    ok: list[str]
    failures: list[dict[str, Any]]
    tables: dict[str, pa.Table]
    compute_s: float
    files: dict[str, str] = field(default_factory=dict)  # table -> temp Parquet file in out_dir
    nbytes: int = 0  # bytes of the chunk's tables in memory (for chunk sizing)


def run_chunk(run_fn: str | RunFn, runs: list[Run], out_dir: str | None = None) -> ChunkResult:
    """Execute several runs in one task; a raising run is recorded and the others go on.

    With ``out_dir`` (a directory the worker shares with the parent) the worker writes each
    table of the chunk to a hidden temporary Parquet file there and sends back only its name:
    the parent then publishes it (rename + marker). Without, the tables travel back in Arrow.
    """
    t0 = time.perf_counter()
    ok: list[str] = []
    failures: list[dict[str, Any]] = []
    parts: dict[str, list[pa.Table]] = {t: [] for t in TABLES}
    try:
        fn = resolve_run_fn(run_fn)
    except Exception:
        fn, tb = None, traceback.format_exc()
    together = _lockstep(fn, runs)
    for j, run in enumerate(runs):
        try:
            if fn is None:
                raise RuntimeError(f"cannot load run function {run_fn!r}:\n{tb}")
            if together is not None and isinstance(together[j], str):
                failures.append({"run_id": run.run_id, "seed": run.seed, "replication": run.replication,
                                 "params": _jsonable(run.params), "traceback": together[j]})
                continue
            tables = together[j] if together is not None else fn(dict(run.params), run.seed)
            stamped = {t: _stamp(_table(tables, t), run) for t in TABLES}
        except Exception:
            failures.append({"run_id": run.run_id, "seed": run.seed, "replication": run.replication,
                             "params": _jsonable(run.params), "traceback": traceback.format_exc()})
            continue
        for t in TABLES:
            parts[t].append(stamped[t])
        ok.append(run.run_id)
    tables = {t: pa.concat_tables(p, promote_options="default") for t, p in parts.items() if p}
    nbytes = int(sum(tab.nbytes for tab in tables.values()))
    files: dict[str, str] = {}
    if out_dir is not None and tables:
        tag = f"{os.getpid()}-{uuid.uuid4().hex}"
        for t, tab in tables.items():
            path = Path(out_dir) / t / f".{runs[0].run_id}.parquet.w-{tag}"
            _write_parquet(tab, path)
            files[t] = str(path)
        tables = {}
    return ChunkResult(run_ids=[r.run_id for r in runs], ok=ok, failures=failures, tables=tables,
                       compute_s=time.perf_counter() - t0, files=files, nbytes=nbytes)


def _lockstep(fn: RunFn | None, runs: list[Run]) -> list | None:
    """The chunk's runs stepped together (experiments/runner/lockstep.py) when they use the
    default run function: the same tables as one call each, the month's core call shared."""
    from model.run import run_tables

    if fn is not run_tables or len(runs) < 2:
        return None
    from experiments.runner.lockstep import GROUP, run_lockstep

    out: list = []
    for k in range(0, len(runs), GROUP):
        part = runs[k:k + GROUP]
        out += run_lockstep([dict(r.params) for r in part], [r.seed for r in part])
    return out


def _write_parquet(tab: pa.Table, path: Path) -> None:
    """One table part. Dictionary pages for the string columns only (floats rarely repeat, and
    trying costs time); min/max statistics on the key columns a reader filters on."""
    strings = [f.name for f in tab.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    stats = [c for c in ("run_id", "seed", "replication", "step", "date") if c in tab.column_names]
    pq.write_table(tab, path, use_dictionary=strings, write_statistics=stats)


def _table(tables: Any, name: str) -> pa.Table:
    if not isinstance(tables, Mapping):
        raise TypeError(f"run function returned {type(tables).__name__}, expected a dict of "
                        f"DataFrames {TABLES}")
    df = tables.get(name)
    if isinstance(df, pa.Table):
        return df.replace_schema_metadata(None)
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"run function returned no {name!r} DataFrame (got {type(df).__name__})")
    # no pandas metadata: every part reads back with the same plain types
    return pa.Table.from_pandas(df, preserve_index=False).replace_schema_metadata(None)


def _constant(value: Any, n: int) -> pa.Array:
    """A column holding ``value`` on n rows (a string is taken n times from a one-entry array,
    not built as n Python strings)."""
    if isinstance(value, str):
        return take(pa.array([value], pa.string()), np.zeros(n, dtype=np.int64))
    return pa.array(np.full(n, value))


def _stamp(tab: pa.Table, run: Run) -> pa.Table:
    """Set run_id, seed, replication and the varied parameters on every row."""
    n = tab.num_rows
    for pos, (col, value) in enumerate((("run_id", run.run_id), ("seed", int(run.seed)),
                                        ("replication", int(run.replication)))):
        arr = _constant(value, n)
        if col in tab.column_names:
            tab = tab.set_column(tab.column_names.index(col), col, arr)
        else:
            tab = tab.add_column(min(pos, tab.num_columns), col, arr)
    names = set(tab.column_names)
    for name, value in run.varied.items():
        # A swept parameter that shares its name with a table column (us_control_level is both a
        # lever and a monthly metric) is stamped as param_<name>, keeping the metric intact.
        col = f"param_{name}" if name in names else name
        tab = tab.append_column(col, _constant(value, n))
    return tab


