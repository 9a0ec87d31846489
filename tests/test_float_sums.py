"""model.float_sums.np_sum is np.sum over a float64 array and policy.clip_float is np.clip of
a float, bit for bit (issue 19)."""

from __future__ import annotations

import numpy as np

from model.float_sums import np_sum


def _bits(x: float) -> str:
    return np.float64(x).tobytes().hex()


def test_np_sum_is_numpys_sum_bit_for_bit():
    rng = np.random.default_rng(19)
    for n in list(range(0, 40)) + [63, 64, 127, 128, 129, 200, 255, 256, 257, 1000, 1031]:
        for scale in (1.0, 1e16, 1e-300):
            a = rng.standard_normal(n) * scale * rng.choice([1.0, 1e8, 1e-8], size=n)
            got = np_sum(a.tolist())
            assert type(got) is float
            assert _bits(got) == _bits(np.sum(a)), (n, scale)


def test_np_sum_signed_zeros_and_non_finite():
    for xs in ([], [-0.0], [-0.0, -0.0], [-0.0] * 9, [0.0, -0.0], [np.inf, -np.inf], [np.nan, 1.0],
               [1e308, 1e308, -1e308], [np.inf] * 10 + [1.0]):
        with np.errstate(over="ignore", invalid="ignore"):
            want = np.sum(np.array(xs, dtype=float))
        assert _bits(np_sum(xs)) == _bits(want), xs


def test_clip_float_is_np_clip_bit_for_bit():
    from model.policy import clip_float

    rng = np.random.default_rng(7)
    xs = [-0.0, 0.0, 1.0, -1.0, 1.0 + 1e-16, 1.0 - 1e-16, 5e-324, -5e-324, np.inf, -np.inf, np.nan]
    xs += (rng.standard_normal(500) * 2.0).tolist()
    for lo, hi in ((0.0, 1.0), (-0.0, 1.0), (-1.0, 1.0), (0.25, 4.0)):
        for x in xs:
            got = clip_float(x, lo, hi)
            assert type(got) is float and _bits(got) == _bits(np.clip(x, lo, hi)), (x, lo, hi)
