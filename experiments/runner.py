"""The sweep runner: a design x replications, run on any executor, streamed to Parquet.

A *design* is a table of parameter sets (one row per design point) built from a grid, a Latin
hypercube, a Sobol or Morris sample (SALib) or a table file. Each point is run `replications`
times with seeds from ``numpy.random.SeedSequence(root_seed).spawn(n_runs)``; every run calls
the model's boundary ``run_one(params, seed) -> {"model", "adoption", "vendors"}`` (DESIGN §9).

Runs execute in chunks on a ``concurrent.futures.Executor`` (serial in-process, a local
process pool, or Dask). The parent writes each finished chunk as Parquet parts under
``DIR/<table>/`` (temp file + ``os.replace``) and then a completion marker
``DIR/done/<chunk>.json``; only marked chunks count, so a sweep killed at any moment resumes
to exactly the tables of an uninterrupted one. Failed runs go to ``DIR/failures.jsonl``.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import importlib
import itertools
import json
import math
import multiprocessing
import multiprocessing.forkserver
import os
import shutil
import subprocess
import sys
import time
import tomllib
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from model.errors import DesignError, InputError, ScenarioError

TABLES: tuple[str, ...] = ("model", "adoption", "vendors")
SAMPLERS: tuple[str, ...] = ("grid", "lhs", "sobol", "morris", "table")
DEFAULT_RUN_FN = "model.run:run_tables"
DESIGN_KEYS: dict[str, str] = {
    "scenario": "a scenario name in model/scenarios/ or a path to a .toml file",
    "sampler": f"one of {', '.join(SAMPLERS)}",
    "samples": "a positive integer (lhs: points; sobol: base N, a power of 2; "
               "morris: trajectories)",
    "replications": "a positive integer",
    "root_seed": "a non-negative integer",
    "fixed": "a table of parameter = value held constant",
    "parameters": "a table of parameter = [values] (grid) or [low, high] (lhs, sobol, morris)",
    "table": "a path to a CSV or TOML file of design points (sampler = 'table')",
    "levels": "an integer >= 2: Morris grid levels (default 4)",
    "second_order": "true or false: Sobol second-order indices (default true)",
    "description": "free text",
}
RunFn = Callable[[dict[str, Any], int], Mapping[str, pd.DataFrame | pa.Table]]

# Chunking: ~4 chunks per worker over the sweep, each at most ~1 s of work and ~16 MB of
# tables (so the parent's memory is bounded by the in-flight window, whatever the run count).
_CHUNKS_PER_WORKER = 4
_CHUNK_TARGET_S = 1.0
_CHUNK_TARGET_BYTES = 16 * 2**20
_SAMPLER_SPAWN_KEY = (0xD351, 0)  # 2-element key: never equal to a run seed's (i,) key


# --------------------------------------------------------------------------- designs


@dataclass(frozen=True)
class Run:
    """One simulation: a design point x a replication, with its stable id and seed."""

    run_id: str
    design_index: int
    replication: int
    seed: int
    params: dict[str, Any]  # to the run function: scenario, fixed, varied, run_id, replication
    varied: dict[str, Any]  # the design row: stamped as columns on every output row


@dataclass(frozen=True)
class Design:
    """A validated design: where it came from, its settings and its table of design points."""

    source: str
    scenario: str
    sampler: str
    replications: int
    root_seed: int
    fixed: dict[str, Any]
    parameters: dict[str, list[Any]]
    points: pd.DataFrame
    samples: int | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def n_runs(self) -> int:
        return len(self.points) * self.replications

    def runs(self) -> list[Run]:
        """All runs in run_id order; seeds from SeedSequence(root_seed).spawn(n_runs)."""
        children = np.random.SeedSequence(self.root_seed).spawn(self.n_runs)
        names = list(self.points.columns)
        # fixed-width ids sort in run order as strings (wider only for huge designs)
        wi = max(5, len(str(len(self.points) - 1)))
        wr = max(3, len(str(self.replications - 1)))
        out = []
        for i, row in enumerate(self.points.itertuples(index=False, name=None)):
            varied = {n: _py(v) for n, v in zip(names, row, strict=True)}
            for r in range(self.replications):
                k = i * self.replications + r
                run_id = f"{i:0{wi}d}-{r:0{wr}d}"
                params = {"scenario": self.scenario, **self.fixed, **varied,
                          "run_id": run_id, "replication": r}
                out.append(Run(run_id=run_id, design_index=i, replication=r,
                               seed=int(children[k].generate_state(1)[0]),
                               params=params, varied=varied))
        return out

    def spec(self) -> dict[str, Any]:
        """JSON-able description (stored in the manifest; compared on resume)."""
        return {
            "source": self.source, "scenario": self.scenario, "sampler": self.sampler,
            "samples": self.samples, "replications": self.replications,
            "root_seed": self.root_seed, "fixed": self.fixed, "parameters": self.parameters,
            "options": self.options,
        }

    def table_records(self) -> list[dict[str, Any]]:
        return [{k: _py(v) for k, v in rec.items()} for rec in self.points.to_dict("records")]


def load_design(path: str | Path, *, replications: int | None = None,
                quick: bool = False) -> Design:
    """Read and validate a design TOML file; raise DesignError naming file, key and value."""
    path = Path(path)
    if not path.is_file():
        raise DesignError(f"design file {path}: not found")
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DesignError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise DesignError(f"{path}: not a UTF-8 text file") from None
    return build_design(spec, origin=str(path), base_dir=path.parent,
                        replications=replications, quick=quick)


def build_design(spec: Mapping[str, Any], *, origin: str = "design", base_dir: Path | None = None,
                 replications: int | None = None, quick: bool = False) -> Design:
    """Validate a design dict (the TOML's content) and sample its design points.

    ``replications`` overrides the file's value. ``quick`` shrinks the design for a smoke
    test: one replication (unless given), at most 4 samples (sobol: 2; morris: 2
    trajectories), grid lists cut to their first and last values, tables to 4 rows.
    """
    _populate_registry()
    base_dir = base_dir or Path.cwd()
    unknown = sorted(set(spec) - set(DESIGN_KEYS))
    if unknown:
        raise DesignError(f"{origin}: unknown key {unknown[0]!r}; expected one of "
                          f"{', '.join(DESIGN_KEYS)}")
    sampler = spec.get("sampler", "grid")
    if sampler not in SAMPLERS:
        raise DesignError(f"{origin}: sampler = {sampler!r}: expected {DESIGN_KEYS['sampler']}")
    scenario = _check_scenario(spec.get("scenario", "baseline"), origin, base_dir)
    reps = _check_int(spec.get("replications", 1), origin, "replications", low=1)
    if replications is not None:
        reps = _check_int(replications, "--replications", "replications", low=1)
    elif quick:
        reps = 1
    if "root_seed" not in spec:
        raise DesignError(f"{origin}: missing key 'root_seed': expected {DESIGN_KEYS['root_seed']}")
    root_seed = _check_int(spec["root_seed"], origin, "root_seed", low=0)
    fixed = _check_fixed(spec.get("fixed", {}), origin)
    needs_samples = sampler in ("lhs", "sobol", "morris")
    samples = None
    if needs_samples:
        if "samples" not in spec:
            raise DesignError(f"{origin}: missing key 'samples': sampler {sampler!r} needs "
                              f"{DESIGN_KEYS['samples']}")
        samples = _check_int(spec["samples"], origin, "samples", low=1)
        if sampler == "sobol" and samples & (samples - 1):
            raise DesignError(f"{origin}: samples = {samples}: sampler 'sobol' needs a power of 2 "
                              "(the balance properties of Sobol' points require it)")
        if sampler == "morris" and samples < 2:
            raise DesignError(f"{origin}: samples = {samples}: Morris needs at least 2 "
                              "trajectories")
    elif "samples" in spec:
        raise DesignError(f"{origin}: samples = {spec['samples']!r}: not used by sampler "
                          f"{sampler!r}; remove it")
    options: dict[str, Any] = {}
    if "levels" in spec:
        if sampler != "morris":
            raise DesignError(f"{origin}: levels: only used by sampler 'morris'")
        options["levels"] = _check_int(spec["levels"], origin, "levels", low=2)
    if "second_order" in spec:
        if sampler != "sobol" or not isinstance(spec["second_order"], bool):
            raise DesignError(f"{origin}: second_order = {spec['second_order']!r}: expected true "
                              "or false, with sampler 'sobol'")
        options["second_order"] = spec["second_order"]
    if "description" in spec and not isinstance(spec["description"], str):
        raise DesignError(f"{origin}: description = {spec['description']!r}: expected a string")

    if sampler == "table":
        if "parameters" in spec:
            raise DesignError(f"{origin}: [parameters]: not used by sampler 'table' (the table "
                              "file lists the points)")
        if "table" not in spec:
            raise DesignError(f"{origin}: missing key 'table': sampler 'table' needs "
                              f"{DESIGN_KEYS['table']}")
        points, table_path = _read_points_table(spec["table"], origin, base_dir)
        options["table"] = str(table_path)
        params_spec: dict[str, list[Any]] = {}
        if quick:
            points = points.iloc[:4].reset_index(drop=True)
    else:
        if "table" in spec:
            raise DesignError(f"{origin}: table: only used by sampler 'table'")
        params_spec = _check_parameters(spec.get("parameters"), sampler, origin)
        if quick:
            if sampler == "grid":
                params_spec = {k: v if len(v) <= 2 else [v[0], v[-1]]
                               for k, v in params_spec.items()}
            else:
                samples = min(samples, {"lhs": 4, "sobol": 2, "morris": 2}[sampler])
        rng = np.random.default_rng(np.random.SeedSequence(root_seed, spawn_key=_SAMPLER_SPAWN_KEY))
        points = _sample(sampler, params_spec, samples, options, rng)
    overlap = sorted(set(points.columns) & set(fixed))
    if overlap:
        raise DesignError(f"{origin}: {overlap[0]!r} is both fixed and varied; keep it in one "
                          "place")
    if "scenario" in points.columns:
        raise DesignError(f"{origin}: 'scenario' cannot be varied in a design table; use one "
                          "design per scenario")
    return Design(source=origin, scenario=scenario, sampler=sampler, replications=reps,
                  root_seed=root_seed, fixed=fixed, parameters=params_spec, points=points,
                  samples=samples, options=options)


def _populate_registry() -> None:
    """Import the model boundary so every module has registered its parameters.

    Best effort: if the model cannot be imported, the registry holds what is registered so
    far; a sweep of the real model then fails loudly when its run function is resolved.
    """
    try:
        importlib.import_module(DEFAULT_RUN_FN.split(":")[0])
    except ImportError:
        pass


def _check_int(value: Any, origin: str, key: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise DesignError(f"{origin}: {key} = {value!r}: expected an integer >= {low}")
    return int(value)


def _check_param(name: str, value: Any, origin: str) -> Any:
    from model.params import check_value

    try:
        return check_value(name, value, origin)
    except ScenarioError as exc:
        raise DesignError(str(exc)) from None


def _check_scenario(value: Any, origin: str, base_dir: Path) -> str:
    if not isinstance(value, str) or not value:
        raise DesignError(f"{origin}: scenario = {value!r}: expected {DESIGN_KEYS['scenario']}")
    p = Path(value)
    if p.suffix == ".toml" or os.sep in value or "/" in value:
        cand = p if p.is_absolute() else base_dir / p
        if not cand.is_file() and p.is_file():
            cand = p
        if not cand.is_file():
            raise DesignError(f"{origin}: scenario = {value!r}: file not found (looked in {cand})")
        value = str(cand.resolve())
    try:
        scenario_mod = importlib.import_module("model.scenario")
    except ModuleNotFoundError as exc:
        if exc.name != "model.scenario":
            raise
        return value
    try:
        scenario_mod.load_scenario(value)
    except ScenarioError as exc:
        raise DesignError(f"{origin}: scenario = {value!r}: {exc}") from None
    return value


def _check_fixed(fixed: Any, origin: str) -> dict[str, Any]:
    if not isinstance(fixed, dict):
        raise DesignError(f"{origin}: fixed = {fixed!r}: expected {DESIGN_KEYS['fixed']}")
    return {k: _check_param(k, v, f"{origin}, fixed.{k}") for k, v in fixed.items()}


def _check_parameters(params: Any, sampler: str, origin: str) -> dict[str, list[Any]]:
    from model.params import PARAMETERS

    if sampler == "grid" and isinstance(params, dict) and not params:
        return {}  # a single design point: replications of the scenario as it is
    if not isinstance(params, dict) or not params:
        raise DesignError(f"{origin}: [parameters]: missing or empty: expected "
                          f"{DESIGN_KEYS['parameters']}")
    out: dict[str, list[Any]] = {}
    for name, values in params.items():
        key = f"{origin}, parameters.{name}"
        if name not in PARAMETERS:
            _check_param(name, None, key)  # raises with the "did you mean" hint
        if not isinstance(values, list) or not values:
            raise DesignError(f"{key} = {values!r}: expected a non-empty list "
                              + ("of values" if sampler == "grid" else "[low, high]"))
        if sampler == "grid":
            checked = [_check_param(name, v, key) for v in values]
            if len(set(map(repr, checked))) != len(checked):
                raise DesignError(f"{key} = {values!r}: values repeat; each grid value once")
            out[name] = checked
            continue
        kind = PARAMETERS[name].kind
        if kind not in (int, float):
            raise DesignError(f"{key}: sampler {sampler!r} needs a numeric parameter; {name} is "
                              f"{kind.__name__} (use sampler 'grid' for it)")
        if len(values) != 2:
            raise DesignError(f"{key} = {values!r}: expected [low, high] for sampler {sampler!r}")
        low, high = (_check_param(name, v, key) for v in values)
        if not low < high:
            raise DesignError(f"{key} = {values!r}: expected low < high")
        out[name] = [low, high]
    return out


def _sample(sampler: str, params: dict[str, list[Any]], samples: int | None,
            options: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """Design points as a DataFrame (columns in the order the parameters were listed)."""
    from model.params import PARAMETERS

    names = list(params)
    if sampler == "grid":
        if not names:
            return pd.DataFrame(index=range(1))
        rows = list(itertools.product(*(params[n] for n in names)))
        return pd.DataFrame(rows, columns=names)
    bounds = np.array([params[n] for n in names], dtype=float)
    if sampler == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(len(names), rng=rng).random(samples)
        x = qmc.scale(unit, bounds[:, 0], bounds[:, 1])
    else:
        problem = {"num_vars": len(names), "names": names, "bounds": bounds.tolist()}
        if sampler == "sobol":
            from SALib.sample import sobol

            x = sobol.sample(problem, samples, calc_second_order=options.get("second_order", True),
                             seed=rng)
        else:
            from SALib.sample import morris

            x = morris.sample(problem, samples, num_levels=options.get("levels", 4), seed=rng)
    df = pd.DataFrame(x, columns=names)
    for n in names:
        if PARAMETERS[n].kind is int:
            df[n] = np.rint(df[n]).astype("int64")
    return df


def _read_points_table(value: Any, origin: str, base_dir: Path) -> tuple[pd.DataFrame, Path]:
    from model.params import PARAMETERS

    if not isinstance(value, str) or not value:
        raise DesignError(f"{origin}: table = {value!r}: expected {DESIGN_KEYS['table']}")
    path = Path(value) if Path(value).is_absolute() else base_dir / value
    if not path.is_file():
        raise DesignError(f"{origin}: table = {value!r}: file not found (looked in {path})")
    tname = f"{origin}: table {path.name}"
    if path.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise DesignError(f"{tname}: not valid TOML: {exc}") from None
        if set(data) != {"points"} or not isinstance(data["points"], list) or not all(
            isinstance(p, dict) for p in data["points"]
        ):
            raise DesignError(f"{tname}: expected only an array of tables [[points]] "
                              "(one per design point)")
        records = data["points"]
        cols = list(dict.fromkeys(k for rec in records for k in rec))
    elif path.suffix.lower() == ".csv":
        try:
            raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise DesignError(f"{tname}: not a readable CSV: {exc}") from None
        cols = list(raw.columns)
        records = raw.to_dict("records")
    else:
        raise DesignError(f"{tname}: expected a .csv or .toml file")
    if not records:
        raise DesignError(f"{tname}: no design points")
    for c in cols:
        if c not in PARAMETERS:
            _check_param(c, None, f"{tname}, column {c!r}")
    rows = []
    for i, rec in enumerate(records):
        missing = [c for c in cols if c not in rec or rec[c] == ""]
        if missing:
            raise DesignError(f"{tname}, row {i + 1}: no value for {missing[0]!r}")
        rows.append({c: _check_param(c, rec[c], f"{tname}, row {i + 1}") for c in cols})
    return pd.DataFrame(rows, columns=cols), path.resolve()


# --------------------------------------------------------------------------- run functions


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
    for run in runs:
        try:
            if fn is None:
                raise RuntimeError(f"cannot load run function {run_fn!r}:\n{tb}")
            tables = fn(dict(run.params), run.seed)
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
        return pc.take(pa.array([value], pa.string()), np.zeros(n, dtype=np.int64))
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


# --------------------------------------------------------------------------- executors


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


@dataclass
class _ExecutorHandle:
    executor: cf.Executor
    workers: int
    label: str
    close: Callable[[], None] = lambda: None
    # workers see the parent's file system: they write their tables' Parquet files themselves
    # (a remote Dask cluster need not: its workers send the tables back instead)
    shared_fs: bool = True


def _pool_context(preload: tuple[str, ...], *, start: bool) -> multiprocessing.context.BaseContext:
    """The process pool's start method: forkserver. It never fork()s a threaded parent (tqdm,
    Dask) and is cheaper than spawn: the server imports the run function's module once (with the
    model's, it also loads the compiled market kernels) and each worker is forked from it loaded.
    ``start`` launches the server now, in the background: its imports then overlap the parent's
    own set-up (reading the design, preparing the output directory) instead of following it."""
    ctx = multiprocessing.get_context("forkserver")
    warm = ["model._warm"] if any(m == "model" or m.startswith("model.") for m in preload) else []
    ctx.set_forkserver_preload(["__main__", "experiments.runner", *preload, *warm])
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


def _open_executor(executor: cf.Executor | None, workers: int | None, scheduler: str | None,
                   dask_local: int | None, serial: bool,
                   preload: tuple[str, ...] = ()) -> _ExecutorHandle:
    chosen = sum(x is not None and x is not False for x in (executor, workers, scheduler,
                                                              dask_local, serial or None))
    if chosen > 1:
        raise InputError("choose one of executor, workers, scheduler, dask_local, serial")
    if executor is not None:
        n = getattr(executor, "_max_workers", None) or default_workers()
        local = isinstance(executor, (cf.ProcessPoolExecutor, cf.ThreadPoolExecutor, SerialExecutor))
        return _ExecutorHandle(executor, int(n), type(executor).__name__, shared_fs=local)
    if serial:
        return _ExecutorHandle(SerialExecutor(), 1, "serial")
    if scheduler is not None or dask_local is not None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise InputError("Dask executors need the 'distributed' package: "
                             "pip install 'chipwar[dask]'") from None
        if dask_local is not None:
            if dask_local < 1:
                raise InputError(f"--dask-local {dask_local}: expected at least 1 worker")
            cluster = LocalCluster(n_workers=dask_local, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
            label = f"local Dask cluster of {dask_local}"
        else:
            cluster = None
            try:
                client = Client(scheduler, timeout=30)
            except OSError as exc:
                raise InputError(f"--scheduler {scheduler}: cannot connect: {exc}") from None
            label = f"Dask scheduler {scheduler}"
        n = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()) or 1

        def close() -> None:
            client.close()
            if cluster is not None:
                cluster.close()

        return _ExecutorHandle(client.get_executor(), n, label, close, shared_fs=cluster is not None)
    n = workers if workers is not None else default_workers()
    if n < 1:
        raise InputError(f"--workers {n}: expected at least 1")
    pool = cf.ProcessPoolExecutor(max_workers=n, mp_context=_pool_context(preload, start=False))
    return _ExecutorHandle(pool, n, f"{n} worker process{'es' if n > 1 else ''}",
                           lambda: pool.shutdown(wait=True, cancel_futures=True))


# --------------------------------------------------------------------------- the sweep


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
        handle = _open_executor(executor, workers, scheduler, dask_local, serial, _preload(run_fn))
    else:  # nothing left to do (a finished sweep resumed): start no pool or cluster
        handle = _ExecutorHandle(SerialExecutor(), 1, "nothing to run")
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
        if executor is None:
            handle.close()
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


def _execute(handle: _ExecutorHandle, run_fn: str | RunFn, pending: list[Run],
             chunk_size: int | None, out_dir: str | None = None) -> Iterator[ChunkResult]:
    """Submit chunks with a bounded window and yield results as they complete.

    At most ~4 chunks per worker are in flight (one when serial), so finished tables never
    pile up in the parent. Automatic chunk size: a quarter per worker of the runs not yet
    submitted (guided self-scheduling: single runs at the end; one worker: a quarter of the
    sweep), capped at ~1 s of work and ~16 MB of tables as measured on the chunks done so far
    (the first chunks hold one run each).
    """
    serial = isinstance(handle.executor, SerialExecutor)
    window = 1 if serial else max(1, _CHUNKS_PER_WORKER * handle.workers)
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
            in_flight[handle.executor.submit(run_chunk, run_fn, chunk, out_dir)] = chunk

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


def _write_chunk(out: Path, res: ChunkResult, session: int) -> None:
    """Parts first (temp + replace), failures appended, the completion marker last."""
    name = res.run_ids[0]
    k = 0
    while (out / "done" / f"{name}.json").exists():  # a resumed retry of a chunk's first run
        k += 1
        name = f"{res.run_ids[0]}.r{k}"
    parts = {}
    for t in TABLES:
        target = out / t / f"{name}.parquet"
        if t in res.files:  # written by the worker: publish it
            os.replace(res.files[t], target)
        elif t in res.tables:
            tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
            _write_parquet(res.tables[t], tmp)
            os.replace(tmp, target)
        else:
            continue
        parts[t] = f"{t}/{target.name}"
    if res.failures:
        with open(out / "failures.jsonl", "a", encoding="utf-8") as fh:
            for rec in res.failures:
                fh.write(json.dumps(rec, default=_py) + "\n")
    _write_json(out / "done" / f"{name}.json",
                {"chunk": name, "runs": res.run_ids, "ok": res.ok, "parts": parts,
                 "failures": res.failures, "session": session, "finished": _now()})


def _markers(out: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8"))
            for p in sorted((out / "done").glob("*.json"))]


def _prepare_dir(out: Path, manifest: dict[str, Any], *, resume: bool,
                 overwrite: bool) -> tuple[set[str], int]:
    """Check/clean the output directory; return the run_ids already done and the session no."""
    exists = out.exists() and any(out.iterdir())
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a directory")
    done_ok: set[str] = set()
    session = 1
    if exists and not (resume or overwrite):
        raise InputError(f"--out {out}: directory is not empty; use --resume to complete that "
                         "sweep or --overwrite to replace it")
    if exists and not (out / "manifest.json").is_file():
        raise InputError(f"--out {out}: not empty and has no manifest.json (not a sweep "
                         "directory); refusing to "
                         + ("resume into" if resume else "delete") + " it")
    if exists and overwrite:
        shutil.rmtree(out)
    elif exists and resume:
        old = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        for key in ("design", "design_table", "run_fn"):
            if _canon(_without_source(old.get(key))) != _canon(_without_source(manifest[key])):
                raise DesignError(f"--resume {out}: the {key.replace('_', ' ')} differs from the "
                                  "sweep stored there (manifest.json); use --overwrite or another "
                                  "--out")
        manifest["created"] = old.get("created", manifest["created"])
        session = int(old.get("sessions", 1)) + 1
        marked = set()
        for m in _markers(out):
            done_ok.update(m["ok"])
            marked.update(m["parts"].values())
        for t in TABLES:  # orphan parts (no marker) and temp files of a killed sweep
            for p in (out / t).glob("*") if (out / t).is_dir() else ():
                if f"{t}/{p.name}" not in marked:
                    p.unlink()
        for p in (out / "done").glob(".*"):
            p.unlink()
        for p in out.glob(".*.tmp-*"):
            p.unlink()
        _rewrite_failures(out)
    for sub in ("done", *TABLES):
        (out / sub).mkdir(parents=True, exist_ok=True)
    return done_ok, session


def _rewrite_failures(out: Path) -> None:
    """failures.jsonl = the latest failure of each run that has never succeeded."""
    markers = _markers(out)
    ok = {r for m in markers for r in m["ok"]}
    latest: dict[str, dict[str, Any]] = {}
    for m in sorted(markers, key=lambda m: m.get("session", 1)):
        for rec in m["failures"]:
            if rec["run_id"] not in ok:
                latest[rec["run_id"]] = rec
    text = "".join(json.dumps(latest[k], default=_py) + "\n" for k in sorted(latest))
    tmp = out / f".failures.jsonl.tmp-{os.getpid()}"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out / "failures.jsonl")


def read_tables(out_dir: str | Path) -> dict[str, pd.DataFrame]:
    """The sweep's tables, from completed chunks only, sorted by run_id and step."""
    out = Path(out_dir)
    if not (out / "manifest.json").is_file():
        raise InputError(f"{out}: not a sweep directory (no manifest.json)")
    markers = _markers(out)
    result = {}
    for t in TABLES:
        files = sorted(str(out / m["parts"][t]) for m in markers if t in m["parts"])
        if not files:
            result[t] = pd.DataFrame()
            continue
        df = pd.read_parquet(files)
        keys = [k for k in ("run_id", "step") if k in df.columns]
        result[t] = df.sort_values(keys, kind="stable").reset_index(drop=True)
    return result


# --------------------------------------------------------------------------- manifest


def _new_manifest(design: Design, run_fn_label: str) -> dict[str, Any]:
    return {
        "code_version": code_version(),
        "packages": package_versions(),
        "python": sys.version.split()[0],
        "scenario": design.scenario,
        "run_fn": run_fn_label,
        "root_seed": design.root_seed,
        "replications": design.replications,
        "design": design.spec(),
        "design_table": design.table_records(),
        "tables": list(TABLES),
        "created": _now(),
        "finished": None,
        "status": "running",
        "counts": {"design_points": len(design.points), "runs": design.n_runs},
    }


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """``git describe --always --dirty`` of the source tree, else the package version."""
    root = Path(__file__).resolve().parents[1]
    try:
        res = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=root,
                             capture_output=True, text=True, timeout=10, check=False)
        if res.returncode == 0 and res.stdout.strip():
            return res.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return _dist_version("chipwar") or "unknown"


def package_versions() -> dict[str, str | None]:
    return {p: _dist_version(p) for p in ("chipwar", "mesa", "numpy", "pandas", "pyarrow",
                                          "scipy", "SALib", "distributed")}


def _dist_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _py(v: Any) -> Any:
    """numpy scalars -> Python scalars (JSON, stable dict values)."""
    return v.item() if isinstance(v, np.generic) else v


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=_py))


def _without_source(obj: Any) -> Any:
    """The design spec without its file path (the same design may be named differently)."""
    return {k: v for k, v in obj.items() if k != "source"} if isinstance(obj, dict) else obj


def _canon(obj: Any) -> str:
    return json.dumps(obj, default=_py, sort_keys=True)


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(obj, default=_py, indent=1), encoding="utf-8")
    os.replace(tmp, path)
