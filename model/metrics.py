"""Metrics of the model table (docs/ODD.md "Metrics and output tables"): bifurcation, divergence,
concentration, dual stacks.

Pure functions over numpy arrays, called once per month by the Model's reporters. Entropies use
base 2 with 0·log 0 = 0. Degenerate inputs (nothing installed, a single stack) return 0.0 rather
than NaN so that sweep outputs stay finite for SALib and plots; each function says which case.
Equations: docs/ODD.md, "Metrics".
"""

from __future__ import annotations

import numpy as np
from scipy.special import entr

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
    if not (np.isfinite(a) and np.isfinite(b)) or a < 0 or b < 0:
        raise ValueError(f"compute_ratio: expected finite non-negative numbers, got {a!r}, {b!r}")
    if b == 0.0:
        return 1.0 if a == 0.0 else RATIO_CAP
    return float(min(a / b, RATIO_CAP))
