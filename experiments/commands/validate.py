"""`chipwar validate`: replay the baseline's history (2022-2025) over seeds and compare every
observed figure of model/data/observed.csv with the model; exit 1 if any calibration (market)
figure is out of its band (system figures are reported, not failing: issue 9)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import pandas as pd

from model.errors import InputError

OK, BAD = "✓", "✗"
MAX_SEEDS = 10_000  # each replay is a 48-month run (about a second)
MAX_WORKERS = 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from model.validate import DEFAULT_ROOT_SEED

    parser.add_argument("--seeds", type=int, default=5, metavar="N",
                        help="history replays, seeds from SeedSequence(root seed) (default 5)")
    parser.add_argument("--root-seed", type=int, default=DEFAULT_ROOT_SEED, metavar="S",
                        help=f"root of the seed sequence (default {DEFAULT_ROOT_SEED})")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="worker processes when N seeds > 2 (default: one per core, at most N)")
    parser.add_argument("--observed", default=None, metavar="CSV",
                        help="observed figures with bands (default model/data/observed.csv)")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")


def _num(x: float, unit: str) -> str:
    """A figure in its unit's usual precision."""
    if not math.isfinite(x):
        return "n/a"
    if unit == "fraction":
        return f"{x:.3f}"
    if unit == "USD" and abs(x) >= 1e9:
        return f"{x / 1e9:,.1f}B"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def _range(lo: float, hi: float, unit: str) -> str:
    return _num(lo, unit) if lo == hi else f"{_num(lo, unit)}–{_num(hi, unit)}"


def render_table(df: pd.DataFrame, seeds: int) -> str:
    """Aligned text table: one line per figure, then the aggregation notes."""
    header = ("metric", "period", "unit", "observed", "band", "model mean", "model 5–95 %", "ok")
    lines = []
    partial = False
    for r in df.itertuples(index=False):
        mark = ""
        if r.months != "-":
            inside, total = (int(k) for k in r.months.split("/"))
            if inside < total:
                mark, partial = "*", True
        lines.append((r.metric, f"{r.period}{mark}", r.unit, _num(r.observed, r.unit),
                      _range(r.low, r.high, r.unit), _num(r.model_mean, r.unit),
                      _range(r.model_lo, r.model_hi, r.unit), OK if r.in_band else BAD))
    widths = [max(len(h), *(len(row[k]) for row in lines)) for k, h in enumerate(header)]
    right = {3, 4, 5, 6}

    def fmt(row: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if k in right else c.ljust(w)
                         for k, (c, w) in enumerate(zip(row, widths))).rstrip()

    out = [fmt(header), fmt(tuple("-" * w for w in widths)), *(fmt(row) for row in lines), ""]
    if partial:
        for r in df.itertuples(index=False):
            if r.months != "-" and r.months.split("/")[0] != r.months.split("/")[1]:
                out.append(f"* {r.metric} {r.period}: only {r.months} months lie inside the "
                           "replayed history (2022-01..2025-12); aggregated over those.")
    out += [
        "Revenue shares: revenue summed over the period, then divided. cn_domestic_share: the "
        "monthly share",
        "  weighted by China's purchases (H100e) in each month. Units: packages delivered to "
        "China, summed.",
        f"Model mean and 5–95 % range over {seeds} seed(s); system and serving/training figures "
        "come from the",
        "  catalog and the cluster core and are the same for every seed. in band: low <= model "
        "mean <= high.",
    ]
    return "\n".join(out)


def is_calibration(df: pd.DataFrame) -> pd.Series:
    """Rows the market was fitted to (``role`` fit: market figures of periods starting before
    ``model.validate.FIT_BEFORE``, docs/ODD.md Calibration). Out-of-sample market figures and
    published system figures are reported, not failing."""
    return df["role"] == "fit"


def verdict(df: pd.DataFrame, seeds: int) -> str:
    """One line: how many figures are in band and which are not. Only calibration figures decide
    the exit status; out-of-sample and system figures out of band are reported as such."""
    cal, oos = is_calibration(df), df["role"] == "out_of_sample"
    bad = df.loc[~df["in_band"] & cal, ["metric", "period"]]
    oos_bad = df.loc[~df["in_band"] & oos, ["metric", "period"]]
    sys_bad = df.loc[~df["in_band"] & ~cal & ~oos, ["metric", "period"]]
    head = f"validate: {int(df['in_band'].sum())}/{len(df)} figures in band over {seeds} seed(s)"
    tail = ("; out of sample, off their band (reported, not failing): "
            + ", ".join(f"{m} {p}" for m, p in oos_bad.itertuples(index=False))) if not oos_bad.empty else ""
    tail += ("; system figures off their published value (reported, not failing): "
             + ", ".join(f"{m} {p}" for m, p in sys_bad.itertuples(index=False))) if not sys_bad.empty else ""
    if bad.empty:
        return head + " — calibration holds" + tail
    return head + "; OUT OF BAND: " + ", ".join(f"{m} {p}" for m, p in bad.itertuples(index=False)) + tail


def run(args: argparse.Namespace) -> int:
    from experiments.progress import Progress
    from model.checks import check_seed
    from model.validate import validate

    if not 1 <= args.seeds <= MAX_SEEDS:
        raise InputError(f"--seeds {args.seeds}: expected an integer in [1, {MAX_SEEDS}]")
    if args.workers is not None and not 1 <= args.workers <= MAX_WORKERS:
        raise InputError(f"--workers {args.workers}: expected an integer in [1, {MAX_WORKERS}]")
    check_seed(args.root_seed, "--root-seed")
    if args.observed is not None and not Path(args.observed).is_file():
        raise InputError(f"--observed {args.observed}: "
                         f"{'is a folder' if Path(args.observed).is_dir() else 'file not found'}; "
                         "expected an observed-figures CSV like model/data/observed.csv")
    with Progress(args.seeds, "history replays") as progress:
        df = validate(seeds=args.seeds, root_seed=args.root_seed, observed_path=args.observed,
                      workers=args.workers, on_seed=progress.update)
    line = verdict(df, args.seeds)
    if args.format == "table":
        print(render_table(df, args.seeds))
        print(line)
    elif args.format == "csv":
        sys.stdout.write(df.to_csv(index=False))
        print(line, file=sys.stderr)
    else:
        records = df.astype(object).where(df.notna(), None).to_dict(orient="records")
        print(json.dumps(records, indent=1, allow_nan=False))
        print(line, file=sys.stderr)
    return 0 if bool(df.loc[is_calibration(df), "in_band"].all()) else 1
