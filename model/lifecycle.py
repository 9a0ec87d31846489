"""Product lifecycles (``model/data/lifecycle.csv``, one row per chip with a known end or
successor, each with its source): the month a chip's production ended (not sold from that month
on; installed units stay and retire as usual) and the chip of its next generation (the product
leaves production ``supersede_months`` after its successor ships). Chips without a row have no
announced end: they stay on sale for ``product_life_months``."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from model.population import _Table

LIFECYCLE_CSV: Path = Path(__file__).resolve().parent / "data" / "lifecycle.csv"
LIFECYCLE_COLUMNS: tuple[str, ...] = ("chip", "end_production", "successor", "source", "note")
_MONTH = re.compile(r"^(19|20)\d\d-(0[1-9]|1[0-2])$")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


#: per-process memo of validated tables, keyed on the path, the file's bytes and the chip ids
#: (every input of the pure function below); a failing file is never kept
_MEMO: dict[tuple[str, bytes, tuple[str, ...]], dict[str, tuple[str, str]]] = {}


def load_lifecycle(chip_ids: list[str] | pd.Index,
                   path: str | Path | None = None) -> dict[str, tuple[str, str]]:
    """chip id -> (end of production YYYY-MM or "", successor chip id or ""), validated: every chip
    and successor in the catalog, one row per chip, an end or a successor, and a source
    (PopulationError naming file, line, column and value otherwise). Each model set-up reads it:
    the answer for the same file content and chips is kept per process (a new dict each call)."""
    p = Path(path) if path is not None else LIFECYCLE_CSV
    try:
        key = (str(p), p.read_bytes(), tuple(str(c) for c in chip_ids))
    except OSError:
        key = None  # unreadable: _Table says why
    if key is not None and key in _MEMO:
        return dict(_MEMO[key])
    table = _load(p, chip_ids)
    if key is not None:
        if len(_MEMO) > 64:
            _MEMO.clear()
        _MEMO[key] = dict(table)
    return table


def _load(path: Path, chip_ids: list[str] | pd.Index) -> dict[str, tuple[str, str]]:
    t = _Table(path, LIFECYCLE_COLUMNS, "chip")
    chips = t.text("chip", pattern=_ID, expected="a chip id")
    ends = t.text("end_production", allow_empty=True, pattern=_MONTH, expected="YYYY-MM or empty")
    succ = t.text("successor", allow_empty=True, pattern=_ID, expected="a chip id or empty")
    t.text("source", expected="a non-empty source citation")
    known = set(chip_ids)
    seen: set[str] = set()
    for i, (c, e, s) in enumerate(zip(chips, ends, succ, strict=True)):
        if c not in known:
            t.fail(i, "chip", c, "a chip id of chips.csv")
        if c in seen:
            t.fail(i, "chip", c, "one row per chip (duplicate)")
        if s and s not in known:
            t.fail(i, "successor", s, "a chip id of chips.csv")
        if s == c:
            t.fail(i, "successor", s, "another chip than the row's own")
        if not e and not s:
            t.fail(i, "end_production", e, "an end of production, a successor, or both")
        seen.add(c)
    return {c: (e, s) for c, e, s in zip(chips, ends, succ, strict=True)}
