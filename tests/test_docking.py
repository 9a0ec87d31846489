"""Docking with Arthur (1989): the real ChipMarketModel with policy, prices and capacity off
reduces to competing technologies with increasing returns (issue 5)."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.docking import arthur, gamblers_ruin_time, main
from model.market_model import ChipMarketModel


@pytest.fixture(scope="module")
def standard():
    return arthur(n_runs=500, seed=0)


@pytest.mark.slow  # statistics over many seeded runs
def test_lock_in_with_probability_one(standard):
    assert standard["locked_in"].all()
    assert (standard["lock_in_step"] <= 2000).all()


@pytest.mark.slow  # statistics over many seeded runs
def test_winners_split_by_the_type_mix(standard):
    share_a = (standard["winner"] == "A").mean()
    assert abs(share_a - 0.5) <= 0.05, share_a


@pytest.mark.slow  # statistics over many seeded runs
def test_mean_lock_in_time_near_gamblers_ruin(standard):
    theory = gamblers_ruin_time()
    assert theory == 121
    assert abs(standard["lock_in_step"].mean() / theory - 1.0) <= 0.10, standard["lock_in_step"].mean()


@pytest.mark.slow  # statistics over many seeded runs
def test_constant_returns_share_converges_to_type_mix():
    flat = arthur(n_runs=12, seed=1, r=0.0, s=0.0, stop_at_lock_in=False)
    assert not flat["locked_in"].any()
    assert (flat["arrivals"] == 2000).all()
    assert abs(flat["share_a"].mean() - 0.5) <= 0.02
    # each run's A share is its own R-type share: with constant returns types choose their favourite
    np.testing.assert_allclose(flat["share_a"], flat["share_r_types"], atol=1e-12)


def test_docking_runs_through_the_real_model():
    m = ChipMarketModel(scenario="arthur_docking", rng=5, arthur_arrivals=50)
    m.run_model()
    assert m.month - m.start_month == 50
    assert len(m.agents) >= 50 + len(m.vendors)  # arrivals became Mesa agents
    t = m.tables()
    assert len(t["model"]) == 50
    n = m.buyers.fleet_eff.sum()
    assert n == pytest.approx(50.0)  # one unit per arrival, none retired


@pytest.mark.slow  # statistics over many seeded runs
def test_asymmetric_payoffs_tilt_the_winner():
    tilted = arthur(n_runs=60, seed=2, a_r=3.0)  # R-types like A more: A wins more often
    assert (tilted["winner"] == "A").mean() > 0.55


def test_cli_quick(capsys):
    assert main(["--runs", "20", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "lock-in" in out and "gambler's ruin" in out
    assert main(["--runs", "0"]) == 2
