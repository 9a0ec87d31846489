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
from experiments.plots.common import CONTRACT_COLUMNS, DEFAULT_WORKLOADS, PHASE_METRICS, _n_runs
from experiments.plots.index import write_index
from experiments.plots.offerings import PriceFn, fig_offerings, price_table, workload_is_training
from experiments.plots.sweeps import (
    BOX_COLUMNS,
    SENSITIVITY_COLUMNS,
    fig_discovery_box,
    fig_phase_diagram,
    fig_sensitivity,
)
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


def _load_run(folder: Path) -> tuple[dict[str, pd.DataFrame], list[str], list[str]]:
    tables = {t: (pd.read_parquet(folder / f"{t}.parquet") if (folder / f"{t}.parquet").is_file()
                  else pd.DataFrame()) for t in ("model", "adoption", "vendors")}
    man = _read_manifest(folder)
    scen = man.get("scenario_file") or man.get("scenario")
    return tables, ([str(scen)] if scen else []), []


def _load_sweep(folder: Path) -> tuple[dict[str, pd.DataFrame], list[str], list[str]]:
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
    varied = list(design.get("parameters", {}) or {})
    if not varied:
        skip = CONTRACT_COLUMNS
        varied = [c for c in tables["model"].columns if c not in skip]
    scen = design.get("scenario") or man.get("scenario")
    relative = scen and str(scen).endswith(".toml") and not Path(scen).is_absolute()
    if relative and design.get("source"):
        scen = str(Path(design["source"]).parent / scen)  # a path relative to the design file
    return tables, ([str(scen)] if scen else []), varied


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
    for child, (tables, scen, var) in parts:
        ids = set(tables["model"]["run_id"].astype(str)) if "run_id" in tables["model"] else set()
        prefix = f"{child.name}/" if (len(parts) > 1 and ids & seen_ids) else ""
        seen_ids |= {prefix + i for i in ids}
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
                        varied=[v for v in varied if v in out["model"].columns], extras=extras)


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

    Runs and sweeps get figures 1-5 (across all their runs); sweeps with two or more numeric
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


def _run_figures(ft: FolderTables, out_dir: Path, who: str) -> Planned:
    """Figures 1-5 and the phase diagrams: what the run tables support."""
    ad, md = ft.adoption, ft.model
    plan: Planned = []
    if not ad.empty:
        plan.append((lambda: fig_adoption(ad, out_dir / "adoption_shares.png"),
                     f"Installed share of each stack within each bloc over time ({who}); "
                     "thin lines are single runs, so a split into lock-in outcomes shows as two "
                     "bundles."))
        plan.append((lambda: fig_installed(ad, out_dir / "installed_compute.png"),
                     "Installed compute (million H100e) by stack, stacked, per bloc; "
                     f"mean over {who}."))
    if {"bifurcation_index", "bloc_jsd"} <= set(md.columns):
        events = scenario_events(ft.scenarios)
        note = ("numbered dashed lines are the scenario's policy events" if events else
                "no policy events shown (several scenarios, or the scenario file was not found)")
        plan.append((lambda: fig_bifurcation(md, out_dir / "bifurcation.png", events, ft.varied),
                     "Bifurcation index and US-China Jensen-Shannon divergence over time, "
                     f"with the US control level and rare-earth restriction below; {note}."))
    if {"cn_domestic_share", "nvidia_china_revenue_share"} <= set(md.columns):
        plan.append((lambda: fig_china(md, out_dir / "china_shares.png", load_observed_table()),
                     "China's domestic share of accelerator purchases and Nvidia's China "
                     "revenue share, monthly and as yearly means, against observed figures "
                     "(black: period and band; reported revenue shares are on a total-revenue "
                     "basis)."))
    if not ad.empty and (ad["bloc"] == "gs").any():
        from model.population import load_regions

        plan.append((lambda: fig_gs_countries(ad, load_regions(), out_dir / "gs_countries.png"),
                     "Final installed stack shares of each Global-South country, sorted from "
                     "US-leaning to China-leaning political alignment."))
    numeric = [v for v in ft.varied if pd.api.types.is_numeric_dtype(md[v]) and md[v].nunique() > 1]
    if len(numeric) >= 2:
        x, y = numeric[0], numeric[1]
        for metric in PHASE_METRICS:
            if metric in md.columns and metric not in (x, y):
                plan.append((lambda m=metric: fig_phase_diagram(md, x, y, m, out_dir / f"phase_{m}.png"),
                             f"Phase diagram: mean {metric} at the last month over {x} and {y} "
                             f"(cells show the run count)."))
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
