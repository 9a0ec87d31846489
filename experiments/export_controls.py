"""Export controls phase diagram: US control level x switching cost -> bifurcation and lock-in.

    python -m experiments.export_controls [--quick] [--seeds 10] [--out outputs/export_controls]

Runs experiments/designs/export_controls.toml (a grid, the US reaction function off so the
swept level is the level held from 2026), reads every run at --month (default 2035-12) and
writes under --out: the sweep tables, ``outcomes.csv`` (one row per run, with the lock-in
flag of experiments.analysis), ``summary.csv`` (per grid cell: mean and sd of the metrics,
lock-in probability with its 95 % Wilson interval) and heatmaps in ``figures/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from experiments.analysis import (
    LOCK_IN_MONTHS,
    LOCK_IN_SHARE,
    add_common_arguments,
    draw_figures,
    guard,
    outcomes,
    param_column,
    plot_function,
    prepare_spec,
    run_spec,
    summarise,
    write_csv,
)
from experiments.common import parser
from experiments.outdir import experiment_out
from experiments.runner import read_tables

NAME = "export_controls"
MONTH = "2035-12"
QUICK_END = "2027-12"
SUMMARY_METRICS = (
    "bifurcation_index",
    "bloc_jsd",
    "cn_domestic_share",
    "top_stack_share_world",
    "us_cn_compute_ratio",
    "us_control_level",
    "rare_earth_restriction",
)


def main(argv: list[str] | None = None) -> int:
    p = parser(
        NAME,
        "Phase diagram: US control level x switching cost kappa -> mean bifurcation "
        "index and lock-in probability.",
        10,
    )
    add_common_arguments(p, None)
    p.add_argument(
        "--lock-share",
        type=float,
        default=LOCK_IN_SHARE,
        help=f"installed share on one stack that counts as lock-in (default {LOCK_IN_SHARE})",
    )
    args = p.parse_args(argv)

    def go() -> int:
        spec, month = prepare_spec(args, NAME, MONTH, QUICK_END)
        out = experiment_out(args.out, overwrite=args.overwrite, script=NAME)
        design, res = run_spec(spec, args, out, origin=f"experiments.{NAME}")
        tables = read_tables(out)
        oc = outcomes(tables, month, lock_share=args.lock_share, lock_months=LOCK_IN_MONTHS)
        month = str(oc["month"].iloc[0])
        x, y = (param_column(oc, n) for n in list(design.points.columns)[:2])
        summary = summarise(oc, [x, y], [m for m in SUMMARY_METRICS if m in oc.columns])
        write_csv(oc, out / "outcomes.csv")
        write_csv(summary, out / "summary.csv")
        print(
            f"wrote tables to {out}/ (model/, adoption/, vendors/, manifest.json), "
            f"outcomes.csv and summary.csv (at {month})"
        )
        print(_table(summary, x, y, "bifurcation_index_mean", "mean bifurcation_index"))
        print(
            _table(
                summary, x, y, "lock_in_prob", f"lock-in probability (share >= {args.lock_share})"
            )
        )
        if not args.no_plots:
            index = _figures(out, tables["model"], oc, x, y, month)
            if index:
                print(f"figures: {index.resolve()}")
        return 1 if res.n_failed else 0

    return guard(go)


def _table(summary: pd.DataFrame, x: str, y: str, value: str, title: str) -> str:
    wide = summary.pivot(index=y, columns=x, values=value).sort_index(ascending=False)
    return f"{title} (rows {y}, columns {x}):\n{wide.round(2).to_string()}"


def _figures(
    out: Path, model: pd.DataFrame, oc: pd.DataFrame, x: str, y: str, month: str
) -> Path | None:
    phase = plot_function("fig_phase_diagram")
    figs: list[tuple[Path | None, str]] = []
    if phase is not None:
        fdir = out / "figures"
        figs.append(
            (
                phase(model, x, y, "bifurcation_index", fdir / "phase_bifurcation.png", month),
                (
                    f"Mean bifurcation index at {month} over US control level and switching cost "
                    "(0: every region on the same stack mix; 1: region determines the stack)."
                ),
            )
        )
        lk = oc.assign(date=month, lock_in=oc["locked_in"].astype(float))
        figs.append(
            (
                phase(lk, x, y, "lock_in", fdir / "phase_lock_in.png", month),
                (
                    f"Lock-in probability at {month}: share of runs where the US bloc and China "
                    f"each hold >= {LOCK_IN_SHARE:.0%} of installed compute on one stack for "
                    f"{LOCK_IN_MONTHS} months."
                ),
            )
        )
        figs.append(
            (
                phase(
                    model, x, y, "cn_domestic_share", fdir / "phase_cn_domestic_share.png", month
                ),
                f"Mean share of China's purchases on Chinese chips at {month}.",
            )
        )
    return draw_figures(out, figs, "Export controls: control level x switching cost")


if __name__ == "__main__":
    sys.exit(main())
