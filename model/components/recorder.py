"""The recorder: the month's metrics (docs/ODD.md, Outputs) and rows of the three output tables,
kept as arrays per month and turned into Arrow/pandas tables on request."""

from __future__ import annotations

import math
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from agents.regulator import control_level
from model import kernels_recorder as kr
from model import metrics
from model.arrow_pool import take
from model.components.base import Component, MonthContext
from model.kernels_recorder import by_region3 as _by_region3
from model.months import month_label
from model.outputs import ADOPTION_COLUMNS, METRIC_NAMES, MODEL_COLUMNS, UNIT_METRICS, VENDOR_COLUMNS
from model.types import STACK_INDEX, STACKS

S = len(STACKS)
# the metrics month_rows computes, in its slots (the model table's first twelve columns)
_COMPUTED = METRIC_NAMES[:kr.N_COMPUTED]
assert _COMPUTED[kr.RATIO] == "us_cn_compute_ratio" and _COMPUTED[kr.HHI] == "hhi_world"
_BOUNDED = np.array([k in UNIT_METRICS for k in _COMPUTED])
# the row's values month_rows does not clamp to [0, 1] (UNIT_METRICS): the recorder does, as _record
_UNCLAMPED = ("hhi_world", "rare_earth_restriction", "us_control_level", "us_capacity_outside_taiwan_share")
_LABELS: dict[int, str] = {}  # month index -> its YYYY-MM label
_STR = pd.StringDtype(na_value=np.nan)  # pandas' default string dtype (``str``): Arrow data, NaN missing


def warm_up() -> None:
    """Compile (or load from the on-disk cache) the recorder's kernels: its own and the metrics'."""
    # the recorder's argument types: the month's purchases are a column slice of a block
    x, bought = np.ones((2, S)), np.ones((2, 3 * S))[:, S:2 * S]
    _by_region3(x, x, bought, np.zeros(2, dtype=np.int64), np.zeros(1, dtype=np.int64), 1)
    metrics.warm_up()
    i1, z = np.zeros(1, dtype=np.int64), np.zeros((1, 1))
    t = np.ones(2, dtype=np.bool_)
    kr.month_rows(x, x, bought, np.zeros(2, dtype=np.int64), i1, 1, i1, i1, i1, i1,
                  z, z, z, z, 0, np.ones(1), t[:1], i1, i1, np.ones(1), np.ones(2), t, t, _BOUNDED, 0, 1)


def _repeat_str(value: str, n: int, text: pa.DataType) -> pa.Array:
    """A string column holding ``value`` n times (built in Arrow, not as n Python strings)."""
    return take(pa.array([value], text), np.zeros(n, dtype=np.int64))


def _bifurcation(x: np.ndarray) -> float:
    """metrics.bifurcation_index of the (R, S) block, compiled where the kernel covers it (the
    same bits; numpy's function past that and for any input it refuses, which it raises on)."""
    R, S_ = x.shape
    if R * S_ <= 128 and S_ < 8:
        v = metrics.bifurcation_nb(x)
        if v == v:
            return float(min(1.0, max(0.0, v)))
    return metrics.bifurcation_index(x)


def _gs_dual_stack_share(b: Any) -> float:
    """The active Global-South buyers' dual-stack share, weighted by their share of their country:
    compiled in one pass (the same bits), else as _dual_stack_share of the selected rows."""
    v = metrics.dual_stack_share_nb(b.fleet_eff, b.share, b.is_gs, b.active, 0.10)
    if v == v:
        return float(v)
    gsb = b.is_gs & b.active
    return _dual_stack_share(b.fleet_eff[gsb], b.share[gsb]) if gsb.any() else 0.0


def _dual_stack_share(fleet: np.ndarray, weights: np.ndarray) -> float:
    """metrics.dual_stack_share, on Python floats for a few dozen buyers (the same bits) and in
    numpy past that, where its per-call cost is no longer the work."""
    if len(weights) <= 64:
        return metrics.dual_stack_share_rows(fleet.tolist(), weights.tolist())
    return metrics.dual_stack_share(fleet, weights=weights)


def _colsums(rows: list[list[float]], idx: list[int]) -> list[float]:
    """numpy's ``x[idx].sum(axis=0)`` of (R, S) rows as lists: down the rows in order, from the
    first (zeros for no row); tests/test_recorder_fast.py checks it against numpy."""
    if not idx:
        return [0.0] * S
    acc = rows[idx[0]]
    for i in idx[1:]:
        acc = [a + v for a, v in zip(acc, rows[i])]
    return list(acc)


def _share(part: float, total: float) -> float:
    return float(part / total) if total > 0 else np.nan


class Recorder(Component):
    """Records one row of metrics, the adoption block and the vendors' sales each month."""

    owns = ("records", "latest")
    reads = ("buyers", "offerings", "regions", "vendors", "policy", "ctx.units/gross/net/purchases")

    def __init__(self, start_month: int) -> None:
        self.start_month = start_month
        self.records: dict[str, list] = {"model": [], "adoption": [], "vendors": []}
        self.latest: dict[str, float] = {}
        self._lay: dict[str, Any] | None = None

    def _layout(self, model: Any) -> dict[str, Any]:
        """What the month's sums select, from the region and offering columns: rebuilt only when
        those columns are replaced (offerings are appended by replacing them, never in place);
        the regions' part only when theirs are."""
        reg, off = model.regions, model.offerings
        lay = self._lay
        if lay is not None:
            c = lay["cols"]
            if (c[3] is off.stack and c[4] is off.vendor and c[0] is reg.bloc and c[1] is reg.is_cn
                    and c[2] is reg.is_gs):
                return lay
        if lay is None or not (lay["cols"][0] is reg.bloc and lay["cols"][1] is reg.is_cn
                               and lay["cols"][2] is reg.is_gs):
            rows = {k: np.flatnonzero(m) for k, m in (("us", reg.bloc == "us"), ("cn", reg.is_cn), ("gs", reg.is_gs))}
            rows["all"] = np.arange(len(reg.bloc))
            lay = {
                # the regions' rows each stack sum adds, as lists (the sums are on Python floats) and arrays
                **{k: v.tolist() for k, v in rows.items()}, **{"rows_" + k: v for k, v in rows.items()},
                "c1": int(rows["cn"][0]) if len(rows["cn"]) == 1 else None,
            }
        else:
            lay = dict(lay)
        cols = (reg.bloc, reg.is_cn, reg.is_gs, off.stack, off.vendor)
        O = len(off.stack)
        onehot = np.zeros((O, S))
        onehot[np.arange(O), off.stack] = 1.0
        lay.update(cols=cols, onehot=onehot,  # holds the columns: their identity stays theirs
                   nvidia=np.flatnonzero(off.vendor == model.vendors.ids.index("nvidia")))
        self._lay = lay
        return lay

    def record(self, model: Any, ctx: MonthContext) -> None:
        """The month's metrics and table rows: in one compiled pass (kernels_recorder.month_rows)
        for one Chinese region, else, or where that pass flags an input it would refuse, the
        general code (``_record``), which gives the same bits."""
        b, off, pol = model.buyers, model.offerings, model.policy
        lay = self._layout(model)
        units, net, c1 = ctx.units, ctx.net, lay["c1"]
        shape = (len(off.stack), len(lay["rows_all"]))  # (O, R): the kernel reads unchecked, so checked here
        if (c1 is None or not b.region.size or b.n_regions != shape[1] or units.shape != shape
                or net.shape != shape or ctx.gross.shape != shape or ctx.region_price.shape != shape
                or ctx.purchases_peak.shape != b.fleet_eff.shape or len(off.peak) != shape[0]
                or not (units.flags.c_contiguous and net.flags.c_contiguous)):
            return self._record(model, ctx, lay)  # which raises on arrays that do not fit
        by_region, vals, flag, flat, sales = kr.month_rows(
            b.fleet_eff, b.fleet_peak, ctx.purchases_peak, b.region, b.region_starts, b.n_regions,
            lay["rows_us"], lay["rows_cn"], lay["rows_gs"], lay["rows_all"], units, ctx.gross, net,
            ctx.region_price, c1, off.peak, off.cn, off.vendor, lay["nvidia"], model.vendors.capacities(),
            b.share, b.is_gs, b.active, _BOUNDED, STACK_INDEX["cuda"], STACK_INDEX["cann"])
        if flag & ~kr.F_DUAL:
            return self._record(model, ctx, lay)
        month = ctx.month
        step = month - self.start_month
        date = _LABELS.get(month) or _LABELS.setdefault(month, month_label(month))
        v = vals.tolist()
        ws2 = vals[kr.N_COMPUTED:]
        v[kr.HHI] = float(np.dot(ws2, ws2))
        row = dict(zip(_COMPUTED, v))
        if flag:  # an entry the compiled share refuses: the general function (which raises)
            row["gs_dual_stack_share"] = _gs_dual_stack_share(b)
        row["rare_earth_restriction"] = float(pol.rare_earth)
        row["us_control_level"] = control_level(pol.us_rule)
        row["us_capacity_outside_taiwan_share"] = model.supply.foundry.outside_share
        for k in _UNCLAMPED if not flag else _UNCLAMPED + ("gs_dual_stack_share",):
            if k in UNIT_METRICS:  # the values month_rows did not clamp: as _record's loop
                x = row[k]
                if not (type(x) is float and 0.0 <= x <= 1.0) and math.isfinite(x):
                    row[k] = float(min(max(x, 0.0), 1.0))
        self.latest = row
        self.records["model"].append((step, date, row))
        eff = model.ecosystems.software.stack_efficiency(off.mix)  # (S,): the same for every region
        self.records["adoption"].append((step, date, by_region[:, S:2 * S], by_region[:, 2 * S:],
                                         ctx.gross.T @ lay["onehot"], eff, by_region))
        self.records["vendors"].append((step, date, flat, sales[0], sales[1], sales[2], sales[3], sales))

    def _record(self, model: Any, ctx: MonthContext, lay: dict[str, Any]) -> None:
        """The month as numpy functions and Python lists give it: any input (more than one Chinese
        region, no buyers), and where the compiled pass flags an input the metrics refuse."""
        b, off, reg, pol = model.buyers, model.offerings, model.regions, model.policy
        units_or, gross_or, net_or = ctx.units, ctx.gross, ctx.net
        step = ctx.month - self.start_month
        date = month_label(ctx.month)
        by_region = _by_region3(b.fleet_eff, b.fleet_peak, ctx.purchases_peak, b.region, b.region_starts,
                                b.n_regions) if b.region.size else b.by_region(
            np.hstack([b.fleet_eff, b.fleet_peak, ctx.purchases_peak]))
        inst_eff_rs, inst_peak_rs, buy_peak_rs = by_region[:, :S], by_region[:, S:2 * S], by_region[:, 2 * S:]
        spend_rs = gross_or.T @ lay["onehot"]
        cn = reg.is_cn
        inst = inst_eff_rs.tolist()  # (R, S) floats: the stack sums below are numpy's, in its order
        us_sh = _colsums(inst, lay["us"])
        cn_sh = _colsums(inst, lay["cn"])
        gs_inst = _colsums(inst, lay["gs"])
        world = _colsums(inst, lay["all"])
        # China's purchases by offering: units, H100e, spend; totals and the domestic part
        c1 = lay["cn"][0] if len(lay["cn"]) == 1 else None
        if c1 is not None:  # one Chinese region: a sum over one column is 0.0 + that column
            cn_units, cn_gross = units_or[:, c1] + 0.0, gross_or[:, c1] + 0.0
        else:
            cn_units, cn_gross = units_or[:, cn].sum(axis=1), gross_or[:, cn].sum(axis=1)
        by_off = np.vstack([cn_units * off.peak, cn_units, cn_gross])
        # (a column selection is not C-ordered: made so, each row sums as the 1-D vector did)
        tot, dom = by_off.sum(axis=1).tolist(), np.ascontiguousarray(by_off[:, off.cn]).sum(axis=1).tolist()
        cn_total = tot[0]
        nv = net_or[lay["nvidia"]]
        # (k, 1) selected or the k-long column: the same pairwise sum of the same k values
        nv_total, nv_cn = float(nv.sum()), float((nv[:, c1] if c1 is not None else nv[:, cn]).sum())
        gs_total = metrics._lsum(gs_inst)
        ws = metrics.shares_list(world)
        ws2 = metrics.shares_list(ws)  # hhi and top share normalise their input again
        ws2_a = np.array(ws2)
        row = {
            "bifurcation_index": _bifurcation(inst_eff_rs),
            "bloc_jsd": metrics.bloc_jsd_lists(us_sh, cn_sh),
            "hhi_world": float(np.dot(ws2_a, ws2_a)),
            "top_stack_share_world": float(max(ws2)) if ws2 else 0.0,
            "cn_domestic_share": float(dom[0] / cn_total) if cn_total > 0 else np.nan,
            "cn_domestic_unit_share": _share(dom[1], tot[1]),
            "cn_domestic_value_share": _share(dom[2], tot[2]),
            "nvidia_china_revenue_share": float(nv_cn / nv_total) if nv_total > 0 else np.nan,
            "gs_cuda_share": float(gs_inst[STACK_INDEX["cuda"]] / gs_total) if gs_total > 0 else 0.0,
            "gs_cann_share": float(gs_inst[STACK_INDEX["cann"]] / gs_total) if gs_total > 0 else 0.0,
            # buyers weighted by their share of their country: a country's firms count as one country
            "gs_dual_stack_share": _gs_dual_stack_share(b),
            "us_cn_compute_ratio": metrics.compute_ratio(metrics._lsum(us_sh), metrics._lsum(cn_sh)),
            "rare_earth_restriction": float(pol.rare_earth),
            "us_control_level": control_level(pol.us_rule),
            "us_capacity_outside_taiwan_share": model.supply.foundry.outside_share,
        }
        for k in UNIT_METRICS:  # shares and indices in [0, 1]: no float drift past the bounds
            v = row[k]
            if type(v) is float and 0.0 <= v <= 1.0:
                continue  # inside: clipping gives the value itself
            if math.isfinite(v):  # min(max()) on a float is np.clip's value, bit for bit
                row[k] = float(min(max(v, 0.0), 1.0))
        self.latest = row
        self.records["model"].append((step, date, row))
        eff = model.ecosystems.software.stack_efficiency(off.mix)  # (S,): the same for every region
        self.records["adoption"].append((step, date, inst_peak_rs, buy_peak_rs, spend_rs, eff, by_region))
        flat = np.flatnonzero(units_or > 0)  # np.argwhere's order; (row, column) = divmod(flat, R)
        cap = model.vendors.capacities()
        # offerings are only ever appended: the row flat // R names the same product for the run
        sales = np.array([units_or.ravel()[flat], net_or.ravel()[flat], ctx.region_price.ravel()[flat],
                          cap[off.vendor[flat // units_or.shape[1]]]], dtype=float)
        self.records["vendors"].append((step, date, flat, sales[0], sales[1], sales[2], sales[3], sales))

    def tables(self, model: Any) -> dict[str, pd.DataFrame]:
        """The three tables as pandas DataFrames: the numeric columns the arrays themselves, the
        string columns pandas' default ``str`` dtype over the same Arrow data (what
        ``arrow_tables()[name].to_pandas()`` gives, without the round trip through Arrow)."""
        return {name: pd.DataFrame({c: _STR.__from_arrow__(v) if isinstance(v, pa.Array) else v
                                    for c, v in cols.items()}, copy=False)
                for name, cols in self._columns(model, pa.large_string()).items()}

    def arrow_tables(self, model: Any) -> dict[str, pa.Table]:
        """The three tables as Arrow tables (string columns of type ``string``)."""
        return {name: pa.table(cols) for name, cols in self._columns(model, pa.string()).items()}

    def _columns(self, model: Any, text: pa.DataType) -> dict[str, dict[str, np.ndarray | pa.Array]]:
        """Each table's columns in order: numpy arrays, and Arrow arrays of type ``text`` for the
        strings, taken by code from small arrays of their distinct values (regions, stacks,
        products, dates): no Python string per row. Every array is new (none is the recorder's)."""
        run_id, reg, off = model.run_id, model.regions, model.offerings
        seed = model.seed if model.seed is not None else -1
        mrec = self.records["model"]
        n = len(mrec)
        steps = np.array([s for (s, _d, _r) in mrec], dtype=np.int64)
        dates = pa.array([d for (_s, d, _r) in mrec], type=text)
        model_cols = {"run_id": _repeat_str(run_id, n, text), "seed": np.full(n, seed, dtype=np.int64),
                      "step": steps, "date": dates}
        get, m = itemgetter(*METRIC_NAMES), len(METRIC_NAMES)  # one tuple per row; its columns made contiguous
        values = np.fromiter(chain.from_iterable([get(r) for (_s, _d, r) in mrec]), float, n * m).reshape(n, m).T.copy()
        model_cols.update(zip(METRIC_NAMES, values))
        arec = self.records["adoption"]
        R = len(reg)
        k = R * S
        rix = np.tile(np.repeat(np.arange(R), S), n)
        adoption = {
            "run_id": _repeat_str(run_id, n * k, text), "step": np.repeat(steps, k),
            "date": take(dates, np.repeat(np.arange(n), k)),
            "region": take(pa.array(reg.ids, text), rix),
            "bloc": take(pa.array(reg.bloc, text), rix),
            "stack": take(pa.array(STACKS, text), np.tile(np.arange(S), R * n)),
        }
        # the (R, S) blocks stacked row-major: each block's rows in order, as ravel gave them; the
        # installed and purchased blocks are columns of each month's (R, 3S) regional sums
        blocks = np.concatenate([a[6] for a in arec]) if n else np.zeros((0, 3 * S))
        adoption["installed_h100e"] = blocks[:, S:2 * S].ravel()
        adoption["purchased_h100e"] = blocks[:, 2 * S:].ravel()
        adoption["spend_usd"] = np.concatenate([a[4] for a in arec]).ravel() if n else np.zeros(0)
        # each month's (S,) efficiencies, the same for its R regions
        adoption["software_efficiency"] = (np.repeat(np.array([a[5] for a in arec]), R, axis=0).ravel()
                                           if n else np.zeros(0))
        recs = self.records["vendors"]  # one per model record: (step, date, flat, 4 value columns, the 4 as rows)
        counts = np.array([r[2].shape[0] for r in recs], dtype=np.int64)
        nz = np.column_stack(np.divmod(np.concatenate([r[2] for r in recs] + [np.zeros(0, dtype=np.int64)]), R))
        sales = np.concatenate([r[7] for r in recs] + [np.zeros((4, 0))], axis=1)

        vendors = {
            "run_id": _repeat_str(run_id, int(counts.sum()), text),
            "step": np.repeat(steps, counts),
            "date": take(dates, np.repeat(np.arange(n), counts)),
            "vendor": take(pa.array(model.vendors.ids, text), off.vendor[nz[:, 0]]),
            "product": take(pa.array(off.ids, text), nz[:, 0]),
            "region": take(pa.array(reg.ids, text), nz[:, 1]),
            "units": sales[0], "revenue_usd": sales[1], "price_usd": sales[2], "capacity_units": sales[3],
        }
        out = {"model": (model_cols, MODEL_COLUMNS), "adoption": (adoption, ADOPTION_COLUMNS),
               "vendors": (vendors, VENDOR_COLUMNS)}
        return {name: {c: cols[c] for c in order} for name, (cols, order) in out.items()}
