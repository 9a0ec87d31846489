"""Regenerate the README's three worked examples ("Questions you can ask") and their figures.

    python docs/examples.py                  # full: ~180 runs, a few minutes on 2 cores -> outputs/examples/
    python docs/examples.py --update-docs    # the same, and the README's PNGs in docs/ replaced
    python docs/examples.py --quick          # smoke: a dozen short runs
    python docs/examples.py --only rare_earth --workers 2 --out /tmp/ex

Each example runs small sweeps with fixed root seeds through the public runner
(``experiments.runner.build_design`` + ``run_sweep``, the engine behind ``chipwar sweep``),
reads the output tables (docs/ODD.md "Metrics and output tables") back from disk, draws one PNG
and prints the numbers the README
quotes (also written to ``<tables>/findings.json``):

* ``controls`` -> ``example_controls.png``: US control level held from 2026 (reaction function
  off) x switching cost kappa -> bifurcation index, China's domestic share and the Global
  South's CANN share at 2035-12; a dashed line repeats kappa = 1 without China's bans on US
  chips (scenario ``h200_opening``), to show which side's measures do the splitting.
* ``rare_earth`` -> ``example_rare_earth.png``: scenario ``rare_earth_embargo`` against
  ``baseline`` with the same seeds: rare-earth restriction, US control level, US-bloc
  vendors' prices (per-seed difference to the baseline) and China's domestic share.
* ``global_south`` -> ``example_global_south.png``: the Global South's installed share on
  CANN over time under the baseline, ``gs_open_market``, much richer bundles, tripled Chinese
  wafer supply and US controls covering tier-2 countries; and its 2035 level over a grid of
  ``bundle_bonus`` x ``bundle_discount``.

Tables land under ``--out`` (default ``outputs/examples/<example>/<sweep>/``), figures in
``--out``/figures. Nothing is written into the repository's tracked folders unless you ask with
``--update-docs``, which puts the PNGs in ``docs/`` (where the README shows them); ``--figures
DIR`` picks another folder (refused inside the repository outside ``outputs/`` without
``--update-docs``). Same code + same seeds = the same figures.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import math
import multiprocessing
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# run as a script (python docs/examples.py): make the project importable
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from experiments.analysis import bloc_price, month_number, outcomes, param_column
from experiments.plots import STACK_COLORS, month_time
from experiments.runner import build_design, code_version, read_tables, run_sweep

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES: tuple[str, ...] = ("controls", "rare_earth", "global_south")
DPI = 90
MONTH = "2035-12"  # outcomes are read here (quick runs: at their last month)
MID_MONTH = "2030-12"  # China's domestic share is read here (by 2035 it is 100 % either way)
QUICK_END = "2027-12"
BLUE, GREY, RED, GOLD = "#1f4e79", "#7f7f7f", STACK_COLORS["cann"], "#b8860b"


# --------------------------------------------------------------------------- running sweeps


@dataclass
class Context:
    """Where tables and figures go, how runs execute and how big the examples are."""

    tables: Path
    figures: Path
    quick: bool
    executor: cf.Executor | None  # None: run serially in this process
    version: str

    def sweep(self, name: str, spec: dict[str, Any]) -> dict[str, pd.DataFrame]:
        """Run one design (dict as in a design TOML) into ``tables/name``; return its tables."""
        spec = dict(spec)
        if self.quick:
            spec["fixed"] = {**spec.get("fixed", {}), "end": QUICK_END}
        design = build_design(spec, origin=f"docs/examples.py:{name}", base_dir=ROOT)
        out = self.tables / name
        t0 = time.perf_counter()
        res = run_sweep(design, out, executor=self.executor, serial=self.executor is None,
                        overwrite=True, progress=False)
        if res.n_failed:
            raise RuntimeError(f"{name}: {res.n_failed} of {res.n_runs} runs failed; see "
                               f"{res.failures_path}")
        print(f"  {name}: {res.n_runs} runs in {time.perf_counter() - t0:.0f} s -> {out}/")
        return read_tables(out)

    def month(self, model: pd.DataFrame) -> str:
        """The month outcomes are read at: 2035-12, or the last month of a quick run."""
        return str(model["date"].max()) if self.quick else MONTH

    def stamp(self, fig: Figure, text: str) -> None:
        """Provenance line at the bottom left: code version and runs behind the figure."""
        fig.text(0.002, 0.002, f"chipwar {self.version} · {text}", ha="left", va="bottom",
                 fontsize=6.5, color=GREY)

    def save(self, fig: Figure, name: str) -> Path:
        self.figures.mkdir(parents=True, exist_ok=True)
        path = self.figures / name
        fig.savefig(path, dpi=DPI, format="png")
        return path


def _style() -> Any:
    return sns.axes_style("whitegrid", {"grid.color": "#e3e3e3"})


def _figure(w_in: float, h_in: float) -> Figure:
    return Figure(figsize=(w_in, h_in), dpi=DPI, layout="constrained")


def _pct(ax: Any) -> None:
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))


def _paths(model: pd.DataFrame, col: str) -> pd.DataFrame:
    """One column per run, one row per month (DatetimeIndex)."""
    w = model.pivot_table(index="date", columns="run_id", values=col, aggfunc="mean")
    w.index = pd.DatetimeIndex(month_time(w.index))
    return w.sort_index()


def _band(ax: Any, wide: pd.DataFrame, color: str, label: str, *, ls: str = "-") -> None:
    """Mean line and the min-max range over runs (few seeds: a range, not a percentile band)."""
    arr = wide.to_numpy(dtype=float)
    if arr.shape[1] > 1:
        ax.fill_between(wide.index, np.nanmin(arr, axis=1), np.nanmax(arr, axis=1), color=color,
                        alpha=0.15, lw=0)
    ax.plot(wide.index, np.nanmean(arr, axis=1), color=color, lw=2.0, ls=ls, label=label)


def _at(model: pd.DataFrame, month: str, col: str) -> float:
    """Mean of ``col`` over runs at ``month``."""
    return float(model.loc[model["date"].astype(str) == month, col].mean())


def _r(x: float, nd: int = 3) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), nd)


# --------------------------------------------------------------------------- (a) export controls


def example_controls(ctx: Context) -> dict[str, Any]:
    """What tighter export controls do to the split: level x kappa -> outcomes at 2035."""
    levels = [0.0, 0.5, 1.0] if ctx.quick else [0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.76, 0.85, 1.0]
    kappas = [1.0] if ctx.quick else [0.0, 1.0, 5.0]
    reps = 1 if ctx.quick else 3
    fixed = {"us_reaction": False}  # the swept level is the level held from 2026 to the end
    grid = ctx.sweep("controls/grid", {
        "scenario": "baseline", "sampler": "grid", "replications": reps, "root_seed": 20260301,
        "fixed": fixed, "parameters": {"us_control_level": levels, "kappa": kappas}})
    nobans = ctx.sweep("controls/h200_opening", {
        "scenario": "h200_opening", "sampler": "grid", "replications": reps,
        "root_seed": 20260301, "fixed": {**fixed, "kappa": 1.0},
        "parameters": {"us_control_level": levels}})
    month = ctx.month(grid["model"])
    mid = month if ctx.quick else MID_MONTH
    metrics = ("bifurcation_index", "cn_domestic_share", "gs_cann_share")
    read_at = {"bifurcation_index": month, "cn_domestic_share": mid, "gs_cann_share": month}
    oc = {mo: outcomes(grid, mo) for mo in {month, mid}}
    ob = {mo: outcomes(nobans, mo) for mo in {month, mid}}
    lvl = param_column(oc[month], "us_control_level")
    lvl_b = param_column(ob[month], "us_control_level")
    n_runs = len(oc[month]) + len(ob[month])

    titles = {"bifurcation_index": "Bifurcation index (0 one world, 1 split)",
              "cn_domestic_share": "China's purchases on domestic chips",
              "gs_cann_share": "Global South's installed H100e on CANN"}
    colors = dict(zip(kappas, ["#9ecae1", "#4292c6", "#08306b"][-len(kappas):], strict=True))
    with _style():
        fig = _figure(11.5, 3.9)
        axes = fig.subplots(1, 3, sharex=True)
        for ax, m in zip(axes, metrics, strict=True):
            at, atb = oc[read_at[m]], ob[read_at[m]]
            ax.axvspan(0.8, 1.02, color=GOLD, alpha=0.10, lw=0)
            ax.axvline(0.76, color=GREY, lw=0.8, ls=":")
            for k in kappas:
                sub = at[at["kappa"] == k]
                ax.scatter(sub[lvl], sub[m], s=9, color=colors[k], alpha=0.5, lw=0)
                mean = sub.groupby(lvl)[m].mean()
                ax.plot(mean.index, mean.values, color=colors[k], lw=2, marker="o", ms=3.5,
                        label=f"switching cost κ = {k:g}")
            nb = atb.groupby(lvl_b)[m].mean()
            ax.plot(nb.index, nb.values, color=RED, lw=1.6, ls="--",
                    label="κ = 1, China's bans dropped (scenario h200_opening)")
            ax.set_title(f"{titles[m]}, {read_at[m]}", fontsize=9.5)
            ax.set_ylim(-0.03, 1.03)
            if m != "bifurcation_index":
                _pct(ax)
            ax.set_xlabel("US control level held from 2026")
        axes[1].text(0.74, 0.05, "baseline 0.76", fontsize=7, color=GREY, ha="right")
        axes[1].text(0.82, 0.05, "tier-2\ncovered", fontsize=7, color=GOLD)
        axes[0].set_ylabel("mean (line) and single runs (dots)")
        h, labels = axes[0].get_legend_handles_labels()
        fig.legend(h, labels, loc="outside lower center", ncols=2, frameon=False, fontsize=8.5)
        fig.suptitle("What tighter US export controls do to the split (US reaction function off; "
                     "China's reactions on)", fontsize=11)
        ctx.stamp(fig, f"{n_runs} runs, {reps} seeds per point")
        path = ctx.save(fig, "example_controls.png")

    def cell(frame: pd.DataFrame, col: str, level: float, k: float | None, m: str) -> float | None:
        sel = frame[(frame[col] == level) & ((frame["kappa"] == k) if k is not None else True)]
        return _r(sel[m].mean()) if len(sel) else None

    k_mid = kappas[len(kappas) // 2]
    return {
        "figure": str(path), "month": month, "mid_month": mid, "runs": n_runs,
        "bifurcation": {f"level={lv:g}": {f"kappa={k:g}": cell(oc[month], lvl, lv, k,
                                                               "bifurcation_index")
                                          for k in kappas} for lv in levels},
        "lock_in_prob": {f"level={lv:g}": {f"kappa={k:g}": cell(oc[month], lvl, lv, k,
                                                                "locked_in") for k in kappas}
                         for lv in levels},
        "gs_cann_share": {f"level={lv:g}": cell(oc[month], lvl, lv, k_mid, "gs_cann_share")
                          for lv in levels},
        "cn_domestic_share_mid": {f"level={lv:g}": cell(oc[mid], lvl, lv, k_mid,
                                                        "cn_domestic_share") for lv in levels},
        "without_cn_bans": {
            f"level={lv:g}": {"cn_domestic_share_mid": cell(ob[mid], lvl_b, lv, None,
                                                            "cn_domestic_share"),
                              "cn_domestic_share": cell(ob[month], lvl_b, lv, None,
                                                        "cn_domestic_share"),
                              "bifurcation_index": cell(ob[month], lvl_b, lv, None,
                                                        "bifurcation_index")}
            for lv in levels},
    }


# --------------------------------------------------------------------------- (b) rare earths


def example_rare_earth(ctx: Context) -> dict[str, Any]:
    """What a rare-earth embargo buys China: the embargo scenario vs the baseline, same seeds."""
    reps = 2 if ctx.quick else 8
    spec = {"sampler": "grid", "replications": reps, "root_seed": 20260601, "parameters": {}}
    base = ctx.sweep("rare_earth/baseline", {**spec, "scenario": "baseline"})
    emb = ctx.sweep("rare_earth/rare_earth_embargo", {**spec, "scenario": "rare_earth_embargo"})
    mb, me = base["model"], emb["model"]
    assert sorted(mb["seed"].unique()) == sorted(me["seed"].unique()), "seeds must pair"
    shock = tomllib.loads((ROOT / "model" / "scenarios" / "rare_earth_embargo.toml")
                          .read_text(encoding="utf-8"))["parameters"]
    start, months = str(shock["rare_earth_shock_start"]), int(shock["rare_earth_shock_months"])
    stop_n = month_number(start) + months - 1
    stop = f"{stop_n // 12:04d}-{stop_n % 12 + 1:02d}"
    last = ctx.month(mb)

    # US-bloc vendors' units-weighted price: embargo / baseline - 1, paired by seed and month
    seeds_b = mb[["run_id", "seed"]].drop_duplicates()
    seeds_e = me[["run_id", "seed"]].drop_duplicates()
    pb = bloc_price(base["vendors"], "us").merge(seeds_b, on="run_id")
    pe = bloc_price(emb["vendors"], "us").merge(seeds_e, on="run_id")
    price = pe.merge(pb, on=["seed", "date"], suffixes=("_e", "_b"))
    price["change"] = price["price_usd_e"] / price["price_usd_b"] - 1.0
    price["run_id"] = price["seed"].astype(str)

    t0 = pd.Timestamp("2024-01-01")
    with _style():
        fig = _figure(11.5, 6.2)
        axes = fig.subplots(2, 2, sharex=True).ravel()
        panels = [("rare_earth_restriction", "China's rare-earth restriction (0-1)"),
                  ("us_control_level", "US control level (0-1)"),
                  (None, "US-bloc vendors' mean unit price vs baseline, same seed"),
                  ("cn_domestic_share", "China's purchases on domestic chips")]
        for ax, (col, title) in zip(axes, panels, strict=True):
            ax.axvspan(month_time([start])[0], month_time([stop])[0] + pd.DateOffset(months=1),
                       color=GOLD, alpha=0.10, lw=0)
            if col is None:
                w = _paths(price, "change")
                w = w[w.index >= t0]
                for j in range(w.shape[1]):
                    ax.plot(w.index, w.iloc[:, j], color=RED, lw=0.5, alpha=0.35)
                ax.plot(w.index, w.mean(axis=1), color=RED, lw=2, label="embargo − baseline")
                ax.axhline(0, color=GREY, lw=0.8)
                _pct(ax)
            else:
                for model, color, label in ((mb, BLUE, "baseline"),
                                            (me, RED, "rare_earth_embargo")):
                    w = _paths(model, col)
                    _band(ax, w[w.index >= t0], color, label)
                ax.set_ylim(-0.03, 1.03)
                if col == "cn_domestic_share":
                    _pct(ax)
            ax.set_title(title, fontsize=10)
        axes[2].text(month_time([start])[0], axes[2].get_ylim()[1] * 0.85, " embargo\n 2026-06..",
                     fontsize=7.5, color=GOLD)
        h, labels = axes[1].get_legend_handles_labels()
        fig.legend(h, labels, loc="outside lower center", ncols=2, frameon=False, fontsize=9)
        fig.suptitle(f"What a two-year rare-earth embargo buys China (mean and range of {reps} "
                     "paired seeds)", fontsize=11)
        ctx.stamp(fig, f"{2 * reps} runs")
        path = ctx.save(fig, "example_rare_earth.png")

    in_window = price["date"].astype(str).map(month_number).between(month_number(start), stop_n)
    ctrl_e = me.groupby("date")["us_control_level"].mean()
    zero = ctrl_e[ctrl_e.index.astype(str) >= start]
    zero = zero[zero <= 0.005]
    out: dict[str, Any] = {"figure": str(path), "runs": 2 * reps}
    for m in sorted({f"{start[:4]}-12", "2028-05", "2030-12", last}):
        if month_number(m) > month_number(last):
            continue
        out[m] = {name: {col: _r(_at(model, m, col)) for col in
                         ("us_control_level", "rare_earth_restriction", "cn_domestic_share",
                          "nvidia_china_revenue_share", "bifurcation_index",
                          "us_cn_compute_ratio")}
                  for name, model in (("baseline", mb), ("embargo", me))}
    out["us_price_change_during_embargo"] = _r(price.loc[in_window, "change"].mean())
    out["first_month_us_control_zero"] = str(zero.index[0]) if len(zero) else None
    return out


# --------------------------------------------------------------------------- (c) Global South


GS_CASES: tuple[tuple[str, str, dict[str, Any], str, str, str], ...] = (
    # name, scenario, fixed parameters, label, colour, line style
    ("baseline", "baseline", {}, "baseline", BLUE, "-"),
    ("open_market", "gs_open_market", {}, "gs_open_market (bundle bonus 1.5, financing 30 %)",
     "#e6550d", "-"),
    ("open_market_supply3", "gs_open_market", {"cn_supply_shock": 3.0},
     "… with Chinese wafer supply × 3", "#fdae6b", "--"),
    ("rich_bundles", "gs_open_market", {"bundle_bonus": 5.0, "bundle_discount": 0.8},
     "gs_open_market, bundle bonus 5, financing 80 %", RED, "-"),
    ("rich_bundles_supply3", "gs_open_market",
     {"bundle_bonus": 5.0, "bundle_discount": 0.8, "cn_supply_shock": 3.0},
     "… with Chinese wafer supply × 3", "#fb6a4a", "--"),
    ("us_cuts_tier2", "baseline", {"us_control_level": 1.0, "us_reaction": False},
     "baseline, US controls held at 1.0 (tier-2 covered)", "#6a51a3", "-"),
)


def example_global_south(ctx: Context) -> dict[str, Any]:
    """How fast the Global South tips under a full-stack offer, and what it takes."""
    reps = 1 if ctx.quick else 4
    cases = GS_CASES[:2] + GS_CASES[3:4] if ctx.quick else GS_CASES
    paths: dict[str, pd.DataFrame] = {}
    for name, scenario, fixed, *_ in cases:
        paths[name] = ctx.sweep(f"global_south/{name}", {
            "scenario": scenario, "sampler": "grid", "replications": reps,
            "root_seed": 20260101, "fixed": fixed, "parameters": {}})["model"]
    bonus = [0.5, 5.0] if ctx.quick else [0.5, 1.5, 3.0, 5.0]
    disc = [0.0, 0.8] if ctx.quick else [0.0, 0.3, 0.6, 0.8]
    grid = ctx.sweep("global_south/bundle_grid", {
        "scenario": "gs_open_market", "sampler": "grid", "replications": 1 if ctx.quick else 2,
        "root_seed": 20260102, "parameters": {"bundle_bonus": bonus, "bundle_discount": disc}})
    month = ctx.month(grid["model"])
    og = outcomes(grid, month)
    heat = og.groupby(["bundle_discount", "bundle_bonus"])["gs_cann_share"].mean().unstack()

    t0 = pd.Timestamp("2024-01-01")
    with _style():
        fig = _figure(11.5, 4.4)
        sub = fig.subfigures(1, 2, width_ratios=[1.7, 1])
        ax = sub[0].subplots()
        ax.axvline(pd.Timestamp("2026-01-01"), color=GREY, lw=0.8, ls=":")
        for name, _sc, _fx, label, color, ls in cases:
            w = _paths(paths[name], "gs_cann_share")
            _band(ax, w[w.index >= t0], color, label, ls=ls)
        ax.set_ylim(-0.02, 1.02)
        _pct(ax)
        ax.set_ylabel("Global South's installed H100e on CANN")
        ax.set_xlabel("month")
        ax.set_title(f"Tipping over time (mean and range of {reps} seeds)", fontsize=10)
        ax.legend(loc="upper left", fontsize=7.8, frameon=True)
        hx = sub[1].subplots()
        sns.heatmap(heat.sort_index(ascending=False), ax=hx, vmin=0, vmax=1, cmap="Reds",
                    annot=True, fmt=".0%", cbar=False, annot_kws={"fontsize": 8.5})
        hx.set_xlabel("bundle_bonus (utility)")
        hx.set_ylabel("bundle_discount (financing)")
        hx.set_title(f"CANN share at {month}, gs_open_market", fontsize=10)
        fig.suptitle("How fast does the Global South tip under a Chinese full-stack offer?",
                     fontsize=11)
        ctx.stamp(fig, f"{reps * len(cases) + len(og)} runs")
        path = ctx.save(fig, "example_global_south.png")

    out: dict[str, Any] = {"figure": str(path), "month": month}
    for name, *_ in cases:
        m = paths[name]
        out[name] = {d: _r(_at(m, d, "gs_cann_share")) for d in
                     sorted({"2026-12", "2028-12", "2030-12", ctx.month(m)})
                     if month_number(d) <= month_number(ctx.month(m))}
    out["bundle_grid_gs_cann_share"] = {f"discount={d:g}": {f"bonus={b:g}": _r(heat.loc[d, b])
                                                            for b in heat.columns}
                                        for d in heat.index}
    return out


# --------------------------------------------------------------------------- main


RUNNERS: dict[str, Callable[[Context], dict[str, Any]]] = {
    "controls": example_controls, "rare_earth": example_rare_earth,
    "global_south": example_global_south}


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python docs/examples.py",
                                description="Regenerate the README's worked examples and figures.")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke test: 1-2 seeds, few points, runs end {QUICK_END}")
    p.add_argument("--only", default=",".join(EXAMPLES),
                   help=f"comma-separated examples (default all: {','.join(EXAMPLES)})")
    p.add_argument("--out", "--tables", dest="tables", default="outputs/examples", metavar="DIR",
                   help="folder for the sweeps' tables and findings.json (default outputs/examples)")
    p.add_argument("--figures", default=None, metavar="DIR",
                   help="folder for the PNGs (default OUT/figures; docs/ with --update-docs)")
    p.add_argument("--update-docs", action="store_true",
                   help="write the PNGs into docs/ (the README's figures); without it nothing is "
                        "written into tracked folders")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default all cores)")
    p.add_argument("--serial", action="store_true", help="run in this process, no pool")
    return p.parse_args(argv)


def _tracked(path: Path) -> bool:
    """Inside the repository but not under outputs/ (which git ignores)."""
    p = path.resolve()
    return p.is_relative_to(ROOT) and not p.is_relative_to(ROOT / "outputs")


def targets(args: argparse.Namespace) -> tuple[Path, Path]:
    """(tables, figures) folders; ValueError for a tracked folder without --update-docs."""
    tables = Path(args.tables)
    if args.figures:
        figures = Path(args.figures)
    else:
        figures = ROOT / "docs" if args.update_docs and not args.quick else tables / "figures"
    for flag, path in (("--out", tables), ("--figures", figures)):
        if _tracked(path) and not (args.update_docs and path == figures):
            raise ValueError(f"{flag} {path}: inside the repository's tracked files; write under "
                             "outputs/ or outside the repository, or pass --update-docs to replace "
                             "the README's figures in docs/")
    return tables, figures


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    bad = [s for s in chosen if s not in RUNNERS]
    if bad or not chosen:
        print(f"error: --only {args.only!r}: expected names from {', '.join(EXAMPLES)}",
              file=sys.stderr)
        return 2
    try:
        tables, figures = targets(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    executor: cf.Executor | None = None
    if not args.serial:
        n = args.workers or multiprocessing.cpu_count() or 1
        ctx_mp = multiprocessing.get_context("forkserver")
        ctx_mp.set_forkserver_preload(["experiments.runner", "model.run"])
        executor = cf.ProcessPoolExecutor(max_workers=n, mp_context=ctx_mp)
    ctx = Context(tables=tables, figures=figures, quick=args.quick, executor=executor,
                  version=code_version())
    t0 = time.perf_counter()
    findings: dict[str, Any] = {"code_version": ctx.version, "quick": args.quick}
    try:
        for name in chosen:
            print(f"{name}:")
            findings[name] = RUNNERS[name](ctx)
            print(f"  figure: {findings[name]['figure']}")
    finally:
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
    tables.mkdir(parents=True, exist_ok=True)
    (tables / "findings.json").write_text(json.dumps(findings, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(findings, indent=1))
    print(f"wrote {tables / 'findings.json'} and figures in {figures}/ "
          f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
