"""Regions.demand's per-process memo of the month's split (model/components/regions.py): a hit
is the fresh computation bit for bit, and every input it reads is in its key."""

from __future__ import annotations

import numpy as np

from model.components import regions as R
from model.market_model import ChipMarketModel


def _fresh(reg, month: int) -> np.ndarray:
    """Eq. D1 as the code computed it before the memo."""
    years = (month - reg.start_month) / 12.0
    cn_years = (min(month, reg.dates["cn_demand_trend_end"]) - reg.start_month) / 12.0
    w = reg.weight * np.where(reg.is_gs, np.exp(reg.p["gs_demand_catchup"] * years), 1.0)
    w = w * np.where(reg.is_cn, np.exp(reg.p["cn_demand_trend"] * max(cn_years, 0.0)), 1.0)
    return reg.world_demand(month) * w / w.sum()


def _same(a, b) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def test_demand_memo_hits_equal_fresh_and_key_covers_inputs():
    R._SPLIT.clear()
    m1, m2 = ChipMarketModel(rng=1), ChipMarketModel(rng=2)
    reg1, reg2 = m1.regions, m2.regions
    months = range(m1.start_month - 1, m1.start_month + 170, 7)
    for month in months:
        want = _fresh(reg1, month)
        assert _same(reg1.demand(month), want)
        assert _same(reg2.demand(month), want)  # a process-memo hit from the other model
        reg2.software_index = 1.37  # not in the memo's key: applied after it
        assert _same(reg2.demand(month), _fresh(reg2, month))
        reg2.software_index = 1.0
    month = m1.start_month + 30
    cases = [
        ("gs_demand_catchup", lambda r: r.p.__setitem__("gs_demand_catchup", r.p["gs_demand_catchup"] + 0.05)),
        ("cn_demand_trend", lambda r: r.p.__setitem__("cn_demand_trend", r.p["cn_demand_trend"] - 0.1)),
        ("cn_demand_trend_end", lambda r: r.dates.__setitem__("cn_demand_trend_end", month - 12)),
        ("weight", lambda r: setattr(r, "weight", r.weight * np.linspace(0.5, 1.5, len(r.weight)))),
        ("is_gs", lambda r: setattr(r, "is_gs", ~r.is_gs)),
        ("is_cn", lambda r: setattr(r, "is_cn", np.roll(r.is_cn, 1))),
        ("demand path", lambda r: setattr(r, "_demand_arrays", (r._demand_arrays[0], r._demand_arrays[1] + 0.3))),
        ("start", lambda r: setattr(r, "start_month", r.start_month - 5)),
    ]
    for name, change in cases:
        m = ChipMarketModel(rng=3)
        reg = m.regions
        reg.p, reg.dates = dict(reg.p), dict(reg.dates)
        before = reg1.demand(month)  # the unchanged inputs' answer (kept in the process memo)
        change(reg)  # before this model asks for the month
        got = reg.demand(month)
        assert _same(got, _fresh(reg, month)), name
        assert not _same(got, before), name
    got = reg1.demand(month)
    got[:] = -1.0  # a caller's copy: the memo is untouched
    assert _same(reg1.demand(month), _fresh(reg1, month))
