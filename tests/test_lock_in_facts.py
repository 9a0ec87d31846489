"""Stylized facts of ecosystems and lock-in over several seeds (issue 5)."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.analysis import lock_in
from model.run import run_one

pytestmark = pytest.mark.slow  # every test compares means over five seeds: pytest -m "not slow" skips them

SEEDS = range(5)


def _cn_cuda_share(adoption, year: int) -> float:
    a = adoption[(adoption["region"] == "cn") & (adoption["date"].str[:4] == str(year))]
    g = a.groupby("stack")["installed_h100e"].sum()
    return float(g.get("cuda", 0.0) / g.sum())


def _kappa_sweep() -> dict[float, list[float]]:
    """China's CUDA share of its installed base in 2025, 2026 and 2027, mean over seeds, by kappa."""
    means = {}
    for kappa in (1.0, 5.0, 20.0):
        runs = [run_one({"end": "2027-12", "kappa": kappa}, s)["adoption"] for s in SEEDS]
        means[kappa] = [np.mean([_cn_cuda_share(a, y) for a in runs]) for y in (2025, 2026, 2027)]
    return means


def test_excess_inertia_higher_kappa_keeps_cuda_longer_in_china():
    """Raising the switching cost keeps CUDA's share of China's installed base higher right after
    the controls: monotone over three levels in 2025, and kappa 20 still well above kappa 1 in 2026
    (kappa 1 and 5 tie in 2026 within a point)."""
    means = _kappa_sweep()
    col = [means[k][0] for k in (1.0, 5.0, 20.0)]
    assert col[0] < col[1] < col[2], (2025, col)
    assert means[20.0][1] > means[1.0][1] + 0.05, [means[k][1] for k in (1.0, 5.0, 20.0)]


@pytest.mark.xfail(strict=True, reason=(
    "issue 16 finding: after the 2022-24 calibration the inertia reverses by 2027 - China's CUDA "
    "share in 2027 is 0.43 at kappa 1, 0.34 at 5 and 0.22 at 20 (seeds 0-4), so higher switching "
    "costs delay the move off CUDA but not for long. Strict: the mark must go if it holds again"))
def test_excess_inertia_lasts_through_2027():
    means = _kappa_sweep()
    col = [means[k][2] for k in (1.0, 5.0, 20.0)]
    assert col[0] <= col[1] <= col[2], (2027, col)


def _network_sweep() -> tuple[list[float], list[float]]:
    res = {}
    for weight in (0.3, 1.0, 3.0):
        bif, locked = [], []
        for s in SEEDS:
            t = run_one({"network_weight": weight}, s)
            bif.append(t["model"]["bifurcation_index"].iloc[-1])
            locked.append(bool(lock_in(t["adoption"], "2035-12")["locked_in"].iloc[0]))
        res[weight] = (np.mean(bif), np.mean(locked))
    return [res[w][0] for w in (0.3, 1.0, 3.0)], [res[w][1] for w in (0.3, 1.0, 3.0)]


def test_stronger_network_effects_raise_bifurcation():
    bif, _ = _network_sweep()
    assert bif[0] < bif[1] < bif[2], bif


@pytest.mark.xfail(strict=True, reason=(
    "issue 16 finding: with the 2022-24 calibration every run locks in by 2035 whatever the network "
    "weight (lock-in share 1.0 at 0.3, 1 and 3; first locked month 2031-2033 in all), because China's "
    "bans and the US controls, not network effects, split the blocs; the fact holds only where "
    "lock-in is not forced. Strict: the mark must go if the model makes it hold again"))
def test_stronger_network_effects_raise_lock_in():
    _, lock = _network_sweep()
    assert lock[0] <= lock[1] <= lock[2] and lock[2] > lock[0], lock


def test_baseline_bifurcation_rises_2022_to_2030():
    for s in SEEDS:
        m = run_one({"end": "2030-12"}, s)["model"]
        y22 = m.loc[m["date"].str[:4] == "2022", "bifurcation_index"].mean()
        y30 = m.loc[m["date"].str[:4] == "2030", "bifurcation_index"].mean()
        assert y30 > y22 + 0.2, (s, y22, y30)
