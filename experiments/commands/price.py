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
    "usd_per_hour", "usd_per_effective_pflop_hour", "usd_per_mtok", "bound_by", "batch", "ep", "tp",
)
DEFAULT_WORKLOAD = "deepseek-r1-decode"
DEFAULT_TRAIN_ACCELERATORS = 16384
#: Largest accelerator count priced (ten times the largest cluster anyone has announced).
MAX_ACCELERATORS = 10_000_000
#: --explain columns: (header, term of model.cluster.TERMS), times in ms per step
EXPLAIN_TERMS: tuple[tuple[str, str], ...] = (
    ("GEMM", "gemm_compute"), ("weights", "weights_hbm"), ("attn", "attn_compute"), ("KV", "kv_hbm"),
    ("a2a up", "a2a_scaleup"), ("a2a out", "a2a_scaleout"), ("a2a exp", "a2a_exposed"),
    ("TP AR", "tp_allreduce"), ("ovh", "overhead"), ("step", "step"))


def _accelerators(text: str) -> int:
    """--accelerators: a whole number from 1 to MAX_ACCELERATORS ('1e4' accepted)."""
    try:
        x = float(text)
    except ValueError:
        raise InputError(f"--accelerators = {text!r}: expected a whole number from 1 to "
                         f"{MAX_ACCELERATORS:,}") from None
    if not (x == x and 1 <= x <= MAX_ACCELERATORS and x == int(x)):
        raise InputError(f"--accelerators = {text}: expected a whole number from 1 to {MAX_ACCELERATORS:,}")
    return int(x)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--systems", default=None, metavar="ID,...",
                        help="comma-separated system ids (default: every catalog system)")
    parser.add_argument("--workload", default=DEFAULT_WORKLOAD, metavar="ID",
                        help=f"workload id from model/data/workloads.csv (default {DEFAULT_WORKLOAD})")
    parser.add_argument("--accelerators", default=None, metavar="N",
                        help=f"accelerators priced (training default {DEFAULT_TRAIN_ACCELERATORS}, "
                             "serving default one system)")
    parser.add_argument("--region", default="us", metavar="R",
                        help="energy-price region from model/data/price_regions.csv (default us)")
    parser.add_argument("--elec-usd-kwh", type=float, default=None, metavar="X",
                        help="electricity price in USD/kWh (default: the region's)")
    parser.add_argument("--pue", type=float, default=None, metavar="Y",
                        help="power usage effectiveness, >= 1 (default: the region's)")
    parser.add_argument("--explain", action="store_true",
                        help="serving: the deployment chosen (EP, TP, batch), the binding resource and "
                             "the time of each term per step")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")


def load_price_regions(path: Path = PRICE_REGIONS_CSV) -> pd.DataFrame:
    """The small region table used by `chipwar price` (index = id)."""
    return pd.read_csv(path).set_index("id")


def price_frame(system_ids: list[str] | None, workload_id: str, region: str,
                accelerators: int | str | None, elec_usd_kwh: float | None = None,
                pue: float | None = None) -> pd.DataFrame:
    """Evaluate and rank; one row per system with the JSON_KEYS columns plus ``available``,
    ``precision`` and the per-step term times (``ms_<term>``, serving only)."""
    from model.catalog import load_catalog
    from model.cluster import BOUNDS, TRAIN, Offerings, Workloads, performance, price, serving_deployments

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
    if accelerators is not None:
        accelerators = _accelerators(str(accelerators))
    if elec_usd_kwh is not None and not (0.0 <= elec_usd_kwh <= 10.0):
        raise InputError(f"--elec-usd-kwh = {elec_usd_kwh}: expected USD per kWh from 0 to 10")
    if pue is not None and not (1.0 <= pue <= 5.0):
        raise InputError(f"--pue = {pue}: expected a power usage effectiveness from 1 to 5")
    off = Offerings.from_frame(systems, cat.chips)
    train = int(wl.kind[0]) == TRAIN
    if accelerators is not None:
        n = np.full(len(off), float(accelerators))
    elif train:
        n = np.full(len(off), float(DEFAULT_TRAIN_ACCELERATORS))
    else:
        n = off.n_per_system.astype(float)
    elec = float(regions.loc[region, "elec_usd_kwh"]) if elec_usd_kwh is None else float(elec_usd_kwh)
    pue_v = float(regions.loc[region, "pue"]) if pue is None else float(pue)
    perf = performance(off, wl, n)
    res = price(off, perf, elec_usd_kwh=elec, pue=pue_v)
    pick = lambda a: np.asarray(a)[:, 0, 0]  # noqa: E731
    serving = not train
    bound = np.asarray(perf.bound)[:, 0]
    df = pd.DataFrame({
        "system": off.ids.astype(str), "chip": off.chip.astype(str), "stack": off.stack.astype(str),
        "workload": workload_id, "region": region, "accelerators": n.astype(int),
        "peak_pflops": pick(res.peak_pflops), "effective_pflops": pick(res.effective_pflops),
        "mfu": pick(res.mfu), "tokens_per_s_per_accel": pick(res.tokens_per_s_per_accel),
        "power_kw": pick(res.power_kw), "facility_kw": pick(res.facility_kw),
        "usd_per_hour": pick(res.usd_per_hour),
        "usd_per_effective_pflop_hour": pick(res.usd_per_effective_pflop_hour),
        "usd_per_mtok": pick(res.usd_per_mtok),
        "bound_by": [BOUNDS[int(b)] if serving and b >= 0 else None for b in bound],
        "batch": np.where(serving, np.asarray(perf.batch)[:, 0], np.nan),
        "ep": np.where(serving, np.asarray(perf.ep)[:, 0], np.nan),
        "tp": np.where(serving, np.asarray(perf.tp)[:, 0], np.nan),
    })
    if serving:
        terms = serving_deployments(off, wl).terms
        for _, term in EXPLAIN_TERMS:
            df[f"ms_{term}"] = np.asarray(terms[term])[:, 0] * 1e3
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
    df = price_frame(ids, args.workload, args.region, args.accelerators, args.elec_usd_kwh, args.pue)
    from model.cluster import TRAIN, Workloads

    train = int(Workloads.load(ids=[args.workload]).kind[0]) == TRAIN
    terms = [c for c in df.columns if c.startswith("ms_")] if args.explain else []
    if args.format == "json":
        out = [{k: _json_value(row[k]) for k in (*JSON_KEYS, *terms)} for row in df.to_dict("records")]
        json.dump(out, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif args.format == "csv":
        df[list(JSON_KEYS) + ["available", "precision"] + terms].to_csv(sys.stdout, index=False)
    else:
        print(render_table(df, train))
        if args.explain:
            print()
            print(render_explain(df, train))
    return 0


def render_explain(df: pd.DataFrame, train: bool) -> str:
    """--explain: per system the deployment, the binding resource and each term's ms per step."""
    if train:
        return ("--explain: training workloads have no serving deployment; the table above gives "
                "MFU at the accelerator count priced.")
    cols = [("system", lambda r: r.system, "l"), ("fmt", lambda r: r.precision, "l"),
            ("EP", lambda r: _fmt(r.ep, 0), "r"), ("TP", lambda r: _fmt(r.tp, 0), "r"),
            ("batch", lambda r: _fmt(r.batch, 1), "r"), ("bound", lambda r: r.bound_by or "-", "l")]
    cols += [(h, (lambda r, t=t: _fmt(getattr(r, f"ms_{t}"), 2)), "r") for h, t in EXPLAIN_TERMS]
    cols.append(("tok/s/accel", lambda r: _fmt(r.tokens_per_s_per_accel, 0), "r"))
    rows = [[f(r) for _, f, _ in cols] for r in df.itertuples(index=False)]
    widths = [max([len(h)] + [len(row[j]) for row in rows]) for j, (h, _, _) in enumerate(cols)]
    just = lambda s, w, a: s.rjust(w) if a == "r" else s.ljust(w)  # noqa: E731
    lines = ["  ".join(just(h, w, a) for (h, _, a), w in zip(cols, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(just(c, w, a) for c, w, (_, _, a) in zip(row, widths, cols)) for row in rows]
    lines += ["", "Deployment per accelerator: EP = expert-parallel degree, TP = tensor parallelism of attention "
              "and dense weights (1 = data-parallel attention), batch = sequences per decode step "
              "(tokens per prefill pass).",
              "ms per step: GEMM / attn = compute, weights / KV = HBM traffic (of each roofline pair the "
              "larger counts), a2a up / out = all-to-all over scale-up / scale-out links, a2a exp = the "
              "part compute does not hide, TP AR = tensor-parallel all-reduce, ovh = fixed per-step overhead.",
              "bound = the resource that sets the batch: capacity (HBM full), or the largest share of the "
              "step (compute, hbm, scale-up, scale-out, latency = fixed overheads)."]
    return "\n".join(lines)


def _json_value(v: object) -> object:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if not math.isfinite(float(v)) else float(v)
    return v
