"""Exact fixed-seed regression guard over several configurations and all three tables.

Each configuration is run once with a fixed seed; every column of the ``model``, ``adoption``
and ``vendors`` tables is hashed from its exact bytes (floats bit for bit, strings as text), so
any change of any value, row order or column fails. The committed digests live in
``tests/baseline/guard.json``; regenerate them ON PURPOSE only (a change meant to move results),
in a commit that says why:

    .venv/bin/python -m tests.guard --write
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
GUARD_FILE = HERE / "baseline" / "guard.json"
SEED = 20260101
FIXTURES = HERE / "fixtures"

# name -> run_one params. Every shipped scenario to the default end (2035-12), a firm-level
# population, the Arthur docking and a scenario with a mid-run `set` event.
CONFIGS: dict[str, dict] = {
    "baseline": {"scenario": "baseline"},
    "full_decoupling": {"scenario": "full_decoupling"},
    "gs_open_market": {"scenario": "gs_open_market"},
    "h200_opening": {"scenario": "h200_opening"},
    "no_controls": {"scenario": "no_controls"},
    "rare_earth_embargo": {"scenario": "rare_earth_embargo"},
    "firms": {"scenario": "baseline", "n_firms_per_country": 12, "n_firms_per_hyperscaler_region": 4,
              "end": "2030-12"},
    "arthur_docking": {"scenario": "arthur_docking"},
    "set_event": {"scenario": str(FIXTURES / "set_event.toml")},
}


def _column_digest(col: pd.Series) -> str:
    h = hashlib.sha256(str(col.dtype).encode())
    values = col.to_numpy()
    if values.dtype.kind in "biuf":
        h.update(np.ascontiguousarray(values).tobytes())
    else:
        h.update("\x1f".join(map(str, values)).encode())
    return h.hexdigest()[:16]


def table_digest(df: pd.DataFrame) -> dict[str, str]:
    """One digest per column, plus the row count and column order."""
    out = {"_rows": str(len(df)), "_columns": ",".join(df.columns)}
    out.update({c: _column_digest(df[c]) for c in df.columns})
    return out


def digests(name: str) -> dict[str, dict[str, str]]:
    from model.run import run_one

    tables = run_one(dict(CONFIGS[name]), SEED)
    return {t: table_digest(df) for t, df in sorted(tables.items())}


def committed() -> dict:
    return json.loads(GUARD_FILE.read_text())


if __name__ == "__main__":
    if "--write" not in sys.argv:
        sys.exit("pass --write to regenerate tests/baseline/guard.json on purpose")
    data = {name: digests(name) for name in CONFIGS}
    GUARD_FILE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GUARD_FILE} ({len(data)} configurations)")
