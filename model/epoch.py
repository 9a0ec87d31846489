"""Epoch AI "Machine Learning Hardware" import (CC-BY 4.0) into the chips table.

``import_epoch`` refreshes chip rows from an Epoch export and writes the result atomically.
Every value taken from the export is parsed strictly: a non-empty number, date or process size
that does not parse is an error naming the file, the 1-based data row and the column (or, with
``skip_bad_rows``, that row is skipped and reported), never a silent drop. Rows of manufacturers
outside the model's stacks are skipped with one warning before their values are read.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import tempfile
import warnings
from pathlib import Path

import pandas as pd

from model.catalog import _SLUG, CHIP_COLUMNS, CHIPS_CSV, chips_to_csv, load_chips
from model.errors import CatalogError, where
from model.types import STACK_HOME

EPOCH_SOURCE = "Epoch AI ML Hardware (CC-BY 4.0)"

# Epoch column -> (our column, scale to our unit).
EPOCH_NUMERIC: dict[str, tuple[str, float]] = {
    "Tensor-FP16/BF16 performance (FLOP/s)": ("bf16_tflops", 1e-12),
    "FP8 performance (FLOP/s)": ("fp8_tflops", 1e-12),
    "INT8 performance (OP/s)": ("int8_tops", 1e-12),
    "Memory (bytes)": ("hbm_gb", 1e-9),
    "Memory bandwidth (byte/s)": ("hbm_tb_s", 1e-12),
    "TDP (W)": ("tdp_w", 1.0),
    "Die Size (mm^2)": ("die_area_mm2", 1.0),
    "Release price (USD)": ("price_usd", 1.0),
}
EPOCH_REQUIRED: tuple[str, ...] = (
    "Hardware name", "Manufacturer", "Release date", "Foundry", "Process size (nm)",
    *EPOCH_NUMERIC,
)

# Epoch "Manufacturer" -> our vendor slug. Manufacturers outside the four stacks (Google,
# Intel, Amazon, ...) are skipped with one UserWarning: the model has no stack for them. Hygon's
# DCU rows are curated by hand in chips.csv (issue 15: Epoch has only the Z100 as Shensuan-1).
EPOCH_VENDORS: dict[str, str] = {
    "NVIDIA": "nvidia", "AMD": "amd", "Huawei": "huawei", "Cambricon": "cambricon",
    "Alibaba": "alibaba-thead", "T-Head": "alibaba-thead", "Kunlunxin Baidu": "baidu-kunlunxin",
    "Moore Threads (Tencent)": "moore-threads", "Moore Threads": "moore-threads",
    "MetaX": "metax", "Biren": "biren", "Enflame": "enflame", "Iluvatar CoreX": "iluvatar",
}
VENDOR_STACK: dict[str, str] = {
    "nvidia": "cuda", "amd": "rocm", "huawei": "cann", "cambricon": "other_cn",
    "alibaba-thead": "other_cn", "baidu-kunlunxin": "other_cn", "moore-threads": "other_cn",
    "metax": "other_cn", "biren": "other_cn", "enflame": "other_cn", "iluvatar": "other_cn",
}

# Epoch names whose slug differs from our id. None = never import this row (reason given).
EPOCH_ALIASES: dict[str, str | None] = {
    "NVIDIA A100 SXM4 80 GB": "a100-sxm",
    "NVIDIA A800 SXM": "a800",
    "NVIDIA H100 SXM5 80GB": "h100-sxm",
    "NVIDIA H800 SXM5": "h800",
    "NVIDIA HGX H20": "h20",
    "NVIDIA H200 SXM": "h200",
    "AMD Instinct MI300X": "mi300x",
    "AMD Radeon Instinct MI308X": "mi308x",
    "AMD Instinct MI355X": "mi355x",
    "Huawei Ascend 910B": "ascend-910b",
    "MetaX MXC500 (OAM)": "mxc500",
    "Tianshu Zhixin Tiangai 100 (BI-V100)": "iluvatar-bi-v100",
}
# Brand words dropped from the front of an Epoch name to make our id ("NVIDIA B200" -> b200).
_BRANDS = ("nvidia", "amd", "huawei", "cambricon", "biren", "metax", "baidu", "alibaba",
           "t-head", "enflame", "iluvatar", "moore threads")

# Known errors in the Epoch table: (Epoch name, our column) -> corrected value.
EPOCH_CORRECTIONS: dict[tuple[str, str], float] = {
    ("MetaX MXC500 (OAM)", "hbm_tb_s"): 1.8,  # Epoch 18 TB/s is a typo (docs/SOURCES.md#epoch-ai)
    ("MetaX MXC500 (PCIe)", "hbm_tb_s"): 1.8,
}
# Values the shipped catalog deliberately takes from elsewhere; an import keeps ours.
EPOCH_KEEP: dict[str, tuple[str, ...]] = {
    # SemiAnalysis 780 reproduces CM384's ~300 PFLOPS; Epoch's 800 is a TrendForce figure.
    "ascend-910c": ("bf16_tflops",),
    # Epoch's 4,600 TFLOPS FP8 is the MI350X figure; AMD gives 5,033 for the MI355X.
    "mi355x": ("fp8_tflops",),
    # Epoch/TechPowerUp 10.3 TB/s exceeds any 8-stack HBM3 part; MI300X's 5.3 assumed.
    "mi308x": ("hbm_tb_s",),
    # Epoch's "Ascend 910B" row is the early 32 GB bin; ours is the 64 GB 910B2-class part.
    "ascend-910b": ("hbm_gb", "hbm_tb_s"),
}
# Columns filled from Epoch only when ours is empty: our release is the month the part
# became available to buyers (a model input), Epoch's is often the announcement date.
EPOCH_FILL_ONLY: tuple[str, ...] = ("release", "fab", "node")


def epoch_slug(name: str) -> str:
    """Our id for an Epoch hardware name: drop the brand, lower-case, non-alphanumerics -> '-'."""
    if name in EPOCH_ALIASES and EPOCH_ALIASES[name]:
        return str(EPOCH_ALIASES[name])
    low = name.strip().lower()
    for brand in _BRANDS:
        if low.startswith(brand + " "):
            low = low[len(brand) + 1:]
            break
    return re.sub(r"[^a-z0-9]+", "-", low).strip("-")


_EPOCH_DATE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?(?:[ T][0-9:.]*)?$")


class _BadCell(CatalogError):
    """One unparseable cell of the Epoch export (row and column named)."""


def _text(rec: pd.Series, col: str) -> str:
    v = rec[col]
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip()


def _number(rec: pd.Series, col: str, at: str) -> float:
    """A cell as a float (NaN when empty); _BadCell when it is text that is not a finite number."""
    text = _text(rec, col)
    if text == "":
        return math.nan
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise _BadCell(f"{at}, column {col!r}: {text!r}: expected a finite number (or an empty cell)")
    return value


def _release(rec: pd.Series, at: str) -> str:
    """The release month YYYY-MM of a real date (YYYY-MM or YYYY-MM-DD), '' when empty."""
    text = _text(rec, "Release date")
    if not text:
        return ""
    m = _EPOCH_DATE.match(text)
    try:
        if not m:
            raise ValueError
        _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
    except ValueError:
        raise _BadCell(f"{at}, column 'Release date': {text!r}: expected a real date YYYY-MM-DD "
                       "(or YYYY-MM, or an empty cell)") from None
    return text[:7]


def _epoch_values(rec: pd.Series, at: str) -> dict[str, object]:
    """Map one Epoch row to our columns (numbers in our units, NaN where Epoch is empty)."""
    vals: dict[str, object] = {}
    for ecol, (col, scale) in EPOCH_NUMERIC.items():
        v = _number(rec, ecol, at)
        vals[col] = round(v * scale, 4) if not math.isnan(v) else math.nan
    name = _text(rec, "Hardware name")
    for (ename, col), fixed in EPOCH_CORRECTIONS.items():
        if ename == name and not math.isnan(vals[col]):  # type: ignore[arg-type]
            vals[col] = fixed
    vals["release"] = _release(rec, at)
    vals["fab"] = _text(rec, "Foundry")
    size = _number(rec, "Process size (nm)", at)
    vals["node"] = f"{size:g}nm" if not math.isnan(size) else ""
    return vals


def _is_empty(v: object) -> bool:
    return v is None or v == "" or (isinstance(v, float) and math.isnan(v))


def _same(a: object, b: object) -> bool:
    if _is_empty(a) and _is_empty(b):
        return True
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9)
    return a == b


def _epoch_source(old: str, today: _dt.date) -> str:
    kept = [p for p in old.split("; ") if p and not p.startswith(EPOCH_SOURCE)]
    return "; ".join([f"{EPOCH_SOURCE}, imported {today.isoformat()}", *kept])


def _read_epoch(epoch_csv: Path) -> pd.DataFrame:
    """The Epoch export as strings; CatalogError for a missing, unreadable or foreign file."""
    if epoch_csv.is_dir():
        raise CatalogError(f"{epoch_csv}: is a folder; expected an Epoch AI hardware CSV file")
    try:
        epoch = pd.read_csv(epoch_csv, dtype=str, keep_default_na=True)
    except FileNotFoundError:
        raise CatalogError(f"{epoch_csv}: file not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{epoch_csv}: not a readable CSV file ({exc})") from None
    except OSError as exc:
        raise CatalogError(f"{epoch_csv}: cannot read ({exc.strerror})") from None
    missing = [c for c in EPOCH_REQUIRED if c not in epoch.columns]
    if missing:
        raise CatalogError(
            f"{epoch_csv}: header: missing column(s) {', '.join(map(repr, missing))}: "
            "expected an Epoch AI 'Machine Learning Hardware' CSV export"
        )
    return epoch


class _Merge:
    """The running merge of Epoch rows into our chips rows, with its report."""

    def __init__(self, chips: pd.DataFrame, today: _dt.date) -> None:
        self.rows = {cid: {"id": cid, **rec.to_dict()} for cid, rec in chips.iterrows()}
        self.today = today
        self.added: list[str] = []
        self.updated: dict[str, list[str]] = {}
        self.unchanged: list[str] = []
        self.skipped: dict[str, str] = {}
        self.foreign: dict[str, int] = {}
        self.touched: set[str] = set()

    def _identify(self, i: int, rec: pd.Series) -> tuple[str, str, str] | None:
        """(name, vendor, id) of a row to import, or None (its skip recorded)."""
        name = _text(rec, "Hardware name")
        if not name:
            self.skipped[f"row {i}"] = "no hardware name"
            return None
        if name in EPOCH_ALIASES and EPOCH_ALIASES[name] is None:
            self.skipped[name] = "excluded by the alias table"
            return None
        maker = _text(rec, "Manufacturer")
        vendor = EPOCH_VENDORS.get(maker)
        if vendor is None:
            self.skipped[name] = f"manufacturer {maker!r} has no stack in the model"
            self.foreign[maker or "(empty)"] = self.foreign.get(maker or "(empty)", 0) + 1
            return None
        cid = epoch_slug(name)
        if not _SLUG.match(cid):
            self.skipped[name] = f"no usable id from the name ({cid!r})"
            return None
        if cid in self.touched:
            self.skipped[name] = f"a second Epoch row for id {cid!r}"
            return None
        return name, vendor, cid

    def add(self, i: int, rec: pd.Series, at: str, skip_bad_rows: bool) -> None:
        found = self._identify(i, rec)
        if found is None:
            return
        name, vendor, cid = found
        try:
            vals = _epoch_values(rec, at)
        except _BadCell as exc:
            if not skip_bad_rows:
                raise CatalogError(f"{exc}; nothing written (pass --skip-bad-rows to skip such rows)") from None
            self.skipped[name] = f"bad value ({str(exc)[len(at) + 2:]})"
            return
        self.touched.add(cid)
        if cid in self.rows:
            self._update(cid, vals)
        else:
            self._append(name, vendor, cid, vals)

    def _update(self, cid: str, vals: dict[str, object]) -> None:
        row = self.rows[cid]
        keep = EPOCH_KEEP.get(cid, ())
        changed = []
        for col, new in vals.items():
            if _is_empty(new) or col in keep or (col in EPOCH_FILL_ONLY and not _is_empty(row[col])):
                continue
            if not _same(row[col], new):
                row[col] = new
                changed.append(col)
        if changed:
            row["source"] = _epoch_source(str(row["source"]), self.today)
            self.updated[cid] = changed
        else:
            self.unchanged.append(cid)

    def _append(self, name: str, vendor: str, cid: str, vals: dict[str, object]) -> None:
        if _is_empty(vals["bf16_tflops"]) and _is_empty(vals["fp8_tflops"]):
            self.skipped[name] = "no dense BF16 or FP8 figure"
            return
        if not vals["release"]:
            self.skipped[name] = "no release date"
            return
        stack = VENDOR_STACK[vendor]
        self.rows[cid] = {
            "id": cid, "name": name, "vendor": vendor, "stack": stack,
            "home_bloc": STACK_HOME[stack], "scaleup_gb_s": math.nan, "variant_of": "",
            **vals, "source": f"{EPOCH_SOURCE}, imported {self.today.isoformat()}",
            "note": "appended by import_epoch; scale-up bandwidth not in the Epoch table",
        }
        self.added.append(cid)


def _validated(merged: pd.DataFrame, epoch_csv: Path, out_path: Path) -> pd.DataFrame:
    """Validate exactly what would be written, through the same loader as everything else."""
    with tempfile.TemporaryDirectory() as tmpdir:
        probe = Path(tmpdir) / out_path.name
        chips_to_csv(merged, probe)
        try:
            return load_chips(probe)
        except CatalogError as exc:
            raise CatalogError(
                f"import of {epoch_csv} would make an invalid catalog, nothing written: "
                f"{str(exc).replace(str(probe), out_path.name)}"
            ) from None


def import_epoch(
    epoch_csv: Path, chips_path: Path | None = None, *, write: bool = True,
    today: _dt.date | None = None, skip_bad_rows: bool = False,
) -> pd.DataFrame:
    """Merge an Epoch AI hardware export into chips.csv and return the new chips table.

    Rows are matched by id (``epoch_slug``). A matched row takes every non-empty Epoch value
    except the deliberate ``EPOCH_KEEP`` choices (release/fab/node only fill empty cells);
    if anything changed its source becomes "Epoch AI ML Hardware (CC-BY 4.0), imported
    <today>" followed by its other sources. An unmatched row is appended when its vendor is
    known and it has a dense BF16 or FP8 figure and a release date; otherwise it is skipped.
    A number, date or process size that does not parse is a CatalogError naming the row and
    column or, with ``skip_bad_rows``, a skip with that reason. The result is validated before
    anything is written, then written atomically to ``chips_path`` (default: the packaged
    chips.csv; a path that does not exist yet starts from the packaged table).
    ``result.attrs["epoch_import"]`` lists added, updated, unchanged and skipped rows.
    """
    epoch_csv = Path(epoch_csv)
    out_path = Path(chips_path) if chips_path is not None else CHIPS_CSV
    if out_path.is_dir():
        raise CatalogError(f"{out_path}: is a folder; expected the path of a chips CSV file")
    base_path = out_path if out_path.exists() else CHIPS_CSV
    epoch = _read_epoch(epoch_csv)
    merge = _Merge(load_chips(base_path), today or _dt.date.today())
    for i, rec in enumerate(epoch.itertuples(index=False), start=1):
        merge.add(i, pd.Series(list(rec), index=epoch.columns), where(epoch_csv, i), skip_bad_rows)
    if merge.foreign:
        listed = ", ".join(f"{m} ({n})" for m, n in sorted(merge.foreign.items()))
        warnings.warn(
            f"{epoch_csv}: skipped {sum(merge.foreign.values())} row(s) from manufacturers outside "
            f"the model's stacks: {listed}", UserWarning, stacklevel=2,
        )
    merged = pd.DataFrame(list(merge.rows.values()), columns=list(CHIP_COLUMNS)).set_index("id")
    result = _validated(merged, epoch_csv, out_path)
    if write:
        chips_to_csv(result, out_path)
    result.attrs["epoch_import"] = {
        "added": merge.added, "updated": merge.updated, "unchanged": merge.unchanged,
        "skipped": merge.skipped, "base": str(base_path), "written": str(out_path) if write else None,
    }
    return result
