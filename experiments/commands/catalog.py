"""`chipwar catalog`: list, check and import the hardware catalog.

    chipwar catalog list [--kind chips|systems] [--format table|csv|json]
    chipwar catalog check [--chips PATH] [--systems PATH]
    chipwar catalog import-epoch PATH (--chips OUT | --in-place | --dry-run) [--skip-bad-rows]

Bad files raise CatalogError, which the dispatcher prints and turns into exit status 2.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import warnings
from pathlib import Path

import pandas as pd

from model.catalog import import_epoch, load_catalog
from model.errors import InputError

# Columns shown by the table format (csv/json carry every column).
_TABLE_CHIPS = ("name", "vendor", "stack", "release", "bf16_tflops", "fp8_tflops", "hbm_gb",
                "hbm_tb_s", "scaleup_gb_s", "tdp_w", "price_usd")
_TABLE_SYSTEMS = ("chip", "stack", "n_accel", "scaleup_domain", "scaleup_kind", "scaleup_gb_s",
                  "scaleout_gb_s", "bf16_pflops", "allin_kw", "price_usd", "available")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-sub-commands: list, check, import-epoch."""
    sub = parser.add_subparsers(dest="catalog_command", metavar="ACTION", required=True)
    p = sub.add_parser("list", help="print the chips or systems table")
    p.add_argument("--kind", choices=("chips", "systems"), default="systems")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    _paths(p)
    p.set_defaults(_catalog=_list)
    p = sub.add_parser("check", help="validate catalog files; prints 'ok: N chips, M systems'")
    _paths(p)
    p.set_defaults(_catalog=_check)
    p = sub.add_parser("import-epoch", help="merge an Epoch AI ML Hardware CSV into chips.csv")
    p.add_argument("epoch_csv", type=Path, metavar="PATH", help="Epoch AI hardware CSV export")
    p.add_argument("--chips", type=Path, default=None, metavar="OUT",
                   help="chips file to write (an existing chips CSV is updated; a new path starts "
                        "from the packaged table)")
    p.add_argument("--in-place", action="store_true",
                   help="rewrite the packaged model/data/chips.csv (without --chips it is never rewritten "
                        "unless this is given)")
    p.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")
    p.add_argument("--skip-bad-rows", action="store_true",
                   help="skip (and report) rows whose numbers or dates do not parse instead of refusing")
    p.set_defaults(_catalog=_import)


def _paths(p: argparse.ArgumentParser) -> None:
    p.add_argument("--chips", type=Path, default=None, help="chips CSV (default: packaged)")
    p.add_argument("--systems", type=Path, default=None, help="systems CSV (default: packaged)")


def run(args: argparse.Namespace) -> int:
    return int(args._catalog(args) or 0)


def _check(args: argparse.Namespace) -> int:
    cat = load_catalog(args.chips, args.systems)
    print(f"ok: {len(cat.chips)} chips, {len(cat.systems)} systems")
    return 0


def _list(args: argparse.Namespace) -> int:
    cat = load_catalog(args.chips, args.systems)
    if args.kind == "chips":
        frame, shown = cat.chips, _TABLE_CHIPS
    else:
        frame = cat.systems.copy()
        chip_bf16 = cat.chips.loc[frame["chip"], "bf16_tflops"].to_numpy()
        frame["bf16_pflops"] = frame["n_accel"] * chip_bf16 / 1000.0
        frame["allin_kw"] = frame["n_accel"] * frame["watts_allin"] / 1000.0
        shown = _TABLE_SYSTEMS
    if args.format == "csv":
        buf = io.StringIO()
        frame.reset_index().to_csv(buf, index=False, lineterminator="\n")
        print(buf.getvalue(), end="")
    elif args.format == "json":
        records = [
            {k: None if isinstance(v, float) and math.isnan(v) else _plain(v) for k, v in r.items()}
            for r in frame.reset_index().to_dict(orient="records")
        ]
        print(json.dumps(records, indent=1, ensure_ascii=False))
    else:
        with pd.option_context("display.max_rows", None, "display.width", 200,
                               "display.max_columns", None, "display.float_format", _fmt):
            print(frame.loc[:, list(shown)].to_string(na_rep=""))
    return 0


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1e5 else f"{x:,.6g}"


def _plain(v: object) -> object:
    """numpy scalars -> Python scalars for json."""
    return v.item() if hasattr(v, "item") else v


def _import_target(args: argparse.Namespace) -> Path | None:
    """The chips file to write (None: the packaged one), checked before anything is read."""
    from experiments.outdir import check_writable_dir

    if args.chips is not None and args.in_place:
        raise InputError("choose --chips OUT or --in-place, not both")
    if args.chips is None:
        if not (args.in_place or args.dry_run):
            raise InputError("import-epoch: refusing to rewrite the packaged model/data/chips.csv without "
                             "--in-place; pass --chips OUT to write another file, --in-place to update "
                             "the packaged table or --dry-run to see what would change")
        return None
    if args.chips.is_dir():
        raise InputError(f"--chips {args.chips}: is a folder; expected the path of a chips CSV file")
    if not args.chips.absolute().parent.is_dir():
        raise InputError(f"--chips {args.chips}: folder {args.chips.absolute().parent} does not exist")
    if not args.dry_run:
        check_writable_dir(args.chips.absolute().parent, flag="--chips", target=args.chips)
    return args.chips


def _import(args: argparse.Namespace) -> int:
    target = _import_target(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        result = import_epoch(args.epoch_csv, target, write=not args.dry_run,
                              skip_bad_rows=args.skip_bad_rows)
    rep = result.attrs["epoch_import"]
    for w in caught:
        print(f"warning: {w.message}")
    n_values = sum(len(cols) for cols in rep["updated"].values())
    print(f"added {len(rep['added'])}, updated {len(rep['updated'])} ({n_values} values), "
          f"unchanged {len(rep['unchanged'])}, skipped {len(rep['skipped'])}")
    for cid in rep["added"]:
        print(f"  + {cid}")
    for cid, cols in rep["updated"].items():
        print(f"  ~ {cid}: {', '.join(cols)}")
    reasons: dict[str, int] = {}
    for why in rep["skipped"].values():
        key = "manufacturer outside the model's stacks" if why.startswith("manufacturer") else why
        reasons[key] = reasons.get(key, 0) + 1
    for why, n in sorted(reasons.items()):
        if not why.startswith("bad value"):
            print(f"  skipped {n}: {why}")
    for name, why in rep["skipped"].items():
        if why.startswith("bad value"):
            print(f"  skipped {name}: {why}")
    if rep["written"]:
        print(f"wrote {rep['written']} ({len(result)} chips; base {rep['base']})")
    else:
        print(f"dry run: nothing written ({len(result)} chips would be in the table)")
    return 0
