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

TABLES: tuple[str, ...] = ("model", "adoption", "vendors")
DEFAULT_RUN_FN = "model.run:run_tables"
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
