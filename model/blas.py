"""One BLAS thread for the month's (buyers x offerings) products (issue 19).

numpy hands a product of a large population (``alloc @ weights``: 10^4 buyers and more) to
OpenBLAS, which splits it over worker threads that then spin, waiting for the next call, on the
cores the rest of the month (and, in a sweep, the other workers) needs: at 10^4 buyers on two
cores a run took 2.3x as long. Each product keeps the bits it has with one thread (OpenBLAS
splits rows, not sums; tests/test_blas.py checks the tables), so these products run with one
thread from ``THREADED_ROWS`` rows up, below which OpenBLAS uses one anyway. Only these calls
are limited: a notebook's own numpy keeps its threads.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

#: rows from which a product is limited to one thread (a baseline run has about 60)
THREADED_ROWS = 256
_NULL = nullcontext()
_CONTROLLER: list[Any] = []  # threadpoolctl's controller, made on first use (it scans the libraries)


def one_thread(rows: int) -> AbstractContextManager:
    """A context in which BLAS runs on one thread when a product has ``rows`` rows or more."""
    if rows < THREADED_ROWS:
        return _NULL
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")
