"""`chipwar sweep DESIGN.toml`: run a design x replications on an executor, stream Parquet.

Exit status 0 when every run succeeded, 1 when some failed (listed in failures.jsonl) or the
sweep stopped early (a worker process kept dying, a disk error: one line, with the ``--resume``
command), 2 on a bad design, option or output folder (nothing is written).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from model.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("design", type=Path,
                        help="design file (TOML), e.g. experiments/designs/smoke.toml")
    parser.add_argument("--replications", type=int, metavar="N",
                        help="runs per design point (overrides the design file)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="output folder (default outputs/sweep-<design name>)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N",
                       help="local process pool of N workers (default: all cores)")
    where.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler, e.g. tcp://host:8786")
    where.add_argument("--dask-local", type=int, metavar="N",
                       help="start a local Dask cluster of N worker processes")
    where.add_argument("--serial", action="store_true", help="run in this process, no pool")
    parser.add_argument("--connect-timeout", type=float, metavar="S", default=None,
                        help="seconds to reach the --scheduler before giving up (default 10)")
    parser.add_argument("--resume", action="store_true",
                        help="complete an interrupted sweep in DIR (skips finished runs)")
    parser.add_argument("--allow-code-change", action="store_true",
                        help="with --resume: continue a sweep begun by another code version")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a previous chipwar sweep in DIR (never another folder)")
    parser.add_argument("--chunk-size", type=int, metavar="N",
                        help="runs per task (default: automatic, ~1 s of work, ~4 per worker)")
    parser.add_argument("--max-runs", type=int, metavar="N",
                        help="refuse a design of more runs (default: what a quarter of this "
                             "machine's memory holds)")
    parser.add_argument("--quick", action="store_true",
                        help="shrink the design for a smoke test (1 replication, few samples)")
    parser.add_argument("--run-fn", default=None, help=argparse.SUPPRESS)  # tests: module:function


def run(args: argparse.Namespace) -> int:
    from experiments.outdir import safe_name
    from experiments.runner import (
        DEFAULT_RUN_FN,
        SCHEDULER_TIMEOUT_S,
        SweepInterrupted,
        load_design,
        resolve_run_fn,
        run_sweep,
        start_pool_early,
        uses_process_pool,
    )

    if args.resume and args.overwrite:
        raise InputError("choose --resume or --overwrite, not both")
    if args.allow_code_change and not args.resume:
        raise InputError("--allow-code-change: only used with --resume")
    if args.connect_timeout is not None and not args.connect_timeout > 0:
        raise InputError(f"--connect-timeout {args.connect_timeout}: expected a positive number "
                         "of seconds")
    run_fn = args.run_fn or DEFAULT_RUN_FN
    if uses_process_pool(None, args.workers, args.scheduler, args.dask_local, args.serial):
        start_pool_early(run_fn)  # the workers' imports overlap reading the design
    design = load_design(args.design, replications=args.replications, quick=args.quick,
                         max_runs=args.max_runs)
    resolve_run_fn(run_fn)  # an unknown module:function is bad input (exit 2)
    out = args.out or Path("outputs") / f"sweep-{safe_name(args.design.stem, 'design file name')}"
    try:
        result = run_sweep(design, out, run_fn=run_fn, workers=args.workers,
                           scheduler=args.scheduler, dask_local=args.dask_local,
                           serial=args.serial, chunk_size=args.chunk_size, resume=args.resume,
                           overwrite=args.overwrite, allow_code_change=args.allow_code_change,
                           connect_timeout=args.connect_timeout or SCHEDULER_TIMEOUT_S)
    except SweepInterrupted as exc:
        done = f"; {exc.n_done} of {exc.n_runs} runs are done and kept" if exc.n_runs else ""
        print(f"chipwar sweep: error: {exc}{done}; complete the sweep with: "
              f"{resume_command(args, out)}", file=sys.stderr)
        return 1
    print(f"wrote {out}/ (model/, adoption/, vendors/, manifest.json, failures.jsonl)")
    print(f"sweep {args.design.stem}: {result.summary()}")
    if result.n_failed:
        attempted = result.n_runs - result.n_resumed
        print(f"chipwar sweep: {result.n_failed} of {attempted} runs failed; "
              f"tracebacks in {result.failures_path}")
        return 1
    return 0


def resume_command(args: argparse.Namespace, out: Path) -> str:
    """The command that completes this sweep: the same design and options, with --resume."""
    cmd = ["chipwar", "sweep", str(args.design), "--out", str(out), "--resume"]
    for flag, value in (("--replications", args.replications), ("--workers", args.workers),
                        ("--scheduler", args.scheduler), ("--dask-local", args.dask_local),
                        ("--chunk-size", args.chunk_size), ("--max-runs", args.max_runs),
                        ("--run-fn", args.run_fn)):
        if value is not None:
            cmd += [flag, str(value)]
    cmd += [f for f, on in (("--serial", args.serial), ("--quick", args.quick),
                            ("--allow-code-change", args.allow_code_change)) if on]
    return shlex.join(cmd)
