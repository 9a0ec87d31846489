"""`chipwar summary RUN_OR_SWEEP`: yearly tables by vendor and region, headline metrics by year.

One block per scenario or design point (never averaged across them); units and revenue are the
year's sums, mean over the group's runs; shares are of the region's (or bloc's) purchases.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import pandas as pd

from model.errors import InputError, did_you_mean


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", type=Path, metavar="RUN_OR_SWEEP",
                   help="a run folder (chipwar run), a sweep folder (chipwar sweep) or a folder of those")
    p.add_argument("--by", choices=("region", "bloc"), default="region",
                   help="vendor table per region (default) or per bloc (us, cn, gs)")
    p.add_argument("--vendor", default=None, metavar="ID,...", help="keep these vendors, e.g. huawei,nvidia")
    p.add_argument("--region", default=None, metavar="ID,...",
                   help="keep these regions (or blocs with --by bloc), e.g. cn")
    p.add_argument("--year", default=None, metavar="Y,...", help="keep these years, e.g. 2026,2030,2035")
    p.add_argument("--top", type=int, default=None, metavar="N",
                   help="table format: at most N vendors per region and year (by units)")
    p.add_argument("--table", choices=("both", "metrics", "vendors"), default="both",
                   help="which table to print (csv: pick one for a plain CSV)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")


def _pick(df: pd.DataFrame, col: str, arg: str | None, flag: str) -> pd.DataFrame:
    if arg is None:
        return df
    want = [x.strip() for x in arg.split(",") if x.strip()]
    valid = sorted(set(df[col].astype(str)))
    for w in want:
        if w not in valid:
            raise InputError(f"{flag} {w}: not in the tables{did_you_mean(w, valid)}; "
                             f"valid: {', '.join(valid)}")
    return df[df[col].astype(str).isin(want)]


def run(args: argparse.Namespace) -> int:
    from experiments.summary import read, summarise

    if args.top is not None and args.top < 1:
        raise InputError(f"--top {args.top}: expected a positive integer")
    s = summarise(read(args.folder), by=args.by)
    s.vendors = _pick(s.vendors, "vendor", args.vendor, "--vendor")
    s.vendors = _pick(s.vendors, args.by, args.region, "--region")
    if args.year is not None:
        try:
            years = [int(y) for y in args.year.split(",") if y.strip()]
        except ValueError:
            raise InputError(f"--year {args.year}: expected years like 2026,2030") from None
        s.vendors = s.vendors[s.vendors["year"].isin(years)]
        s.metrics = s.metrics[s.metrics["year"].isin(years)]
    tables = {"metrics": s.metrics, "vendors": s.vendors}
    if args.table != "both":
        tables = {args.table: tables[args.table]}
    if args.format == "json":
        out = {k: [{c: _plain(v) for c, v in r.items()} for r in df.to_dict("records")]
               for k, df in tables.items()}
        json.dump(out, sys.stdout, indent=1)
        sys.stdout.write("\n")
    elif args.format == "csv":
        for i, (k, df) in enumerate(tables.items()):
            if len(tables) > 1:
                sys.stdout.write(("\n" if i else "") + f"# {k}\n")
            df.to_csv(sys.stdout, index=False, lineterminator="\n")
    else:
        text = s.to_text(max_vendors=args.top, metrics=args.table != "vendors",
                         vendors=args.table != "metrics")
        print(text if text else "no rows (check --vendor, --region and --year)")
    return 0


def _plain(v: object) -> object:
    if hasattr(v, "item"):
        v = v.item()
    return None if isinstance(v, float) and not math.isfinite(v) else v
