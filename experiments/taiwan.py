"""A Taiwan foundry disruption: depth x length x pace of the ramp outside Taiwan.

    python -m experiments.taiwan [--quick] [--seeds 3] [--out outputs/taiwan]

Runs experiments/designs/taiwan.toml (every Taiwan site loses ``taiwan_disruption_depth`` of its
output from ``taiwan_disruption_start`` for ``taiwan_disruption_months``, then recovers over
``taiwan_disruption_recovery_months``; depth 0 = no disruption, the reference of each ramp pace
``foundry_outside_ramp``). Per run (``disruption_outcomes.csv``), over the window from the start
to the end of the recovery: the mean US/China installed-compute ratio and its change against the
no-disruption runs of the same ramp pace, the units-weighted mean price of US-bloc accelerators
and its change, the share of US-bloc capacity made outside Taiwan, and at the end of the window
the bifurcation index and the Global South's CUDA and CANN installed shares, with the model
metrics at --month (default 2035-12). ``summary.csv`` averages them per design point;
``paths.csv`` has the mean monthly paths.
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

NAME = "taiwan"
MONTH = "2035-12"
QUICK_END = "2029-12"
DEPTH, LENGTH, RAMP = "taiwan_disruption_depth", "taiwan_disruption_months", "foundry_outside_ramp"
START, RECOVERY = "taiwan_disruption_start", "taiwan_disruption_recovery_months"
AXES = (DEPTH, LENGTH, RAMP)
PATH_COLS = ("us_cn_compute_ratio", "bifurcation_index", "gs_cuda_share", "gs_cann_share",
             "us_capacity_outside_taiwan_share")
RESULT_METRICS = (
    "ratio_window", "ratio_change", "us_price_usd", "us_price_change", "outside_share_window",
    "bifurcation_end", "gs_cuda_end", "gs_cann_end", "us_cn_compute_ratio", "bifurcation_index",
)


def disruption_outcomes(model: pd.DataFrame, us_price: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Per run the window means and end values of the module docstring. ``runs``: run_id and the
    design's parameters (AXES, START, RECOVERY); depth-0 runs of each ramp pace are its reference."""
    s = runs[["run_id", *AXES, START, RECOVERY]].copy()
    s["start_n"] = s[START].astype(str).map(month_number)
    s["end_n"] = s["start_n"] + s[LENGTH] + s[RECOVERY]
    m = model[["run_id", "date", *PATH_COLS]].merge(us_price, on=["run_id", "date"], how="left").merge(s, on="run_id")
    m["n"] = m["date"].astype(str).map(month_number)
    ref_ids = s.loc[s[DEPTH] == 0, "run_id"]
    ref = m[m["run_id"].isin(ref_ids)].groupby([RAMP, "n"])[["us_cn_compute_ratio", "price_usd"]].mean()
    key = pd.MultiIndex.from_arrays([m[RAMP], m["n"]])
    m["ref_ratio"] = ref["us_cn_compute_ratio"].reindex(key).to_numpy()
    m["ref_price"] = ref["price_usd"].reindex(key).to_numpy()
    win = m[(m["n"] >= m["start_n"]) & (m["n"] < m["end_n"])]
    g = win.groupby("run_id")
    out = s.set_index("run_id")[[*AXES]].copy()
    out["ratio_window"] = g["us_cn_compute_ratio"].mean()
    out["ratio_change"] = out["ratio_window"] / g["ref_ratio"].mean() - 1.0
    out["us_price_usd"] = g["price_usd"].mean()
    out["us_price_change"] = out["us_price_usd"] / g["ref_price"].mean() - 1.0
    out["outside_share_window"] = g["us_capacity_outside_taiwan_share"].mean()
    last = m[m["n"] == m["end_n"] - 1].set_index("run_id")
    out["bifurcation_end"] = last["bifurcation_index"]
    out["gs_cuda_end"] = last["gs_cuda_share"]
    out["gs_cann_end"] = last["gs_cann_share"]
    return out.reset_index()


def mean_paths(model: pd.DataFrame, us_price: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Mean monthly paths per (depth, length, ramp); depth-0 lengths pooled (length 0)."""
    s = runs[["run_id", *AXES]].copy()
    s.loc[s[DEPTH] == 0, LENGTH] = 0
    m = model[["run_id", "date", *PATH_COLS]].merge(us_price, on=["run_id", "date"], how="left").merge(s, on="run_id")
    return (m.groupby([*AXES, "date"], as_index=False)[[*PATH_COLS, "price_usd"]].mean()
            .rename(columns={"price_usd": "us_price_usd"}))


def main(argv: list[str] | None = None) -> int:
    p = parser(NAME, "A Taiwan foundry disruption of different depth and length, with capacity outside "
                     "Taiwan ramping at different paces: the US/China compute ratio, the split, prices and "
                     "the Global South's stacks.", 3)
    add_common_arguments(p, None)
    args = p.parse_args(argv)

    def go() -> int:
        spec = read_spec(args.design or DESIGN_DIR / f"{NAME}.toml")
        month = args.month or (None if args.quick else MONTH)
        if args.quick:
            spec = quick_spec(spec, end=QUICK_END)
            args.seeds = min(args.seeds, 2)
        out = experiment_out(args.out, overwrite=args.overwrite, script=NAME)
        design, res = run_spec(spec, args, out, origin=f"experiments.{NAME}")
        tables = read_tables(out)
        oc = outcomes(tables, month)
        month = str(oc["month"].iloc[0])
        from model.params import defaults

        base = {**defaults(), **design.fixed}
        for k in (*AXES, START, RECOVERY):  # a design that does not vary a parameter holds it fixed
            if k not in oc.columns:
                oc[k] = base[k]
        if not (oc[DEPTH] == 0).any():
            print("note: no run without a disruption (depth 0): the changes are empty")
        price = bloc_price(tables["vendors"], "us")
        do = disruption_outcomes(tables["model"], price, oc).merge(
            oc[["run_id", "us_cn_compute_ratio", "bifurcation_index", "locked_in"]], on="run_id")
        if do.empty:
            raise InputError("no run finished; nothing to analyse")
        summary = summarise(do, list(AXES), RESULT_METRICS)
        paths = mean_paths(tables["model"], price, oc)
        write_csv(do, out / "disruption_outcomes.csv")
        write_csv(summary, out / "summary.csv")
        write_csv(paths, out / "paths.csv")
        print(f"wrote tables to {out}/ (model/, adoption/, vendors/, manifest.json), disruption_outcomes.csv, "
              f"summary.csv, paths.csv (metrics at {month})")
        show = summary[[*AXES, "runs", "ratio_change_mean", "us_price_change_mean", "outside_share_window_mean",
                        "bifurcation_end_mean", "gs_cann_end_mean"]]
        print(show.round(3).to_string(index=False))
        if not args.no_plots:
            index = _figures(out, paths, do, month)
            if index:
                print(f"figures: {index.resolve()}")
        return 1 if res.n_failed else 0

    return guard(go)


def make_paths_figure(paths: pd.DataFrame):
    """US/China compute ratio (top) and US-bloc mean price (bottom) over time, one column per ramp
    pace, one line per depth (longest disruption); the no-disruption runs in black."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    ramps = sorted(paths[RAMP].unique())
    hit = paths[paths[DEPTH] > 0]
    longest = hit[LENGTH].max() if len(hit) else 0
    depths = sorted(hit[DEPTH].unique())
    cmap = colormaps["YlOrRd"]
    colors = {d: cmap(0.35 + 0.65 * k / max(1, len(depths) - 1)) for k, d in enumerate(depths)}
    fig = Figure(figsize=(4.2 * len(ramps) + 1, 6.5), layout="constrained")
    axes = fig.subplots(2, len(ramps), squeeze=False, sharex=True)
    for j, ramp in enumerate(ramps):
        for row, col, label in ((0, "us_cn_compute_ratio", "US bloc / China installed compute"),
                                (1, "us_price_usd", "US-bloc mean price (USD)")):
            ax = axes[row, j]
            ref = paths[(paths[RAMP] == ramp) & (paths[DEPTH] == 0)]
            ax.plot(pd.to_datetime(ref["date"].astype(str) + "-01"), ref[col], color="black", lw=1.5,
                    label="no disruption")
            for d in depths:
                r = hit[(hit[RAMP] == ramp) & (hit[DEPTH] == d) & (hit[LENGTH] == longest)]
                ax.plot(pd.to_datetime(r["date"].astype(str) + "-01"), r[col], color=colors[d], lw=1.5,
                        label=f"depth {d:g}")
            ax.set_ylabel(label if j == 0 else "")
            if row == 0:
                ax.set_title(f"ramp outside Taiwan x{ramp:g}, {int(longest)}-month disruption")
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="best")
    fig.suptitle("A Taiwan foundry disruption from 2027-01: compute ratio and US-bloc prices (mean over runs)")
    return fig


def _figures(out: Path, paths: pd.DataFrame, do: pd.DataFrame, month: str) -> Path | None:
    fdir = out / "figures"
    fdir.mkdir(parents=True, exist_ok=True)
    path = fdir / "disruption_paths.png"
    make_paths_figure(paths).savefig(path, dpi=110)
    figs: list[tuple[Path | None, str]] = [(path, "US/China installed-compute ratio and US-bloc vendors' "
                                                  "units-weighted mean price over time, by depth (longest "
                                                  "disruption) and ramp pace, against no disruption.")]
    phase = plot_function("fig_phase_diagram")
    hit = do[do[DEPTH] > 0]
    if phase is not None and len(hit):
        d = hit.assign(date=month)
        for value, caption in (
            ("ratio_change", "Change of the mean US/China compute ratio over the disruption and recovery "
                             "against no disruption at the same ramp pace (mean over runs and lengths)."),
            ("us_price_change", "Change of US-bloc vendors' mean price over the same window."),
            ("gs_cann_end", "Global South's installed share on CANN at the end of the recovery."),
        ):
            if d[value].notna().any():
                figs.append((phase(d, DEPTH, RAMP, value, fdir / f"phase_{value}.png", month), caption))
    return draw_figures(out, figs, "A Taiwan foundry disruption")


if __name__ == "__main__":
    sys.exit(main())
