"""The hardware catalog: chips and the systems (offerings) built from them.

Two packaged tables with provenance, ``model/data/chips.csv`` and ``model/data/systems.csv``
(every row has a ``source``; assumptions are spelled out in ``note``). Loading validates
them strictly, because every price and throughput in the model starts here: a refused file
names the file, the 1-based data row (or the id), the column, the bad value and what was
expected. ``import_epoch`` refreshes chip rows from an Epoch AI "Machine Learning Hardware"
export (CC-BY 4.0) and writes the result atomically.

Units: TFLOPS / TOPS dense (no sparsity), GB, TB/s, GB/s (scale-up bidirectional per
accelerator; scale-out per accelerator, one direction), W, mm², USD.
"""

from __future__ import annotations

import functools
import math
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from model.errors import CatalogError, where
from model.types import STACK_HOME, STACKS

DATA_DIR: Path = Path(__file__).resolve().parent / "data"
CHIPS_CSV: Path = DATA_DIR / "chips.csv"
SYSTEMS_CSV: Path = DATA_DIR / "systems.csv"

CHIP_COLUMNS: tuple[str, ...] = (
    "id", "name", "vendor", "stack", "home_bloc", "release", "bf16_tflops", "fp8_tflops",
    "int8_tops", "hbm_gb", "hbm_tb_s", "scaleup_gb_s", "tdp_w", "die_area_mm2", "price_usd",
    "fab", "node", "variant_of", "source", "note",
)
SYSTEM_COLUMNS: tuple[str, ...] = (
    "id", "name", "chip", "n_accel", "scaleup_domain", "scaleup_kind", "scaleup_gb_s",
    "scaleout_gb_s", "watts_allin", "price_usd", "available", "source", "note",
)
# Derived from the system's chip when systems are loaded.
SYSTEM_DERIVED: tuple[str, ...] = ("vendor", "stack", "home_bloc")

SCALEUP_KINDS: tuple[str, ...] = ("copper", "optical", "pcie")
HOME_BLOCS: tuple[str, ...] = ("us", "cn")

# Numeric columns: (low exclusive, high inclusive, required, integer).
_Range = tuple[float, float, bool, bool]
CHIP_NUMERIC: dict[str, _Range] = {
    "bf16_tflops": (0, 100_000, False, False),
    "fp8_tflops": (0, 200_000, False, False),
    "int8_tops": (0, 200_000, False, False),
    "hbm_gb": (0, 10_000, False, False),
    "hbm_tb_s": (0, 100, False, False),
    "scaleup_gb_s": (0, 100_000, False, False),
    "tdp_w": (0, 5_000, False, False),
    "die_area_mm2": (0, 10_000, False, False),
    "price_usd": (0, 1_000_000, False, False),
}
SYSTEM_NUMERIC: dict[str, _Range] = {
    "n_accel": (0, 1_000_000, True, True),
    "scaleup_domain": (0, 1_000_000, True, True),
    "scaleup_gb_s": (0, 100_000, True, False),
    "scaleout_gb_s": (0, 10_000, True, False),
    "watts_allin": (0, 20_000, True, False),
    "price_usd": (0, 1e10, False, False),
}
_CHIP_REQUIRED_TEXT = ("id", "name", "vendor", "stack", "home_bloc", "release", "source")
_SYSTEM_REQUIRED_TEXT = ("id", "name", "chip", "scaleup_kind", "available", "source")

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_YYYY_MM = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True, eq=False)
class Catalog:
    """Validated chips and systems, each indexed by id. Treat the frames as read-only."""

    chips: pd.DataFrame
    systems: pd.DataFrame
    #: the packaged catalog whose frames these are copy-on-write views of (None: other files);
    #: a pure function of the catalog may be kept per process under it (frames are read-only)
    packaged: Catalog | None = field(default=None, repr=False)

    def chip(self, chip_id: str) -> pd.Series:
        """One chip's row; CatalogError naming the known ids if ``chip_id`` is unknown."""
        return _lookup(self.chips, chip_id, "chip")

    def system(self, system_id: str) -> pd.Series:
        """One system's row (with derived vendor, stack, home_bloc)."""
        return _lookup(self.systems, system_id, "system")


def _lookup(frame: pd.DataFrame, key: str, kind: str) -> pd.Series:
    if key not in frame.index:
        known = ", ".join(frame.index)
        raise CatalogError(f"unknown {kind} {key!r}: expected one of {known}")
    return frame.loc[key]


# ----------------------------------------------------------------------------- loading


def _read_raw(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """Read a catalog CSV as strings and check its header is exactly ``columns``."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    except FileNotFoundError:
        raise CatalogError(f"{path}: file not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: not a readable CSV file ({exc})") from None
    except OSError as exc:  # a folder, no permission
        raise CatalogError(f"{path}: cannot read it as a CSV file ({exc.strerror})") from None
    header = [str(c) for c in raw.columns]
    if tuple(header) != columns:
        missing = [c for c in columns if c not in header]
        extra = [c for c in header if c not in columns]
        if missing:
            problem = f"missing column(s) {', '.join(map(repr, missing))}"
        elif extra:
            problem = f"unexpected column(s) {', '.join(map(repr, extra))}"
        else:
            problem = "columns out of order"
        raise CatalogError(
            f"{path}: header: {problem}; got {', '.join(header)}; "
            f"expected exactly, in order: {', '.join(columns)}"
        )
    return raw.apply(lambda col: col.str.strip())


def _bad(path: Path, row: int, column: str, value: object, expected: str) -> CatalogError:
    return CatalogError(f"{where(path, row, column)}: {value!r}: expected {expected}")


def _parse_number(path: Path, row: int, column: str, text: str, rng: _Range) -> float:
    low, high, required, integer = rng
    if text == "":
        if required:
            raise _bad(path, row, column, text, f"a number in ({low:g}, {high:g}] (required)")
        return math.nan
    kind = "an integer" if integer else "a number"
    expected = f"{kind} in ({low:g}, {high:g}]"
    try:
        value = float(text)
    except ValueError:
        raise _bad(path, row, column, text, expected) from None
    if not math.isfinite(value) or not (low < value <= high):
        raise _bad(path, row, column, text, expected)
    if integer and value != int(value):
        raise _bad(path, row, column, text, expected)
    return value


def _check_month(path: Path, row: int, column: str, text: str) -> None:
    m = _YYYY_MM.match(text)
    if not m or not (1990 <= int(m.group(1)) <= 2050):
        raise _bad(path, row, column, text, "a month YYYY-MM between 1990-01 and 2050-12")


def _convert(
    path: Path, raw: pd.DataFrame, numeric: dict[str, _Range], required_text: tuple[str, ...],
    row_check: Callable[[int, pd.Series], None],
) -> pd.DataFrame:
    """Validate row by row (first error wins) and return typed columns."""
    out: dict[str, list] = {c: [] for c in raw.columns}
    seen: dict[str, int] = {}
    for i, (_, r) in enumerate(raw.iterrows(), start=1):
        for col in required_text:
            if r[col] == "":
                raise _bad(path, i, col, "", "a non-empty value")
        if not _SLUG.match(r["id"]):
            raise _bad(path, i, "id", r["id"], "a lower-case slug like 'h100-sxm'")
        if r["id"] in seen:
            first = seen[r["id"]]
            raise _bad(path, i, "id", r["id"], f"a unique id (duplicate of data row {first})")
        seen[r["id"]] = i
        row_check(i, r)
        for col in raw.columns:
            if col in numeric:
                out[col].append(_parse_number(path, i, col, r[col], numeric[col]))
            else:
                out[col].append(r[col])
    frame = pd.DataFrame(out, columns=list(raw.columns))
    for col, (_lo, _hi, _req, integer) in numeric.items():
        frame[col] = frame[col].astype("int64" if integer else "float64")
    return frame.set_index("id", drop=True)


def load_chips(path: Path | None = None) -> pd.DataFrame:
    """Read and validate chips.csv; index = id, numbers float64 with NaN for empty cells."""
    path = Path(path) if path is not None else CHIPS_CSV
    raw = _read_raw(path, CHIP_COLUMNS)

    def check(i: int, r: pd.Series) -> None:
        if not _SLUG.match(r["vendor"]):
            raise _bad(path, i, "vendor", r["vendor"], "a lower-case slug like 'nvidia'")
        if r["stack"] not in STACKS:
            raise _bad(path, i, "stack", r["stack"], f"one of {', '.join(STACKS)}")
        if r["home_bloc"] not in HOME_BLOCS:
            raise _bad(path, i, "home_bloc", r["home_bloc"], f"one of {', '.join(HOME_BLOCS)}")
        if r["home_bloc"] != STACK_HOME[r["stack"]]:
            raise _bad(path, i, "home_bloc", r["home_bloc"],
                       f"{STACK_HOME[r['stack']]!r} for stack {r['stack']!r}")
        _check_month(path, i, "release", r["release"])
        if r["bf16_tflops"] == "" and r["fp8_tflops"] == "":
            raise _bad(path, i, "bf16_tflops", "",
                       "a dense bf16_tflops or fp8_tflops figure (both are empty)")

    chips = _convert(path, raw, CHIP_NUMERIC, _CHIP_REQUIRED_TEXT, check)
    for i, (cid, parent) in enumerate(chips["variant_of"].items(), start=1):
        if parent and (parent not in chips.index or parent == cid):
            raise _bad(path, i, "variant_of", parent, "the id of another chip in this file")
    return chips


def load_systems(path: Path | None = None, chips: pd.DataFrame | None = None) -> pd.DataFrame:
    """Read and validate systems.csv against ``chips``; adds vendor, stack, home_bloc."""
    path = Path(path) if path is not None else SYSTEMS_CSV
    chips = load_chips() if chips is None else chips
    raw = _read_raw(path, SYSTEM_COLUMNS)

    def check(i: int, r: pd.Series) -> None:
        if r["chip"] not in chips.index:
            raise _bad(path, i, "chip", r["chip"], "the id of a chip in the chips table")
        if r["scaleup_kind"] not in SCALEUP_KINDS:
            raise _bad(path, i, "scaleup_kind", r["scaleup_kind"],
                       f"one of {', '.join(SCALEUP_KINDS)}")
        _check_month(path, i, "available", r["available"])
        release = chips.at[r["chip"], "release"]
        if r["available"] < release:
            raise _bad(path, i, "available", r["available"],
                       f"a month not before its chip's release ({r['chip']}: {release})")

    systems = _convert(path, raw, SYSTEM_NUMERIC, _SYSTEM_REQUIRED_TEXT, check)
    for i, (sid, rec) in enumerate(systems.iterrows(), start=1):
        if rec["scaleup_domain"] > rec["n_accel"]:
            raise _bad(path, i, "scaleup_domain", str(rec["scaleup_domain"]),
                       f"at most n_accel ({rec['n_accel']}) for system {sid!r}")
    for col in SYSTEM_DERIVED:
        systems[col] = chips.loc[systems["chip"], col].to_numpy()
    return systems


@functools.lru_cache(maxsize=1)
def _default_catalog() -> Catalog:
    chips = load_chips()
    return Catalog(chips=chips, systems=load_systems(chips=chips))


def load_catalog(chips_path: Path | None = None, systems_path: Path | None = None) -> Catalog:
    """The validated catalog; cached for the packaged files (copy-on-write views are returned)."""
    if chips_path is None and systems_path is None:
        cat = _default_catalog()
        return Catalog(chips=cat.chips.copy(deep=False), systems=cat.systems.copy(deep=False), packaged=cat)
    chips = load_chips(chips_path)
    return Catalog(chips=chips, systems=load_systems(systems_path, chips=chips))


# ----------------------------------------------------------------------------- writing


def _cell(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(round(value, 6))
    return "" if value is None else str(value)


def chips_to_csv(chips: pd.DataFrame, path: Path) -> None:
    """Write a chips frame (index = id) atomically: a temp file then os.replace."""
    table = chips.reset_index().loc[:, list(CHIP_COLUMNS)]
    rows = [[_cell(v) for v in rec] for rec in table.itertuples(index=False)]
    text = pd.DataFrame(rows, columns=list(CHIP_COLUMNS)).to_csv(index=False, lineterminator="\n")
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if path.resolve() == CHIPS_CSV.resolve():
        _default_catalog.cache_clear()


# ----------------------------------------------------------------------------- Epoch import
# The Epoch AI import lives in model/epoch.py; its names stay importable from here.
from model.epoch import (  # noqa: E402
    EPOCH_ALIASES,
    EPOCH_CORRECTIONS,
    EPOCH_FILL_ONLY,
    EPOCH_KEEP,
    EPOCH_NUMERIC,
    EPOCH_REQUIRED,
    EPOCH_SOURCE,
    EPOCH_VENDORS,
    VENDOR_STACK,
    epoch_slug,
    import_epoch,
)

__all__ = [
    "Catalog", "load_catalog", "load_chips", "load_systems", "chips_to_csv", "CHIP_COLUMNS",
    "SYSTEM_COLUMNS", "EPOCH_ALIASES", "EPOCH_CORRECTIONS", "EPOCH_FILL_ONLY", "EPOCH_KEEP",
    "EPOCH_NUMERIC", "EPOCH_REQUIRED", "EPOCH_SOURCE", "EPOCH_VENDORS", "VENDOR_STACK",
    "epoch_slug", "import_epoch",
]
