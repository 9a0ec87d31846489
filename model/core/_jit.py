"""Compile options and float helpers shared by the project's numba kernels (the core's serve.py and
train.py, and the month's kernels in model/: one set of options, not a copy per module).

Kernels are cached on disk (a fresh checkout compiles once), with no fastmath (IEEE semantics:
the numpy formulation's bits) and numpy's error model (x / 0 is inf or NaN as in numpy, not
ZeroDivisionError)."""

from __future__ import annotations

from numba import njit

from model.core import kernel_cache

kernel_cache.refresh_once()  # before any kernel is loaded: drop those compiled against older sources

JIT = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")


@njit(**JIT)
def mx(a, b):
    """np.maximum of two floats (NaN propagates; the second on a tie, as numpy)."""
    return a if (a > b or a != a) else b


@njit(**JIT)
def mn(a, b):
    """np.minimum of two floats (NaN propagates; the second on a tie, as numpy)."""
    return a if (a < b or a != a) else b
