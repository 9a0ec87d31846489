"""Every shipped scenario side by side, with the same seeds.

    python -m experiments.scenarios [--quick] [--seeds 10] [--out outputs/scenarios] [--only a,b]

Runs experiments/designs/scenarios.toml once per scenario in model/scenarios/ (same root seed
and one design point, so run k of every scenario has the same seed: differences between
scenarios are not seed noise). Writes each scenario's sweep under ``--out/<scenario>/`` and,
in ``--out``: ``outcomes.csv`` (one row per scenario x run at --month, default 2035-12),
``final_metrics.csv`` (per scenario: mean, sd, 5th and 95th percentiles, lock-in probability),
``paths.csv`` (mean monthly paths) and figures.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.analysis import (
    METRICS,
    add_common_arguments,
    draw_figures,
    guard,
    outcomes,
    prepare_spec,
    run_spec,
    shared_pool,
    summarise,
    write_csv,
)
from experiments.common import parser
from experiments.outdir import experiment_out
from experiments.runner import read_tables
from model.errors import InputError

NAME = "scenarios"
MONTH = "2035-12"
QUICK_END = "2027-12"
FIGURE_METRICS = (
    "bifurcation_index",
    "cn_domestic_share",
    "nvidia_china_revenue_share",
    "gs_cuda_share",
    "gs_cann_share",
    "us_cn_compute_ratio",
)
PATH_METRICS = (
    "bifurcation_index",
    "cn_domestic_share",
    "gs_cann_share",
    "us_control_level",
    "rare_earth_restriction",
)


def final_metrics(oc: pd.DataFrame) -> pd.DataFrame:
    """Per scenario: runs, mean/sd of every metric, 5th/95th percentiles and lock-in probability."""
    metrics = [m for m in METRICS if m in oc.columns]
    out = summarise(oc, ["scenario"], metrics)
    g = oc.groupby("scenario", sort=True)
    q = pd.concat(
        {
            f"{m}_{tag}": g[m].quantile(p)
            for m in metrics
            for tag, p in (("p05", 0.05), ("p95", 0.95))
        },
        axis=1,
    ).reset_index()
    return out.merge(q, on="scenario")


def main(argv: list[str] | None = None) -> int:
    p = parser(
        NAME,
        "Every shipped scenario side by side with the same seeds: final metrics and paths.",
        10,
    )
    add_common_arguments(p, None)
    p.add_argument(
        "--only",
        default=None,
        metavar="A,B",
        help="comma-separated scenario names (default: every shipped scenario)",
    )
    args = p.parse_args(argv)

    def go() -> int:
        from model.scenario import available_scenarios

        # the Arthur docking is a test bench (one adopter a month), not a world to compare
        shipped = [n for n in available_scenarios() if n != "arthur_docking"]
        names = shipped if not args.only else [s.strip() for s in args.only.split(",") if s.strip()]
        unknown = [s for s in names if s not in shipped]
        if unknown or not names:
            raise InputError(
                f"--only {args.only!r}: unknown scenario {unknown[0] if unknown else ''!r}; "
                f"shipped: {', '.join(shipped)}"
            )
        spec, month = prepare_spec(args, NAME, MONTH, QUICK_END)
        out = experiment_out(args.out, overwrite=args.overwrite, script=NAME, holds_sweeps=True)
        frames, paths, failed = [], [], 0
        with shared_pool(args) as pool:
            for name in names:
                print(f"scenario {name}:")
                _, res = run_spec(
                    {**spec, "scenario": name},
                    args,
                    out / name,
                    origin=f"experiments.{NAME} ({name})",
                    executor=pool,
                )
                failed += res.n_failed
                tables = read_tables(out / name)
                frames.append(outcomes(tables, month).assign(scenario=name))
                md = tables["model"]
                paths.append(
                    md.groupby("date", as_index=False)[list(PATH_METRICS)]
                    .mean()
                    .assign(scenario=name)
                )
        oc = pd.concat(frames, ignore_index=True)
        months = oc["month"].unique()
        if len(months) != 1:
            raise InputError(
                f"scenarios end in different months ({', '.join(map(str, months))}); pass --month"
            )
        month = str(months[0])
        oc = oc[["scenario", *[c for c in oc.columns if c != "scenario"]]]
        fm = final_metrics(oc)
        pth = pd.concat(paths, ignore_index=True)
        write_csv(oc, out / "outcomes.csv")
        write_csv(fm, out / "final_metrics.csv")
        write_csv(pth, out / "paths.csv")
        print(
            f"wrote {out}/<scenario>/ sweeps and {out}/outcomes.csv, final_metrics.csv, "
            f"paths.csv (at {month})"
        )
        cols = ["scenario", "runs", *[f"{m}_mean" for m in FIGURE_METRICS], "lock_in_prob"]
        print(fm[cols].round(3).to_string(index=False))
        if not args.no_plots:
            index = _figures(out, oc, pth, month)
            if index:
                print(f"figures: {index.resolve()}")
        return 1 if failed else 0

    return guard(go)


def make_final_metrics(oc: pd.DataFrame, month: str):
    """One panel per metric: each run's value at ``month`` (dots), the mean per scenario (bar)."""
    from matplotlib.figure import Figure

    names = list(dict.fromkeys(oc["scenario"]))
    metrics = [m for m in FIGURE_METRICS if m in oc.columns]
    ncol = 3
    nrow = -(-len(metrics) // ncol)
    fig = Figure(figsize=(4.3 * ncol, 0.32 * len(names) * nrow + 2.2 * nrow), layout="constrained")
    axes = fig.subplots(nrow, ncol, squeeze=False)
    y = np.arange(len(names))[::-1]
    for ax, m in zip(axes.flat, metrics):
        for yi, name in zip(y, names):
            v = oc.loc[oc["scenario"] == name, m].astype(float)
            ax.barh(yi, v.mean(), color="#9ecae1", height=0.6)
            ax.plot(v, np.full(len(v), yi), "o", ms=3, color="#08519c", alpha=0.7)
        ax.set_yticks(y, names if ax in axes[:, 0] else [""] * len(names))
        ax.set_title(m, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"Scenarios at {month}: mean (bar) and each run (dots), same seeds in every scenario"
    )
    return fig


def make_paths(pth: pd.DataFrame):
    """Mean monthly paths of the headline metrics, one line per scenario."""
    from matplotlib.figure import Figure

    metrics = [m for m in PATH_METRICS if m in pth.columns]
    fig = Figure(figsize=(12, 2.6 * -(-len(metrics) // 2) + 0.8), layout="constrained")
    axes = fig.subplots(-(-len(metrics) // 2), 2, squeeze=False, sharex=True)
    for ax, m in zip(axes.flat, metrics):
        for name, d in pth.groupby("scenario", sort=False):
            ax.plot(pd.to_datetime(d["date"].astype(str) + "-01"), d[m], lw=1.6, label=name)
        ax.set_title(m, fontsize=10)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=8)
    fig.suptitle("Scenarios over time (mean over runs)")
    return fig


def _figures(out: Path, oc: pd.DataFrame, pth: pd.DataFrame, month: str) -> Path | None:
    fdir = out / "figures"
    fdir.mkdir(parents=True, exist_ok=True)
    a, b = fdir / "final_metrics.png", fdir / "paths.png"
    make_final_metrics(oc, month).savefig(a, dpi=110)
    make_paths(pth).savefig(b, dpi=110)
    return draw_figures(
        out,
        [
            (
                a,
                (
                    f"Final metrics at {month} per scenario: bars are means, dots single runs "
                    "(run k has "
                    "the same seed in every scenario)."
                ),
            ),
            (
                b,
                (
                    "Mean paths of bifurcation, China's domestic share, the Global South's CANN "
                    "share and "
                    "the two policy levers, one line per scenario."
                ),
            ),
        ],
        "Scenarios side by side",
    )


if __name__ == "__main__":
    sys.exit(main())
