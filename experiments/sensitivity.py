"""Global sensitivity of bifurcation and China's domestic share to the main levers.

    python -m experiments.sensitivity [--quick] [--seeds 1] [--out outputs/sensitivity]

Two stages on the parameters and ranges of experiments/designs/sensitivity.toml:
1. Morris screening (elementary effects; SALib): ``mu_star`` (mean absolute effect of moving a
   parameter by 2/3 of its range, with its bootstrap 95 % interval) and ``sigma`` (spread of
   the effects: non-linearity or interaction) from ``samples`` trajectories.
2. PAWN (Pianosi & Wagener 2015; SALib.analyze.pawn) on the Latin hypercube of
   sensitivity_pawn.toml: the median over conditioning slices of the Kolmogorov-Smirnov distance
   between the output's conditional and unconditional distributions. It uses whole
   distributions, not variances, so it stays meaningful when lock-in makes an outcome bimodal.
   Its 95 % interval is 1.96 x the bootstrap standard deviation (runs resampled with
   replacement); a ``dummy`` input the model never sees gives the index's noise floor: a
   parameter whose interval overlaps the dummy's is not distinguishable from no influence.
Outcomes are read at --month (default 2030-12, the designs' end), averaged over replications.
Writes the two sweeps under ``--out/morris`` and ``--out/pawn``, ``--out/indices.csv`` (parameter,
index, value, conf, outcome, method) and one bar chart per method and outcome.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.analysis import (
    DESIGN_DIR,
    add_common_arguments,
    draw_figures,
    guard,
    outcomes,
    plot_function,
    quick_spec,
    read_spec,
    run_spec,
    shared_pool,
    write_csv,
)
from experiments.common import parser
from experiments.outdir import experiment_out
from experiments.runner import Design, read_tables
from model.errors import InputError

NAME = "sensitivity"
MONTH = "2030-12"
QUICK_END = "2026-12"
OUTCOMES = ("bifurcation_index", "cn_domestic_share")
DUMMY = "dummy"
INDEX_COLUMNS = ("parameter", "index", "value", "conf", "outcome", "method")


def problem_of(names: list[str], bounds: list[list[float]]) -> dict[str, Any]:
    """A SALib problem dict."""
    return {
        "num_vars": len(names),
        "names": list(names),
        "bounds": [list(map(float, b)) for b in bounds],
    }


def morris_indices(
    problem: dict[str, Any], x: np.ndarray, y: np.ndarray, *, num_levels: int = 4, seed: int = 0
) -> pd.DataFrame:
    """Morris ``mu_star`` (with its bootstrap 95 % half-width) and ``sigma`` per parameter.

    ``x`` must be SALib's Morris sample in its order; trajectories holding a NaN output (failed
    runs) are dropped whole. Raises InputError when no complete trajectory is left.
    """
    from SALib.analyze import morris

    k = problem["num_vars"]
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(x) % (k + 1) or len(x) != len(y):
        raise InputError(
            f"Morris: {len(x)} points is not a whole number of trajectories of {k + 1}"
        )
    ok = ~np.isnan(y).reshape(-1, k + 1).any(axis=1)
    if not ok.any():
        raise InputError("Morris: no complete trajectory (every trajectory has a failed run)")
    keep = np.repeat(ok, k + 1)
    si = morris.analyze(
        problem,
        x[keep],
        y[keep],
        num_levels=num_levels,
        conf_level=0.95,
        num_resamples=1000,
        seed=seed,
    )
    rows = []
    for i, name in enumerate(problem["names"]):
        rows.append((name, "mu_star", float(si["mu_star"][i]), float(si["mu_star_conf"][i])))
        rows.append((name, "sigma", float(si["sigma"][i]), np.nan))
    return pd.DataFrame(rows, columns=["parameter", "index", "value", "conf"])


def pawn_indices(
    problem: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator,
    *,
    slices: int = 10,
    bootstrap: int = 200,
    dummy: bool = True,
) -> pd.DataFrame:
    """PAWN median KS index per parameter with 1.96 x bootstrap-sd half-widths; with ``dummy``,
    an extra uniform input drawn from ``rng`` (independent of ``y``) gives the noise floor.
    Runs with a NaN output are dropped."""
    from SALib.analyze import pawn

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = ~np.isnan(y)
    x, y = x[ok], y[ok]
    n = len(y)
    if n < 2 * slices:
        raise InputError(f"PAWN: {n} runs for {slices} slices; need at least {2 * slices}")
    names, bounds = list(problem["names"]), list(problem["bounds"])
    if dummy:
        x = np.column_stack([x, rng.uniform(0.0, 1.0, n)])
        names, bounds = names + [DUMMY], bounds + [[0.0, 1.0]]
    prob = problem_of(names, bounds)

    def median(xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(pawn.analyze(prob, xx, yy, S=slices)["median"], dtype=float)

    point = median(x, y)
    boots = np.array(
        [median(x[i], y[i]) for i in (rng.integers(0, n, n) for _ in range(bootstrap))]
    )
    conf = 1.96 * boots.std(axis=0, ddof=1) if bootstrap > 1 else np.full(len(names), np.nan)
    return pd.DataFrame({"parameter": names, "index": "pawn_median", "value": point, "conf": conf})


def design_outputs(design: Design, oc: pd.DataFrame, outcome: str) -> np.ndarray:
    """The outcome per design point (mean over replications; NaN where every run failed), in the
    design's point order."""
    idx = pd.Series({r.run_id: r.design_index for r in design.runs()})
    v = oc.set_index("run_id")[outcome].astype(float)
    per = v.groupby(idx.reindex(v.index).to_numpy()).mean()
    return per.reindex(range(len(design.points))).to_numpy()


def main(argv: list[str] | None = None) -> int:
    p = parser(
        NAME,
        "Morris screening then PAWN indices (with bootstrap intervals) of bifurcation "
        "and China's domestic share over the main levers.",
        1,
    )
    add_common_arguments(p, None)
    p.add_argument(
        "--pawn-design",
        type=Path,
        default=None,
        help="PAWN design file (default experiments/designs/sensitivity_pawn.toml)",
    )
    p.add_argument("--slices", type=int, default=10, help="PAWN conditioning slices (default 10)")
    p.add_argument(
        "--bootstrap", type=int, default=200, help="PAWN bootstrap resamples (default 200)"
    )
    args = p.parse_args(argv)

    def go() -> int:
        m_spec = read_spec(args.design or DESIGN_DIR / f"{NAME}.toml")
        p_spec = read_spec(args.pawn_design or DESIGN_DIR / f"{NAME}_pawn.toml")
        month = args.month or (None if args.quick else MONTH)
        slices = args.slices
        if args.quick:  # 4 levers, 2 trajectories, 20 hypercube points, a 5-year horizon
            m_spec = quick_spec(m_spec, end=QUICK_END, samples=2, keep=4)
            p_spec = quick_spec(p_spec, end=QUICK_END, samples=20, keep=4)
            slices = min(slices, 4)
            args.seeds = 1
        if slices < 2 or args.bootstrap < 2:
            raise InputError(
                f"--slices {args.slices} and --bootstrap {args.bootstrap}: expected >= 2"
            )
        out = experiment_out(args.out, overwrite=args.overwrite, script=NAME, holds_sweeps=True)
        rng = np.random.default_rng(np.random.SeedSequence(int(p_spec.get("root_seed", 0))))
        rows, failed = [], 0
        with shared_pool(args) as pool:
            stages = (("morris", m_spec), ("pawn", p_spec))
            for method, spec in stages:
                print(f"{method}:")
                design, res = run_spec(
                    spec, args, out / method, origin=f"experiments.{NAME} ({method})", executor=pool
                )
                failed += res.n_failed
                oc = outcomes(read_tables(out / method), month)
                names = list(design.parameters)
                prob = problem_of(names, [design.parameters[n] for n in names])
                x = design.points[names].to_numpy(dtype=float)
                for outcome in OUTCOMES:
                    y = design_outputs(design, oc, outcome)
                    if method == "morris":
                        si = morris_indices(
                            prob,
                            x,
                            y,
                            num_levels=design.options.get("levels", 4),
                            seed=int(spec["root_seed"]),
                        )
                    else:
                        si = pawn_indices(prob, x, y, rng, slices=slices, bootstrap=args.bootstrap)
                    rows.append(si.assign(outcome=outcome, method=method))
                month = str(oc["month"].iloc[0])
        indices = pd.concat(rows, ignore_index=True)[list(INDEX_COLUMNS)]
        write_csv(indices, out / "indices.csv")
        print(
            f"wrote {out}/morris/, {out}/pawn/ sweeps and {out}/indices.csv (outcomes at {month})"
        )
        for (method, outcome), d in indices.groupby(["method", "outcome"], sort=False):
            top = d[d["index"].isin(["mu_star", "pawn_median"])].sort_values(
                "value", ascending=False
            )
            print(
                f"{method} / {outcome}: "
                + ", ".join(f"{r.parameter} {r.value:.3f}±{r.conf:.3f}" for r in top.itertuples())
            )
        if not args.no_plots:
            index = _figures(out, indices, month)
            if index:
                print(f"figures: {index.resolve()}")
        return 1 if failed else 0

    return guard(go)


def _figures(out: Path, indices: pd.DataFrame, month: str) -> Path | None:
    fig = plot_function("fig_sensitivity")
    if fig is None:
        return None
    figs: list[tuple[Path | None, str]] = []
    for (method, outcome), d in indices.groupby(["method", "outcome"], sort=False):
        what = (
            "Morris mu_star (mean |elementary effect|) and sigma (spread: non-linearity or "
            "interaction)"
            if method == "morris"
            else "PAWN median KS distance; the 'dummy' bar is the noise floor"
        )
        figs.append(
            (
                fig(
                    d,
                    out / "figures" / f"{method}_{outcome}.png",
                    f"{method.upper()}: {outcome} at {month}",
                ),
                f"{what} for {outcome} at {month}; whiskers are 95 % intervals.",
            )
        )
    return draw_figures(out, figs, "Sensitivity of bifurcation and China's domestic share")


if __name__ == "__main__":
    sys.exit(main())
