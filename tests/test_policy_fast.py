"""The rule engine's memos (model.policy.availability_fast: name masks extended when offerings
are appended, region masks kept; pricing's memo of the month's tables) give, month by month over
launches, licences and bans, the tables model.policy.availability computes afresh (issue 19)."""

from __future__ import annotations

import numpy as np

from model.components.base import MonthContext
from model.market_model import ChipMarketModel
from model.policy import availability


def test_availability_fast_is_availability_every_month_over_launches():
    m = ChipMarketModel(rng=4, end="2031-12")
    pr, pol, reg = m.pricing, m.policy, m.regions
    grown = checked = 0
    while m.running:
        n0 = len(m.offerings)
        ctx = MonthContext(m.month)
        for phase in m.plan:
            phase(m, ctx)
            if phase.name == "pricing.price":
                off = m.offerings
                got = pr._availability(pol, off, reg, m.month)
                want = availability(pol, off.view, reg.tier, reg.ids, reg.is_cn, m.month)
                for g, w in zip(got, want):
                    assert g.dtype == w.dtype and np.array_equal(g, w), m.month
                checked += 1
        grown += len(m.offerings) > n0 and bool(pol.licences) and bool(pol.cn_bans)
        m.datacollector.collect(m)
        m.month += 1
        m.running = m.month <= m.end_month
    assert grown > 5 and checked > 100  # launches under licences and bans were among the months
