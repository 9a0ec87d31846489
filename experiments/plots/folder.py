"""Reading run and sweep folders, and drawing every figure that applies to one (plot_folder)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.plots.adoption import fig_adoption, fig_installed
from experiments.plots.bifurcation import fig_bifurcation
from experiments.plots.blocs import fig_china, fig_gs_countries, load_observed_table
from experiments.plots.common import (
    CONTRACT_COLUMNS,
    DEFAULT_WORKLOADS,
    MAX_FACETS,
    MAX_GROUPS,
    PHASE_METRICS,
    _n_runs,
    n_points,
    param_name,
)
from experiments.plots.index import write_index
from experiments.plots.offerings import PriceFn, fig_offerings, price_table, workload_is_training
from experiments.plots.sweeps import (
    BOX_COLUMNS,
    SENSITIVITY_COLUMNS,
    fig_discovery_box,
    fig_phase_diagram,
    fig_sensitivity,
)
from experiments.runner.base import read_parquet
from model.errors import InputError


@dataclass
class FolderTables:
    """The tables found in a folder and what kind of folder it was."""

    source: Path
    kind: str  # "run" (one run folder), "runs" (a folder of run/sweep folders) or "sweep"
    model: pd.DataFrame
    adoption: pd.DataFrame
    vendors: pd.DataFrame
    scenarios: list[str] = field(default_factory=list)  # scenario names or files, as written
    varied: list[str] = field(default_factory=list)  # swept parameter columns
    extras: list[Path] = field(default_factory=list)  # CSVs with sensitivity / box contracts
    #: run_id -> design point or scenario label (what the runs differ in: scenario, swept
    #: parameters, run parameters); one label for runs that are replications of one point.
    points: pd.Series = field(default_factory=lambda: pd.Series(dtype=str))

    @property
    def n_points(self) -> int:
        return n_points(self.points)

    @property
    def n_runs(self) -> int:
        return _n_runs(self.model)


def _read_manifest(folder: Path) -> dict[str, Any]:
    p = folder / "manifest.json"
    if not p.is_file():
        return {}
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InputError(f"{p}: not valid JSON") from None


def _is_run_folder(p: Path) -> bool:
    return (p / "model.parquet").is_file()


def _is_sweep_folder(p: Path) -> bool:
    return (p / "model").is_dir() and any((p / "model").glob("*.parquet"))


_NOT_A_POINT = frozenset({"seed", "run_id", "replication"})


def _load_run(folder: Path) -> tuple[dict[str, pd.DataFrame], list[str], list[str], pd.DataFrame]:
    tables = {t: (read_parquet(folder / f"{t}.parquet") if (folder / f"{t}.parquet").is_file()
                  else pd.DataFrame()) for t in ("model", "adoption", "vendors")}
    man = _read_manifest(folder)
    scen = man.get("scenario_file") or man.get("scenario")
    attrs: dict[str, Any] = {"scenario": Path(str(man.get("scenario") or scen or "")).stem}
    params = man.get("parameters") if isinstance(man.get("parameters"), dict) else {}
    attrs |= {k: (v if isinstance(v, (int, float, str, bool)) else json.dumps(v, default=str))
              for k, v in params.items() if k not in _NOT_A_POINT}
    ids = tables["model"]["run_id"].astype(str).unique() if "run_id" in tables["model"] else []
    ids = list(ids) or [folder.name]
    return tables, ([str(scen)] if scen else []), [], pd.DataFrame([attrs] * len(ids), index=ids)


def _load_sweep(folder: Path) -> tuple[dict[str, pd.DataFrame], list[str], list[str], pd.DataFrame]:
    man = _read_manifest(folder)
    tables: dict[str, pd.DataFrame] = {}
    if man:
        try:
            from experiments.runner import read_tables

            tables = read_tables(folder)
        except (ImportError, InputError):
            tables = {}
    if tables.get("model") is None or tables["model"].empty:  # no completion markers: read parts
        tables = {t: (pd.read_parquet(folder / t) if any((folder / t).glob("*.parquet"))
                      else pd.DataFrame()) for t in ("model", "adoption", "vendors")}
    design = man.get("design", {}) if isinstance(man.get("design"), dict) else {}
    md = tables["model"]
    # the column holding each swept parameter: param_<name> where the runner stamped it so
    varied = [f"param_{v}" if f"param_{v}" in md.columns else v
              for v in (design.get("parameters", {}) or {})]
    if not varied:
        varied = [c for c in md.columns if c not in CONTRACT_COLUMNS]
    scen = design.get("scenario") or man.get("scenario")
    relative = scen and str(scen).endswith(".toml") and not Path(scen).is_absolute()
    if relative and design.get("source"):
        scen = str(Path(design["source"]).parent / scen)  # a path relative to the design file
    cols = [v for v in varied if v in md.columns]
    attrs = (md.drop_duplicates("run_id").set_index(md.drop_duplicates("run_id")["run_id"]
                                                    .astype(str))[cols]
             if "run_id" in md.columns else pd.DataFrame())
    attrs.insert(0, "scenario", Path(str(scen or "")).stem)
    return tables, ([str(scen)] if scen else []), varied, attrs


def load_folder(path: str | Path) -> FolderTables:
    """Read a run folder, a sweep folder, or a folder of those; raise InputError if none."""
    folder = Path(path)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder (expected a run or sweep output folder)")
    if _is_run_folder(folder):
        kind, parts = "run", [(folder, _load_run(folder))]
    elif _is_sweep_folder(folder):
        kind, parts = "sweep", [(folder, _load_sweep(folder))]
    else:
        kind = "runs"
        parts = []
        for child in sorted(p for p in folder.iterdir() if p.is_dir()):
            if _is_run_folder(child):
                parts.append((child, _load_run(child)))
            elif _is_sweep_folder(child):
                parts.append((child, _load_sweep(child)))
    parts = [(p, x) for p, x in parts if not x[0]["model"].empty]
    if not parts:
        raise InputError(f"{folder}: no tables found; expected model.parquet (a run folder from "
                         "`chipwar run`), model/*.parquet (a sweep folder from `chipwar sweep`), "
                         "or sub-folders holding either")
    frames: dict[str, list[pd.DataFrame]] = {"model": [], "adoption": [], "vendors": []}
    scenarios: list[str] = []
    varied: list[str] = []
    seen_ids: set[str] = set()
    attrs: list[pd.DataFrame] = []
    for child, (tables, scen, var, att) in parts:
        ids = set(tables["model"]["run_id"].astype(str)) if "run_id" in tables["model"] else set()
        prefix = f"{child.name}/" if (len(parts) > 1 and ids & seen_ids) else ""
        seen_ids |= {prefix + i for i in ids}
        attrs.append(att.set_axis([prefix + str(i) for i in att.index]))
        for t in frames:
            df = tables.get(t, pd.DataFrame())
            if df.empty:
                continue
            if "run_id" not in df.columns:
                df = df.assign(run_id=child.name)
            df = df.assign(run_id=prefix + df["run_id"].astype(str))
            frames[t].append(df)
        scenarios += [s for s in scen if s not in scenarios]
        varied += [v for v in var if v not in varied]
    out = {t: (pd.concat(v, ignore_index=True) if v else pd.DataFrame()) for t, v in frames.items()}
    extras = []
    for csv in sorted(folder.glob("*.csv")):
        try:
            cols = set(pd.read_csv(csv, nrows=0).columns)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
            continue
        if set(SENSITIVITY_COLUMNS) <= cols or set(BOX_COLUMNS) <= cols:
            extras.append(csv)
    return FolderTables(source=folder, kind=kind, model=out["model"], adoption=out["adoption"],
                        vendors=out["vendors"], scenarios=scenarios,
                        varied=[v for v in varied if v in out["model"].columns], extras=extras,
                        points=point_labels(pd.concat(attrs)))


def _fmt(value: Any) -> str:
    if isinstance(value, float) and not isinstance(value, bool):
        return f"{value:g}"
    return str(value)


def point_labels(attrs: pd.DataFrame) -> pd.Series:
    """run_id -> the label of its design point or scenario, from what the runs differ in.

    ``attrs``: one row per run (index run_id) with a ``scenario`` column and the run's
    parameters (a sweep's swept values, a run folder's manifest parameters). Columns on which
    every run agrees are dropped, and so are parameters a scenario sets (the same within each
    scenario) when the runs differ in scenario. Runs with equal labels are replications of one
    point: the figures average over those and never across labels. All runs alike: one label.
    """
    if attrs.empty:
        return pd.Series(dtype=str)
    txt = attrs.map(_fmt) if hasattr(attrs, "map") else attrs.applymap(_fmt)
    cols = [c for c in txt.columns if txt[c].nunique(dropna=False) > 1]
    if "scenario" in cols:
        by = txt.groupby("scenario", sort=False)
        cols = ["scenario"] + [c for c in cols if c != "scenario"
                               and bool((by[c].nunique(dropna=False) > 1).any())]
    if not cols:
        return pd.Series("all runs", index=txt.index, dtype=str)

    def one(row: pd.Series) -> str:
        return ", ".join(row[c] if c == "scenario" else f"{param_name(c)}={row[c]}" for c in cols)

    return txt.apply(one, axis=1).astype(str)


def scenario_events(scenarios: Sequence[str]) -> list[Any]:
    """Events of the one scenario the runs share ([] if several, or it cannot be read)."""
    if len(scenarios) != 1:
        return []
    from model.scenario import load_scenario

    try:
        return list(load_scenario(scenarios[0]).events)
    except Exception:  # a moved or edited scenario file must not stop the figures
        try:
            return list(load_scenario(Path(scenarios[0]).stem).events)
        except Exception:
            return []


def plot_folder(folder: str | Path, out: str | Path | None = None, *,
                workloads: Sequence[str] = DEFAULT_WORKLOADS, region: str = "us",
                price_fn: PriceFn | None = None, progress: bool | None = None) -> list[Path]:
    """Draw every figure that applies to ``folder`` into ``out`` (default ``folder/figures``)
    and write ``out/index.html``; return the PNG paths in index order.

    Runs and sweeps get figures 1-5, split by design point or scenario (``load_folder``'s
    ``points``: each point is averaged over its own replications only, never across points; the
    installed-compute figure only for up to MAX_FACETS points); sweeps with two or more numeric
    varied parameters get phase diagrams over the first two; CSVs in ``folder`` with the
    sensitivity or PRIM-box columns get their figures; ``workloads`` get the core's comparison
    when ``price_fn`` (the pricing function ``chipwar price`` uses, see ``offerings.PriceFn``)
    is given. ``progress``: as ``experiments.progress.Progress`` (None: a bar on a terminal, a
    line every few seconds elsewhere; False: silent).
    """
    from experiments.progress import Progress

    ft = load_folder(folder)
    workloads = list(workloads) if price_fn is not None else []
    kinds = {wid: workload_is_training(wid) for wid in workloads}  # refuse bad input before drawing
    out_dir = Path(out) if out is not None else Path(folder) / "figures"
    n = ft.n_runs
    who = f"{n} run{'s' if n != 1 else ''}"
    if ft.scenarios:
        who += f", scenario {', '.join(Path(s).stem for s in ft.scenarios)}"
    plan = _run_figures(ft, out_dir, who) + _extra_figures(ft, out_dir)
    for wid in workloads:
        what = "USD per effective PFLOP-hour" if kinds[wid] else "USD per million tokens"
        plan.append((lambda wid=wid: fig_offerings(price_table(wid, region, price_fn=price_fn),
                                                   out_dir / f"offerings_{wid}.png", kinds[wid]),
                     "The cluster core's comparison of every catalog offering for workload "
                     f"{wid}: {what} and facility energy per token, coloured by stack."))
    out_dir.mkdir(parents=True, exist_ok=True)
    figs: list[tuple[Path, str]] = []
    with Progress(len(plan), "figures", enabled=progress) as bar:
        for draw, caption in plan:
            figs.append((draw(), caption))
            bar.update()
    write_index(out_dir, figs, f"chipwar figures: {ft.source.name} ({ft.kind}, {who})")
    return [p for p, _ in figs]


Planned = list[tuple[Callable[[], Path], str]]  # (draw it -> PNG path, caption), in index order


def aggregation(ft: FolderTables) -> str:
    """What a figure of ``ft``'s runs aggregates, for captions: over which runs or points."""
    n, k = ft.n_runs, ft.n_points
    if n <= 1:
        return "1 run"
    if k <= 1:
        return f"mean over {n} replications of one design point (seeds differ)"
    names = "; ".join(dict.fromkeys(ft.points.tolist()))
    if k <= MAX_GROUPS:
        return (f"{k} design points or scenarios ({names}), each averaged over its own "
                f"replications only ({n} runs in all), never across points")
    return (f"{k} design points, {n} runs: one line (or dot) per point, the mean of its "
            "replications; no average across points")


def _run_figures(ft: FolderTables, out_dir: Path, who: str) -> Planned:
    """Figures 1-5 and the phase diagrams: what the run tables support."""
    ad, md, pts = ft.adoption, ft.model, ft.points
    k = ft.n_points
    agg = aggregation(ft)
    plan: Planned = []
    if not ad.empty:
        split = (" thin lines are single runs, so a split into lock-in outcomes shows as two "
                 "bundles" if k <= MAX_FACETS else "")
        plan.append((lambda: fig_adoption(ad, out_dir / "adoption_shares.png", pts),
                     f"Installed share of each stack within each bloc over time ({agg}"
                     + ("; a row of panels per point" if 1 < k <= MAX_FACETS else "")
                     + f").{split}"))
        if k <= MAX_FACETS:
            plan.append((lambda: fig_installed(ad, out_dir / "installed_compute.png", pts),
                         f"Installed compute (million H100e) by stack, stacked, per bloc ({agg})."))
    if {"bifurcation_index", "bloc_jsd"} <= set(md.columns):
        events = scenario_events(ft.scenarios)
        note = ("numbered dashed lines are the scenario's policy events" if events else
                "no policy events shown (several scenarios, or the scenario file was not found)")
        plan.append((lambda: fig_bifurcation(md, out_dir / "bifurcation.png", events, ft.varied,
                                             pts),
                     "Bifurcation index and US-China Jensen-Shannon divergence over time, "
                     f"with the US control level and rare-earth restriction below ({agg}); "
                     f"{note}."))
    if {"cn_domestic_share", "nvidia_china_revenue_share"} <= set(md.columns):
        plan.append((lambda: fig_china(md, out_dir / "china_shares.png", load_observed_table(),
                                       ad if not ad.empty else None, pts),
                     "China's domestic share of accelerator purchases (quarterly, weighted by "
                     "China's purchases) and Nvidia's China revenue share (quarterly mean), with "
                     f"the monthly values faint ({agg}), against observed figures (black: period "
                     "and band; reported revenue shares are on a total-revenue basis)."))
    if not ad.empty and (ad["bloc"] == "gs").any():
        from model.population import load_regions

        plan.append((lambda: fig_gs_countries(ad, load_regions(), out_dir / "gs_countries.png",
                                              pts),
                     "Final installed stack shares of each Global-South country, sorted from "
                     f"US-leaning to China-leaning political alignment ({agg})."))
    numeric = [v for v in ft.varied if pd.api.types.is_numeric_dtype(md[v]) and md[v].nunique() > 1]
    if len(numeric) >= 2:
        x, y = numeric[0], numeric[1]
        others = (f"; the other swept parameters ({', '.join(param_name(v) for v in numeric[2:])})"
                  " vary within a cell" if len(numeric) > 2 else "")
        for metric in PHASE_METRICS:
            if metric in md.columns and metric not in (param_name(x), param_name(y)):
                plan.append((lambda m=metric: fig_phase_diagram(md, x, y, m, out_dir / f"phase_{m}.png"),
                             f"Phase diagram: mean {metric} at the last month over the swept "
                             f"values of {param_name(x)} and {param_name(y)}, averaged over the "
                             f"runs in each cell (cells show the run count){others}."))
    return plan


def _extra_figures(ft: FolderTables, out_dir: Path) -> Planned:
    """Sensitivity indices and scenario-discovery boxes from the folder's CSVs."""
    plan: Planned = []
    for csv in ft.extras:
        df = pd.read_csv(csv)
        if set(SENSITIVITY_COLUMNS) <= set(df.columns):
            plan.append((lambda df=df, csv=csv: fig_sensitivity(df, out_dir / f"sensitivity_{csv.stem}.png"),
                         f"Sensitivity indices from {csv.name}, with confidence intervals."))
        else:
            stat = {k: float(df[k].iloc[0]) for k in ("coverage", "density")
                    if k in df.columns and df[k].nunique() == 1}
            plan.append((lambda df=df, csv=csv, stat=stat: fig_discovery_box(
                df, out_dir / f"box_{csv.stem}.png", **stat),
                f"Scenario-discovery box from {csv.name}: restricted versus swept ranges."))
    return plan
