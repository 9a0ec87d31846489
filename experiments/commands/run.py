"""`chipwar run`: one scenario run; writes model/adoption/vendors Parquet tables and a manifest."""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from model.errors import InputError
from model.scenario import month_index, parse_overrides


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", default="baseline", help="scenario name in model/scenarios/ or a .toml path")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--end", help="last month YYYY-MM (default: the scenario's, 2035-12)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a model parameter (repeatable)")
    p.add_argument("--out", help="output folder (default outputs/run-<scenario>-<seed>)")


def run(args: argparse.Namespace) -> int:
    from experiments.runner import code_version, package_versions
    from model.run import build_model

    params = parse_overrides(args.overrides)
    if args.end:
        month_index(args.end, "--end")
        params["end"] = args.end
    params["scenario"] = args.scenario
    model = build_model(params, args.seed)  # validates everything before anything is written
    name = model.scenario_name
    out = Path(args.out or f"outputs/run-{name}-{args.seed}")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder")
    model.run_model()
    tables = model.tables()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for key, df in tables.items():
            df.to_parquet(tmp / f"{key}.parquet", index=False)
        manifest = {
            "code_version": code_version(), "packages": package_versions(),
            "scenario": name, "scenario_file": str(model.spec.path), "seed": args.seed,
            "parameters": model.p, "steps": int(len(tables["model"])),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
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
