"""Rare-earth shocks and the bargaining response: shock size x start x length.

    python -m experiments.rare_earth [--quick] [--seeds 5] [--out outputs/rare_earth]

Runs experiments/designs/rare_earth.toml (China's scripted restriction ``rare_earth_shock_level``
from ``rare_earth_shock_start`` for ``rare_earth_shock_months``; level 0 = no shock, the pooled
reference). Per run (``shock_outcomes.csv``): the US control level the month before the shock,
its minimum from the shock on and the drop between them, the months until it first loosened,
the concession (mean, over the shock and the 12 months after, of the no-shock runs' mean
control level minus this run's: the loosening the shock bought, since the reaction function
loosens without one too), the peak restriction, the units-weighted mean price of US-bloc
vendors' accelerators over the same window and its change against the no-shock runs, and the
model metrics at --month (default 2035-12).
``summary.csv`` averages them per design point; ``paths.csv`` has the mean monthly paths.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from experiments.analysis import (
    DESIGN_DIR,
    add_common_arguments,
    bloc_price,
    draw_figures,
    guard,
    month_number,
    outcomes,
    plot_function,
    quick_spec,
    read_spec,
    run_spec,
    summarise,
    write_csv,
)
from experiments.common import parser
from experiments.outdir import experiment_out
from experiments.runner import read_tables
from model.errors import InputError

NAME = "rare_earth"
MONTH = "2035-12"
QUICK_END = "2028-12"
SHOCK = ("rare_earth_shock_level", "rare_earth_shock_start", "rare_earth_shock_months")
AFTER_MONTHS = 12  # the price window runs this long past the shock (capacity loss lags it)
LOOSEN_TOL = 0.005  # a fall of the control level larger than this counts as loosening
RESULT_METRICS = (
    "us_control_at_shock",
    "us_control_min",
    "us_control_drop",
    "loosen_lag_months",
    "rare_earth_peak",
    "us_price_usd",
    "us_price_change",
    "us_control_concession",
    "us_control_level",
    "bifurcation_index",
    "cn_domestic_share",
)


def shock_outcomes(
    model: pd.DataFrame, us_price: pd.DataFrame, shocks: pd.DataFrame
) -> pd.DataFrame:
    """Per run the bargaining and cost response to its shock (module docstring).

    ``model``: the model table; ``us_price``: run_id, date, price_usd (analysis.bloc_price);
    ``shocks``: run_id and the three shock parameters. Runs with level 0 are the reference.
    """
    s = shocks[["run_id", *SHOCK]].copy()
    s["start_n"] = s["rare_earth_shock_start"].astype(str).map(month_number)
    m = (
        model[["run_id", "date", "us_control_level", "rare_earth_restriction"]]
        .merge(us_price, on=["run_id", "date"], how="left")
        .merge(s, on="run_id", how="inner")
    )
    m["n"] = m["date"].astype(str).map(month_number)
    rel = m["n"] - m["start_n"]
    in_win = (rel >= 0) & (rel < m["rare_earth_shock_months"] + AFTER_MONTHS)

    ref_runs = s.loc[s["rare_earth_shock_level"] == 0, "run_id"]
    ref = m[m["run_id"].isin(ref_runs)].groupby("n")[["price_usd", "us_control_level"]].mean()
    m["ref_price_usd"] = m["n"].map(ref["price_usd"])
    m["concession"] = m["n"].map(ref["us_control_level"]) - m["us_control_level"]

    at = m[rel == -1].set_index("run_id")["us_control_level"]
    after = m[rel >= 0]
    g = after.groupby("run_id")
    out = s.set_index("run_id")[list(SHOCK)].copy()
    out["us_control_at_shock"] = at
    out["us_control_min"] = g["us_control_level"].min()
    out["us_control_drop"] = out["us_control_at_shock"] - out["us_control_min"]
    fell = after[after["us_control_level"] < after["run_id"].map(at) - LOOSEN_TOL]
    out["loosen_lag_months"] = (
        fell.groupby("run_id")["n"].min() - s.set_index("run_id")["start_n"]
    ).astype(float)
    out["rare_earth_peak"] = g["rare_earth_restriction"].max()
    w = m[in_win].groupby("run_id")
    out["us_price_usd"] = w["price_usd"].mean()
    out["us_price_change"] = out["us_price_usd"] / w["ref_price_usd"].mean() - 1.0
    out["us_control_concession"] = w["concession"].mean()
    return out.reset_index()


def mean_paths(model: pd.DataFrame, us_price: pd.DataFrame, shocks: pd.DataFrame) -> pd.DataFrame:
    """Mean monthly path per shock configuration of the control level, restriction, US price and
    bifurcation (level-0 configurations pooled as the single reference)."""
    s = shocks[["run_id", *SHOCK]].copy()
    ref = s["rare_earth_shock_level"] == 0
    s.loc[ref, "rare_earth_shock_start"] = "none"
    s.loc[ref, "rare_earth_shock_months"] = 0
    cols = ["us_control_level", "rare_earth_restriction", "bifurcation_index"]
    m = model[["run_id", "date", *cols]].merge(us_price, on=["run_id", "date"], how="left")
    m = m.merge(s, on="run_id")
    return (
        m.groupby([*SHOCK, "date"], as_index=False)[[*cols, "price_usd"]]
        .mean()
        .rename(columns={"price_usd": "us_price_usd"})
    )


def main(argv: list[str] | None = None) -> int:
    p = parser(
        NAME,
        "Rare-earth shocks of different size, timing and length: the US control "
        "level's bargaining response, US-bloc vendors' prices and bifurcation.",
        5,
    )
    add_common_arguments(p, None)
    args = p.parse_args(argv)

    def go() -> int:
        spec = read_spec(args.design or DESIGN_DIR / f"{NAME}.toml")
        month = args.month or (None if args.quick else MONTH)
        if args.quick:
            spec = quick_spec(spec, end=QUICK_END)
            params = spec["parameters"]
            if "rare_earth_shock_start" in params:  # the earliest start, the longest shock
                params["rare_earth_shock_start"] = params["rare_earth_shock_start"][:1]
            if "rare_earth_shock_months" in params:
                params["rare_earth_shock_months"] = params["rare_earth_shock_months"][-1:]
            args.seeds = min(args.seeds, 2)
        out = experiment_out(args.out, overwrite=args.overwrite, script=NAME)
        design, res = run_spec(spec, args, out, origin=f"experiments.{NAME}")
        tables = read_tables(out)
        oc = outcomes(tables, month)
        month = str(oc["month"].iloc[0])
        from model.params import defaults

        base = {**defaults(), **design.fixed}
        for k in SHOCK:  # a design that does not vary a shock parameter holds it fixed
            if k not in oc.columns:
                oc[k] = base[k]
        if not (oc["rare_earth_shock_level"] == 0).any():
            print("note: no run without a shock (level 0): us_price_change is empty")
        price = bloc_price(tables["vendors"], "us")
        so = shock_outcomes(tables["model"], price, oc).merge(
            oc[
                [
                    "run_id",
                    "us_control_level",
                    "bifurcation_index",
                    "cn_domestic_share",
                    "locked_in",
                ]
            ],
            on="run_id",
        )
        if so.empty:
            raise InputError("no run finished; nothing to analyse")
        summary = summarise(so, list(SHOCK), RESULT_METRICS)
        paths = mean_paths(tables["model"], price, oc)
        write_csv(so, out / "shock_outcomes.csv")
        write_csv(summary, out / "summary.csv")
        write_csv(paths, out / "paths.csv")
        print(
            f"wrote tables to {out}/ (model/, adoption/, vendors/, manifest.json), "
            f"shock_outcomes.csv, summary.csv, paths.csv (metrics at {month})"
        )
        show = summary[
            [
                *SHOCK,
                "runs",
                "us_control_drop_mean",
                "loosen_lag_months_mean",
                "us_price_change_mean",
                "us_control_concession_mean",
                "bifurcation_index_mean",
            ]
        ]
        print(show.round(3).to_string(index=False))
        if not args.no_plots:
            index = _figures(out, paths, so, month)
            if index:
                print(f"figures: {index.resolve()}")
        return 1 if res.n_failed else 0

    return guard(go)


def make_control_paths(paths: pd.DataFrame):
    """US control level (top) and US-bloc vendors' mean price (bottom) over time, one column per
    shock start (longest shock), one line per shock level; the no-shock reference in black."""
    from matplotlib.figure import Figure

    ref = paths[paths["rare_earth_shock_level"] == 0]
    shocked = paths[paths["rare_earth_shock_level"] > 0]
    longest = shocked["rare_earth_shock_months"].max() if len(shocked) else 0
    shocked = shocked[shocked["rare_earth_shock_months"] == longest]
    starts = sorted(shocked["rare_earth_shock_start"].astype(str).unique()) or ["none"]
    levels = sorted(shocked["rare_earth_shock_level"].unique())
    fig = Figure(figsize=(4.2 * len(starts) + 1, 6.5), layout="constrained")
    axes = fig.subplots(2, len(starts), squeeze=False, sharex=True)
    from matplotlib import colormaps

    cmap = colormaps["YlOrRd"]
    colors = {lv: cmap(0.35 + 0.65 * k / max(1, len(levels) - 1)) for k, lv in enumerate(levels)}
    for j, start in enumerate(starts):
        for row, col, label in (
            (0, "us_control_level", "US control level"),
            (1, "us_price_usd", "US-bloc mean price (USD)"),
        ):
            ax = axes[row, j]
            t = pd.to_datetime(ref["date"].astype(str) + "-01")
            ax.plot(t, ref[col], color="black", lw=1.5, label="no shock")
            for lv in levels:
                d = shocked[
                    (shocked["rare_earth_shock_start"].astype(str) == start)
                    & (shocked["rare_earth_shock_level"] == lv)
                ]
                ax.plot(
                    pd.to_datetime(d["date"].astype(str) + "-01"),
                    d[col],
                    color=colors[lv],
                    lw=1.5,
                    label=f"shock level {lv:g}",
                )
            if start != "none":
                s0 = pd.Timestamp(start + "-01")
                ax.axvspan(s0, s0 + pd.DateOffset(months=int(longest)), color="#eeeeee", zorder=0)
            ax.set_ylabel(label if j == 0 else "")
            if row == 0:
                ax.set_title(f"shock from {start}, {int(longest)} months")
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="best")
    fig.suptitle(
        "Rare-earth shocks: US control level and US-bloc prices\n"
        "(mean over runs; grey band: the shock)"
    )
    return fig


def _figures(out: Path, paths: pd.DataFrame, so: pd.DataFrame, month: str) -> Path | None:
    fdir = out / "figures"
    fdir.mkdir(parents=True, exist_ok=True)
    figs: list[tuple[Path | None, str]] = []
    fig = make_control_paths(paths)
    path = fdir / "control_paths.png"
    fig.savefig(path, dpi=110)
    figs.append(
        (
            path,
            (
                "US control level and US-bloc vendors' units-weighted mean price over time "
                "for each shock level (longest shocks), against the no-shock runs."
            ),
        )
    )
    phase = plot_function("fig_phase_diagram")
    shocked = so[so["rare_earth_shock_level"] > 0]
    if phase is not None and shocked["rare_earth_shock_start"].nunique() >= 1 and len(shocked):
        d = shocked.assign(
            date=month, rare_earth_shock_start=shocked["rare_earth_shock_start"].astype(str)
        )
        for value, caption in (
            (
                "us_control_drop",
                (
                    "Fall of the US control level from the month before the shock to "
                    "its minimum after it (the bargaining response), mean over runs and lengths."
                ),
            ),
            (
                "us_price_change",
                (
                    "Change of US-bloc vendors' mean price over the shock and 12 "
                    "months after, against the no-shock runs over the same months."
                ),
            ),
            ("bifurcation_index", f"Bifurcation index at {month}, by shock size and start."),
        ):
            if d[value].notna().any():
                figs.append(
                    (
                        phase(
                            d,
                            "rare_earth_shock_level",
                            "rare_earth_shock_start",
                            value,
                            fdir / f"phase_{value}.png",
                            month,
                        ),
                        caption,
                    )
                )
    return draw_figures(out, figs, "Rare-earth shocks and the bargaining response")


if __name__ == "__main__":
    sys.exit(main())
