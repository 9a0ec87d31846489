"""Scenario discovery: which parameter boxes lead to a bifurcated world (PRIM).

    python -m experiments.discovery [--quick] [--seeds 1] [--out outputs/discovery]
        [--metric bifurcation_index] [--threshold 0.6] [--min-density 0.8]

Runs the Latin hypercube of experiments/designs/discovery.toml, marks the runs whose --metric
exceeds --threshold at --month (default 2035-12) as cases of interest, and runs PRIM (Friedman &
Fisher 1999; for scenario discovery as in Bryant & Lempert 2010) on the sampled parameters.
PRIM peels the box step by step; the box reported is the one on the peeling trajectory with the
highest coverage (share of all cases of interest inside it) among those with density (share of
the runs inside it that are cases of interest) >= --min-density; if none reaches it, the
densest box. Writes the sweep and ``outcomes.csv``, ``box.csv`` (parameter, low, high,
full_low, full_high, restricted), ``box_stats.csv`` (coverage, density, mass, restricted
dimensions, counts) and ``trajectory.csv`` (the whole peeling trajectory) under --out.

PRIM is implemented here (peeling only, no pasting: ``peel``) rather than taken from
ema_workbench: that package pulls in scikit-learn, statsmodels and platypus, takes seconds to
import and raises a pandas-4 deprecation warning inside ``Prim()``; on a planted box its
peeling trajectory and this one agree (checked when this module was written).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.analysis import (
    METRICS,
    add_common_arguments,
    draw_figures,
    guard,
    outcomes,
    plot_function,
    prepare_spec,
    run_spec,
    write_csv,
)
from experiments.common import parser
from experiments.outdir import experiment_out
from experiments.runner import read_tables
from model.errors import InputError

NAME = "discovery"
MONTH = "2035-12"
QUICK_END = "2027-12"


@dataclass(frozen=True)
class Box:
    """A PRIM box and its statistics (coverage, density, mass as shares; NaN when no box)."""

    limits: pd.DataFrame  # parameter, low, high, full_low, full_high, restricted
    coverage: float
    density: float
    mass: float
    res_dim: int
    n_runs: int
    n_interest: int
    trajectory: pd.DataFrame  # one row per peeling step: coverage, density, mass, res_dim, ...
    chosen: int  # row of the trajectory reported (-1: no box)
    note: str = ""

    def stats(self) -> dict[str, float | int | str]:
        return {
            "coverage": self.coverage,
            "density": self.density,
            "mass": self.mass,
            "res_dim": self.res_dim,
            "n_runs": self.n_runs,
            "n_interest": self.n_interest,
            "base_rate": self.n_interest / self.n_runs if self.n_runs else np.nan,
            "trajectory_step": self.chosen,
            "note": self.note,
        }


def _limits(
    x: pd.DataFrame, lo: pd.Series, hi: pd.Series, bounds: dict[str, tuple[float, float]]
) -> pd.DataFrame:
    full_lo = pd.Series({c: float(bounds.get(c, (x[c].min(), x[c].max()))[0]) for c in x.columns})
    full_hi = pd.Series({c: float(bounds.get(c, (x[c].min(), x[c].max()))[1]) for c in x.columns})
    lo = lo.astype(float).reindex(x.columns)
    hi = hi.astype(float).reindex(x.columns)
    # PRIM leaves an unrestricted side at the sample's extreme: report the swept bound there
    restricted_lo = lo > x.min().astype(float) + 1e-12
    restricted_hi = hi < x.max().astype(float) - 1e-12
    return pd.DataFrame(
        {
            "parameter": list(x.columns),
            "low": np.where(restricted_lo, lo, full_lo),
            "high": np.where(restricted_hi, hi, full_hi),
            "full_low": full_lo.to_numpy(),
            "full_high": full_hi.to_numpy(),
            "restricted": (restricted_lo | restricted_hi).to_numpy(),
        }
    )


def peel(
    x: np.ndarray, y: np.ndarray, *, alpha: float = 0.05, mass_min: float = 0.05
) -> tuple[pd.DataFrame, list[tuple[np.ndarray, np.ndarray]]]:
    """PRIM's top-down peeling (Friedman & Fisher 1999, the original objective).

    Starting from the box around every run, each step tries, for every parameter and side,
    cutting off the ``alpha`` quantile of the runs still inside, and keeps the cut that leaves
    the highest share of cases of interest (ties: the one keeping more runs). Stops when no cut
    leaves at least ``mass_min`` of all runs. Returns the trajectory (coverage, density, mass,
    res_dim, n per step, step 0 = the whole space) and each step's (lows, highs).
    """
    n, d = x.shape
    total = float(y.sum())
    inside = np.ones(n, dtype=bool)
    lo, hi = x.min(axis=0).astype(float), x.max(axis=0).astype(float)
    lo0, hi0 = lo.copy(), hi.copy()
    rows, limits = [], []

    def record() -> None:
        k = int(inside.sum())
        hit = float(y[inside].sum())
        rows.append(
            {
                "coverage": hit / total,
                "density": hit / k,
                "mass": k / n,
                "res_dim": int(((lo > lo0) | (hi < hi0)).sum()),
                "n": k,
            }
        )
        limits.append((lo.copy(), hi.copy()))

    record()
    while True:
        best = None  # (density, kept, dim, side, cut value, new inside)
        for j in range(d):
            v = x[inside, j]
            for side, q in (("low", np.quantile(v, alpha)), ("high", np.quantile(v, 1 - alpha))):
                keep = inside & ((x[:, j] >= q) if side == "low" else (x[:, j] <= q))
                kept = int(keep.sum())
                if kept == int(inside.sum()) or kept < mass_min * n or kept == 0:
                    continue  # cuts nothing (ties) or leaves too little
                cand = (float(y[keep].mean()), kept, j, side, float(q), keep)
                if best is None or cand[:2] > best[:2]:
                    best = cand
        if best is None:
            break
        _, _, j, side, q, inside = best
        if side == "low":
            lo[j] = q
        else:
            hi[j] = q
        record()
    return pd.DataFrame(rows), limits


def find_box(
    x: pd.DataFrame,
    y: np.ndarray,
    *,
    min_density: float = 0.8,
    bounds: dict[str, tuple[float, float]] | None = None,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
) -> Box:
    """PRIM box for the cases ``y`` (bool per row of ``x``): the highest-coverage box on the
    peeling trajectory with density >= ``min_density`` (else the densest). ``bounds``: each
    parameter's swept range, reported as the full range (default: the sample's range)."""
    bounds = bounds or {}
    x = x.astype(float).reset_index(drop=True)
    y = np.asarray(y, dtype=bool)
    if len(x) != len(y) or len(x) == 0:
        raise InputError(f"PRIM: {len(x)} parameter rows for {len(y)} outcomes")
    if not 0 < peel_alpha < 0.5 or not 0 < mass_min < 1:
        raise InputError(
            f"PRIM: peel_alpha {peel_alpha} must be in (0, 0.5), mass_min {mass_min} in (0, 1)"
        )
    n, k = len(y), int(y.sum())
    if k == 0 or k == n:
        every = k == n
        lim = _limits(x, x.min(), x.max(), bounds)
        note = (
            "every run is a case of interest: the box is the whole space"
            if every
            else "no run is a case of interest: no box"
        )
        return Box(
            lim,
            1.0 if every else np.nan,
            1.0 if every else np.nan,
            1.0 if every else np.nan,
            0,
            n,
            k,
            pd.DataFrame(),
            -1,
            note,
        )
    traj, limits = peel(x.to_numpy(), y, alpha=peel_alpha, mass_min=mass_min)
    ok = traj[traj["density"] >= min_density]
    note = ""
    if ok.empty:
        i = int(traj["density"].idxmax())
        note = f"no box reaches density {min_density}: the densest box is reported"
    else:  # highest coverage, then fewest restricted dimensions, then the earliest step
        i = int(
            ok.sort_values(["coverage", "res_dim"], ascending=[False, True], kind="stable").index[0]
        )
    lo, hi = limits[i]
    r = traj.loc[i]
    return Box(
        _limits(x, pd.Series(lo, index=x.columns), pd.Series(hi, index=x.columns), bounds),
        float(r["coverage"]),
        float(r["density"]),
        float(r["mass"]),
        int(r["res_dim"]),
        n,
        k,
        traj,
        i,
        note,
    )


def main(argv: list[str] | None = None) -> int:
    p = parser(
        NAME, "Scenario discovery: PRIM boxes of parameters leading to a bifurcated world.", 1
    )
    add_common_arguments(p, None)
    p.add_argument(
        "--metric", default="bifurcation_index", help="model metric (default bifurcation_index)"
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=0.6,
        help="cases of interest: metric > this (default 0.6)",
    )
    p.add_argument(
        "--min-density", type=float, default=0.8, help="smallest box density accepted (default 0.8)"
    )
    args = p.parse_args(argv)

    def go() -> int:
        if args.metric not in METRICS:
            raise InputError(f"--metric {args.metric!r}: expected one of {', '.join(METRICS)}")
        if not 0 < args.min_density <= 1:
            raise InputError(f"--min-density {args.min_density}: expected a share in (0, 1]")
        spec, month = prepare_spec(args, NAME, MONTH, QUICK_END, quick_seeds=1, samples=16)
        out = experiment_out(args.out, overwrite=args.overwrite, script=NAME)
        design, res = run_spec(spec, args, out, origin=f"experiments.{NAME}")
        oc = outcomes(read_tables(out), month)
        month = str(oc["month"].iloc[0])
        names = list(design.parameters)
        pts = oc[["run_id"]].merge(
            pd.DataFrame(
                [{"run_id": r.run_id, **{n: r.params[n] for n in names}} for r in design.runs()]
            ),
            on="run_id",
        )
        x = pts[names]
        y = (oc.set_index("run_id").loc[pts["run_id"], args.metric] > args.threshold).to_numpy()
        box = find_box(
            x,
            y,
            min_density=args.min_density,
            bounds={n: tuple(design.parameters[n]) for n in names},
        )
        stats = {"metric": args.metric, "threshold": args.threshold, "month": month, **box.stats()}
        write_csv(oc.assign(case_of_interest=y), out / "outcomes.csv")
        write_csv(box.limits, out / "box.csv")
        write_csv(pd.DataFrame([stats]), out / "box_stats.csv")
        write_csv(box.trajectory, out / "trajectory.csv")
        print(f"wrote the sweep, outcomes.csv, box.csv, box_stats.csv and trajectory.csv to {out}/")
        print(f"{box.n_interest} of {box.n_runs} runs: {args.metric} > {args.threshold} at {month}")
        if box.note:
            print(f"note: {box.note}")
        print(
            f"box: coverage {box.coverage:.2f}, density {box.density:.2f}, mass {box.mass:.2f}, "
            f"{box.res_dim} restricted dimension(s)"
        )
        print(box.limits[box.limits["restricted"]].round(3).to_string(index=False))
        if not args.no_plots:
            index = _figures(out, box, args.metric, args.threshold, month)
            if index:
                print(f"figures: {index.resolve()}")
        return 1 if res.n_failed else 0

    return guard(go)


def make_tradeoff(box: Box):
    """PRIM's peeling trajectory: density against coverage, coloured by restricted dimensions."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4.5), layout="constrained")
    ax = fig.add_subplot()
    t = box.trajectory
    sc = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=18)
    fig.colorbar(sc, ax=ax, label="restricted dimensions")
    ax.scatter(
        [box.coverage],
        [box.density],
        s=120,
        facecolors="none",
        edgecolors="red",
        label="reported box",
    )
    ax.set_xlabel("coverage")
    ax.set_ylabel("density")
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("PRIM peeling trajectory")
    return fig


def _figures(out: Path, box: Box, metric: str, threshold: float, month: str) -> Path | None:
    figs: list[tuple[Path | None, str]] = []
    fdir = out / "figures"
    fdir.mkdir(parents=True, exist_ok=True)
    draw = plot_function("fig_discovery_box")
    if draw is not None and box.chosen >= 0:
        figs.append(
            (
                draw(
                    box.limits,
                    fdir / "box.png",
                    box.coverage,
                    box.density,
                    f"Parameters leading to {metric} > {threshold} at {month}",
                ),
                (
                    f"The PRIM box: ranges of the parameters inside which runs end with {metric} > "
                    f"{threshold} (coverage {box.coverage:.0%}, density {box.density:.0%})."
                ),
            )
        )
    if not box.trajectory.empty:
        path = fdir / "tradeoff.png"
        make_tradeoff(box).savefig(path, dpi=110)
        figs.append(
            (
                path,
                (
                    "Coverage against density along PRIM's peeling trajectory; the red ring "
                    "is the box reported."
                ),
            )
        )
    return draw_figures(out, figs, "Scenario discovery") if figs else None


if __name__ == "__main__":
    sys.exit(main())
