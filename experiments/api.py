"""chipwar from Python: the functions a notebook needs, each a thin layer over the public code.

    from experiments import api
    t = api.run_scenarios(["baseline", "h200_opening"], replications=3, end="2030-12", out="outputs/nb")
    api.summary(t).vendors            # units, revenue and shares by year, vendor and region
    api.figure("adoption", t)         # a matplotlib Figure (drawn by experiments.plots)
    api.price_at_electricity(["cloudmatrix-384", "gb200-nvl72"], [0.03, 0.08, 0.15])

Runs go through the model's boundary (``model.run.run_one``) or the sweep runner
(``experiments.runner``); figures through ``experiments.plots``; pricing through the
cluster-performance core (``model.cluster``). Nothing here re-implements the model. Bad input
raises ``model.errors.InputError`` (a ``ValueError``) naming the key, the value and what was
expected. The summary tables live in ``experiments.summary``; this module re-exports them.
"""

from __future__ import annotations

import importlib
import json
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.summary import Summary, Tables, read, summarise
from model.errors import InputError, did_you_mean

__all__ = [
    "Summary", "Tables", "export_csv", "figure", "parameters", "plot", "price",
    "price_at_electricity", "read", "run_design", "run_scenario", "run_scenarios", "scenarios",
    "summary",
]

TEST_BENCHES = frozenset({"arthur_docking"})  # shipped scenarios that are test benches, not questions


# --------------------------------------------------------------------------- what is there


def scenarios() -> pd.DataFrame:
    """Every shipped scenario: ``name``, the ``question`` it answers (from its header comment),
    its one-line ``description``, ``test_bench`` (True for ``arthur_docking``) and ``path``."""
    from model.scenario import SCENARIO_DIR, available_scenarios

    rows = []
    for name in available_scenarios():
        path = SCENARIO_DIR / f"{name}.toml"
        rows.append({"name": name, "question": scenario_question(path),
                     "description": _toml_description(path), "test_bench": name in TEST_BENCHES,
                     "path": str(path)})
    return pd.DataFrame(rows)


def scenario_question(path: str | Path) -> str:
    """The question a scenario file answers: its header comment up to the first '?' (the
    convention every shipped scenario follows), without the leading ``name —``."""
    lines = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    text = " ".join(x for x in lines if x)
    if " — " in text.split("?")[0]:
        text = text.split(" — ", 1)[1]
    return text[: text.index("?") + 1] if "?" in text else text


def _toml_description(path: Path) -> str:
    import tomllib

    return str(tomllib.loads(path.read_text(encoding="utf-8")).get("description", ""))


def check_scenario(name: str) -> str:
    """Return ``name`` if it is a shipped scenario or an existing .toml file; otherwise raise
    InputError with the nearest shipped names."""
    from model.scenario import available_scenarios

    names = available_scenarios()
    if name in names or (str(name).endswith(".toml") and Path(name).is_file()):
        return name
    raise InputError(f"scenario {name!r}: unknown{did_you_mean(name, names)}; expected one of "
                     f"{', '.join(names)} or a path to a .toml file")


def parameters(word: str | None = None) -> pd.DataFrame:
    """The parameter registry as a table: ``name, unit, default, low, high, kind, doc, source``.

    ``word`` keeps the rows whose name, doc or source contain it (case-insensitive). ``source``
    says where a default comes from (a docs/SOURCES.md section or the calibration) or
    ``assumed``."""
    from model.param_sources import BASIS
    from model.params import PARAMETERS, defaults

    defaults()  # imports the modules that register their own parameters
    rows = []
    for p in PARAMETERS.values():
        rng = ("one of " + ", ".join(p.choices)) if p.choices else None
        rows.append({"name": p.name, "unit": p.unit, "default": p.default, "low": p.low,
                     "high": p.high, "kind": p.kind.__name__, "range": rng or _range(p),
                     "doc": p.doc, "source": BASIS.get(p.name, "assumed")})
    df = pd.DataFrame(rows)
    if word:
        w = word.lower()
        keep = df[["name", "doc", "source"]].apply(lambda c: c.str.lower().str.contains(w, regex=False))
        df = df[keep.any(axis=1)].reset_index(drop=True)
    return df


def _range(p: Any) -> str:
    if p.kind is bool:
        return "true/false"
    if p.kind is str:
        return "YYYY-MM" if isinstance(p.default, str) and len(p.default) == 7 and p.default[4] == "-" else "text"
    lo = "-inf" if p.low is None else f"{p.low:g}"
    hi = "inf" if p.high is None else f"{p.high:g}"
    return f"[{lo}, {hi}]" + (" int" if p.kind is int else "")


# --------------------------------------------------------------------------- runs


def run_scenario(scenario: str = "baseline", seed: int = 0, *, end: str | None = None,
                 params: Mapping[str, Any] | None = None, out: str | Path | None = None) -> Tables:
    """One run of a scenario (``chipwar run`` from Python): returns its tables.

    ``params`` overrides model parameters (validated against the registry), ``end`` is the last
    month (YYYY-MM). With ``out`` the tables and a manifest are also written there, as
    ``chipwar run`` writes them, so ``chipwar summary|plot|export`` read the folder."""
    from model.run import build_model

    check_scenario(scenario)
    p = {**(params or {}), "scenario": scenario}
    if end is not None:
        p["end"] = end
    model = build_model(p, int(seed))  # validates every parameter before running
    model.run_model()
    tables = model.tables()
    if out is not None:
        from experiments.runner import code_version, package_versions

        _write_run(Path(out), tables, {"code_version": code_version(), "packages": package_versions(),
                                       "scenario": model.scenario_name, "scenario_file": str(model.spec.path),
                                       "seed": int(seed), "parameters": model.p,
                                       "steps": int(len(tables["model"]))})
    name = model.scenario_name
    return Tables.from_frames(tables, source=Path(out) if out else None, kind="run",
                              group=name, scenario=name)


def _write_run(out: Path, tables: Mapping[str, pd.DataFrame], manifest: dict[str, Any]) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(f"out = {out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    for key, df in tables.items():
        df.to_parquet(out / f"{key}.parquet", index=False)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))


def run_design(design: str | Path | Mapping[str, Any] | Any, out: str | Path | None = None, *,
               replications: int | None = None, quick: bool = False, workers: int | None = None,
               serial: bool = False, overwrite: bool = True, resume: bool = False) -> Tables:
    """Run a sweep design (a TOML path, a dict with the TOML's keys, or a ``runner.Design``)
    through ``experiments.runner.run_sweep`` and return its tables read back from ``out``.

    ``out`` defaults to a fresh temporary folder; an existing sweep there is replaced unless
    ``overwrite=False`` (then it is refused) or ``resume=True``. Raises InputError if any run
    failed (the tracebacks are in ``out/failures.jsonl``)."""
    from experiments.runner import Design, build_design, load_design, run_sweep

    if isinstance(design, Design):
        d = design
    elif isinstance(design, Mapping):
        d = build_design(dict(design), origin="design", base_dir=Path.cwd(),
                         replications=replications, quick=quick)
    else:
        d = load_design(design, replications=replications, quick=quick)
    out_dir = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="chipwar-sweep-"))
    res = run_sweep(d, out_dir, workers=workers, serial=serial, resume=resume,
                    overwrite=overwrite and not resume, progress=False)
    if res.n_failed:
        raise InputError(f"{res.n_failed} of {res.n_runs} runs failed; see {res.failures_path}")
    return read(out_dir)


def run_scenarios(names: Sequence[str], *, replications: int = 3, end: str | None = None,
                  params: Mapping[str, Any] | None = None, root_seed: int = 20220101,
                  out: str | Path | None = None, workers: int | None = None,
                  serial: bool = False) -> Tables:
    """Several scenarios side by side with shared seeds (run k of each scenario has the same
    seed, as in ``python -m experiments.scenarios``); one sweep per scenario under ``out``.
    The returned tables' ``group`` column is the scenario name."""
    for n in names:
        check_scenario(n)
    base = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="chipwar-scenarios-"))
    fixed = dict(params or {})
    if end is not None:
        fixed["end"] = end
    for n in names:
        spec = {"scenario": n, "sampler": "grid", "replications": int(replications),
                "root_seed": int(root_seed), "fixed": fixed, "parameters": {}}
        run_design(spec, base / Path(n).stem, workers=workers, serial=serial)
    return read(base)


def summary(source: str | Path | Tables, *, by: str = "region") -> Summary:
    """Yearly tables by vendor and region (``by="bloc"`` for blocs) and headline metrics by
    year, per scenario or design point; see ``experiments.summary.summarise``."""
    return summarise(source if isinstance(source, Tables) else read(source), by=by)


# --------------------------------------------------------------------------- pricing


def price(workload: str = "deepseek-r1-decode", systems: Sequence[str] | None = None, *,
          region: str = "us", accelerators: int | None = None) -> pd.DataFrame:
    """``chipwar price`` as a DataFrame: offerings ranked by cost per unit of useful work."""
    from experiments.commands.price import price_frame

    return price_frame(list(systems) if systems is not None else None, workload, region, accelerators)


def price_at_electricity(systems: Sequence[str], elec_usd_kwh: Iterable[float], *,
                         workload: str = "deepseek-r1-decode", pue: float = 1.2,
                         accelerators: int | None = None, energy_subsidy: float = 0.0) -> pd.DataFrame:
    """Price ``systems`` for one workload at each electricity price (USD/kWh), through the
    cluster core's ``evaluate`` (electricity prices as its regions). One row per (system,
    price): ``usd_per_mtok`` (serving) or ``usd_per_effective_pflop_hour`` (training),
    ``usd_per_hour``, ``facility_kw`` and ``energy_share`` (electricity's part of the hourly cost)."""
    from model.catalog import load_catalog
    from model.cluster import Offerings, Workloads, evaluate

    cat = load_catalog()
    ids = list(systems)
    unknown = [s for s in ids if s not in cat.systems.index]
    if unknown:
        raise InputError(f"unknown system {unknown[0]!r}{did_you_mean(unknown[0], cat.systems.index)}; "
                         f"valid ids: {', '.join(cat.systems.index)}")
    prices = np.asarray(list(elec_usd_kwh), dtype=float)
    if prices.size == 0 or not np.all(np.isfinite(prices)) or np.any(prices < 0):
        raise InputError(f"elec_usd_kwh = {prices.tolist()}: expected non-negative USD/kWh values")
    try:
        wl = Workloads.load(ids=[workload])
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None
    off = Offerings.from_frame(cat.systems.loc[ids], cat.chips)
    n = np.full(len(off), float(accelerators)) if accelerators else off.n_per_system.astype(float)
    res = evaluate(off, wl, n_accel=n, elec_usd_kwh=prices, pue=float(pue),
                   energy_subsidy=float(energy_subsidy))
    rows = []
    for i, sid in enumerate(off.ids.astype(str)):
        for r, e in enumerate(prices):
            kw = float(res.facility_kw[i, 0, r])
            usd_h = float(res.usd_per_hour[i, 0, r])
            rows.append({"system": sid, "stack": str(off.stack[i]), "workload": workload,
                         "elec_usd_kwh": float(e), "pue": float(pue), "accelerators": int(n[i]),
                         "usd_per_mtok": float(res.usd_per_mtok[i, 0, r]),
                         "usd_per_effective_pflop_hour": float(res.usd_per_effective_pflop_hour[i, 0, r]),
                         "usd_per_hour": usd_h, "facility_kw": kw,
                         "energy_share": kw * float(e) * (1 - energy_subsidy) / usd_h if usd_h > 0 else np.nan})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- figures and files

#: figure name -> (function in experiments.plots, the table it draws)
FIGURES: dict[str, tuple[str, str]] = {
    "adoption": ("make_adoption", "adoption"), "installed": ("make_installed", "adoption"),
    "bifurcation": ("make_bifurcation", "model"), "china": ("make_china", "model"),
    "gs_countries": ("make_gs_countries", "adoption"), "offerings": ("make_offerings", "price"),
}


def figure(name: str, data: Tables | pd.DataFrame, **kwargs: Any) -> Any:
    """One figure of ``experiments.plots`` as a matplotlib Figure (shown inline in a notebook).

    ``name`` is one of FIGURES; ``data`` is a Tables (its table is picked) or, for
    ``offerings``, a price table from ``price()``. ``kwargs`` go to the plots function."""
    if name not in FIGURES:
        raise InputError(f"figure {name!r}: unknown{did_you_mean(name, FIGURES)}; "
                         f"expected one of {', '.join(FIGURES)}")
    fn_name, table = FIGURES[name]
    plots = importlib.import_module("experiments.plots")
    fn = getattr(plots, fn_name)
    frame = data if isinstance(data, pd.DataFrame) else getattr(data, table)
    if name == "china":
        return fn(frame, kwargs.pop("observed", plots.load_observed_table()), **kwargs)
    if name == "gs_countries":
        from model.population import load_regions

        return fn(frame, load_regions(), **kwargs)
    return fn(frame, **kwargs)


def plot(folder: str | Path, out: str | Path | None = None, **kwargs: Any) -> list[Path]:
    """``chipwar plot FOLDER`` from Python: every figure that applies, PNGs and an index.html
    in ``out`` (default FOLDER/figures); returns the PNG paths."""
    return importlib.import_module("experiments.plots").plot_folder(folder, out, **kwargs)


def export_csv(folder: str | Path, dest: str | Path | None = None, *,
               overwrite: bool = False) -> list[Path]:
    """``chipwar export FOLDER --csv``: write the tables as CSV; see experiments.export."""
    from experiments.export import export_folder

    return export_folder(folder, dest, overwrite=overwrite)
