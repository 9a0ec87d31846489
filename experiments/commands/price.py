"""`chipwar price`: rank offerings by cost per unit of useful work with the cluster core.

Serving workloads rank by USD per million tokens, training workloads by USD per effective
PFLOP-hour. Peak figures are at the numeric format the workload runs in on each chip.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from model.errors import InputError

PRICE_REGIONS_CSV: Path = Path(__file__).resolve().parents[2] / "model" / "data" / "price_regions.csv"

#: JSON keys, in order (the output contract of `chipwar price --format json`).
JSON_KEYS: tuple[str, ...] = (
    "system", "chip", "stack", "workload", "region", "accelerators", "peak_pflops",
    "effective_pflops", "mfu", "tokens_per_s_per_accel", "power_kw", "facility_kw",
    "usd_per_hour", "usd_per_effective_pflop_hour", "usd_per_mtok",
)
DEFAULT_WORKLOAD = "deepseek-r1-decode"
DEFAULT_TRAIN_ACCELERATORS = 16384


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--systems", default=None, metavar="ID,...",
                        help="comma-separated system ids (default: every catalog system)")
    parser.add_argument("--workload", default=DEFAULT_WORKLOAD, metavar="ID",
                        help=f"workload id from model/data/workloads.csv (default {DEFAULT_WORKLOAD})")
    parser.add_argument("--accelerators", type=int, default=None, metavar="N",
                        help=f"accelerators priced (training default {DEFAULT_TRAIN_ACCELERATORS}, "
                             "serving default one system)")
    parser.add_argument("--region", default="us", metavar="R",
                        help="energy-price region from model/data/price_regions.csv (default us)")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")


def load_price_regions(path: Path = PRICE_REGIONS_CSV) -> pd.DataFrame:
    """The small region table used by `chipwar price` (index = id)."""
    return pd.read_csv(path).set_index("id")


def price_frame(system_ids: list[str] | None, workload_id: str, region: str,
                accelerators: int | None) -> pd.DataFrame:
    """Evaluate and rank; one row per system with the JSON_KEYS columns plus ``available``."""
    from model.catalog import load_catalog
    from model.cluster import TRAIN, Offerings, Workloads

    cat = load_catalog()
    systems = cat.systems
    if system_ids is not None:
        unknown = [s for s in system_ids if s not in systems.index]
        if unknown:
            raise InputError(f"unknown system {unknown[0]!r}; valid ids: {', '.join(systems.index)}")
        systems = systems.loc[system_ids]
    try:
        wl = Workloads.load(ids=[workload_id])
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None
    regions = load_price_regions()
    if region not in regions.index:
        raise InputError(f"unknown region {region!r}; valid ids: {', '.join(regions.index)}")
    if accelerators is not None and accelerators <= 0:
        raise InputError(f"--accelerators = {accelerators}: expected a positive integer")
    off = Offerings.from_frame(systems, cat.chips)
    train = int(wl.kind[0]) == TRAIN
    if accelerators is not None:
        n = np.full(len(off), float(accelerators))
    elif train:
        n = np.full(len(off), float(DEFAULT_TRAIN_ACCELERATORS))
    else:
        n = off.n_per_system.astype(float)
    from model.cluster import evaluate

    res = evaluate(off, wl, n_accel=n, elec_usd_kwh=float(regions.loc[region, "elec_usd_kwh"]),
                   pue=float(regions.loc[region, "pue"]))
    pick = lambda a: np.asarray(a)[:, 0, 0]  # noqa: E731
    df = pd.DataFrame({
        "system": off.ids.astype(str), "chip": off.chip.astype(str), "stack": off.stack.astype(str),
        "workload": workload_id, "region": region, "accelerators": n.astype(int),
        "peak_pflops": pick(res.peak_pflops), "effective_pflops": pick(res.effective_pflops),
        "mfu": pick(res.mfu), "tokens_per_s_per_accel": pick(res.tokens_per_s_per_accel),
        "power_kw": pick(res.power_kw), "facility_kw": pick(res.facility_kw),
        "usd_per_hour": pick(res.usd_per_hour),
        "usd_per_effective_pflop_hour": pick(res.usd_per_effective_pflop_hour),
        "usd_per_mtok": pick(res.usd_per_mtok),
    })
    df["available"] = systems["available"].astype(str).to_numpy()
    df["precision"] = [("fp8", "int8", "bf16")[i] for i in pick(res.precision)]
    key = "usd_per_effective_pflop_hour" if train else "usd_per_mtok"
    return df.sort_values(key, na_position="last", kind="stable").reset_index(drop=True)


def _fmt(x: float, digits: int) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.{digits}f}"


def render_table(df: pd.DataFrame, train: bool) -> str:
    """Aligned text table with units in the headers; roadmap systems marked '*'."""
    today = date.today().strftime("%Y-%m")
    cols = [("#", lambda i, r: str(i + 1), "r"), ("system", lambda i, r: r.system, "l"),
            ("chip", lambda i, r: r.chip, "l"), ("stack", lambda i, r: r.stack, "l"),
            ("avail", lambda i, r: r.available + ("*" if r.available > today else ""), "l"),
            ("accel", lambda i, r: f"{r.accelerators:,}", "r"), ("fmt", lambda i, r: r.precision, "l"),
            ("peak PF", lambda i, r: _fmt(r.peak_pflops, 1), "r"),
            ("eff PF", lambda i, r: _fmt(r.effective_pflops, 1), "r"),
            ("MFU", lambda i, r: _fmt(r.mfu, 2), "r"),
            ("tok/s/accel", lambda i, r: _fmt(r.tokens_per_s_per_accel, 0), "r"),
            ("IT kW", lambda i, r: _fmt(r.power_kw, 0), "r"),
            ("site kW", lambda i, r: _fmt(r.facility_kw, 0), "r"),
            ("USD/h", lambda i, r: _fmt(r.usd_per_hour, 0), "r"),
            ("USD/PF-h", lambda i, r: _fmt(r.usd_per_effective_pflop_hour, 2), "r"),
            ("USD/Mtok", lambda i, r: _fmt(r.usd_per_mtok, 3), "r")]
    rows = [[f(i, r) for _, f, _ in cols] for i, r in enumerate(df.itertuples(index=False))]
    widths = [max([len(h)] + [len(row[j]) for row in rows]) for j, (h, _, _) in enumerate(cols)]
    just = lambda s, w, a: s.rjust(w) if a == "r" else s.ljust(w)  # noqa: E731
    lines = ["  ".join(just(h, w, a) for (h, _, a), w in zip(cols, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(just(c, w, a) for c, w, (_, _, a) in zip(row, widths, cols)) for row in rows]
    first = df.iloc[0] if len(df) else None
    lines.append("")
    if first is not None:
        lines.append(f"workload {first.workload}, region {first.region}; ranked by "
                     + ("USD per effective PFLOP-hour" if train else "USD per million tokens")
                     + "; '-' = cannot run it (memory, latency target or no price).")
    lines.append("PF = PFLOP/s at the format the workload runs in (fmt); IT kW = all-in accelerator "
                 "power, site kW = x PUE; * = roadmap (available after " + today + ").")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    ids = None if args.systems is None else [s.strip() for s in args.systems.split(",") if s.strip()]
    if ids is not None and not ids:
        raise InputError("--systems is empty: give comma-separated system ids")
    df = price_frame(ids, args.workload, args.region, args.accelerators)
    from model.cluster import TRAIN, Workloads

    train = int(Workloads.load(ids=[args.workload]).kind[0]) == TRAIN
    if args.format == "json":
        out = [{k: _json_value(row[k]) for k in JSON_KEYS} for row in df.to_dict("records")]
        json.dump(out, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif args.format == "csv":
        df[list(JSON_KEYS) + ["available", "precision"]].to_csv(sys.stdout, index=False)
    else:
        print(render_table(df, train))
    return 0


def _json_value(v: object) -> object:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if not math.isfinite(float(v)) else float(v)
    return v
