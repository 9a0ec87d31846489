"""Tests of model/metrics.py against hand-computed values and stated properties
(docs/ODD.md "Metrics and output tables")."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from model.metrics import (
    RATIO_CAP,
    bifurcation_index,
    bloc_jsd,
    compute_ratio,
    dual_stack_share,
    hhi,
    stack_shares,
    top_share,
)

# ---------------------------------------------------------------- stack_shares


def test_stack_shares_normalises_rows_not_columns() -> None:
    x = np.array([[3.0, 1.0, 0.0], [0.0, 0.0, 0.0]])  # 2 regions x 3 stacks
    s = stack_shares(x)
    np.testing.assert_allclose(s, [[0.75, 0.25, 0.0], [0.0, 0.0, 0.0]])
    assert s.shape == (2, 3)


def test_stack_shares_broadcasts_over_leading_axes() -> None:
    x = np.arange(24, dtype=float).reshape(2, 3, 4)
    s = stack_shares(x)
    np.testing.assert_allclose(s.sum(axis=-1), 1.0)
    np.testing.assert_allclose(s[1, 2], x[1, 2] / x[1, 2].sum())


def test_stack_shares_refuses_negative() -> None:
    with pytest.raises(ValueError, match="installed"):
        stack_shares(np.array([1.0, -1.0]))


# ---------------------------------------------------------------- bifurcation_index


def test_bifurcation_identical_regions_is_zero() -> None:
    mix = np.array([5.0, 3.0, 2.0, 0.0])
    assert bifurcation_index(np.vstack([mix, 2 * mix, 7 * mix])) == pytest.approx(0.0, abs=1e-12)


def test_bifurcation_each_region_own_stack_is_one() -> None:
    x = np.diag([10.0, 4.0, 1.0])
    assert bifurcation_index(x) == pytest.approx(1.0)
    # two regions on stack 0, one on stack 1: region still tells the stack
    y = np.array([[10.0, 0.0], [5.0, 0.0], [0.0, 7.0]])
    assert bifurcation_index(y) == pytest.approx(1.0)


def test_bifurcation_worked_example_3_regions_2_stacks() -> None:
    # installed, regions x stacks, total 100:
    #   us [40, 10]   cn [10, 15]   gs [0, 25]
    # p(stack) = (50, 50)/100 = (0.5, 0.5)  -> H(stack) = 1 bit
    # p(region) = (0.5, 0.25, 0.25)          -> H(region) = 1.5 bits
    # H(stack | us) = H(0.8, 0.2) = 0.8*0.321928 + 0.2*2.321928 = 0.721928
    # H(stack | cn) = H(0.4, 0.6) = 0.4*1.321928 + 0.6*0.736966 = 0.970951
    # H(stack | gs) = H(0, 1) = 0
    # H(stack | region) = 0.5*0.721928 + 0.25*0.970951 + 0.25*0 = 0.603702
    # I = 1 - 0.603702 = 0.396298;  index = I / H(stack) = 0.396298
    x = np.array([[40.0, 10.0], [10.0, 15.0], [0.0, 25.0]])
    assert bifurcation_index(x) == pytest.approx(0.396298, abs=1e-6)
    # swapped axes divide by H(region) = 1.5 instead: 0.264199. Orientation matters.
    assert bifurcation_index(x.T) == pytest.approx(0.396298 / 1.5, abs=1e-6)


def test_bifurcation_degenerate_cases_are_zero() -> None:
    assert bifurcation_index(np.zeros((3, 4))) == 0.0
    # one stack only: H(stack) = 0
    assert bifurcation_index(np.array([[5.0, 0.0], [2.0, 0.0]])) == 0.0
    # one region only: I = 0
    assert bifurcation_index(np.array([[5.0, 3.0]])) == pytest.approx(0.0, abs=1e-12)


def test_bifurcation_refuses_wrong_rank() -> None:
    with pytest.raises(ValueError, match="2-D"):
        bifurcation_index(np.array([1.0, 2.0]))


installed_tables = arrays(
    float,
    st.tuples(st.integers(1, 6), st.integers(1, 5)),
    elements=st.floats(0.0, 1e7, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=150, deadline=None)
@given(installed_tables)
def test_bifurcation_in_unit_interval(x: np.ndarray) -> None:
    b = bifurcation_index(x)
    assert 0.0 <= b <= 1.0


@settings(max_examples=150, deadline=None)
@given(installed_tables, st.floats(1e-3, 1e4))
def test_bifurcation_invariant_to_scaling(x: np.ndarray, c: float) -> None:
    # entropy differences cancel to ~1e-9
    assert bifurcation_index(c * x) == pytest.approx(bifurcation_index(x), abs=1e-7)


@settings(max_examples=100, deadline=None)
@given(installed_tables, st.randoms(use_true_random=False))
def test_bifurcation_invariant_to_relabelling(x: np.ndarray, rnd) -> None:
    rows = list(range(x.shape[0]))
    cols = list(range(x.shape[1]))
    rnd.shuffle(rows)
    rnd.shuffle(cols)
    assert bifurcation_index(x[rows][:, cols]) == pytest.approx(bifurcation_index(x), abs=1e-9)


# ---------------------------------------------------------------- bloc_jsd


def test_jsd_identical_is_zero_and_disjoint_is_one() -> None:
    mix = np.array([0.7, 0.2, 0.1, 0.0])
    assert bloc_jsd(mix, mix.copy()) == pytest.approx(0.0, abs=1e-12)
    disjoint = bloc_jsd(np.array([1.0, 0.0, 0.0, 0.0]), np.array([0.0, 0.6, 0.0, 0.4]))
    assert disjoint == pytest.approx(1.0)


def test_jsd_worked_example() -> None:
    # P = (1, 0), Q = (0.5, 0.5), M = (0.75, 0.25)
    # H(M) = 0.75*log2(4/3) + 0.25*2 = 0.75*0.415037 + 0.5 = 0.811278; H(P) = 0; H(Q) = 1
    # JSD = 0.811278 - (0 + 1)/2 = 0.311278
    assert bloc_jsd(np.array([1.0, 0.0]), np.array([0.5, 0.5])) == pytest.approx(0.311278, abs=1e-6)


def test_jsd_normalises_installed_vectors() -> None:
    # the same mixes as the worked example, given as installed H100e
    assert bloc_jsd(np.array([4e5, 0.0]), np.array([3.0, 3.0])) == pytest.approx(0.311278, abs=1e-6)
    # identical mixes at different scales
    assert bloc_jsd(np.array([9.0, 3.0, 0.0]), np.array([3.0, 1.0, 0.0])) == pytest.approx(
        0.0, abs=1e-12
    )


def test_jsd_empty_side_is_zero_and_shapes_must_match() -> None:
    assert bloc_jsd(np.zeros(4), np.array([1.0, 0.0, 0.0, 0.0])) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        bloc_jsd(np.ones(3), np.ones(4))


stack_vectors = arrays(float, 4, elements=st.floats(0.0, 1e6, allow_nan=False))


@settings(max_examples=200, deadline=None)
@given(stack_vectors, stack_vectors)
def test_jsd_symmetric_and_in_unit_interval(p: np.ndarray, q: np.ndarray) -> None:
    a, b = bloc_jsd(p, q), bloc_jsd(q, p)
    assert 0.0 <= a <= 1.0
    assert a == pytest.approx(b, abs=1e-12)


# ---------------------------------------------------------------- hhi, top_share


def test_hhi_values() -> None:
    assert hhi(np.array([0.5, 0.5])) == pytest.approx(0.5)
    assert hhi(np.array([2.0, 2.0])) == pytest.approx(0.5)  # normalised inside
    assert hhi(np.array([3.0, 1.0, 0.0, 0.0])) == pytest.approx(0.625)  # 0.75^2 + 0.25^2
    assert hhi(np.array([1.0, 0.0, 0.0])) == pytest.approx(1.0)
    assert hhi(np.zeros(4)) == 0.0


def test_top_share_values() -> None:
    assert top_share(np.array([3.0, 1.0, 0.0, 0.0])) == pytest.approx(0.75)
    assert top_share(np.array([0.2, 0.5, 0.3])) == pytest.approx(0.5)
    assert top_share(np.zeros(4)) == 0.0


# ---------------------------------------------------------------- dual_stack_share

# buyer x stack fleets (cuda, cann, rocm, other_cn), H100e
FLEET = np.array(
    [
        [90.0, 10.0, 0.0, 0.0],  # 10 % exactly: not above threshold -> single
        [80.0, 20.0, 0.0, 0.0],  # dual
        [0.0, 0.0, 0.0, 0.0],  # no fleet: excluded
        [50.0, 25.0, 25.0, 0.0],  # three stacks above 10 %: dual
        [100.0, 0.0, 0.0, 0.0],  # single
    ]
)


def test_dual_stack_share_small_table() -> None:
    # 4 buyers with fleets, 2 dual -> 0.5 (would be 0.4 if the empty buyer counted)
    assert dual_stack_share(FLEET) == pytest.approx(0.5)


def test_dual_stack_share_threshold() -> None:
    # at 5 % the first buyer (10 %) is dual too: 3 of 4
    assert dual_stack_share(FLEET, threshold=0.05) == pytest.approx(0.75)
    # at 30 % no buyer has two stacks above it (50/25/25, 80/20): 0
    assert dual_stack_share(FLEET, threshold=0.30) == 0.0


def test_dual_stack_share_weights_per_buyer() -> None:
    w = np.array([1.0, 3.0, 100.0, 1.0, 5.0])
    # duals: buyers 1 and 3 -> (3 + 1) / (1 + 3 + 1 + 5) = 0.4; buyer 2's weight is ignored
    assert dual_stack_share(FLEET, weights=w) == pytest.approx(0.4)
    with pytest.raises(ValueError, match="weights"):
        dual_stack_share(FLEET, weights=np.ones(4))


def test_dual_stack_share_no_fleets() -> None:
    assert dual_stack_share(np.zeros((3, 4))) == 0.0


# ---------------------------------------------------------------- compute_ratio


def test_compute_ratio() -> None:
    assert compute_ratio(3.0, 1.0) == pytest.approx(3.0)
    assert compute_ratio(1.0, 4.0) == pytest.approx(0.25)  # order matters
    assert compute_ratio(5.0, 0.0) == RATIO_CAP
    assert math.isfinite(compute_ratio(1e300, 1e-300))
    assert compute_ratio(0.0, 0.0) == 1.0
    with pytest.raises(ValueError):
        compute_ratio(-1.0, 2.0)
