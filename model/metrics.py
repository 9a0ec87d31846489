"""Metrics of the model table (docs/ODD.md "Metrics and output tables"): bifurcation, divergence,
concentration, dual stacks.

Pure functions over numpy arrays, called once per month by the Model's reporters. Entropies use
base 2 with 0·log 0 = 0. Degenerate inputs (nothing installed, a single stack) return 0.0 rather
than NaN so that sweep outputs stay finite for SALib and plots; each function says which case.
Equations: docs/ODD.md, "Metrics".
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from scipy.special import entr

from model.core._jit import JIT
from model.float_sums import pairwise_blocks
from model.kernels import pairwise_sum

__all__ = [
    "RATIO_CAP",
    "stack_shares",
    "bifurcation_index",
    "bloc_jsd",
    "hhi",
    "top_share",
    "dual_stack_share",
    "compute_ratio",
]

# Value returned by compute_ratio when the denominator is zero and the numerator is not.
RATIO_CAP: float = 1e6

_LN2 = float(np.log(2.0))
# Entropies below this (bits) are treated as zero: guards against rounding in sums of shares.
_H_EPS = 1e-12


def _nonneg(x: np.ndarray | list | tuple, name: str, ndim: int | None = None) -> np.ndarray:
    """``x`` as a float array; negative, NaN or infinite entries are a caller's bug and refused."""
    a = np.asarray(x, dtype=float)
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {a.shape}")
    # min >= 0 and max finite: no NaN (min is NaN then), no negative, no infinity - two passes
    if a.size and not (a.min() >= 0 and np.isfinite(a.max())):
        raise ValueError(f"{name}: entries must be finite and >= 0, got {a!r}")
    return a


def _entropy_bits(p: np.ndarray, axis: int | None = None) -> np.ndarray | float:
    """Shannon entropy in bits of (already normalised) probabilities, with 0·log 0 = 0."""
    return entr(p).sum(axis=axis) / _LN2


def stack_shares(installed: np.ndarray) -> np.ndarray:
    """Normalise the last axis (stacks) to shares: (..., S) -> (..., S); all-zero rows stay zero."""
    x = _nonneg(installed, "installed")
    total = x.sum(axis=-1, keepdims=True)
    return np.divide(x, total, out=np.zeros_like(x), where=total > 0)


def bifurcation_index(installed: np.ndarray) -> float:
    """Theil's H = I(region; stack) / H(stack) of installed compute, regions x stacks, in [0, 1].

    0 when regions hold identical stack mixes, 1 when knowing the region tells the stack.
    Returns 0.0 when nothing is installed or only one stack is (H(stack) = 0). Invariant to
    scaling; not symmetric in its axes (rows must be regions).
    """
    x = _nonneg(installed, "installed", ndim=2)
    total = float(x.sum())
    if total <= 0.0:
        return 0.0
    joint = x / total
    h_stack = float(_entropy_bits(joint.sum(axis=0)))
    if h_stack <= _H_EPS:
        return 0.0
    h_region = float(_entropy_bits(joint.sum(axis=1)))
    mutual = h_region + h_stack - float(_entropy_bits(joint))
    return float(min(1.0, max(0.0, mutual / h_stack)))


def bloc_jsd(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence (base 2) between two stack vectors, normalised inside; in [0, 1].

    JSD = H((P+Q)/2) - (H(P) + H(Q))/2. Symmetric. Returns 0.0 when either vector is all zero
    (no distribution to compare against).
    """
    a = _nonneg(p, "p", ndim=1)
    b = _nonneg(q, "q", ndim=1)
    if a.shape != b.shape:
        raise ValueError(f"bloc_jsd: p and q must have the same shape, got {a.shape} and {b.shape}")
    sa, sb = float(a.sum()), float(b.sum())
    if sa <= 0.0 or sb <= 0.0:
        return 0.0
    a = a / sa
    b = b / sb
    jsd = float(_entropy_bits(0.5 * (a + b))) - 0.5 * (
        float(_entropy_bits(a)) + float(_entropy_bits(b))
    )
    return float(min(1.0, max(0.0, jsd)))


def hhi(shares: np.ndarray) -> float:
    """Herfindahl-Hirschman index: sum of squared shares (normalised inside); 0.0 if all zero."""
    s = stack_shares(_nonneg(shares, "shares", ndim=1))
    return float(np.dot(s, s))


def top_share(shares: np.ndarray) -> float:
    """Largest share (normalised inside); 0.0 if the vector is all zero."""
    s = stack_shares(_nonneg(shares, "shares", ndim=1))
    return float(s.max()) if s.size else 0.0


def dual_stack_share(
    fleet: np.ndarray, threshold: float = 0.10, weights: np.ndarray | None = None
) -> float:
    """Share of buyers with more than ``threshold`` of their fleet on each of at least two stacks.

    ``fleet`` is buyer x stack (B, S) installed compute (any unit; rows normalised inside).
    ``weights`` (B,) weights buyers (e.g. by demand); default counts each buyer once. Buyers with
    empty fleets are excluded from numerator and denominator; 0.0 if no buyer has a fleet.
    """
    x = _nonneg(fleet, "fleet", ndim=2)
    if not 0.0 <= threshold < 1.0:
        raise ValueError(f"dual_stack_share: threshold must be in [0, 1), got {threshold!r}")
    if weights is None:
        w = np.ones(x.shape[0])
    else:
        w = _nonneg(weights, "weights", ndim=1)
        if w.shape[0] != x.shape[0]:
            raise ValueError(
                f"dual_stack_share: weights has {w.shape[0]} entries for {x.shape[0]} buyers"
            )
    shares = stack_shares(x)
    has_fleet = x.sum(axis=1) > 0
    dual = (shares > threshold).sum(axis=1) >= 2
    denom = float(w[has_fleet].sum())
    if denom <= 0.0:
        return 0.0
    return float(w[has_fleet & dual].sum() / denom)


def compute_ratio(a: float, b: float) -> float:
    """a / b for non-negative compute totals, at most RATIO_CAP (b == 0 < a: the cap; 0/0: 1.0)."""
    a = float(a)
    b = float(b)
    if not (math.isfinite(a) and math.isfinite(b)) or a < 0 or b < 0:
        raise ValueError(f"compute_ratio: expected finite non-negative numbers, got {a!r}, {b!r}")
    if b == 0.0:
        return 1.0 if a == 0.0 else RATIO_CAP
    return float(min(a / b, RATIO_CAP))


# -- the same metrics on Python lists, for the recorder's month (issue 19) -------------------------
# The arrays the recorder reads are a few dozen numbers, so numpy's per-call cost is most of the
# work. These give the numpy functions' bits exactly: the same IEEE operations in numpy's order
# (its sum of a contiguous vector is pairwise in eight lanes; of fewer than eight, and along an
# outer axis, left to right) and scipy's entr (-p log p, the C library's log, which math.log is).
# tests/test_metrics_fast.py checks each against the numpy function, bit for bit.

_INF = float("inf")


def _lsum(v: list[float]) -> float:
    """numpy's sum of a short vector or along an outer axis: left to right from -0.0 (0.0 if empty)."""
    if not v:
        return 0.0
    s = -0.0
    for x in v:
        s += x
    return s


def _psum(a: list[float], lo: int = 0, n: int | None = None) -> float:
    """numpy's pairwise sum of a contiguous float64 vector (``np.add.reduce``, up to 8192 items):
    model.float_sums' blocks, without the 0.0 identity added to a non-empty sum."""
    if n is None:
        n = len(a)
        if n > 8192:
            raise ValueError(f"_psum: {n} items is past numpy's buffer (8192)")
        if n == 0:
            return 0.0  # numpy's identity
    return pairwise_blocks(a, lo, n)


def _entr(p: float) -> float:
    return -p * math.log(p) if p > 0 else 0.0


def _check(values: list[float], name: str) -> None:
    for v in values:
        if not 0.0 <= v < _INF:  # NaN fails too
            raise ValueError(f"{name}: entries must be finite and >= 0, got {v!r}")


def shares_list(x: list[float]) -> list[float]:
    """:func:`stack_shares` of one vector."""
    t = _lsum(x) if len(x) < 8 else _psum(x)
    return [v / t for v in x] if t > 0 else [0.0] * len(x)


def bloc_jsd_lists(p: list[float], q: list[float]) -> float:
    """:func:`bloc_jsd` of two short vectors (fewer than 8 stacks)."""
    _check(p, "p")
    _check(q, "q")
    if len(p) != len(q):
        raise ValueError(f"bloc_jsd: p and q must have the same shape, got {len(p)} and {len(q)}")
    sa, sb = _lsum(p), _lsum(q)
    if sa <= 0.0 or sb <= 0.0:
        return 0.0
    a = [v / sa for v in p]
    b = [v / sb for v in q]
    h_m = _lsum([_entr(0.5 * (x + y)) for x, y in zip(a, b)]) / _LN2
    jsd = h_m - 0.5 * (_lsum([_entr(x) for x in a]) / _LN2 + _lsum([_entr(y) for y in b]) / _LN2)
    return float(min(1.0, max(0.0, jsd)))


def dual_stack_share_rows(fleet: list[list[float]], weights: list[float], threshold: float = 0.10) -> float:
    """:func:`dual_stack_share` of buyers x stacks rows (S < 8) and their weights."""
    if len(weights) != len(fleet):
        for r in fleet:
            _check(r, "fleet")
        _check(weights, "weights")
        raise ValueError(f"dual_stack_share: weights has {len(weights)} entries for {len(fleet)} buyers")
    has, both = [], []
    for r, w in zip(fleet, weights):
        t = -0.0  # _lsum, with _check's test on each entry
        for v in r:
            if not 0.0 <= v < _INF:  # NaN fails too
                raise ValueError(f"fleet: entries must be finite and >= 0, got {v!r}")
            t += v
        if t > 0:
            has.append(w)
            c = 0
            for v in r:
                if v / t > threshold:
                    c += 1
            if c >= 2:
                both.append(w)
    _check(weights, "weights")  # after the fleet, as before: the fleet's error is the one raised
    denom = _psum(has)
    if denom <= 0.0:
        return 0.0
    return float(_psum(both) / denom)



# -- compiled, for the recorder's month (issue 19) -----------------------------------------------
# The same operations in numpy's order again, in one compiled pass instead of a dozen numpy calls:
# the log is the C library's (what scipy's entr and math.log call), the sums numpy's pairwise one
# (bifurcation_nb takes blocks of up to 128 entries, where numpy sums a strided block as it is; the
# callers fall back to the numpy functions past that, and on any input these refuse).
# tests/test_metrics_fast.py checks them bit for bit; warm_up compiles them.

_JIT = JIT  # model/core/_jit.py


@njit(**_JIT)
def _psum_nb(a, n):
    """:func:`_psum` of ``a[:n]`` (np.sum's bits: its identity 0.0 plus the pairwise sum)."""
    return 0.0 + pairwise_sum(a, 0, n)


@njit(**_JIT)
def _entr_nb(p):
    return -p * math.log(p) if p > 0.0 else 0.0


@njit(**_JIT)
def bifurcation_nb(x):
    """:func:`bifurcation_index` before its final clamp, of an (R, S) block with R*S <= 128 and
    S < 8 (any strides); NaN for an entry it would refuse."""
    R, S = x.shape
    n = R * S
    flat = np.empty(n)
    for i in range(R):
        for j in range(S):
            v = x[i, j]
            if not (v >= 0.0 and v < np.inf):
                return np.nan
            flat[i * S + j] = v
    if n == 0:
        return 0.0
    total = _psum_nb(flat, n)  # a strided block is buffered: numpy sums it flattened, pairwise
    if total <= 0.0:
        return 0.0
    for k in range(n):
        flat[k] = flat[k] / total
    h = -0.0
    for j in range(S):  # the stack sums run down the rows, from the first
        c = flat[j]
        for i in range(1, R):
            c += flat[i * S + j]
        h += _entr_nb(c)
    h_stack = h / _LN2
    if h_stack <= _H_EPS:
        return 0.0
    er = np.empty(R)
    for i in range(R):  # each region's few stacks, left to right
        r = -0.0
        for j in range(S):
            r += flat[i * S + j]
        er[i] = _entr_nb(r)
    for k in range(n):
        flat[k] = _entr_nb(flat[k])
    mutual = _psum_nb(er, R) / _LN2 + h_stack - _psum_nb(flat, n) / _LN2
    return mutual / h_stack


@njit(**_JIT)
def dual_stack_share_nb(fleet, weights, select_a, select_b, threshold):
    """:func:`dual_stack_share` of the rows where ``select_a & select_b``, 0.0 if none; NaN for an
    entry it would refuse. Any number of buyers: the two weight sums are np.sum's pairwise sum of
    the selected weights (``_psum_nb``, blocks of 128 and halves above)."""
    B, S = fleet.shape
    has = np.empty(B)
    both = np.empty(B)
    nh = 0
    nb = 0
    for i in range(B):
        if not (select_a[i] and select_b[i]):
            continue
        t = -0.0
        for j in range(S):
            v = fleet[i, j]
            if not (v >= 0.0 and v < np.inf):
                return np.nan
            t += v
        w = weights[i]
        if not (w >= 0.0 and w < np.inf):
            return np.nan
        if t > 0:
            has[nh] = w
            nh += 1
            c = 0
            for j in range(S):
                if fleet[i, j] / t > threshold:
                    c += 1
            if c >= 2:
                both[nb] = w
                nb += 1
    denom = _psum_nb(has, nh)
    if denom <= 0.0:
        return 0.0
    return _psum_nb(both, nb) / denom


def warm_up() -> None:
    """Compile (or load from the on-disk cache) these kernels for the recorder's argument types:
    its strided (R, S) block and the buyers' (B, S) fleet with two masks."""
    block = np.ones((2, 12))[:, :4]
    bifurcation_nb(block)
    t = np.ones(2, dtype=np.bool_)
    dual_stack_share_nb(np.ones((2, 4)), np.ones(2), t, t, 0.10)
