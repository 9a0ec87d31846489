"""The recorder's compiled month (model/kernels_recorder.py month_rows) against its general code
(Recorder._record), bit for bit: every metric of the row, the adoption blocks and the vendors'
sale rows, every month of several runs and on inputs made to reach the degenerate cases (nothing
bought by China, no Nvidia revenue, no Global-South fleet, negative zeros) and the refusals
(the same error from both)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from model.components import recorder as rec
from model.components.base import Phase
from model.components.recorder import Recorder
from model.market_model import ChipMarketModel


def _bits(v) -> bytes:
    return np.asarray(v, dtype=float).tobytes()


def _same_month(fast: Recorder, slow: Recorder) -> None:
    assert list(fast.latest) == list(slow.latest)
    for k, v in slow.latest.items():
        assert type(fast.latest[k]) is type(v), k
        assert _bits(fast.latest[k]) == _bits(v), (k, fast.latest[k], v)
    (s1, d1, r1), (s2, d2, r2) = fast.records["model"][-1], slow.records["model"][-1]
    assert (s1, d1) == (s2, d2) and r1 is fast.latest and r2 is slow.latest
    for a, b in zip(fast.records["adoption"][-1], slow.records["adoption"][-1], strict=True):
        if isinstance(b, np.ndarray):
            assert a.shape == b.shape and _bits(a) == _bits(b)
        else:
            assert a == b
    va, vb = fast.records["vendors"][-1], slow.records["vendors"][-1]
    assert va[:2] == vb[:2] and va[2].dtype == vb[2].dtype and va[2].tolist() == vb[2].tolist()
    for a, b in zip(va[3:], vb[3:], strict=True):
        assert _bits(a) == _bits(b)


def _both(model, ctx, slow: Recorder, taken: list) -> None:
    """The model's recorder's month (the compiled pass where it applies) and ``slow``'s general one."""
    n = len(model.recorder.records["model"])
    calls = []
    general = model.recorder._record

    def spy(*a):
        calls.append(1)
        return general(*a)

    model.recorder._record = spy
    try:
        model.recorder.record(model, ctx)
    finally:
        del model.recorder._record
    taken.append(not calls)
    slow._record(model, ctx, slow._layout(model))
    assert len(model.recorder.records["model"]) == n + 1
    _same_month(model.recorder, slow)


def _twin_model(taken: list, **kw) -> tuple[ChipMarketModel, Recorder]:
    m = ChipMarketModel(**kw)
    slow = Recorder(m.start_month)
    fn = lambda model, ctx: _both(model, ctx, slow, taken)  # noqa: E731
    m.plan = type(m.plan)(Phase(p.name, fn, p.doc) if p.name == "recorder.record" else p for p in m.plan)
    return m, slow


@pytest.mark.parametrize("kw", [
    dict(rng=3, end="2027-12"),
    dict(rng=4, scenario="full_decoupling", end="2026-06"),
    dict(rng=5, scenario="no_controls", end="2026-06"),
    dict(rng=6, n_firms_per_country=12, n_firms_per_hyperscaler_region=4, end="2024-06"),  # > 128 GS buyers
])
def test_compiled_month_is_the_general_one_every_month(kw):
    taken: list = []
    m, _ = _twin_model(taken, **kw)
    m.run_model()
    assert taken and all(taken)  # the compiled pass ran every month, and gave the general bits


def test_arthur_docking_months():
    taken: list = []
    m, _ = _twin_model(taken, rng=2, scenario="arthur_docking")
    for _ in range(40):
        m.step()
    assert len(taken) == 40 and all(taken)


def _perturbed_months(changes):
    """Run a baseline model; at a few months, record a copy of the month with ``changes`` applied
    (a function of the model and context returning the new context) through both paths."""
    m = ChipMarketModel(rng=8, end="2027-06")
    seen = []
    orig = m.recorder.record

    def hook(model, ctx):
        if model.month in (m.start_month, m.start_month + 7, m.start_month + 40, m.start_month + 60):
            b = model.buyers
            saved = (b.fleet_eff, b.fleet_peak, b.share, b.active)
            try:
                c2 = changes(model, dataclasses.replace(ctx))
                slow = Recorder(m.start_month)
                taken: list = []
                _both(model, c2, slow, taken)
                seen.append(taken[0])
            finally:
                b.fleet_eff, b.fleet_peak, b.share, b.active = saved
        orig(model, ctx)

    m.plan = type(m.plan)(Phase(p.name, hook, p.doc) if p.name == "recorder.record" else p for p in m.plan)
    m.run_model()
    return seen


def _col(model, name):
    return int(np.flatnonzero(getattr(model.regions, name))[0])


CHANGES = {
    "china buys nothing": lambda m, c: dataclasses.replace(
        c, units=_set_col(c.units, _col(m, "is_cn"), 0.0), gross=_set_col(c.gross, _col(m, "is_cn"), -0.0)),
    "negative zeros sold": lambda m, c: dataclasses.replace(
        c, units=np.where(c.units == 0, -0.0, c.units), net=np.where(c.net == 0, -0.0, c.net)),
    "no nvidia revenue": lambda m, c: dataclasses.replace(
        c, net=_set_rows(c.net, m.offerings.vendor == m.vendors.ids.index("nvidia"), 0.0)),
    "no global-south fleet": lambda m, c: _fleet(m, c, m.buyers.is_gs[:, None], 0.0),
    "nothing installed": lambda m, c: _fleet(m, c, True, 0.0),
    "china installs nothing": lambda m, c: _fleet(m, c, (m.buyers.region == _col(m, "is_cn"))[:, None], 0.0),
    "one stack": lambda m, c: _fleet(m, c, np.arange(m.buyers.fleet_eff.shape[1]) > 0, 0.0),
    "all sales domestic": lambda m, c: dataclasses.replace(
        c, units=_set_rows(c.units, ~m.offerings.cn, 0.0)),
}


def _set_col(x, j, v):
    y = x.copy()
    y[:, j] = v
    return y


def _set_rows(x, rows, v):
    y = x.copy()
    y[rows] = v
    return y


def _fleet(m, ctx, where, v):
    b = m.buyers
    b.fleet_eff = np.where(where, v, b.fleet_eff)
    return ctx


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_degenerate_months_match(name):
    seen = _perturbed_months(CHANGES[name])
    assert len(seen) == 4 and all(seen)


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
def test_refused_fleet_entries_raise_as_the_general_code(bad):
    m = ChipMarketModel(rng=9, end="2022-06")
    m.run_model()
    ctx = _month_ctx(m)
    msgs = []
    for path in ("fast", "general"):
        b = m.buyers
        saved = b.fleet_eff
        b.fleet_eff = b.fleet_eff.copy()
        b.fleet_eff[int(np.flatnonzero(b.is_gs)[0]), 1] = bad
        try:
            with pytest.raises(ValueError) as e:
                if path == "fast":
                    m.recorder.record(m, ctx)
                else:
                    m.recorder._record(m, ctx, m.recorder._layout(m))
            msgs.append(str(e.value))
        finally:
            b.fleet_eff = saved
    assert msgs[0] == msgs[1]


def _month_ctx(m):
    """The context of one more month, every phase but the recorder's run."""
    from model.components.base import MonthContext

    ctx = MonthContext(m.month)
    for p in m.plan:
        if p.name != "recorder.record":
            p(m, ctx)
    return ctx


def test_bounded_slots_are_the_unit_metrics():
    from model.outputs import METRIC_NAMES, UNIT_METRICS

    assert rec._COMPUTED == METRIC_NAMES[:len(rec._COMPUTED)]
    assert [bool(x) for x in rec._BOUNDED] == [k in UNIT_METRICS for k in rec._COMPUTED]
    assert set(rec._UNCLAMPED) | set(rec._COMPUTED) == set(METRIC_NAMES)


def test_warm_up_compiles_month_rows():
    from model import kernels_recorder as kr

    rec.warm_up()
    assert kr.month_rows.signatures and kr.by_region3.signatures


@pytest.mark.parametrize("field", ["units", "gross", "net", "region_price"])
def test_arrays_that_do_not_fit_take_the_general_code(field):
    """The kernel reads its arrays unchecked: one with an offering too many is never passed to
    it, and the month raises as the general code does."""
    m = ChipMarketModel(rng=9, end="2022-03")
    m.run_model()
    ctx = _month_ctx(m)
    x = getattr(ctx, field)
    bad = dataclasses.replace(ctx, **{field: np.vstack([x, x[:1]])})
    errors = []
    for call in (lambda: m.recorder.record(m, bad), lambda: m.recorder._record(m, bad, m.recorder._layout(m))):
        n = len(m.recorder.records["model"])
        try:
            call()
            errors.append(None)
        except Exception as e:  # noqa: BLE001 - compared below
            errors.append((type(e), str(e)))
        if errors[-1] is not None:
            assert len(m.recorder.records["model"]) == n  # nothing recorded
    assert errors[0] == errors[1]
