"""Python's cyclic garbage collector paused during a model's set-up (issue 19).

A set-up allocates many objects that all stay alive: the agents (10^4 at firm level) and, in a
fresh process, numba's first kernel load, which installs thousands of typing and lowering entries.
That sets off a full collection, a pass over every object of the process (numpy, pandas, numba,
Mesa): 70-90 ms measured here, in every fresh process, for nothing to collect. With the collector
paused over the set-up a fresh 10^4-buyer run made no full collection at all. The collector is
restored as it was, also when the set-up raises; results cannot depend on it.

At interpreter exit Python clears every module and then runs full collections over what is left:
0.4-0.6 s measured here in a process that loaded the model and its kernels (0.15-0.2 s with
Mesa alone), paid by every ``chipwar`` command after its work is done, and by the sweep pool's
fork server, which holds the command's stdout and stderr, so that a piped ``chipwar sweep``
(``| tee``, CI logs, ``subprocess`` with captured output) ended only when the server had torn
down too. ``freeze_at_exit`` moves every object into the collector's permanent generation as the
process exits (``gc.freeze``), after the exit handlers registered later have run; those passes
then have nothing to scan, and the operating system takes back the memory. Objects are still
freed by reference counting; the only difference is that reference cycles still alive at exit are
not collected, and Python never promised their ``__del__`` would run. Every file ``chipwar``
writes is closed before its command returns.
"""

from __future__ import annotations

import atexit
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


_FREEZE_REGISTERED = False


def freeze_at_exit() -> None:
    """Register ``gc.freeze`` to run at interpreter exit (once per process, whatever the calls).
    Exit handlers run last registered first, so the handlers registered after it (a process
    pool's shutdown, Dask's) run before it; the freeze only changes what the collector scans."""
    global _FREEZE_REGISTERED
    if not _FREEZE_REGISTERED:
        atexit.register(gc.freeze)
        _FREEZE_REGISTERED = True
