"""`chipwar export DIR --csv`: a run or sweep folder's tables as CSV for spreadsheets.

Writes model.csv, adoption.csv, vendors.csv and the yearly summary (summary_metrics.csv,
summary_vendors.csv) beside the Parquet tables in DIR, or into --out. Files that exist are
refused unless --overwrite; then nothing is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", type=Path, metavar="DIR",
                   help="a run folder (chipwar run), a sweep folder (chipwar sweep) or a folder of those")
    fmt = p.add_mutually_exclusive_group(required=True)
    fmt.add_argument("--csv", action="store_true", help="write CSV files (the one format for now)")
    p.add_argument("--out", type=Path, default=None, metavar="DEST",
                   help="folder to write the CSV files into (default: DIR itself, beside the tables)")
    p.add_argument("--overwrite", action="store_true", help="replace CSV files that exist")


def run(args: argparse.Namespace) -> int:
    from experiments.export import describe, export_folder

    paths = export_folder(args.folder, args.out, overwrite=args.overwrite)
    print(f"wrote {len(paths)} CSV files:\n{describe(paths)}")
    return 0
