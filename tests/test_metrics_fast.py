"""The list versions of the metrics (what the recorder calls each month) give the numpy
functions' results bit for bit, degenerate cases and refusals included (issue 19)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from model import metrics as M


def _bits(x: float) -> bytes:
    return np.float64(x).tobytes()


def _arrays(rng, n, shape):
    """Values over 60 orders of magnitude with zeros, rows and columns of zeros: sums round."""
    for i in range(n):
        a = np.exp(rng.uniform(-30, 30, shape)) * (rng.uniform(size=shape) < 0.75)
        if i % 7 == 0 and shape[0]:
            a[rng.integers(shape[0])] = 0.0
        if i % 11 == 0 and len(shape) == 2:
            a[:, rng.integers(shape[1])] = 0.0
        yield a


@pytest.mark.parametrize("n", [0, 1, 3, 7, 8, 9, 17, 68, 127, 128, 129, 300, 1000])
def test_pairwise_sum_is_numpys(n):
    rng = np.random.default_rng(n)
    for a in _arrays(rng, 200, (n,)):
        assert _bits(M._psum(a.tolist())) == _bits(a.sum())
        if n < 8:
            assert _bits(M._lsum(a.tolist())) == _bits(a.sum())


def test_jsd_shares_hhi_and_top_lists():
    rng = np.random.default_rng(2)
    for a, b in zip(_arrays(rng, 3000, (4,)), _arrays(rng, 3000, (4,))):
        p, q = a.tolist(), b.tolist()
        assert _bits(M.bloc_jsd_lists(p, q)) == _bits(M.bloc_jsd(a, b))
        assert [_bits(v) for v in M.shares_list(p)] == [_bits(v) for v in M.stack_shares(a)]
        s2 = M.shares_list(M.shares_list(p))  # what the recorder takes hhi and the top share from
        assert _bits(float(np.dot(s2, s2))) == _bits(M.hhi(M.stack_shares(a)))
        assert _bits(max(s2)) == _bits(M.top_share(M.stack_shares(a)))
    assert M.bloc_jsd_lists([0.0] * 4, [1.0, 2.0, 0.0, 0.0]) == 0.0
    assert M.shares_list([0.0] * 4) == [0.0] * 4


def test_dual_stack_share_rows_is_dual_stack_share():
    rng = np.random.default_rng(4)
    hits = 0
    for k in (1, 5, 15, 40):
        for x in _arrays(rng, 400, (k, 4)):
            w = rng.uniform(0, 1, k) * (rng.uniform(size=k) < 0.9)
            want = M.dual_stack_share(x, weights=w)
            assert _bits(M.dual_stack_share_rows(x.tolist(), w.tolist())) == _bits(want)
            hits += 0.0 < want < 1.0
    assert hits > 100
    assert M.dual_stack_share_rows([[0.0] * 4], [1.0]) == 0.0


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_list_metrics_refuse_what_the_numpy_ones_refuse(bad):
    row = [1.0, bad, 0.0, 2.0]
    with pytest.raises(ValueError, match="p: entries"):
        M.bloc_jsd_lists(row, [1.0] * 4)
    with pytest.raises(ValueError, match="fleet"):
        M.dual_stack_share_rows([row], [1.0])
    with pytest.raises(ValueError, match="weights"):
        M.dual_stack_share_rows([[1.0] * 4], [bad])
    with pytest.raises(ValueError, match="same shape"):
        M.bloc_jsd_lists([1.0] * 4, [1.0] * 3)


@pytest.mark.parametrize("k", [1, 64, 65, 9000])
def test_recorders_dual_stack_share_either_side_of_its_switch(k):
    from model.components.recorder import _dual_stack_share
    rng = np.random.default_rng(k)
    x = np.exp(rng.uniform(-5, 5, (k, 4))) * (rng.uniform(size=(k, 4)) < 0.6)
    w = rng.uniform(0, 1, k)
    assert _bits(_dual_stack_share(x, w)) == _bits(M.dual_stack_share(x, weights=w))


@pytest.mark.parametrize("k", [0, 1, 2, 5, 17, 32])
def test_compiled_bifurcation_is_bifurcation_index(k):
    """Contiguous blocks and the recorder's strided view (the first S columns of (R, 3S))."""
    from model.components.recorder import _bifurcation

    rng = np.random.default_rng(20 + k)
    inside = 0
    for big in _arrays(rng, 500, (k, 12)):
        for x in (big[:, :4], np.ascontiguousarray(big[:, 4:8])):
            want = M.bifurcation_index(x)
            assert _bits(_bifurcation(x)) == _bits(want)
            inside += 0.0 < want < 1.0
    assert inside > 300 or k <= 1
    assert _bits(_bifurcation(np.zeros((k, 4)))) == _bits(M.bifurcation_index(np.zeros((k, 4))))
    if k:
        for bad in (-1.0, np.nan, np.inf):
            x = np.ones((k, 4))
            x[-1, 2] = bad
            assert np.isnan(M.bifurcation_nb(x))
            with pytest.raises(ValueError, match="installed"):
                _bifurcation(x)
    big = np.exp(rng.uniform(-5, 5, (40, 4)))  # past the kernel's 128 entries: numpy's function
    assert _bits(_bifurcation(big)) == _bits(M.bifurcation_index(big))


@pytest.mark.parametrize("k", [1, 5, 15, 40, 130, 1100, 12000])
def test_compiled_dual_stack_share_is_dual_stack_share(k):
    """Also past 128 selected buyers (the firm-level populations): the weight sums pairwise."""
    from types import SimpleNamespace

    from model.components.recorder import _gs_dual_stack_share

    rng = np.random.default_rng(30 + k)
    hits = 0
    for x in _arrays(rng, 300 if k < 1000 else 20, (k, 4)):
        w = rng.uniform(0, 1, k) * (rng.uniform(size=k) < 0.9)
        a, b = rng.uniform(size=k) < 0.8, rng.uniform(size=k) < 0.8
        sel = a & b
        want = M.dual_stack_share(x[sel], weights=w[sel]) if sel.any() else 0.0
        got = _gs_dual_stack_share(SimpleNamespace(fleet_eff=x, share=w, is_gs=a, active=b))
        assert _bits(got) == _bits(want)
        hits += 0.0 < want < 1.0
    assert hits > (15 if k >= 1000 else 100 if k >= 15 else 10 if k > 1 else -1)
    none = np.zeros(k, dtype=bool)
    assert _bits(M.dual_stack_share_nb(np.ones((k, 4)), np.ones(k), none, none, 0.1)) == _bits(0.0)
    x = np.ones((k, 4))
    x[-1, 0] = np.nan
    t = np.ones(k, dtype=bool)
    assert np.isnan(M.dual_stack_share_nb(x, np.ones(k), t, t, 0.1))
    with pytest.raises(ValueError, match="finite"):
        _gs_dual_stack_share(SimpleNamespace(fleet_eff=x, share=np.ones(k), is_gs=t, active=t))


def test_compiled_metrics_warm_up():
    M.warm_up()
    for f in (M.bifurcation_nb, M.dual_stack_share_nb):
        assert f.signatures  # compiled for the recorder's argument types
