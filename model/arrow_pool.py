"""The memory pool of the Arrow arrays the model and the sweep runner build (issue 19).

Arrow's default pool in the pyarrow wheels is mimalloc. In a process that has run a large model,
each of its first large ``take``s (a string column of 10^4 rows and more, as the tables' region,
date and run-id columns are) took 20-45 ms with it: the first 10^4-buyer run's ``tables()`` took
95 ms instead of 6, a sweep worker's first chunk 56 ms of takes instead of 12. The system
allocator's pool (and jemalloc's) gives the same arrays without that cost, so these arrays come
from it. Only these calls: a user's own Arrow work keeps the default pool.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

POOL = pa.system_memory_pool()


def take(values: pa.Array, indices: np.ndarray) -> pa.Array:
    """``pyarrow.compute.take(values, indices)`` from the system allocator's pool."""
    return pc.take(values, indices, memory_pool=POOL)
