"""Tests of model/ecosystem.py: lock-in dynamics as pure functions (docs/ODD.md "Lock-in")."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from model.ecosystem import (
    EcosystemParams,
    EcosystemState,
    attraction,
    bass_hazard,
    network_value,
    portability,
    porting_decision,
    switching_cost,
    update_ecosystem,
)
from model.params import PARAMETERS, check_value
from model.types import STACK_INDEX, STACKS

S = len(STACKS)
CANN = STACK_INDEX["cann"]
CUDA = STACK_INDEX["cuda"]
P = EcosystemParams()

# ---------------------------------------------------------------- params and state


def test_params_registered_with_ranges() -> None:
    for name in ("network_weight", "dev_decay_per_month", "porting_effect", "codesign_bonus"):
        assert name in PARAMETERS
        assert PARAMETERS[name].default == getattr(P, name)
    assert check_value("network_form", "linear") == "linear"
    # kappa is registered by model.params: the dataclass must accept its whole range
    k = PARAMETERS["kappa"]
    assert EcosystemParams(kappa=k.high).kappa == k.high
    with pytest.raises(ValueError):
        check_value("dev_weight", 1.5)


def test_params_refuse_out_of_range_and_build_from_flat_mapping() -> None:
    with pytest.raises(ValueError, match="network_form"):
        EcosystemParams(network_form="cubic")
    with pytest.raises(ValueError, match="dev_weight"):
        EcosystemParams(dev_weight=-0.1)
    p = EcosystemParams.from_params({"kappa": 3.0, "us_control_level": 0.2, "dev_weight": 0.1})
    assert (p.kappa, p.dev_weight) == (3.0, 0.1)


def test_initial_state_backcast_and_ranges() -> None:
    s = EcosystemState.initial()
    assert s.developers.shape == s.maturity.shape == (S,)
    # CUDA: 4.7M at FY2024 back-cast two years at the FY2024->FY2025 growth 5.9/4.7
    assert s.developers[CUDA] == pytest.approx(4.7 / (5.9 / 4.7) ** 2, rel=0.01)
    assert 2.5 < s.developers[CUDA] < 4.0
    assert s.developers[CUDA] == s.developers.max()
    assert np.all((s.maturity >= 0) & (s.maturity <= 1))
    assert s.maturity[CUDA] == s.maturity.max()


# ---------------------------------------------------------------- update_ecosystem

INSTALLED = np.array([3e6, 1e5, 1e5, 5e4])
EFFORT = np.array([1.0, 0.5, 0.3, 0.2])


def test_update_returns_new_state_and_leaves_input() -> None:
    s0 = EcosystemState.initial()
    before = s0.copy()
    s1 = update_ecosystem(s0, INSTALLED, INSTALLED / 20, EFFORT, P)
    np.testing.assert_array_equal(s0.developers, before.developers)
    np.testing.assert_array_equal(s0.maturity, before.maturity)
    assert s1 is not s0


def test_decays_without_inputs() -> None:
    s = EcosystemState.initial()
    zero = np.zeros(S)
    for _ in range(24):
        nxt = update_ecosystem(s, zero, zero, zero, P)
        assert np.all(nxt.developers < s.developers)
        assert np.all(nxt.maturity < s.maturity)
        s = nxt
    # exact exponential decay over 24 months
    s0 = EcosystemState.initial()
    np.testing.assert_allclose(s.developers, s0.developers * np.exp(-24 * P.dev_decay_per_month))
    np.testing.assert_allclose(s.maturity, s0.maturity * np.exp(-24 * P.maturity_decay_per_month))


def test_growth_follows_share_and_investment() -> None:
    s = EcosystemState(np.ones(S), np.full(S, 0.3))
    inst = np.array([10.0, 1.0, 1.0, 1.0])
    nxt = update_ecosystem(s, inst, inst, np.zeros(S), P)
    assert nxt.developers[CUDA] > nxt.developers[CANN]
    assert nxt.maturity[CUDA] > nxt.maturity[CANN]
    # owner effort raises cann above rocm at equal shares
    effort = np.zeros(S)
    effort[CANN] = 1.0
    nxt2 = update_ecosystem(s, inst, inst, effort, P)
    rocm = STACK_INDEX["rocm"]
    assert nxt2.developers[CANN] > nxt2.developers[rocm]
    assert nxt2.maturity[CANN] > nxt2.maturity[rocm]


def test_cuda_developers_follow_calibration() -> None:
    # from the 2022-01 state, CUDA at 90 % attraction and full effort reaches Nvidia's reported
    # 5.9M developers (FY2025, 2025-01) after 36 months, passing near 4.7M (FY2024) at 24
    s = EcosystemState.initial()
    share = np.array([0.9, 0.05, 0.03, 0.02])
    path = []
    for _ in range(36):
        s = update_ecosystem(s, share, share, EFFORT, P)
        path.append(s.developers[CUDA])
    assert path[35] == pytest.approx(5.9, abs=0.1)
    assert path[23] == pytest.approx(4.7, rel=0.1)


@settings(max_examples=100, deadline=None)
@given(
    arrays(float, S, elements=st.floats(0.0, 1e8)),
    arrays(float, S, elements=st.floats(0.0, 1e7)),
    arrays(float, S, elements=st.floats(0.0, 1.0)),
    arrays(float, S, elements=st.floats(0.0, 1.0)),
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
)
def test_state_stays_in_range(inst, buy, effort, mat0, growth, decay) -> None:
    p = EcosystemParams(maturity_growth_per_month=growth, maturity_decay_per_month=decay,
                        dev_decay_per_month=decay)
    s = EcosystemState(np.full(S, 2.0), mat0)
    for _ in range(6):
        s = update_ecosystem(s, inst, buy, effort, p)
        assert np.all(s.developers >= 0) and np.all(np.isfinite(s.developers))
        assert np.all((s.maturity >= 0) & (s.maturity <= 1))


def test_update_refuses_bad_inputs() -> None:
    s = EcosystemState.initial()
    with pytest.raises(ValueError, match="investment"):
        update_ecosystem(s, INSTALLED, INSTALLED, np.full(S, 1.5), P)
    with pytest.raises(ValueError, match="installed"):
        update_ecosystem(s, INSTALLED[:3], INSTALLED, EFFORT, P)


def test_attraction_mixes_installed_and_purchase_shares() -> None:
    p = EcosystemParams(purchase_weight=0.25)
    a = attraction(np.array([3.0, 1.0]), np.array([0.0, 2.0]), p)
    np.testing.assert_allclose(a, [0.75 * 0.75, 0.75 * 0.25 + 0.25 * 1.0])


# ---------------------------------------------------------------- network_value


def test_network_value_linear_is_exactly_r_n() -> None:
    r = 0.1
    p = EcosystemParams.linear_returns(r)
    n = np.array([[0.0, 1.0, 7.0, 30.0], [12.0, 0.0, 3.0, 5.0]])
    np.testing.assert_array_equal(network_value(n, np.array([9.0, 1.0, 0.0, 2.0]), p), r * n)


def test_network_value_concave_form() -> None:
    p = EcosystemParams(network_weight=2.0, dev_weight=0.25, network_scale_h100e=1e5,
                        developer_scale_m=1.0)
    v = network_value(np.array([1e5, 0.0]), np.array([1.0, 3.0]), p)
    expected = 2.0 * np.array([0.75 * np.log(2) + 0.25 * np.log(2), 0.25 * np.log(4)])
    np.testing.assert_allclose(v, expected)


@pytest.mark.parametrize("form", ["concave", "linear"])
def test_network_value_increasing_in_installed_and_broadcasts(form: str) -> None:
    p = EcosystemParams(network_form=form)
    base = np.linspace(0, 4e6, 9)
    inst = np.repeat(base[:, None], S, axis=1)  # (9, S)
    v = network_value(inst, EcosystemState.initial().developers, p)
    assert v.shape == (9, S)
    assert np.all(np.diff(v, axis=0) > 0)
    # region x buyer x stack also broadcasts
    assert network_value(np.ones((2, 3, S)), np.ones(S), p).shape == (2, 3, S)


def test_concave_value_has_diminishing_returns() -> None:
    v = network_value(np.array([[0.0] * S, [1e6] * S, [2e6] * S]), np.zeros(S), P)[:, 0]
    assert v[2] - v[1] < v[1] - v[0]


# ---------------------------------------------------------------- portability and switching cost


def test_portability_shapes_and_monotonicity() -> None:
    m = np.array([0.95, 0.35, 0.5, 0.15])
    c = np.array([0.0, 0.5, 0.0, 0.5])
    col = portability(m, np.array([[0.0], [0.5]]), c, P)
    assert col.shape == (2, S)
    full = portability(m, np.tile(np.array([[0.0], [0.5]]), (1, S)), c, P)
    np.testing.assert_allclose(col, full)
    assert np.all((full >= 0) & (full <= 1))
    assert np.all(full[1] > full[0])  # more porting investment
    higher_m = portability(np.minimum(m + 0.1, 1), np.zeros((1, S)), c, P)
    assert np.all(higher_m > portability(m, np.zeros((1, S)), c, P))
    # co-design raises cann (0.5) above rocm's contribution at equal maturity
    eq = portability(np.full(S, 0.4), np.zeros((1, S)), c, P)[0]
    assert eq[CANN] > eq[STACK_INDEX["rocm"]]
    # worked value: 1 - (1 - 0.6*0.35)(1 - 0.3*0.5)(1 - 0.8*0.5)
    assert full[1, CANN] == pytest.approx(1 - 0.79 * 0.85 * 0.6)


def test_switching_cost_formula_and_zero_on_own_stack() -> None:
    estate = np.array([10.0, 4.0])
    fleet = np.array([[1.0, 0.0, 0.0, 0.0], [30.0, 10.0, 0.0, 0.0]])  # raw fleet, normalised inside
    port = np.array([[0.2, 0.3, 0.4, 0.0], [0.1, 0.5, 0.0, 0.0]])
    c = switching_cost(estate, fleet, port, kappa=2.0)
    assert c[0, CUDA] == 0.0  # fully on cuda already
    assert c[0, CANN] == pytest.approx(2.0 * 10.0 * 1.0 * 0.7)
    assert c[1, CANN] == pytest.approx(2.0 * 4.0 * 0.75 * 0.5)
    assert c[1, CUDA] == pytest.approx(2.0 * 4.0 * 0.25 * 0.9)


def test_switching_cost_zero_for_buyer_without_fleet() -> None:
    c = switching_cost(np.array([5.0]), np.zeros((1, S)), np.zeros((1, S)), kappa=3.0)
    np.testing.assert_array_equal(c, np.zeros((1, S)))


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(st.just(0.0), st.floats(1e-3, 1e9)),
    st.one_of(st.just(0.0), st.floats(1e-3, 20.0)),
    st.floats(0.0, 1.0),
    st.floats(0.01, 1.0), st.floats(1.01, 3.0),
)
def test_switching_cost_monotone(estate, kappa, port, share_other, factor) -> None:
    """Non-decreasing in kappa and estate, non-increasing in portability (strict when positive)."""
    fleet = np.array([[1.0 - share_other, share_other, 0.0, 0.0]])
    pt = np.full((1, S), port)
    base = switching_cost(np.array([estate]), fleet, pt, kappa)
    more_k = switching_cost(np.array([estate]), fleet, pt, kappa * factor)
    more_e = switching_cost(np.array([estate * factor]), fleet, pt, kappa)
    more_p = switching_cost(np.array([estate]), fleet, np.full((1, S), min(1.0, port + 0.1)), kappa)
    assert np.all(more_k >= base) and np.all(more_e >= base) and np.all(more_p <= base)
    pos = base > 0
    assert np.all(more_k[pos] > base[pos]) and np.all(more_e[pos] > base[pos])
    if port < 1.0:
        assert np.all(more_p[pos] < base[pos])


# ---------------------------------------------------------------- porting_decision


def test_porting_decision_invests_when_saving_beats_cost() -> None:
    cur = np.array([[0.0, 0.2, 0.0, 0.0], [0.0, 0.0, 0.98, 0.0]])
    save = np.array([[0.0, 5.0, 1.0, 0.0], [0.0, 0.0, 9.0, 0.0]])
    cost = np.array([[1.0, 4.0, 1.0, 1.0], [1.0, 1.0, 2.0, 1.0]])
    new = porting_decision(save, cost, np.array([False, False]), cur, P)
    step = P.porting_step_per_month
    np.testing.assert_allclose(new, [[0.0, 0.2 + step, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])


def test_porting_decision_respects_mandate() -> None:
    cur = np.zeros((3, S))
    save = np.zeros((3, S))
    cost = np.full((3, S), 1e9)  # porting never pays
    mand = np.array([True, False, True])
    new = porting_decision(save, cost, mand, cur)
    expected = np.zeros((3, S))
    expected[[0, 2], CANN] = P.porting_step_per_month
    np.testing.assert_allclose(new, expected)
    # levels never fall and stay <= 1
    again = porting_decision(save, cost, mand, np.full((3, S), 0.99))
    assert np.all(again >= 0.99) and np.all(again <= 1.0)


def test_porting_decision_checks_shapes() -> None:
    with pytest.raises(ValueError, match="mandated"):
        porting_decision(np.zeros((2, S)), np.zeros((2, S)), np.zeros(3, bool), np.zeros((2, S)))


# ---------------------------------------------------------------- bass_hazard


def test_bass_hazard_at_zero_adoption() -> None:
    assert bass_hazard(0.03, 0.38, 0.0) == pytest.approx(1 - np.exp(-0.03 / 12))
    assert bass_hazard(0.03, 0.38, 0.0, dt_years=1.0) == pytest.approx(1 - np.exp(-0.03))


def test_bass_hazard_vectorised() -> None:
    f = np.array([0.0, 0.5, 1.0])
    h = bass_hazard(np.array([0.03, 0.03, 0.03]), 0.38, f)
    np.testing.assert_allclose(h, 1 - np.exp(-(0.03 + 0.38 * f) / 12))
    with pytest.raises(ValueError):
        bass_hazard(0.03, 0.38, 1.2)


@settings(max_examples=150, deadline=None)
@given(st.floats(0.0, 1.0), st.floats(0.001, 2.0), st.floats(0.0, 0.99), st.floats(0.001, 0.01))
def test_bass_hazard_increases_with_adoption(p, q, f, df) -> None:
    lo, hi = bass_hazard(p, q, f), bass_hazard(p, q, min(1.0, f + df))
    assert 0.0 <= lo < hi <= 1.0
