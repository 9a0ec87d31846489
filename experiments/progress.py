"""Progress for long work: a tqdm bar on a terminal, otherwise one plain line to stderr every few
seconds (done/total, rate, ETA, failures), so a log file or CI shows the work moving."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Count units of work; ``update(n, failed=k)`` as they finish, ``close()`` at the end.

    ``enabled=None`` shows a bar on a terminal and lines elsewhere; ``False`` is silent.
    Usable as a context manager.
    """

    def __init__(self, total: int, what: str = "runs", *, initial: int = 0, enabled: bool | None = True,
                 every_s: float = 5.0, stream: TextIO | None = None) -> None:
        self.total, self.what, self.done, self.failed = int(total), what, int(initial), 0
        self.stream = stream if stream is not None else sys.stderr
        self.every_s = every_s
        self.enabled = enabled is not False
        self._t0 = self._last = time.monotonic()
        self._start_done = self.done
        self._bar = None
        if self.enabled and self.stream.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, initial=self.done, unit=what.rstrip("s") or what,
                             file=self.stream, dynamic_ncols=True)

    def update(self, n: int = 1, *, failed: int = 0) -> None:
        self.done += n
        self.failed += failed
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(n)
            if self.failed:
                self._bar.set_postfix(failed=self.failed)
            return
        now = time.monotonic()
        if now - self._last >= self.every_s or self.done >= self.total:
            self._last = now
            self.stream.write(self.line(now) + "\n")
            self.stream.flush()

    def line(self, now: float | None = None) -> str:
        """One status line: done/total, rate, ETA and failures."""
        elapsed = (now if now is not None else time.monotonic()) - self._t0
        rate = (self.done - self._start_done) / elapsed if elapsed > 0 else 0.0
        left = self.total - self.done
        eta = f"{left / rate:.0f} s" if rate > 0 else "?"
        text = f"{self.done}/{self.total} {self.what} ({rate:.2f}/s, ETA {eta}, {elapsed:.0f} s elapsed)"
        return text + (f", {self.failed} failed" if self.failed else "")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
