"""Python's cyclic garbage collector paused during a model's set-up (issue 19).

A set-up allocates many objects that all stay alive: the agents (10^4 at firm level) and, in a
fresh process, numba's first kernel load, which installs thousands of typing and lowering entries.
That sets off a full collection, a pass over every object of the process (numpy, pandas, numba,
Mesa): 70-90 ms measured here, in every fresh process, for nothing to collect. With the collector
paused over the set-up a fresh 10^4-buyer run made no full collection at all. The collector is
restored as it was, also when the set-up raises; results cannot depend on it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """``gc.disable()`` for the block, then ``gc.enable()`` if it was enabled before."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
