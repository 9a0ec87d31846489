"""`chipwar run`: one scenario run; writes model/adoption/vendors Parquet tables and a manifest.

Everything is checked before the run computes (``model.checks``: dates, start and end, events,
seed, workload weights, the memory the population needs; ``experiments.outdir``: the output
folder is new, empty or - with ``--overwrite`` - an earlier chipwar output, and writable). The
tables are written into a folder beside ``--out`` and renamed into place at the end.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from experiments.outdir import marker, prepare_out_dir, replace_dir, safe_name, staging_dir
from experiments.progress import Progress
from model.scenario import month_index, parse_overrides


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", default="baseline", help="scenario name in model/scenarios/ or a .toml path")
    p.add_argument("--seed", type=int, default=0, help="random seed, an integer in [0, 2**63) (default 0)")
    p.add_argument("--end", help="last month YYYY-MM (default: the scenario's, 2035-12)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a model parameter (repeatable)")
    p.add_argument("--out", help="output folder (default outputs/run-<scenario>-<seed>); must be new or "
                                 "empty unless --overwrite")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an earlier chipwar output in --out (never another folder)")
    p.add_argument("--max-memory-gb", type=float, default=None, metavar="GB",
                   help="refuse a run estimated to need more memory (default: 80%% of this machine's)")


def run(args: argparse.Namespace) -> int:
    from experiments.runner import code_version, package_versions
    from model.checks import (
        check_memory,
        check_run_inputs,
        check_seed,
        estimate_run_memory,
        memory_limit_from_flag,
        run_inputs,
    )
    from model.run import build_model

    seed = check_seed(args.seed)
    limit = memory_limit_from_flag(args.max_memory_gb)
    overrides = parse_overrides(args.overrides)
    where = {k: f"--set {k}" for k in overrides}
    if args.end:
        month_index(args.end, "--end")
        overrides["end"], where["end"] = args.end, "--end"
    spec, params, sources = run_inputs(args.scenario, overrides, where)
    fname = spec.path.name if spec.path else args.scenario
    notes = check_run_inputs(params, spec.events, fname, sources)
    check_memory(estimate_run_memory(params), limit)
    name = safe_name(spec.name, f"{fname}: name")
    out = prepare_out_dir(args.out or Path("outputs") / f"run-{name}-{seed}", overwrite=args.overwrite)
    for note in notes:
        print(f"chipwar run: warning: {note}", file=sys.stderr)

    model = build_model({**overrides, "scenario": args.scenario}, seed)
    with Progress(model.end_month - model.start_month + 1, "months") as progress:
        while model.running:  # Model.run_model, one month at a time, with progress on stderr
            model.step()
            progress.update()
    tables = model.tables()
    tmp = staging_dir(out)
    try:
        for key, df in tables.items():
            df.to_parquet(tmp / f"{key}.parquet", index=False)
        manifest = {
            **marker("run", scenario=model.scenario_name, seed=seed),
            "code_version": code_version(), "packages": package_versions(),
            "scenario_file": str(model.spec.path), "parameters": model.p,
            "steps": int(len(tables["model"])),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
        replace_dir(tmp, out)
    except OSError as exc:  # a full disk, a folder made read-only meanwhile: name --out, nothing left
        raise OSError(exc.errno, f"{exc.strerror} (writing the run to {out}; nothing written there)",
                      exc.filename) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    print(summary(tables))
    print(f"wrote {out}/ (model.parquet, adoption.parquet, vendors.parquet, manifest.json)")
    return 0


def summary(tables) -> str:
    """Final stack shares by bloc, bifurcation index and China's domestic share, as text."""
    ad = tables["adoption"]
    last = ad[ad["step"] == ad["step"].max()]
    by = last.groupby(["bloc", "stack"])["installed_h100e"].sum().unstack("stack").fillna(0.0)
    shares = by.div(by.sum(axis=1), axis=0)
    m = tables["model"].iloc[-1]
    lines = [f"final month {m['date']}: installed compute share by bloc and stack"]
    lines.append(shares.map(lambda x: f"{x:6.1%}").to_string())
    lines.append(f"bifurcation_index {m['bifurcation_index']:.3f}   bloc_jsd {m['bloc_jsd']:.3f}   "
                 f"cn_domestic_share {m['cn_domestic_share']:.1%}   us_cn_compute_ratio {m['us_cn_compute_ratio']:.2f}")
    return "\n".join(lines)
