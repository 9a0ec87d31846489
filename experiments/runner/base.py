"""What every part of the runner shares: the table names, the default run function and small
JSON helpers (numpy scalars to Python, atomic writes)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from experiments.pool_start import DEFAULT_RUN_FN  # noqa: F401  (defined once, in a stdlib-only module)

TABLES: tuple[str, ...] = ("model", "adoption", "vendors")
RunFn = Callable[[dict[str, Any], int], Mapping[str, pd.DataFrame | pa.Table]]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _py(v: Any) -> Any:
    """numpy scalars -> Python scalars (JSON, stable dict values)."""
    return v.item() if isinstance(v, np.generic) else v


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=_py))


def _canon(obj: Any) -> str:
    return json.dumps(obj, default=_py, sort_keys=True)


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(obj, default=_py, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def read_parquet(files: str | Path | list[str]) -> pd.DataFrame:
    """Written tables back from Parquet; a damaged or foreign file is one clear InputError
    naming it (exit 2), never a pyarrow traceback."""
    from model.errors import InputError

    try:
        return pd.read_parquet(files)
    except (pa.ArrowException, OSError, ValueError) as exc:
        names = [str(files)] if not isinstance(files, list) else files
        bad = next((f for f in names if not _readable_parquet(f)), names[0])
        raise InputError(f"{bad}: not a readable Parquet table ({str(exc).splitlines()[0]}); "
                         "rewrite it with the command that made it") from None


def _readable_parquet(path: str | Path) -> bool:
    import pyarrow.parquet as pq

    try:
        pq.read_metadata(path)
        return True
    except (pa.ArrowException, OSError, ValueError):
        return False
