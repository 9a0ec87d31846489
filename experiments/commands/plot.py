"""`chipwar plot DIR`: every figure that applies to a run or sweep folder, plus an index.html."""

from __future__ import annotations

import argparse
from pathlib import Path

from model.errors import InputError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", metavar="DIR", help="a run folder (chipwar run), a sweep folder "
                   "(chipwar sweep) or a folder of those")
    p.add_argument("--out", metavar="DIR2", default=None,
                   help="where to write the figures and index.html (default DIR/figures)")
    p.add_argument("--workloads", default=None, metavar="ID,...",
                   help="workloads for the core's offering comparison "
                        "(default deepseek-r1-decode,llama3-405b-train; 'none' to skip)")
    p.add_argument("--region", default="us", metavar="R",
                   help="energy-price region for the offering comparison (default us)")


def run(args: argparse.Namespace) -> int:
    from experiments.commands.price import load_price_regions, price_frame
    from experiments.plots import DEFAULT_WORKLOADS, INDEX_NAME, plot_folder

    if args.workloads is None:
        workloads = list(DEFAULT_WORKLOADS)
    elif args.workloads.strip().lower() == "none":
        workloads = []
    else:
        workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
        if not workloads:
            raise InputError("--workloads is empty: give comma-separated workload ids or 'none'")
    if workloads:
        valid = load_price_regions().index
        if args.region not in valid:
            raise InputError(f"--region {args.region!r}: unknown region; valid ids: {', '.join(valid)}")
    out = Path(args.out) if args.out else Path(args.folder) / "figures"
    pngs = plot_folder(args.folder, out, workloads=workloads, region=args.region, price_fn=price_frame)
    print(f"wrote {len(pngs)} figures to {out}/")
    print(out / INDEX_NAME)
    return 0
