"""The catalog's systems as the offering table's first rows (Eq. M5): which systems are on the
market, their export-control TPP, and the table's columns for them, kept per process for the
packaged catalog (set-up is then copies, not pandas)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from model.cluster import Offerings
from model.cluster import tpp as tpp_of
from model.lifecycle import load_lifecycle
from model.months import month_index
from model.types import H100_BF16_TFLOPS, STACK_INDEX

REFERENCE_SYSTEM = "hgx-h100"
ARTHUR_B_SYSTEM = "atlas-800-910b"  # technology B of the Arthur docking (A is the reference)
NEVER = 10**9  # ``ends`` of a product without an announced end of production


def export_tpp(off: Offerings) -> np.ndarray:
    """Export-control TPP: the largest of dense TOPS x bit length over the chip's formats (Eq. P0)."""
    with np.errstate(invalid="ignore"):
        return np.nanmax(np.vstack([tpp_of(off.bf16_tflops, 16), tpp_of(off.fp8_tflops, 8),
                                    tpp_of(off.int8_tops, 8)]), axis=0)


def catalog_systems(catalog: Any, p: dict[str, Any]) -> pd.DataFrame:
    """The catalog systems on the market: every priced system, the real compliance parts (A800,
    H800, H20, RTX Pro 6000D, MI308X: chips with ``variant_of``) included on their real dates."""
    keep = catalog.systems[catalog.systems["price_usd"].notna()]
    if p["population"] == "arthur":  # two technologies, A (cuda) and B (cann), from the start
        keep = keep.loc[[REFERENCE_SYSTEM, ARTHUR_B_SYSTEM]].copy()
        keep["available"] = p["start"]
    return keep


_CATALOG_COLUMNS = ("ids", "chip", "parent", "parent_idx", "compliance", "ends", "successor", "vendor", "stack",
                    "cn", "available", "tpp", "density", "io", "list_price", "peak")
_STARTUP: dict[tuple, dict[str, Any]] = {}  # _catalog_columns per packaged catalog, per process


def _catalog_columns(catalog: Any, p: dict[str, Any], vendor_ids: list[str]) -> dict[str, Any]:
    """The offering table's columns for the catalog's systems (and ``core``, their Offerings)."""
    sysdf, chips = catalog_systems(catalog, p), catalog.chips
    off = Offerings.from_frame(sysdf, chips)
    ch = chips.loc[sysdf["chip"]]
    tpp = export_tpp(off)
    area = ch["die_area_mm2"].to_numpy(float)
    area = np.where(np.isnan(area), p["default_die_area_mm2"], area)
    # a catalog compliance part (variant_of) answers the rule that controls its parent's system
    parent = ch["variant_of"].fillna("").astype(str).to_numpy(dtype=object)
    first_system = {c: i for i, c in reversed(list(enumerate(off.chip)))}
    life = load_lifecycle(chips.index)
    end_of = {c: month_index(e) for c, (e, _s) in life.items() if e}
    return {
        "core": off, "ids": off.ids.copy(), "chip": off.chip.copy(), "parent": parent,
        "parent_idx": np.array([first_system.get(c, -1) if c else -1 for c in parent], dtype=int),
        "compliance": parent != "",
        "ends": np.array([end_of.get(c, NEVER) for c in off.chip], dtype=int),
        # the next generation's offering (its first system), -1 if none; designed ones added at launch
        "successor": np.array([first_system.get(life.get(c, ("", ""))[1], -1) for c in off.chip], dtype=int),
        "vendor": np.array([vendor_ids.index(v) for v in ch["vendor"]], dtype=int),
        "stack": np.array([STACK_INDEX[s] for s in ch["stack"]], dtype=int),
        "cn": ch["home_bloc"].to_numpy(dtype=object) == "cn",
        "available": np.array([month_index(a) for a in sysdf["available"]], dtype=int),
        "tpp": tpp, "density": tpp / area, "io": off.scaleup_gb_s.copy(),
        "list_price": off.price_usd_per_accel.copy(), "peak": off.bf16_tflops / H100_BF16_TFLOPS,
    }


def catalog_columns(catalog: Any, p: dict[str, Any], vendor_ids: list[str]) -> dict[str, Any]:
    """:func:`_catalog_columns`, kept per process for the packaged catalog (``Catalog.packaged``:
    its frames are read-only) under every input it reads; the caller copies what it keeps."""
    origin = getattr(catalog, "packaged", None)
    if origin is None:
        return _catalog_columns(catalog, p, vendor_ids)
    key = (origin, p["population"], p["start"] if p["population"] == "arthur" else None,
           float(p["default_die_area_mm2"]), tuple(vendor_ids))
    cols = _STARTUP.get(key)
    if cols is None:
        if len(_STARTUP) >= 64:
            _STARTUP.clear()
        cols = _STARTUP[key] = _catalog_columns(catalog, p, vendor_ids)
    return cols
