"""Spreadsheet export: a run or sweep folder's tables (and its yearly summary) as CSV files.

The CSVs carry every column of the Parquet tables plus ``group`` (the scenario or design point)
and ``scenario`` in front, one row per row; a folder of runs or sweeps becomes one CSV per table.
Existing files are never replaced unless ``overwrite``; nothing is written if any target exists.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from model.errors import InputError

NAMES = ("model", "adoption", "vendors", "summary_metrics", "summary_vendors")


def export_folder(folder: str | Path, dest: str | Path | None = None, *,
                  overwrite: bool = False) -> list[Path]:
    """Write ``NAME.csv`` for NAMES into ``dest`` (default: ``folder`` itself, beside the Parquet
    tables); return the paths written. Raises InputError, writing nothing, if ``folder`` holds no
    tables or a target file exists and ``overwrite`` is False."""
    from experiments.summary import read, summarise

    t = read(folder)
    out = Path(dest) if dest is not None else Path(folder)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder")
    targets = [out / f"{n}.csv" for n in NAMES]
    existing = [p for p in targets if p.exists()]
    if existing and not overwrite:
        raise InputError(f"{existing[0]}: exists ({len(existing)} of the {len(targets)} CSV files do); "
                         "pass --overwrite to replace them, or --out DIR to write elsewhere")
    s = summarise(t)
    frames = {"model": t.model, "adoption": t.adoption, "vendors": t.vendors,
              "summary_metrics": s.metrics, "summary_vendors": s.vendors}
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, path in zip(NAMES, targets, strict=True):
        df = frames[name]
        front = [c for c in ("group", "scenario") if c in df.columns]
        df = df[front + [c for c in df.columns if c not in front]]
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".csv", dir=out)
        try:
            with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
                df.to_csv(fh, index=False, lineterminator="\n")
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        written.append(path)
    return written


def describe(paths: list[Path]) -> str:
    """One line per file: name, rows, size."""
    lines = []
    for p in paths:
        with p.open(encoding="utf-8") as fh:
            rows = sum(1 for _ in fh) - 1
        lines.append(f"  {p}  ({rows:,} rows, {p.stat().st_size / 1e6:.1f} MB)")
    return "\n".join(lines)


def read_csv_tables(folder: str | Path) -> dict[str, pd.DataFrame]:
    """Read back what export_folder wrote (for checks and for users who prefer CSV)."""
    return {n: pd.read_csv(Path(folder) / f"{n}.csv") for n in NAMES}
