"""The offering table: every system on (or coming to) the market as one struct of arrays - the
catalog's systems at set-up, then vendors' compliance variants and next generations, added
through one queue and launched in one core call per month (Eq. M5, V3, V6, V8)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from model.cluster import Offerings, Workloads, _Perf, performance, workload_memo
from model.components.base import Component, MonthContext
from model.components.offering_catalog import (  # noqa: F401  (names of the table's module)
    _CATALOG_COLUMNS,
    ARTHUR_B_SYSTEM,
    NEVER,
    REFERENCE_SYSTEM,
    catalog_columns,
    catalog_systems,
    export_tpp,
)
from model.kernels_offerings import live_mask
from model.months import month_label
from model.policy import OfferingView, USRule
from model.types import H100_BF16_TFLOPS

WORKLOAD_IDS = ("llama3-405b-train", "deepseek-v3-train", "deepseek-r1-prefill", "deepseek-r1-decode")
MIX_PARAMS = ("mix_train_dense", "mix_train_moe", "mix_prefill", "mix_decode")
# Columns of the table (one entry per offering; derived offerings are appended).
COLUMNS = ("ids", "chip", "parent", "parent_idx", "compliance", "vendor", "stack", "cn", "available",
           "tpp", "density", "io", "list_price", "peak", "value", "launch_cost", "ends", "successor")
#: Offerings fields the performance core does not read (names and price): not part of a row's key
_UNKEYED = ("ids", "chip", "price_usd_per_accel")
_PERF_CACHE: dict[tuple, dict[bytes, tuple[np.ndarray, ...]]] = {}
_OFFERING_FIELDS = tuple(f.name for f in dataclasses.fields(Offerings))
_PERF_CACHE_MAX = 20_000  # rows per (workloads, n_accel); cleared when full
_KEYED_FIELDS = tuple(f for f in _OFFERING_FIELDS if f not in _UNKEYED and f != "stack")  # + stack
_WORKLOAD_FIELDS = tuple(f.name for f in dataclasses.fields(Workloads))
_PERF_FIELDS = tuple(f.name for f in dataclasses.fields(_Perf))


def cached_performance(off: Offerings, wl: Workloads, n_accel: float) -> Any:
    """:func:`model.cluster.performance` through a per-process cache of its rows.

    The core is a pure function and row-independent (an offering's result does not depend on
    the other offerings in the call: tests/test_perf_cache.py checks it bit for bit), so each
    offering's result is kept under the bytes of its spec (every field the core reads) and only
    the rows never seen in this process are computed, in one call. Results are bit-identical
    to one uncached call on the whole batch."""
    spec = np.array([getattr(off, f) for f in _KEYED_FIELDS], dtype=np.float64).T  # (O, fields)
    keys = [row.tobytes() + str(s).encode() for row, s in zip(spec, off.stack)]
    cache = _PERF_CACHE.setdefault((_workload_key(wl), float(n_accel)), {})
    # rows are read once into ``rows`` and never back: safe when threads share the cache (the
    # dashboard's runs); a full cache is replaced by a new dict, never cleared under a reader
    rows = [cache.get(k) for k in keys]
    miss = [i for i, r in enumerate(rows) if r is None]
    if miss:
        if len(cache) + len(miss) > _PERF_CACHE_MAX:
            cache = _PERF_CACHE[(_workload_key(wl), float(n_accel))] = {}
        every = len(miss) == len(rows)  # a launch's new designs: all rows, in order
        new = performance(off if every else off.take(miss), wl, n_accel)
        cols = [np.asarray(getattr(new, f)) for f in _PERF_FIELDS]
        for j, i in enumerate(miss):
            rows[i] = cache[keys[i]] = tuple(c[j:j + 1] for c in cols)
        if every:  # copies (as the concatenation below): a caller never holds the cache's arrays
            return _perf_of([np.array(c) for c in cols])
    return _perf_of([np.concatenate([r[j] for r in rows]) for j in range(len(_PERF_FIELDS))])


def _perf_of(arrays: list[np.ndarray]) -> Any:
    """A ``_Perf`` of the core's own arrays (every field given: nothing to fill or check)."""
    perf = object.__new__(_Perf)
    for f, a in zip(_PERF_FIELDS, arrays):
        object.__setattr__(perf, f, a)
    return perf


def _workload_key(wl: Workloads) -> tuple:
    """The bytes of every field of ``wl`` (kept per process for read-only workloads)."""
    return workload_memo(wl, "cache_key", lambda w: tuple(np.asarray(getattr(w, f)).tobytes()
                                                          for f in _WORKLOAD_FIELDS))


def prefetch_performance(tables: list[Any]) -> None:
    """Fill the cache with the queued offerings of several tables (runs stepped together) in one
    core call per (workloads, cluster size): their own launches then find every row cached."""
    groups: dict[tuple[int, float], list[Any]] = {}
    for t in tables:
        if t._pending:
            groups.setdefault((id(t.workloads), float(t.p["train_accelerators"])), []).append(t)
    for (_w, n_accel), ts in groups.items():
        rows = [r for t in ts for _n, r in t._pending]
        if len(ts) > 1:
            batch = Offerings(**{f: np.array([r[f] for r in rows], dtype=getattr(ts[0].core, f).dtype)
                                 for f in _OFFERING_FIELDS})
            cached_performance(batch, ts[0].workloads, n_accel)


def _row_of(core: Offerings, oidx: int) -> dict[str, Any]:
    """Offering ``oidx`` of ``core`` as its fields' values (a designed row is checked at launch)."""
    return {f: getattr(core, f)[oidx] for f in _OFFERING_FIELDS}


class OfferingTable(Component):
    """Offerings as arrays indexed by offering (``ids``, ``vendor``, ``value``, ...), the core's
    inputs for them (``core``) and the decode performance used to price them each month."""

    owns = COLUMNS + ("core", "decode_perf", "thr", "live", "view")
    reads = ("params", "supply.cost_index")
    startup_params = ("train_accelerators", "default_die_area_mm2")

    def __init__(self, catalog: Any, p: dict[str, Any], vendor_ids: list[str],
                 cost_index: Callable[[int], float], start_month: int) -> None:
        self.p, self.vendor_ids, self.cost_index = p, vendor_ids, cost_index
        self.workloads = Workloads.load(ids=list(WORKLOAD_IDS))
        self._set_mix()
        self._decode_index = WORKLOAD_IDS.index("deepseek-r1-decode")  # prices use its hourly cost
        self._is_train = self.workloads.kind[None, :] == 0
        self._pending: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (columns, core fields)
        # the catalog's columns (kept per process for the packaged catalog): copies of them
        cols = catalog_columns(catalog, p, vendor_ids)
        kept = cols["core"]
        off = object.__new__(Offerings)
        for f in _OFFERING_FIELDS:
            object.__setattr__(off, f, getattr(kept, f).copy())
        self.core = off
        for c in _CATALOG_COLUMNS:
            setattr(self, c, cols[c].copy())
        self.thr, self.decode_perf = self._throughput(off)
        ref_i = list(self.ids).index(REFERENCE_SYSTEM)
        self._ref_thr = np.where(self.thr[ref_i] > 0, self.thr[ref_i], 1.0)
        self.value = self._value(self.thr)
        self.launch_cost = np.array([cost_index(int(a)) for a in self.available])
        self._sync_view()
        self.update_live(start_month)

    def __len__(self) -> int:
        return len(self.ids)

    # -- value of a unit -----------------------------------------------------------------------
    def _set_mix(self) -> None:
        w = np.array([self.p[k] for k in MIX_PARAMS], dtype=float)
        self.mix = w / w.sum()

    def on_set(self, model: Any, keys: set[str]) -> None:
        """A new workload mix re-weights every offering's value from this month on."""
        if keys & set(MIX_PARAMS):
            self._set_mix()
            self.value = self._value(self.thr)

    def _throughput(self, off: Offerings):
        """One core call per batch of offerings (Eq. M5): throughput (O, W) - effective PFLOPS of
        the whole cluster (training) or tokens/s per accelerator (serving) - and the decode
        workload's performance, kept to re-price the offerings every month (``cluster.price``)."""
        perf = cached_performance(off, self.workloads, self.p["train_accelerators"])
        with np.errstate(divide="ignore", invalid="ignore"):
            train = perf.tokens_per_s_total * perf.useful_flops_per_token / 1e15
            serve = np.where(perf.n > 0, perf.tokens_per_s_total / perf.n, 0.0)
        thr = np.where(self._is_train, train, serve)
        if not np.isfinite(thr).all():
            thr = np.nan_to_num(thr, nan=0.0)
        d = self._decode_index
        decode = _perf_of([np.asarray(getattr(perf, f))[:, d:d + 1] for f in _PERF_FIELDS])
        return thr, decode

    def _value(self, thr: np.ndarray) -> np.ndarray:
        """Useful work per unit: effective H100e on the workload mix (Eq. M5)."""
        return np.maximum((thr / self._ref_thr[None, :]) @ self.mix, 1e-3)

    def _sync_view(self) -> None:
        self.view = OfferingView(self.chip, self.parent, self.tpp, self.density, self.io, ~self.cn,
                                 self.cn, self.compliance, self.parent_idx)

    # -- questions -----------------------------------------------------------------------------
    def of_vendor(self, vidx: int) -> np.ndarray:
        return np.flatnonzero(self.vendor == vidx)

    def index(self, system_id: str) -> int:
        return list(self.ids).index(system_id)

    def controlled_us(self, rule: USRule) -> np.ndarray:
        """(O,) US-vendor offerings the rule controls."""
        v = self.view
        return rule.controlled(v.tpp, v.density, v.io_gb_s) & v.us_vendor

    def update_live(self, month: int) -> np.ndarray:
        """(O,) offerings in production this month (Eq. V8): released, before their end of
        production (``ends``, model/data/lifecycle.csv), younger than ``product_life_months``, and
        not superseded by generation: a vendor stops making a product ``supersede_months`` after
        its next generation ships (the catalog's successor, or the one the vendor designed)."""
        self.live = live_mask(self.available, self.ends, self.successor, self.compliance, self.parent_idx,
                              month, float(self.p["product_life_months"]), float(self.p["supersede_months"]))
        return self.live

    # -- new offerings: designed into a queue, launched in one core call -------------------------
    def design_variant(self, oidx: int, rule: USRule, month: int) -> int:
        """Queue a variant of offering ``oidx`` just under ``rule`` (Eq. V3); returns its index.

        Compute is cut to the largest TPP (and density) the rule leaves uncontrolled, less a
        design margin; under an I/O rule (2022) the compute is kept and the chip-to-chip I/O cut
        instead. Memory follows the rule too: under the 2024-12 HBM rule (``hbm_to_china``) a variant
        for China carries GDDR-class memory, at most ``variant_hbm_rule_gb`` GB and
        ``variant_hbm_rule_tb_s`` TB/s (the RTX Pro 6000D's answer); otherwise the parent's. On sale
        ``variant_lag_months`` later, priced by Eq. V4.
        """
        area = self.tpp[oidx] / self.density[oidx]
        tpp_max, io_max = rule.design_limits(area)
        margin = self.p["variant_margin"]
        tpp_cap = tpp_max * (1.0 - margin)
        scale = 1.0
        if np.isfinite(tpp_cap) and self.tpp[oidx] > tpp_cap:
            scale = tpp_cap / self.tpp[oidx]
        row = _row_of(self.core, oidx)
        io = row["scaleup_gb_s"]
        if io_max is not None:
            io = min(io, io_max * (1.0 - margin) * self.p["variant_io_fraction"])
        floor = self.p["variant_price_floor"]
        if rule.hbm_to_china:
            row["hbm_gb"] = np.minimum(row["hbm_gb"], self.p["variant_hbm_rule_gb"])
            row["hbm_tb_s"] = np.minimum(row["hbm_tb_s"], self.p["variant_hbm_rule_tb_s"])
        row.update(bf16_tflops=row["bf16_tflops"] * scale, fp8_tflops=row["fp8_tflops"] * scale,
                   int8_tops=row["int8_tops"] * scale, scaleup_gb_s=io,
                   price_usd_per_accel=row["price_usd_per_accel"] * (floor + (1.0 - floor) * scale))
        # Cutting I/O (2022) is a quick firmware/packaging change; cutting compute is a new SKU.
        lag = self.p["variant_io_lag_months"] if scale == 1.0 else self.p["variant_lag_months"]
        return self._queue(oidx, row, "variant", month + int(lag), compliance=True, tpp_scale=scale)

    def design_successor(self, oidx: int, gain: float, month: int) -> int:
        """Queue the next generation of offering ``oidx`` past the catalog's roadmap, with compute,
        memory bandwidth and interconnect x ``gain`` (Eq. V6); returns its index."""
        row = _row_of(self.core, oidx)
        row.update(
            bf16_tflops=row["bf16_tflops"] * gain, fp8_tflops=row["fp8_tflops"] * gain,
            int8_tops=row["int8_tops"] * gain, hbm_tb_s=row["hbm_tb_s"] * gain, hbm_gb=row["hbm_gb"] * gain ** 0.5,
            scaleup_gb_s=row["scaleup_gb_s"] * gain, scaleout_gb_s=row["scaleout_gb_s"] * gain ** 0.5,
            watts_allin=row["watts_allin"] * self.p["roadmap_power_growth"],
            price_usd_per_accel=row["price_usd_per_accel"] * self.p["roadmap_price_growth"])
        return self._queue(oidx, row, "next", month, compliance=False, tpp_scale=gain)

    def designed_id(self, oidx: int, tag: str, available: int) -> tuple[str, str]:
        """(system id, chip id) of a designed offering, saying what it is: ``nvidia-variant-2027-04-of-b300``
        (a compliance variant on sale 2027-04, cut from the B300) or ``huawei-next-2028-01-of-ascend-970``
        (a next generation past the catalog's roadmap, after the Ascend 970); never a real product's id."""
        vendor = self.vendor_ids[int(self.vendor[oidx])]
        head = f"{vendor}-{tag}-{month_label(available)}-of-"
        sys_id, chip = str(self.ids[oidx]), str(self.chip[oidx])
        if tag == "next":  # name a generation after the real product its line started from
            sys_id, chip = sys_id.rsplit("-of-", 1)[-1], chip.rsplit("-of-", 1)[-1]
        return head + sys_id, head + chip

    def _queue(self, oidx: int, row: dict[str, Any], tag: str, available: int, *,
               compliance: bool, tpp_scale: float) -> int:
        sys_id, chip = self.designed_id(oidx, tag, available)
        row["ids"], row["chip"] = sys_id, chip
        new = {
            "ids": sys_id, "chip": chip, "parent": self.chip[oidx] if compliance else "",
            "parent_idx": oidx if compliance else -1, "compliance": compliance,
            "vendor": self.vendor[oidx], "stack": self.stack[oidx], "cn": self.cn[oidx],
            "available": available, "tpp": self.tpp[oidx] * tpp_scale,
            "density": self.density[oidx] * tpp_scale, "io": row["scaleup_gb_s"],
            "list_price": row["price_usd_per_accel"], "peak": row["bf16_tflops"] / H100_BF16_TFLOPS,
            "launch_cost": self.cost_index(available),
            "ends": self.ends[oidx] if compliance else NEVER,  # a variant ends with its parent's die
            "successor": -1, "_after": -1 if compliance else oidx,
        }
        self._pending.append((new, row))
        return len(self.ids) + len(self._pending) - 1

    @property
    def queued(self) -> int:
        return len(self._pending)

    def launch(self, model: Any = None, ctx: MonthContext | None = None) -> None:
        """Append the queued offerings to every column; the core prices them in one call."""
        if not self._pending:
            return
        news = [n for n, _r in self._pending]
        designed = [r for _n, r in self._pending]
        self._pending = []
        n0 = len(self.ids)
        # the core's table with the designed rows appended; every row field must hold one value
        core = _appended({f: getattr(self.core, f) for f in _OFFERING_FIELDS},
                         {f: [r[f] for r in designed] for f in _OFFERING_FIELDS})
        rows = object.__new__(Offerings)
        for f in _OFFERING_FIELDS:
            object.__setattr__(rows, f, core[f][n0:])
        thr, decode = self._throughput(rows)
        value = self._value(thr)
        for i, n in enumerate(news):
            n["value"] = value[i]
        cols = _appended({c: getattr(self, c) for c in COLUMNS}, {c: [n[c] for n in news] for c in COLUMNS})
        for c in COLUMNS:
            setattr(self, c, cols[c])
        self.thr = np.vstack([self.thr, thr])
        self.core = object.__new__(Offerings)  # two valid tables end to end: nothing to re-validate
        for f in _OFFERING_FIELDS:
            object.__setattr__(self.core, f, core[f])
        self.decode_perf = _perf_of([np.concatenate((getattr(self.decode_perf, f), getattr(decode, f)))
                                     for f in _PERF_FIELDS])
        for i, n in enumerate(news):  # a designed next generation supersedes the product it follows
            if n["_after"] >= 0:
                self.successor[n["_after"]] = n0 + i
        self._sync_view()
        self.live = np.concatenate((self.live, np.zeros(len(news), bool)))  # pricing sets it this month


def _appended(old: dict[str, np.ndarray], new: dict[str, list]) -> dict[str, np.ndarray]:
    """Each column of ``old`` followed by its ``new`` values, in its own dtype: one block per dtype
    whose rows are the columns (C-contiguous views of a fresh allocation; ``old`` is never
    written). A new entry that is not one value is a ValueError."""
    groups: dict[np.dtype, list[str]] = {}
    for c, a in old.items():
        groups.setdefault(a.dtype, []).append(c)
    out: dict[str, np.ndarray] = {}
    for dt, names in groups.items():
        n0, m = len(old[names[0]]), len(new[names[0]])
        vals = np.array([x for c in names for x in new[c]], dtype=dt)
        if vals.shape != (len(names) * m,):
            raise ValueError(f"new offerings: columns {names} need one value per offering, got {vals.shape}")
        block = np.empty((len(names), n0 + m), dtype=dt)
        block[:, n0:] = vals.reshape(len(names), m)
        for j, c in enumerate(names):
            row = out[c] = block[j]
            row[:n0] = old[c]
    return out
