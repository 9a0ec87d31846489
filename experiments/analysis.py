"""Outcome extraction shared by the experiment scripts: one row per run at a month.

``outcomes(tables, month)`` turns a sweep's long tables (docs/ODD.md "Metrics and output tables")
into a tidy frame with the run's varied parameters, every ``model`` metric at ``month`` and a
lock-in flag; the scripts
summarise, plot and analyse that frame. The rest is plumbing the scripts share (reading a
design file, running it, drawing a figure if ``experiments.plots`` has the function).

Lock-in (``locked_in``): a run is locked in at ``month`` when the US bloc and China (the two
blocs whose policies the model is about) each hold at least ``LOCK_IN_SHARE`` of their
installed H100e on one stack, the same stack in each of the ``LOCK_IN_MONTHS`` months up to
``month``. Why this definition: lock-in in Arthur's (1989) sense is an installed base so
concentrated that the alternative cannot recover, and the installed base is what carries the
network value in the model (docs/ODD.md "Lock-in"); it is judged per bloc because the world share is
dominated by the US bloc's volume (``top_stack_share_world`` > 0.9 with China on no single
stack); it must hold for a year so a momentary peak does not count. ``lock_in_kind`` says
whether the blocs locked into the same stack (``same``: one world market) or different ones
(``split``: a bifurcated world).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import re
import sys
import tomllib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model import months
from model.errors import InputError
from model.main_guard import refuse_unguarded_script
from model.outputs import METRIC_NAMES

LOCK_IN_SHARE = 0.9
LOCK_IN_MONTHS = 12
LOCK_IN_BLOCS: tuple[str, ...] = ("us", "cn")
METRICS: tuple[str, ...] = METRIC_NAMES  # the output schema's model metrics
_BOOKKEEPING = ("run_id", "seed", "replication", "step", "date")
DESIGN_DIR = Path(__file__).parent / "designs"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


# --------------------------------------------------------------------------- months


def month_number(date: str) -> int:
    """'YYYY-MM' -> months since year 0 (so differences are month counts)."""
    text = str(date)
    if not _MONTH.match(text):
        raise InputError(f"month {text!r}: expected YYYY-MM with a month 01-12")
    return months.month_index(text)


def month_label(n: int) -> str:
    """Inverse of month_number."""
    return months.month_label(n)


def resolve_month(model: pd.DataFrame, month: str | None) -> str:
    """``month`` checked to be reached by every run; None -> the last month every run reached."""
    if model.empty:
        raise InputError("no runs finished: the model table is empty")
    last = model.groupby("run_id")["date"].max().astype(str)
    if month is None:
        return str(last.min())
    month_number(month)
    short = last[last.map(month_number) < month_number(month)]
    if len(short):
        raise InputError(
            f"month {month}: runs end earlier ({short.iloc[0]} for run {short.index[0]}); "
            f"months available {model['date'].min()}..{last.min()}"
        )
    return month


def param_column(df: pd.DataFrame, name: str) -> str:
    """The column holding swept parameter ``name``: the runner stamps a parameter that shares
    its name with a metric (us_control_level) as ``param_<name>``, keeping the metric intact."""
    return f"param_{name}" if f"param_{name}" in df.columns else name


def varied_columns(model: pd.DataFrame) -> list[str]:
    """The design's varied parameters: the columns a sweep stamped beyond the output contract
    (docs/ODD.md "Metrics and output tables")."""
    return [c for c in model.columns if c not in METRICS and c not in _BOOKKEEPING]


# --------------------------------------------------------------------------- lock-in


def bloc_stack_shares(adoption: pd.DataFrame, blocs: Sequence[str] = LOCK_IN_BLOCS) -> pd.DataFrame:
    """Installed-H100e share of each stack per (run, month, bloc).

    Columns run_id, date, bloc, stack, share."""
    need = {"run_id", "date", "bloc", "stack", "installed_h100e"}
    if not need <= set(adoption.columns):
        raise InputError(f"adoption table lacks columns {sorted(need - set(adoption.columns))}")
    a = adoption[adoption["bloc"].astype(str).isin(blocs)]
    g = a.groupby(["run_id", "date", "bloc", "stack"], observed=True, as_index=False)["installed_h100e"].sum()
    total = g.groupby(["run_id", "date", "bloc"], observed=True)["installed_h100e"].transform("sum")
    g["share"] = (g["installed_h100e"] / total.where(total > 0)).astype(float)
    return g.drop(columns="installed_h100e")


def lock_in(
    adoption: pd.DataFrame,
    month: str,
    *,
    share: float = LOCK_IN_SHARE,
    months: int = LOCK_IN_MONTHS,
    blocs: Sequence[str] = LOCK_IN_BLOCS,
) -> pd.DataFrame:
    """Per run: each bloc's top stack and share at ``month`` and the lock-in flag (module doc).

    Columns: run_id, ``<bloc>_top_stack``, ``<bloc>_top_share`` for each bloc, ``locked_in``
    (bool), ``lock_in_kind`` ('none', 'same' or 'split').
    """
    if not 0 < share <= 1 or months < 1:
        raise InputError(f"lock-in share {share} must be in (0, 1] and months {months} >= 1")
    end = month_number(month)
    sh = bloc_stack_shares(adoption, blocs)
    mn = sh["date"].astype(str).map(month_number)
    win = sh[(mn > end - months) & (mn <= end)]
    if win.empty:
        raise InputError(
            f"lock-in at {month}: the adoption table has no rows in the {months} months up to it"
        )
    top = win.sort_values(
        "share", ascending=False, kind="stable", na_position="last"
    ).drop_duplicates(["run_id", "date", "bloc"])
    top = top.assign(share=top["share"].fillna(0.0))  # a bloc with nothing installed is not locked
    expected = min(months, end - int(mn.min()) + 1)  # window months the tables can hold
    runs = pd.Index(sorted(adoption["run_id"].astype(str).unique()), name="run_id")
    out = pd.DataFrame(index=runs)
    locked = pd.Series(True, index=runs)
    for b in blocs:
        tb = top[top["bloc"] == b]
        at = tb[tb["date"].astype(str) == month].set_index("run_id")
        out[f"{b}_top_stack"] = at["stack"].astype(str).reindex(runs)
        out[f"{b}_top_share"] = at["share"].reindex(runs).astype(float)
        per = tb.groupby("run_id").agg(
            min_share=("share", "min"), n_stacks=("stack", "nunique"), n_months=("date", "nunique")
        )
        per = per.reindex(runs)
        ok = (per["min_share"] >= share) & (per["n_stacks"] == 1) & (per["n_months"] == expected)
        locked &= ok.fillna(False).astype(bool)
    out["locked_in"] = locked
    stacks = out[[f"{b}_top_stack" for b in blocs]]
    same = stacks.nunique(axis=1) == 1
    out["lock_in_kind"] = np.where(~locked, "none", np.where(same, "same", "split"))
    return out.reset_index()


# --------------------------------------------------------------------------- outcomes


def outcomes(tables: dict[str, pd.DataFrame], month: str | None = "2035-12", *,
             lock_share: float = LOCK_IN_SHARE, lock_months: int = LOCK_IN_MONTHS) -> pd.DataFrame:
    """One row per run: run_id, seed, replication, the varied parameters, every model metric at
    ``month`` (None: the last month all runs reached) and the lock-in columns of ``lock_in``."""
    model = tables.get("model", pd.DataFrame())
    month = resolve_month(model, month)
    at = model[model["date"].astype(str) == month]
    keep = [c for c in ("run_id", "seed", "replication") if c in at.columns]
    keep += varied_columns(model) + [m for m in METRICS if m in at.columns]
    out = at[keep].drop_duplicates("run_id").reset_index(drop=True)
    out.insert(1, "month", month)
    adoption = tables.get("adoption", pd.DataFrame())
    if adoption.empty:
        raise InputError("outcomes: the adoption table is empty; lock-in needs installed compute")
    li = lock_in(adoption, month, share=lock_share, months=lock_months)
    return out.merge(li, on="run_id", how="left", validate="one_to_one")


def wilson_interval(k: float, n: float, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion k/n (sensible for 0 or n successes)."""
    if n <= 0:
        return (math.nan, math.nan)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def summarise(df: pd.DataFrame, by: Sequence[str], metrics: Sequence[str]) -> pd.DataFrame:
    """Mean and standard deviation of ``metrics`` per group, the run count and, when the frame has
    ``locked_in``, the lock-in probability with its 95 % Wilson interval."""
    g = df.groupby(list(by), observed=True, sort=True)
    parts = [g.size().rename("runs")]
    for m in metrics:
        parts += [g[m].mean().rename(f"{m}_mean"), g[m].std(ddof=1).rename(f"{m}_sd")]
    out = pd.concat(parts, axis=1)
    if "locked_in" in df.columns:
        k = g["locked_in"].sum()
        out["lock_in_prob"] = k / out["runs"]
        ci = [wilson_interval(float(a), float(n)) for a, n in zip(k, out["runs"])]
        out["lock_in_low"] = [c[0] for c in ci]
        out["lock_in_high"] = [c[1] for c in ci]
    return out.reset_index()


def vendor_blocs() -> pd.Series:
    """Vendor id -> home bloc, from the packaged vendors table (model/data/vendors.csv)."""
    from model.population import load_vendors

    return load_vendors()["bloc"].astype(str)


def bloc_price(vendors: pd.DataFrame, bloc: str = "us") -> pd.DataFrame:
    """Units-weighted mean ``price_usd`` of a bloc's vendors per (run, month).

    Columns run_id, date, price_usd.

    Months where the bloc sold nothing have NaN (no price was paid)."""
    need = {"run_id", "date", "vendor", "units", "price_usd"}
    if not need <= set(vendors.columns):
        raise InputError(f"vendors table lacks columns {sorted(need - set(vendors.columns))}")
    home = vendors["vendor"].astype(str).map(vendor_blocs())
    v = vendors[home == bloc]
    w = v["units"].astype(float).clip(lower=0.0)
    t = pd.DataFrame(
        {"run_id": v["run_id"], "date": v["date"], "w": w, "wp": w * v["price_usd"].astype(float)}
    )
    g = t.groupby(["run_id", "date"], as_index=False)[["w", "wp"]].sum()
    g["price_usd"] = g["wp"] / g["w"].where(g["w"] > 0)
    return g[["run_id", "date", "price_usd"]]


# --------------------------------------------------------------------------- script plumbing


def add_common_arguments(p: argparse.ArgumentParser, month: str | None) -> None:
    """Arguments every analysis script adds to experiments.common.parser's."""
    p.add_argument("--month", default=month, type=_month_arg,
                   help=f"month the outcomes are read at, YYYY-MM (default {month or 'the last month'}; "
                        "--quick: the last simulated month)")
    p.add_argument("--design", type=Path, default=None,
                   help="design file (default experiments/designs/<script>.toml)")


def _month_arg(text: str) -> str:
    """argparse type for YYYY-MM (a bad value exits 2 with the message)."""
    try:
        month_number(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def read_spec(path: str | Path) -> dict[str, Any]:
    """A design file's content as a dict (validated later by experiments.runner.build_design)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"design file {path}: not found")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a valid TOML design: {exc}") from None


def prepare_spec(args: argparse.Namespace, name: str, month: str | None, quick_end: str,
                 quick_seeds: int = 2, **quick: Any) -> tuple[dict[str, Any], str | None]:
    """The script's design (``--design`` or experiments/designs/<name>.toml) and the month its
    outcomes are read at; ``--quick`` shrinks the design (``quick_spec``) and the seeds."""
    spec = read_spec(args.design or DESIGN_DIR / f"{name}.toml")
    read_at = args.month or (None if args.quick else month)
    if args.quick:
        spec = quick_spec(spec, end=quick_end, **quick)
        args.seeds = min(args.seeds, quick_seeds)
    return spec, read_at


class AllRunsFailed(RuntimeError):
    """No run of a design finished: nothing to analyse (exit 1, not a bad-input 2)."""


def guard(go: Callable[[], int]) -> int:
    """common.main_guard (bad input -> 2) plus: every run failed -> 1, with a message."""
    from experiments.common import main_guard
    from experiments.runner import SweepInterrupted

    def inner() -> int:
        try:
            return go()
        except (AllRunsFailed, SweepInterrupted) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    return main_guard(inner)


def run_spec(spec: dict[str, Any], args: argparse.Namespace, out: Path, *, origin: str, executor: Any = None):
    """Build the design (``args.seeds`` replications) and run it into ``out`` (replacing an
    earlier sweep there) on ``executor`` if given, else as ``args`` says.

    Returns (design, result)."""
    from experiments.runner import build_design, run_sweep

    if args.seeds is not None and args.seeds < 1:
        raise InputError(f"--seeds {args.seeds}: expected at least 1")
    design = build_design(spec, origin=origin, base_dir=DESIGN_DIR, replications=args.seeds)
    where = {"executor": executor} if executor is not None else {"workers": args.workers, "serial": args.serial}
    res = run_sweep(design, out, overwrite=True, **where)
    print(res.summary())
    if res.n_ok == 0:
        raise AllRunsFailed(f"every run failed; tracebacks in {res.failures_path}")
    return design, res


@contextlib.contextmanager
def shared_pool(args: argparse.Namespace) -> Iterator[Any]:
    """One process pool for a script that runs several designs (None when --serial): saves a
    pool start-up per design. Shut down on exit."""
    if args.serial:
        if args.workers is not None:
            raise InputError("choose --serial or --workers, not both")
        yield None
        return
    import concurrent.futures as cf
    import multiprocessing

    from experiments.runner import default_workers

    n = args.workers if args.workers is not None else default_workers()
    if n < 1:
        raise InputError(f"--workers {n}: expected at least 1")
    refuse_unguarded_script("a pool of worker processes", "--serial")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["experiments.runner", "model.run", "model._exit_quick"])
    pool = cf.ProcessPoolExecutor(max_workers=n, mp_context=ctx)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def plot_function(name: str) -> Callable[..., Path] | None:
    """``experiments.plots.<name>`` if that module has it, else None (with a printed note)."""
    try:
        from experiments import plots
    except ImportError as exc:  # pragma: no cover - plots module missing
        print(f"note: no figures ({exc})")
        return None
    fn = getattr(plots, name, None)
    if fn is None:
        print(f"note: experiments.plots has no {name}(); that figure is skipped")
    return fn


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """Write a CSV (floats to 6 significant digits) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, float_format="%.6g")
    return path


def quick_spec(spec: dict[str, Any], *, end: str, samples: int | None = None,
               keep: int | None = None) -> dict[str, Any]:
    """A shrunken copy of a design spec for --quick: horizon ``end``, grid lists cut to their
    first and last values, ``samples`` (if given) and only the first ``keep`` parameters."""
    spec = {k: (dict(v) if isinstance(v, dict) else v) for k, v in spec.items()}
    spec["fixed"] = {**spec.get("fixed", {}), "end": end}
    params = spec.get("parameters", {})
    if keep is not None:
        params = dict(list(params.items())[:keep])
    if spec.get("sampler", "grid") == "grid":
        params = {k: v if not isinstance(v, list) or len(v) <= 2 else [v[0], v[-1]] for k, v in params.items()}
    spec["parameters"] = params
    if samples is not None:
        spec["samples"] = samples
    return spec


def draw_figures(out: Path, figures: list[tuple[Path | None, str]], title: str) -> Path | None:
    """Write out/figures/index.html for the figures drawn (None entries were skipped)."""
    drawn = [(p, c) for p, c in figures if p is not None]
    write_index = plot_function("write_index")
    if not drawn or write_index is None:
        return None
    return write_index(out / "figures", drawn, title)
