"""Read written run and sweep folders and summarise them by year, vendor, region and group.

A *group* is what an analyst compares: a scenario, or a design point of a sweep (its varied
parameters, e.g. ``kappa=0.5, us_control_level=0.2``), or both when a folder holds sweeps of
several scenarios. Each table read by :func:`read` carries a ``group`` column; every summary is
per group and never averages across groups.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.errors import InputError

TABLES = ("model", "adoption", "vendors")
DOMESTIC_STACKS = ("cann", "other_cn")
#: model-table metrics reported at each year's last month (stocks and levels)
YEAR_END_METRICS = ("bifurcation_index", "bloc_jsd", "gs_cuda_share", "gs_cann_share",
                    "us_cn_compute_ratio", "us_control_level", "rare_earth_restriction")


@dataclass
class Tables:
    """The three output tables of one or more runs, each with a ``group`` column."""

    model: pd.DataFrame
    adoption: pd.DataFrame
    vendors: pd.DataFrame
    source: Path | None = None
    kind: str = "run"  # "run", "sweep" or "runs" (a folder of run or sweep folders)

    @classmethod
    def from_frames(cls, tables: Mapping[str, pd.DataFrame], *, source: Path | None = None,
                    kind: str = "run", group: str = "", scenario: str = "") -> Tables:
        frames = {t: tables[t].assign(group=group, scenario=scenario) for t in TABLES}
        return cls(**frames, source=source, kind=kind)

    @property
    def groups(self) -> list[str]:
        """The groups in first-seen order."""
        return list(dict.fromkeys(self.model["group"]))

    @property
    def n_runs(self) -> int:
        return int(self.model["run_id"].nunique())

    def __getitem__(self, name: str) -> pd.DataFrame:
        return getattr(self, name)

    def select(self, *groups: str) -> Tables:
        """The rows of these groups only (e.g. one scenario, to draw it on its own)."""
        unknown = [g for g in groups if g not in self.groups]
        if unknown:
            from model.errors import did_you_mean

            raise InputError(f"group {unknown[0]!r}: not in the tables{did_you_mean(unknown[0], self.groups)}; "
                             f"groups: {', '.join(self.groups)}")
        keep = {t: getattr(self, t)[getattr(self, t)["group"].isin(groups)].reset_index(drop=True)
                for t in TABLES}
        return Tables(**keep, source=self.source, kind=self.kind)


def _is_run(p: Path) -> bool:
    return (p / "model.parquet").is_file()


def _is_sweep(p: Path) -> bool:
    return (p / "manifest.json").is_file() and (p / "model").is_dir()


def _manifest(p: Path) -> dict[str, Any]:
    try:
        return json.loads((p / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return {}


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _read_run(p: Path) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    tables = {t: pd.read_parquet(p / f"{t}.parquet") if (p / f"{t}.parquet").is_file() else pd.DataFrame()
              for t in TABLES}
    man = _manifest(p)
    scen = str(man.get("scenario") or p.name)
    if "run_id" not in tables["model"] or tables["model"]["run_id"].isna().all():
        for t in TABLES:
            tables[t] = tables[t].assign(run_id=p.name)
    for t in TABLES:
        tables[t] = tables[t].assign(scenario=scen)
    return tables, man


def _read_sweep(p: Path) -> dict[str, pd.DataFrame]:
    from experiments.runner import read_tables

    tables = read_tables(p)
    man = _manifest(p)
    design = man.get("design") or {}
    scen = Path(str(design.get("scenario") or man.get("scenario") or p.name)).stem
    points = man.get("design_table") or []
    labels = [", ".join(f"{k}={_fmt(v)}" for k, v in row.items()) for row in points]
    for t in TABLES:
        df = tables[t]
        if df.empty:
            continue
        idx = df["run_id"].astype(str).str.split("-").str[0].astype(int)
        point = idx.map(lambda i: labels[i] if i < len(labels) else f"point {i}")
        tables[t] = df.assign(scenario=scen, point=point)
    return tables


def read(path: str | Path) -> Tables:
    """Read a run folder (``chipwar run``), a sweep folder (``chipwar sweep``) or a folder of
    those, and label every row with its ``group``: the scenario, the design point, or
    ``scenario: point`` when both vary. Raises InputError if no tables are found."""
    folder = Path(path)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder (expected a run or sweep output folder)")
    kind = "run" if _is_run(folder) else "sweep" if _is_sweep(folder) else "runs"
    children = [folder] if kind != "runs" else sorted(c for c in folder.iterdir()
                                                      if c.is_dir() and (_is_run(c) or _is_sweep(c)))
    parts: list[tuple[Path, dict[str, pd.DataFrame]]] = []
    run_params: dict[Path, dict[str, Any]] = {}
    for c in children:
        if _is_run(c):
            tables, man = _read_run(c)
            run_params[c] = {k: v for k, v in (man.get("parameters") or {}).items() if k != "run_id"}
        else:
            tables = _read_sweep(c)
        if not tables["model"].empty:
            parts.append((c, tables))
    if not parts:
        raise InputError(f"{folder}: no tables found; expected model.parquet (a run folder from "
                         "`chipwar run`), model/*.parquet with manifest.json (a sweep folder from "
                         "`chipwar sweep`), or sub-folders holding either")
    # run folders of one scenario that differ in a parameter (not only in seed) are different groups
    scen_of = {c: str(t["model"]["scenario"].iloc[0]) for c, t in parts if c in run_params}
    differ: dict[str, list[str]] = {}
    for sc in set(scen_of.values()):
        same = [run_params[o] for o, s2 in scen_of.items() if s2 == sc]
        differ[sc] = sorted({k for a in same for k, v in a.items() if any(b.get(k) != v for b in same)})
    scen_n = len({t["model"]["scenario"].iloc[0] for _, t in parts})
    frames: dict[str, list[pd.DataFrame]] = {t: [] for t in TABLES}
    for c, tables in parts:
        for t in TABLES:
            df = tables[t]
            if df.empty:
                continue
            scen = df["scenario"].astype(str)
            if "point" in df:
                group = df["point"].astype(str)
                group = scen + ": " + group if scen_n > 1 else group
                group = group.where(df["point"].astype(str) != "", scen)
            else:
                extra = ", ".join(f"{k}={_fmt(run_params[c].get(k))}" for k in differ[scen_of[c]])
                group = scen + (f": {extra}" if extra else "")
            df = df.assign(group=group)
            if len(parts) > 1:
                df = df.assign(run_id=f"{c.name}/" + df["run_id"].astype(str))
            frames[t].append(df.drop(columns=["point"], errors="ignore"))
    out = {t: pd.concat(v, ignore_index=True) if v else pd.DataFrame() for t, v in frames.items()}
    return Tables(**out, source=folder, kind=kind)


# --------------------------------------------------------------------------- summary


@dataclass
class Summary:
    """``vendors``: one row per (group, year, vendor, region or bloc) with ``units`` and
    ``revenue_usd`` (the year's sum, mean over the group's runs) and ``unit_share`` /
    ``revenue_share`` of that region's purchases in the year. ``metrics``: one row per (group,
    year), headline metrics as described in :func:`summarise`."""

    vendors: pd.DataFrame
    metrics: pd.DataFrame

    def to_text(self, max_vendors: int | None = None, *, metrics: bool = True,
                vendors: bool = True) -> str:
        """Plain-text tables, one block per group (``max_vendors``: top N per region and year)."""
        out = []
        groups = dict.fromkeys(list(self.metrics["group"]) + list(self.vendors["group"]))
        for g in groups:
            m = self.metrics[self.metrics["group"] == g].drop(columns="group")
            v = self.vendors[self.vendors["group"] == g].drop(columns="group")
            runs = int(m["runs"].iloc[0]) if len(m) else None
            block = [f"== {g}" + (f" ({runs} run{'s' if runs != 1 else ''})" if runs else "")]
            if metrics and len(m):
                block.append("headline metrics by year\n" + _text(m))
            if vendors and len(v):
                by = v.columns[0]
                if max_vendors:
                    v = v.groupby([by, "year"], sort=False).head(max_vendors)
                top = f" (top {max_vendors} by units)" if max_vendors else ""
                block.append(f"vendors by {by} and year{top}, mean over runs\n" + _text(v))
            out.append("\n\n".join(block))
        return "\n\n".join(out)


def _text(df: pd.DataFrame) -> str:
    fmt = {c: (lambda x: f"{x:.1%}") for c in df.columns if c.endswith("share")}
    fmt.update({c: (lambda x: f"{x:,.0f}") for c in ("units", "revenue_usd") if c in df})
    return df.to_string(index=False, formatters=fmt, float_format=lambda x: f"{x:.3f}", na_rep="-")


def summarise(t: Tables, *, by: str = "region") -> Summary:
    """Summarise tables by year and group.

    Vendors: sums over the year's months, divided by the number of runs in the group (a vendor
    absent from a run counts as zero there); shares are of all vendors' units (revenue) in that
    region or bloc and year. Metrics: ``months`` simulated in the year, ``runs``, the year-end
    (last month) mean over runs of YEAR_END_METRICS, and two yearly flows:
    ``cn_domestic_share`` (China's purchased H100e on domestic stacks over all its purchases in
    the year) and ``nvidia_china_revenue_share`` (Nvidia's revenue in China over its revenue)."""
    if by not in ("region", "bloc"):
        raise InputError(f"by = {by!r}: expected region or bloc")
    md, ad, vd = t.model, t.adoption, t.vendors
    runs = md.groupby("group", sort=False)["run_id"].nunique()
    v = vd.assign(year=vd["date"].astype(str).str[:4].astype(int))
    if by == "bloc":
        blocs = ad.drop_duplicates("region").set_index("region")["bloc"]
        v = v.assign(bloc=v["region"].map(blocs))
    key = ["group", "year", by]
    yv = v.groupby(key + ["vendor"], sort=False)[["units", "revenue_usd"]].sum().reset_index()
    n = yv["group"].map(runs).astype(float)
    yv["units"] /= n
    yv["revenue_usd"] /= n
    tot = yv.groupby(key)[["units", "revenue_usd"]].transform("sum")
    yv["unit_share"] = yv["units"] / tot["units"].where(tot["units"] > 0)
    yv["revenue_share"] = yv["revenue_usd"] / tot["revenue_usd"].where(tot["revenue_usd"] > 0)
    order = {"group": {g: i for i, g in enumerate(runs.index)},
             by: {r: i for i, r in enumerate(dict.fromkeys(ad[by]))}}  # regions.csv order: us, cn, ...
    yv = yv.sort_values(["group", by, "year", "units"], ascending=[True, True, True, False],
                        key=lambda s: s.map(order[s.name]) if s.name in order else s, kind="stable")
    yv = yv[["group", by, "year", "vendor", "units", "revenue_usd", "unit_share", "revenue_share"]]
    return Summary(vendors=yv.reset_index(drop=True), metrics=_metrics(md, ad, vd, runs))


def _metrics(md: pd.DataFrame, ad: pd.DataFrame, vd: pd.DataFrame, runs: pd.Series) -> pd.DataFrame:
    m = md.assign(year=md["date"].astype(str).str[:4].astype(int))
    last = m[m["date"] == m.groupby(["run_id", "year"])["date"].transform("max")]
    cols = [c for c in YEAR_END_METRICS if c in m.columns]
    out = last.groupby(["group", "year"], sort=False)[cols].mean()
    out.insert(0, "months", m.groupby(["group", "year"], sort=False)["date"].nunique())
    out.insert(1, "runs", out.index.get_level_values("group").map(runs).to_numpy())
    a = ad[ad["region"] == "cn"].assign(year=ad["date"].astype(str).str[:4].astype(int))
    a = a.assign(dom=np.where(a["stack"].isin(DOMESTIC_STACKS), a["purchased_h100e"], 0.0))
    g = a.groupby(["group", "year"])[["dom", "purchased_h100e"]].sum()
    out["cn_domestic_share"] = g["dom"] / g["purchased_h100e"].where(g["purchased_h100e"] > 0)
    nv = vd[vd["vendor"] == "nvidia"].assign(year=vd["date"].astype(str).str[:4].astype(int))
    nv = nv.assign(cn=np.where(nv["region"] == "cn", nv["revenue_usd"], 0.0))
    g = nv.groupby(["group", "year"])[["cn", "revenue_usd"]].sum()
    out["nvidia_china_revenue_share"] = g["cn"] / g["revenue_usd"].where(g["revenue_usd"] > 0)
    return out.reset_index()
