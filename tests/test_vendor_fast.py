"""The vendors' monthly decisions computed in one pass for all vendors give exactly what each
vendor computed alone (issue 19): the anchored capacity path, the newest own release and the
compliance-variant candidates."""

from __future__ import annotations

import numpy as np
import pytest

from model.components.base import MonthContext
from model.market_model import ChipMarketModel


@pytest.fixture(scope="module")
def mid_run() -> ChipMarketModel:
    m = ChipMarketModel(rng=3)
    while m.month < 2028 * 12 + 3:
        m.step()
    return m


def test_anchor_path_is_the_scalar_path_bit_for_bit():
    m = ChipMarketModel(rng=0)
    checked = 0
    for v in m.vendors:
        path = v._anchor_path(m.start_month)
        assert path, v.vendor_id
        for i, got in enumerate(path):
            want = v._anchor_value(m.start_month + i)
            assert got == want and type(got) is float, (v.vendor_id, i, got, want)
            checked += 1
        # the first month past the table is past the last anchor
        assert (m.start_month + len(path)) / 12.0 > v.anchors[0][-1]
    assert checked > 12 * 24


def test_anchor_path_follows_the_start_month():
    m = ChipMarketModel(rng=0)
    v = m.vendors[0]
    a = list(v._anchor_path(m.start_month))
    b = v._anchor_path(m.start_month + 5)
    assert b == a[5:]
    assert v._anchor_path(m.start_month) == a


def _naive_newest(off, vidx):
    mine = (off.vendor == vidx) & ~off.compliance
    return int(off.available[mine].max()) if mine.any() else None


def test_newest_own_matches_each_vendor_and_follows_launches(mid_run):
    m = mid_run
    off = m.offerings
    got = m.vendors.newest_own(off)
    assert got == [_naive_newest(off, v) for v in range(len(m.vendors))]
    assert any(g is not None for g in got)
    # a launch replaces the columns: the next call sees the new rows
    n0 = len(off)
    m.vendors[0].rd_budget_usd = 0.0
    off.design_successor(int(np.flatnonzero(off.vendor == 0)[0]), 1.5, m.month + 1)
    off.launch(m, MonthContext(m.month))
    assert len(off) == n0 + 1
    again = m.vendors.newest_own(off)
    assert again == [_naive_newest(off, v) for v in range(len(m.vendors))]
    assert again[0] == max(got[0], m.month + 1)


def _naive_candidates(m, rule, vidx):
    off = m.offerings
    age = m.month - off.available
    cand = ((off.vendor == vidx) & ~off.compliance & (age >= -m.p["variant_lag_months"])
            & (age <= m.p["variant_max_age_months"]) & ((age < 0) | off.live))
    if not cand.any():
        return []
    cand &= rule.controlled(off.tpp, off.density, off.io)
    return np.flatnonzero(cand).tolist()


@pytest.mark.parametrize("tpp", [4800.0, 1000.0, 100.0])
def test_variant_candidates_match_each_vendor(mid_run, tpp):
    from model.policy import USRule
    m = mid_run
    rule = USRule(tpp=tpp, tpp_pd=tpp / 2, density=1.0)
    got = m.vendors.variant_candidates(m, rule)
    want = [_naive_candidates(m, rule, v) for v in range(len(m.vendors))]
    assert got == want
    if tpp == 100.0:
        assert sum(map(len, want)) > 0  # the check is not vacuous
    # a new month or another rule is a new pass, not the stored one
    other = USRule(tpp=tpp * 10)
    assert m.vendors.variant_candidates(m, other) == [_naive_candidates(m, other, v)
                                                       for v in range(len(m.vendors))]


def test_variant_candidates_follow_months_and_launches():
    """The controlled mask is kept across months: each month and each launch still match."""
    from model.policy import USRule
    m = ChipMarketModel(rng=4)
    rule = USRule(tpp=300.0, tpp_pd=150.0, density=1.0)
    seen = 0
    while m.month < 2027 * 12:
        n0 = len(m.offerings)
        m.step()
        got = m.vendors.variant_candidates(m, rule)
        assert got == [_naive_candidates(m, rule, v) for v in range(len(m.vendors))], m.month
        seen += len(m.offerings) > n0 and sum(map(len, got)) > 0
    assert seen > 3  # months with a launch and candidates


def test_vendors_built_from_plain_rows_equal_pandas_rows():
    """Set-up reads the vendor table as plain values: every attribute as from a pandas row."""
    from agents.vendor import ChipVendor
    from model.population import load_vendors

    m = ChipMarketModel(rng=1)
    df = load_vendors()
    for v in list(m.vendors):
        ref = ChipVendor(m, v.vidx, df.loc[v.vendor_id])
        for k, a in vars(v).items():
            if k in ("unique_id", "model", "pos"):
                continue
            b = getattr(ref, k)
            assert type(a) is type(b) and repr(a) == repr(b), (v.vendor_id, k)
