"""The recorder: the month's metrics (docs/ODD.md, Outputs) and rows of the three output tables,
kept as arrays per month and turned into Arrow/pandas tables on request."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from model import metrics
from model.components.base import Component, MonthContext
from model.months import month_label
from model.outputs import ADOPTION_COLUMNS, METRIC_NAMES, MODEL_COLUMNS, UNIT_METRICS, VENDOR_COLUMNS
from model.types import STACK_INDEX, STACKS

S = len(STACKS)


def _repeat_str(value: str, n: int) -> pa.Array:
    """A string column holding ``value`` n times (built in Arrow, not as n Python strings)."""
    return pc.take(pa.array([value], pa.string()), np.zeros(n, dtype=np.int64))


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

    def record(self, model: Any, ctx: MonthContext) -> None:
        b, off, reg, pol = model.buyers, model.offerings, model.regions, model.policy
        units_or, gross_or, net_or = ctx.units, ctx.gross, ctx.net
        step = ctx.month - self.start_month
        date = month_label(ctx.month)
        by_region = b.by_region(np.hstack([b.fleet_eff, b.fleet_peak, ctx.purchases_peak]))
        inst_eff_rs, inst_peak_rs, buy_peak_rs = by_region[:, :S], by_region[:, S:2 * S], by_region[:, 2 * S:]
        O = len(off)
        stack_onehot = np.zeros((O, S))
        stack_onehot[np.arange(O), off.stack] = 1.0
        spend_rs = gross_or.T @ stack_onehot
        us_bloc = reg.bloc == "us"
        cn, gs = reg.is_cn, reg.is_gs
        us_sh = inst_eff_rs[us_bloc].sum(axis=0)
        cn_sh = inst_eff_rs[cn].sum(axis=0)
        world = inst_eff_rs.sum(axis=0)
        cn_units = units_or[:, cn].sum(axis=1)
        cn_units_peak = cn_units * off.peak
        cn_total = cn_units_peak.sum()
        cn_spend = gross_or[:, cn].sum(axis=1)
        nvidia = off.vendor == model.vendors.ids.index("nvidia")
        nv_total = net_or[nvidia].sum()
        gs_inst = inst_eff_rs[gs].sum(axis=0)
        gs_total = gs_inst.sum()
        ws = metrics.stack_shares(world)
        gsb = b.is_gs & b.active
        row = {
            "bifurcation_index": metrics.bifurcation_index(inst_eff_rs),
            "bloc_jsd": metrics.bloc_jsd(us_sh, cn_sh),
            "hhi_world": metrics.hhi(ws),
            "top_stack_share_world": metrics.top_share(ws),
            "cn_domestic_share": float(cn_units_peak[off.cn].sum() / cn_total) if cn_total > 0 else np.nan,
            "cn_domestic_unit_share": _share(cn_units[off.cn].sum(), cn_units.sum()),
            "cn_domestic_value_share": _share(cn_spend[off.cn].sum(), cn_spend.sum()),
            "nvidia_china_revenue_share": (float(net_or[np.ix_(nvidia, cn)].sum() / nv_total)
                                           if nv_total > 0 else np.nan),
            "gs_cuda_share": float(gs_inst[STACK_INDEX["cuda"]] / gs_total) if gs_total > 0 else 0.0,
            "gs_cann_share": float(gs_inst[STACK_INDEX["cann"]] / gs_total) if gs_total > 0 else 0.0,
            # buyers weighted by their share of their country: a country's firms count as one country
            "gs_dual_stack_share": (metrics.dual_stack_share(b.fleet_eff[gsb], weights=b.share[gsb])
                                    if gsb.any() else 0.0),
            "us_cn_compute_ratio": metrics.compute_ratio(us_sh.sum(), cn_sh.sum()),
            "rare_earth_restriction": float(pol.rare_earth),
            "us_control_level": float(pol.us_control_level),
            "us_capacity_outside_taiwan_share": model.supply.foundry.outside_share,
        }
        for k in UNIT_METRICS:  # shares and indices in [0, 1]: no float drift past the bounds
            v = row[k]
            if math.isfinite(v):  # min(max()) on a float is np.clip's value, bit for bit
                row[k] = float(min(max(v, 0.0), 1.0))
        self.latest = row
        self.records["model"].append((step, date, row))
        eff = np.broadcast_to(model.ecosystems.software.stack_efficiency(off.mix), spend_rs.shape)
        self.records["adoption"].append((step, date, inst_peak_rs, buy_peak_rs, spend_rs, eff))
        nz = np.argwhere(units_or > 0)
        cap = model.vendors.capacities()
        # offerings are only ever appended: the index nz[:, 0] names the same product for the run
        self.records["vendors"].append((step, date, nz, units_or[nz[:, 0], nz[:, 1]],
                                        net_or[nz[:, 0], nz[:, 1]],
                                        ctx.region_price[nz[:, 0], nz[:, 1]],
                                        cap[off.vendor[nz[:, 0]]]))

    def tables(self, model: Any) -> dict[str, pd.DataFrame]:
        return {name: tab.to_pandas() for name, tab in self.arrow_tables(model).items()}

    def arrow_tables(self, model: Any) -> dict[str, pa.Table]:
        """The three tables as Arrow tables. String columns are taken by code from small arrays of
        their distinct values (regions, stacks, products, dates): no Python string per row."""
        run_id, reg, off = model.run_id, model.regions, model.offerings
        seed = model.seed if model.seed is not None else -1
        mrec = self.records["model"]
        n = len(mrec)
        steps = np.array([s for (s, _d, _r) in mrec], dtype=np.int64)
        dates = pa.array([d for (_s, d, _r) in mrec], type=pa.string())
        model_cols = {"run_id": _repeat_str(run_id, n), "seed": np.full(n, seed, dtype=np.int64),
                      "step": steps, "date": dates}
        for k in METRIC_NAMES:
            model_cols[k] = np.array([r[k] for (_s, _d, r) in mrec], dtype=float)
        arec = self.records["adoption"]
        R = len(reg)
        k = R * S
        rix = np.tile(np.repeat(np.arange(R), S), n)
        adoption = {
            "run_id": _repeat_str(run_id, n * k), "step": np.repeat(steps, k),
            "date": pc.take(dates, np.repeat(np.arange(n), k)),
            "region": pc.take(pa.array(reg.ids, pa.string()), rix),
            "bloc": pc.take(pa.array(reg.bloc, pa.string()), rix),
            "stack": pc.take(pa.array(STACKS, pa.string()), np.tile(np.arange(S), R * n)),
        }
        for i, name in enumerate(("installed_h100e", "purchased_h100e", "spend_usd", "software_efficiency"), start=2):
            adoption[name] = np.concatenate([a[i].ravel() for a in arec]) if n else np.zeros(0)
        recs = self.records["vendors"]  # one per model record: (step, date, nz, 4 value columns)
        counts = np.array([r[2].shape[0] for r in recs], dtype=np.int64)
        nz = np.concatenate([r[2] for r in recs] + [np.zeros((0, 2), dtype=np.int64)])

        def cat(i: int) -> np.ndarray:
            return np.concatenate([np.asarray(r[i], dtype=float) for r in recs] + [np.zeros(0)])

        vendors = {
            "run_id": _repeat_str(run_id, int(counts.sum())),
            "step": np.repeat(steps, counts),
            "date": pc.take(dates, np.repeat(np.arange(n), counts)),
            "vendor": pc.take(pa.array(model.vendors.ids, pa.string()), off.vendor[nz[:, 0]]),
            "product": pc.take(pa.array(off.ids, pa.string()), nz[:, 0]),
            "region": pc.take(pa.array(reg.ids, pa.string()), nz[:, 1]),
            "units": cat(3), "revenue_usd": cat(4), "price_usd": cat(5), "capacity_units": cat(6),
        }
        out = {"model": (model_cols, MODEL_COLUMNS), "adoption": (adoption, ADOPTION_COLUMNS),
               "vendors": (vendors, VENDOR_COLUMNS)}
        return {name: pa.table({c: cols[c] for c in order}) for name, (cols, order) in out.items()}
