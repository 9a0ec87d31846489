"""Per-process memos of pure functions of a run's inputs (issue 19): one idiom for the caches the
month's phases keep across runs in a process - the answer kept under a key that covers every
input, its arrays made read-only (a caller cannot corrupt the memo), emptied when full."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import numpy as np


class ProcessMemo(dict):
    """A bounded dict of answers: ``get_or(key, compute)`` returns the kept answer or computes,
    freezes and keeps it. A reader that has its answer keeps it when the memo is emptied."""

    def __init__(self, max_items: int) -> None:
        super().__init__()
        self.max_items = max_items

    def get_or(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        hit = self.get(key)
        if hit is None:
            hit = compute()
            for a in hit if isinstance(hit, tuple) else (hit,):
                if isinstance(a, np.ndarray):
                    a.flags.writeable = False
            if len(self) >= self.max_items:
                self.clear()
            self[key] = hit
        return hit
