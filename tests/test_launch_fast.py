"""The launch's bookkeeping (issue 19): columns grown one block per dtype, the workloads' cache key
kept only for read-only workloads; each gives what the straightforward code gives."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from model.cluster import Workloads
from model.components.offerings import _appended, _workload_key


def test_appended_equals_concatenation_and_keeps_dtypes():
    old = {"a": np.array([1.5, 2.5]), "b": np.array([1, 2]), "c": np.array(["x", "y"], dtype=object),
           "d": np.array([3.0, 4.0]), "e": np.array([True, False])}
    new = {"a": [9.0], "b": [np.int64(7)], "c": ["z"], "d": [np.float64(0.1)], "e": [np.bool_(True)]}
    before = {k: v.copy() for k, v in old.items()}
    out = _appended(old, new)
    for k, v in old.items():
        want = np.concatenate((v, np.array(new[k], dtype=v.dtype)))
        assert out[k].dtype == v.dtype and out[k].flags.c_contiguous
        assert out[k].tobytes() == want.tobytes() if v.dtype != object else list(out[k]) == list(want)
        assert np.array_equal(v, before[k])  # the old columns are never written
    out["a"][0] = -1.0  # a fresh allocation: writing the result leaves the old column alone
    assert old["a"][0] == 1.5


def test_appended_refuses_an_entry_that_is_not_one_value():
    old = {"x": np.array([1.0, 2.0]), "y": np.array([3.0, 4.0])}
    assert _appended(old, {"x": [5.0, 6.0], "y": [7.0, 8.0]})["y"].tolist() == [3.0, 4.0, 7.0, 8.0]
    with pytest.raises(ValueError):
        _appended(old, {"x": [np.array([5.0, 6.0])], "y": [7.0]})
    with pytest.raises(ValueError, match="one value per offering"):
        _appended(old, {"x": [5.0], "y": [7.0, 8.0]})


def test_workload_key_is_kept_only_for_read_only_workloads():
    shared = Workloads.load(ids=["deepseek-r1-decode", "llama3-405b-train"])
    assert not shared.seq_len.flags.writeable
    assert _workload_key(shared) is _workload_key(shared)  # the packaged workloads: kept
    own = dataclasses.replace(shared, seq_len=shared.seq_len.copy())  # a writeable copy
    k1 = _workload_key(own)
    own.seq_len[0] = own.seq_len[0] * 2
    k2 = _workload_key(own)
    assert k1 != k2  # a workload that can change is keyed afresh on every call
    assert k1 == _workload_key(shared)


def _columns_equal(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for k in a:
        if k == "core":
            for f in dataclasses.fields(a[k]):
                x, y = getattr(a[k], f.name), getattr(b[k], f.name)
                assert x.dtype == y.dtype and list(x) == list(y) if x.dtype == object else x.tobytes() == y.tobytes()
        else:
            assert a[k].dtype == b[k].dtype, k
            assert list(a[k]) == list(b[k]) if a[k].dtype == object else a[k].tobytes() == b[k].tobytes(), k


@pytest.mark.parametrize("population", ["sampled", "arthur"])
def test_catalog_columns_kept_for_the_packaged_catalog_equal_a_fresh_build(population):
    from model.catalog import load_catalog
    from model.components import offering_catalog as oc
    from model.params import defaults

    p = {**defaults(), "population": population}
    cat = load_catalog()
    vendors = sorted(set(cat.chips["vendor"]))
    oc._STARTUP.clear()
    kept = oc.catalog_columns(cat, p, vendors)
    assert oc.catalog_columns(load_catalog(), p, vendors) is kept  # another model's catalog: the same
    _columns_equal(kept, oc._catalog_columns(cat, p, vendors))
    # every input is in the key: a different die-area default or vendor order is built afresh
    other = oc.catalog_columns(cat, {**p, "default_die_area_mm2": 123.0}, vendors)
    assert other is not kept
    assert oc.catalog_columns(cat, p, vendors[::-1]) is not kept


def test_catalog_columns_of_other_files_are_never_kept(tmp_path):
    from model.catalog import CHIPS_CSV, SYSTEMS_CSV, load_catalog
    from model.components import offering_catalog as oc
    from model.params import defaults

    (tmp_path / "chips.csv").write_text(CHIPS_CSV.read_text())
    (tmp_path / "systems.csv").write_text(SYSTEMS_CSV.read_text())
    cat = load_catalog(tmp_path / "chips.csv", tmp_path / "systems.csv")
    assert cat.packaged is None
    vendors = sorted(set(cat.chips["vendor"]))
    oc._STARTUP.clear()
    p = defaults()
    a, b = oc.catalog_columns(cat, p, vendors), oc.catalog_columns(cat, p, vendors)
    assert a is not b and not oc._STARTUP
    _columns_equal(a, b)


def test_a_table_never_shares_arrays_with_the_kept_columns():
    from model.components import offering_catalog as oc
    from model.market_model import ChipMarketModel

    m1, m2 = ChipMarketModel(rng=1, end="2022-03"), ChipMarketModel(rng=2, end="2022-03")
    for c in oc._CATALOG_COLUMNS:
        assert not np.shares_memory(getattr(m1.offerings, c), getattr(m2.offerings, c)), c
    for f in dataclasses.fields(m1.offerings.core):
        assert not np.shares_memory(getattr(m1.offerings.core, f.name), getattr(m2.offerings.core, f.name))


def _live_numpy(t, m: int) -> np.ndarray:
    """Eq. V8 as numpy expressions: the formulation the compiled pass replaced."""
    out = (t.available <= m) & (m < t.ends) & (m - t.available < t.p["product_life_months"])
    shipped = t.available <= m - t.p["supersede_months"]
    superseded = (t.successor >= 0) & shipped[np.maximum(t.successor, 0)] & ~t.compliance
    superseded |= (t.parent_idx >= 0) & superseded[np.maximum(t.parent_idx, 0)]
    return out & ~superseded


@pytest.mark.parametrize("scenario, seed", [("baseline", 1), ("baseline", 4), ("h200_opening", 2)])
def test_live_mask_equals_its_numpy_formulation_every_month(scenario, seed):
    from model.market_model import ChipMarketModel

    m = ChipMarketModel(scenario=scenario, rng=seed, end="2033-12")
    t, seen = m.offerings, set()
    while m.running:
        m.step()
        for month in (m.month - 1, m.month + 30, m.month - 80):  # this month, and far from it
            got = t.update_live(month).copy()
            assert got.dtype == bool and got.tobytes() == _live_numpy(t, month).tobytes(), (month, len(t))
            seen.add((bool(got.any()), bool((~got).any())))
        t.update_live(m.month - 1)  # leave the table as the month left it
    assert len(t) > 60 and (True, True) in seen  # launches happened; both answers reached
    sup = t.successor >= 0
    assert sup.any() and (t.parent_idx >= 0).any()  # both supersession paths exercised


def test_live_mask_on_every_case_by_hand():
    """A compliance part (2) is not superseded by a successor; a variant (3) ends with its parent (0)."""
    from types import SimpleNamespace

    from model.kernels_offerings import live_mask

    t = SimpleNamespace(
        available=np.array([0, 10, 5, 5, 40, 0]), ends=np.array([10**9, 10**9, 10**9, 30, 10**9, 10**9]),
        successor=np.array([1, -1, 1, -1, -1, 4]), compliance=np.array([False, False, True, False, False, False]),
        parent_idx=np.array([-1, -1, -1, 0, -1, -1]), p={"product_life_months": 72, "supersede_months": 12})
    for m in range(-1, 90):
        got = live_mask(t.available, t.ends, t.successor, t.compliance, t.parent_idx, m, 72.0, 12.0)
        assert got.tobytes() == _live_numpy(t, m).tobytes(), m
    at = lambda m: live_mask(t.available, t.ends, t.successor, t.compliance, t.parent_idx, m, 72.0, 12.0)  # noqa: E731
    assert at(21).tolist() == [True, True, True, True, False, True]
    assert at(22).tolist() == [False, True, True, False, False, True]  # 0 superseded, 3 with its parent
    assert at(51)[5] and not at(52)[5] and at(81)[1] and not at(82)[1] and not at(31)[3]
