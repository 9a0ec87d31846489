"""The per-process caches of issue 19 give exactly what the uncached calls give, and are keyed on
everything the cached function reads."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import model.components.offerings as offerings_mod
from model.cluster import performance
from model.components.offerings import cached_performance
from model.market_model import ChipMarketModel
from model.policy import Licence, availability


def _same(a, b) -> None:
    """Every field of two performance results equal bit for bit (NaNs included)."""
    for f in dataclasses.fields(a):
        x, y = np.asarray(getattr(a, f.name)), np.asarray(getattr(b, f.name))
        assert x.shape == y.shape, f.name
        assert x.tobytes() == y.tobytes(), f.name


@pytest.fixture(scope="module")
def table():
    m = ChipMarketModel(rng=3, end="2027-12")
    m.run_model()  # the catalog plus designed variants and next generations
    return m.offerings, m.p["train_accelerators"]


@pytest.fixture(autouse=True)
def empty_cache():
    offerings_mod._PERF_CACHE.clear()
    yield
    offerings_mod._PERF_CACHE.clear()


def test_core_is_row_independent(table):
    """What the cache rests on: an offering's result does not depend on the others in the call."""
    off, n = table
    full = performance(off.core, off.workloads, n)
    for i in range(len(off)):
        one = performance(off.core.take([i]), off.workloads, n)
        _same(type(full)(**{f.name: np.asarray(getattr(full, f.name))[i:i + 1]
                            for f in dataclasses.fields(full)}), one)


def test_cached_equals_uncached_for_hits_misses_and_mixes(table):
    off, n = table
    O = len(off)
    first = np.arange(0, O, 2)
    _same(cached_performance(off.core.take(first), off.workloads, n),
          performance(off.core.take(first), off.workloads, n))  # all misses
    mixed = np.r_[np.arange(O)[::-1], 0]  # hits, misses, a repeat, reordered
    _same(cached_performance(off.core.take(mixed), off.workloads, n),
          performance(off.core.take(mixed), off.workloads, n))
    _same(cached_performance(off.core, off.workloads, n), performance(off.core, off.workloads, n))  # all hits


def test_what_a_caller_gets_is_its_own(table):
    """A call whose rows all miss (a launch) hands back copies: writing into them leaves the
    cached rows, and so the next answer, as they were."""
    off, n = table
    got = cached_performance(off.core, off.workloads, n)  # every row computed
    for f in dataclasses.fields(got):
        a = getattr(got, f.name)
        assert a.flags.writeable and a.flags.c_contiguous, f.name
        a[...] = -7.0
    _same(cached_performance(off.core, off.workloads, n), performance(off.core, off.workloads, n))  # hits


@pytest.mark.parametrize("field,change", [("hbm_gb", lambda a: a * 0.5), ("scaleup_gb_s", lambda a: a * 0.25),
                                          ("bf16_tflops", lambda a: a * 0.9), ("domain", lambda a: a * 0 + 1),
                                          ("stack", lambda a: np.array(["cann"] * len(a), dtype=object))])
def test_key_covers_what_the_core_reads(table, field, change):
    """A row that differs in any field the core reads is computed, not served from the cache."""
    off, n = table
    cached_performance(off.core, off.workloads, n)
    changed = dataclasses.replace(off.core, **{field: change(getattr(off.core, field))})
    _same(cached_performance(changed, off.workloads, n), performance(changed, off.workloads, n))


def test_key_covers_cluster_size_and_workloads(table):
    off, n = table
    cached_performance(off.core, off.workloads, n)
    _same(cached_performance(off.core, off.workloads, n // 4), performance(off.core, off.workloads, n // 4))
    wl = off.workloads.take([0, 3])
    _same(cached_performance(off.core, wl, n), performance(off.core, wl, n))


def test_pricing_availability_memo_follows_policy():
    """The pricing phase reuses last month's availability only while nothing it reads changed:
    a new licence, a levy moved in place, a ban or a new rule each give the fresh answer."""
    m = ChipMarketModel(rng=1, end="2023-06")
    m.run_model()
    pr, pol, off, reg = m.pricing, m.policy, m.offerings, m.regions

    def check() -> None:
        got = pr._availability(pol, off, reg, m.month)
        want = availability(pol, off.view, reg.tier, reg.ids, reg.is_cn, m.month)
        for g, w in zip(got, want):
            assert np.array_equal(g, w)

    check()
    check()  # memo hit
    pol.grant_licence(Licence(match=("compliance",), regions=("cn",), levy=0.15, approval=0.5))
    check()
    pol.set_licence_levy("cn", 0.25)  # in place: the memo must see it
    check()
    pol.ban({str(off.chip[0])})
    check()
    pol.set_us_rule(dataclasses.replace(pol.us_rule, tpp=pol.us_rule.tpp * 0.5))
    check()
    got = pr._availability(pol, off, reg, m.month)
    got[0][:] = ~got[0]  # callers modify what they get: the memo keeps its own copy
    check()


def test_a_full_cache_starts_afresh_and_still_answers_exactly(table, monkeypatch):
    off, n = table
    monkeypatch.setattr(offerings_mod, "_PERF_CACHE_MAX", 10)
    first = cached_performance(off.core.take(np.arange(8)), off.workloads, n)
    _same(first, performance(off.core.take(np.arange(8)), off.workloads, n))
    _same(cached_performance(off.core, off.workloads, n), performance(off.core, off.workloads, n))
    assert all(len(c) <= len(off) for c in offerings_mod._PERF_CACHE.values())
