"""`chipwar sweep DESIGN.toml`: run a design x replications on an executor, stream Parquet.

Exit status 0 when every run succeeded, 1 when some failed (listed in failures.jsonl),
2 on a bad design or option (nothing is written).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from model.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("design", type=Path,
                        help="design file (TOML), e.g. experiments/designs/smoke.toml")
    parser.add_argument("--replications", type=int, metavar="N",
                        help="runs per design point (overrides the design file)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="output directory (default outputs/sweep-<design stem>)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N",
                       help="local process pool of N workers (default: all cores)")
    where.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler, e.g. tcp://host:8786")
    where.add_argument("--dask-local", type=int, metavar="N",
                       help="start a local Dask cluster of N worker processes")
    where.add_argument("--serial", action="store_true", help="run in this process, no pool")
    parser.add_argument("--resume", action="store_true",
                        help="complete an interrupted sweep in DIR (skips finished runs)")
    parser.add_argument("--overwrite", action="store_true", help="replace a previous sweep in DIR")
    parser.add_argument("--chunk-size", type=int, metavar="N",
                        help="runs per task (default: automatic, ~1 s of work, ~4 per worker)")
    parser.add_argument("--quick", action="store_true",
                        help="shrink the design for a smoke test (1 replication, few samples)")
    parser.add_argument("--run-fn", default=None, help=argparse.SUPPRESS)  # tests: module:function


def run(args: argparse.Namespace) -> int:
    from experiments.runner import (
        DEFAULT_RUN_FN,
        load_design,
        resolve_run_fn,
        run_sweep,
        start_pool_early,
        uses_process_pool,
    )

    if args.resume and args.overwrite:
        raise InputError("choose --resume or --overwrite, not both")
    run_fn = args.run_fn or DEFAULT_RUN_FN
    if uses_process_pool(None, args.workers, args.scheduler, args.dask_local, args.serial):
        start_pool_early(run_fn)  # the workers' imports overlap reading the design
    design = load_design(args.design, replications=args.replications, quick=args.quick)
    resolve_run_fn(run_fn)  # an unknown module:function is bad input (exit 2)
    out = args.out or Path("outputs") / f"sweep-{args.design.stem}"
    result = run_sweep(design, out, run_fn=run_fn, workers=args.workers,
                       scheduler=args.scheduler, dask_local=args.dask_local, serial=args.serial,
                       chunk_size=args.chunk_size, resume=args.resume, overwrite=args.overwrite)
    print(f"wrote {out}/ (model/, adoption/, vendors/, manifest.json, failures.jsonl)")
    print(f"sweep {args.design.stem}: {result.summary()}")
    if result.n_failed:
        attempted = result.n_runs - result.n_resumed
        print(f"chipwar sweep: {result.n_failed} of {attempted} runs failed; "
              f"tracebacks in {result.failures_path}")
        return 1
    return 0
