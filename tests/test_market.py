"""The monthly market (model/market.py): logit split, capacity rationing with spill-over,
the outside option and lumpy procurement, on small hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest

from model.market import bass_start, buyer_utility, clear_market
from tests.reference_market import clear_market_reference

RNG = np.random.default_rng


def test_unconstrained_split_is_the_logit():
    util = np.array([[0.0, np.log(3.0)]])  # probabilities 1/4, 3/4
    cl = clear_market(np.array([8.0]), util, np.ones((1, 2), bool), np.array([1.0, 2.0]),
                      np.array([0, 1]), np.array([100.0, 100.0]), RNG(0), lots=0)
    np.testing.assert_allclose(cl.alloc, [[2.0, 6.0]])
    np.testing.assert_allclose(cl.units, [[2.0, 3.0]])  # units = effective H100e / value
    assert cl.unmet[0] == pytest.approx(0.0)


def test_unavailable_offering_gets_nothing_however_attractive():
    util = np.array([[0.0, 50.0]])
    cl = clear_market(np.array([5.0]), util, np.array([[True, False]]), np.ones(2), np.array([0, 1]),
                      np.array([100.0, 100.0]), RNG(0), lots=0)
    np.testing.assert_allclose(cl.alloc, [[5.0, 0.0]])


def test_rationed_demand_spills_to_next_choice_in_the_same_month():
    # both buyers prefer vendor 0, which can make only 4 units; the rest spills to vendor 1
    util = np.array([[5.0, 0.0], [5.0, 0.0]])
    cl = clear_market(np.array([6.0, 6.0]), util, np.ones((2, 2), bool), np.ones(2), np.array([0, 1]),
                      np.array([4.0, 100.0]), RNG(0), lots=0, rounds=4)
    assert cl.alloc[:, 0].sum() == pytest.approx(4.0)  # vendor 0 sells out, never more
    assert cl.alloc.sum() == pytest.approx(12.0, rel=1e-6)  # nobody left unserved
    np.testing.assert_allclose(cl.alloc[0], cl.alloc[1])  # pro rata between equal buyers
    assert cl.vendor_demand_units[0] > 4.0  # first-round demand shows the shortage


def test_capacity_never_exceeded_and_unmet_when_nothing_else():
    util = np.zeros((3, 1))
    cl = clear_market(np.array([1.0, 2.0, 3.0]), util, np.ones((3, 1), bool), np.ones(1),
                      np.array([0]), np.array([3.0]), RNG(0), lots=0)
    assert cl.alloc.sum() == pytest.approx(3.0)
    assert cl.unmet.sum() == pytest.approx(3.0)


def test_outside_option_absorbs_demand_when_offers_are_dear():
    util = np.array([[0.0]])
    cheap = clear_market(np.array([10.0]), util, np.ones((1, 1), bool), np.ones(1), np.array([0]),
                         np.array([100.0]), RNG(0), lots=0, outside_utility=np.array([-10.0]))
    dear = clear_market(np.array([10.0]), util, np.ones((1, 1), bool), np.ones(1), np.array([0]),
                        np.array([100.0]), RNG(0), lots=0, outside_utility=np.array([10.0]))
    assert cheap.alloc.sum() > 9.9 and dear.alloc.sum() < 0.1
    assert dear.forgone.sum() == pytest.approx(10.0 - dear.alloc.sum())
    assert cheap.alloc.shape == (1, 1)  # the outside column is not an offering


def test_doing_without_is_a_first_round_choice():
    # half the demand does without up front; the other half finds the only offering short
    # (capacity 1): what it cannot get is rationed (unmet), it does not drift to the outside option
    util = np.array([[0.0]])
    cl = clear_market(np.array([10.0]), util, np.ones((1, 1), bool), np.ones(1), np.array([0]),
                      np.array([1.0]), RNG(0), lots=0, rounds=3, outside_utility=np.array([0.0]))
    assert cl.forgone[0] == pytest.approx(5.0)
    assert cl.alloc.sum() == pytest.approx(1.0)  # the whole capacity, over the tranches
    assert cl.unmet[0] == pytest.approx(4.0)


def test_lumpy_draws_are_unbiased_and_respect_zeros():
    p = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.2, 0.3, 0.5]])
    with np.errstate(divide="ignore"):
        util = np.log(p)  # probability 0 -> utility -inf -> never drawn
    draws = np.array([clear_market(np.ones(4), util, np.ones((4, 3), bool), np.ones(3), np.arange(3),
                                   np.full(3, 1e9), RNG(s), lots=8).alloc for s in range(2000)])
    assert (draws[:, 0, 2] == 0).all() and (draws[:, 2] == 0).all()
    np.testing.assert_allclose(draws[:, 1, 2], 1.0)
    np.testing.assert_allclose(draws.mean(axis=0), p, atol=0.02)
    assert ((draws * 8) % 1 == 0).all()  # whole lots


def _random_market(seed: int):
    """A random market with the awkward parts: unavailable and NaN/-inf utilities, rows with
    nothing open, zero demand, tight and unlimited vendors, huge utility gaps."""
    g = RNG(seed)
    B, O, V = int(g.integers(1, 60)), int(g.integers(1, 12)), int(g.integers(1, 5))
    util = g.normal(0.0, g.choice([0.5, 3.0, 400.0]), (B, O))
    util[g.random((B, O)) < 0.05] = np.nan
    util[g.random((B, O)) < 0.05] = -np.inf
    avail = g.random((B, O)) < 0.8
    avail[g.random(B) < 0.1] = False
    demand = g.lognormal(0.0, 1.0, B) * (g.random(B) > 0.1)
    vendor_of = g.integers(0, V, O)
    capacity = g.choice([0.0, 0.3, 3.0, 1e9], V) * demand.sum() / V
    value = g.uniform(0.2, 3.0, O)
    kw = dict(lots=int(g.choice([0, 1, 8])), rounds=int(g.integers(0, 6)),
              temperature=float(g.choice([0.0, 0.5, 1.0, 2.0])),
              outside_utility=g.normal(0.0, 2.0, B) if g.random() < 0.5 else None)
    return (demand, util, avail, value, vendor_of, capacity), kw


@pytest.mark.parametrize("seed", range(200))
def test_compiled_clearing_matches_the_numpy_reference(seed):
    args, kw = _random_market(seed)
    got = clear_market(*args, RNG(seed), **kw)
    alloc, forgone, unmet, first = clear_market_reference(*args, RNG(seed), **kw)
    scale = max(args[0].sum(), 1.0)
    np.testing.assert_allclose(got.alloc, alloc, rtol=1e-9, atol=1e-12 * scale)
    np.testing.assert_allclose(got.forgone, forgone, rtol=1e-9, atol=1e-12 * scale)
    np.testing.assert_allclose(got.unmet, unmet, rtol=1e-9, atol=1e-12 * scale)
    np.testing.assert_allclose(got.vendor_demand_units, first, rtol=1e-9, atol=1e-12 * scale)
    # conservation: every unit of demand is delivered, forgone or unmet; capacity is respected
    demand = args[0]
    np.testing.assert_allclose(got.alloc.sum(axis=1) + got.forgone + got.unmet, demand,
                               rtol=1e-9, atol=1e-12 * scale)
    sold = np.bincount(args[4], weights=got.units.sum(axis=0), minlength=args[5].size)
    assert (sold <= args[5] * (1 + 1e-9) + 1e-9).all()


def test_bad_vendor_index_is_refused():
    with pytest.raises(ValueError, match="vendor_of"):
        clear_market(np.ones(1), np.zeros((1, 2)), np.ones((1, 2), bool), np.ones(2), np.array([0, 3]),
                     np.ones(2), RNG(0))


def test_buyer_utility_terms_and_signs():
    u = buyer_utility(np.log(np.array([[1.0, 2.0]])), np.array([2.0]), np.array([[0.5, 0.0]]),
                      np.array([[0.0, 1.0]]), np.array([[0.1, -0.1]]))
    np.testing.assert_allclose(u, [[0.6, -2 * np.log(2.0) - 1.1]])


def test_bass_start_only_adds_buyers():
    active = np.array([True, False, False, False])
    out = bass_start(active, np.ones(4), 5.0, 0.0, RNG(1), dt_years=1.0)
    assert out[0] and out.sum() >= 1
    none = bass_start(active, np.ones(4), 0.0, 0.0, RNG(1))
    assert (none == active).all()
