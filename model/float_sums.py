"""numpy's sums of a few Python floats without an array (issue 19): ``np_sum(xs)`` is
``np.sum(np.array(xs))`` bit for bit - its pairwise order (the unrolled leaf of eight partial
sums from 128 down, halves a multiple of 8 above) and its 0.0 identity first - on a list, for
phases that sum a dozen vendors' or regions' values each month."""

from __future__ import annotations


def pairwise_blocks(xs: list[float], lo: int, n: int) -> float:
    """numpy's pairwise sum of ``xs[lo:lo + n]`` (n > 0) without its 0.0 identity."""
    if n < 8:
        res = -0.0
        for i in range(lo, lo + n):
            res += xs[i]
        return res
    if n <= 128:
        r0, r1, r2, r3, r4, r5, r6, r7 = xs[lo:lo + 8]
        m = lo + n - n % 8
        for i in range(lo + 8, m, 8):
            r0 += xs[i]
            r1 += xs[i + 1]
            r2 += xs[i + 2]
            r3 += xs[i + 3]
            r4 += xs[i + 4]
            r5 += xs[i + 5]
            r6 += xs[i + 6]
            r7 += xs[i + 7]
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        for i in range(m, lo + n):
            res += xs[i]
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return pairwise_blocks(xs, lo, n2) + pairwise_blocks(xs, lo + n2, n - n2)


def np_sum(xs: list[float]) -> float:
    """``float(np.sum(np.array(xs, dtype=float)))`` for a list of Python floats, the same bits."""
    return 0.0 + pairwise_blocks(xs, 0, len(xs))
