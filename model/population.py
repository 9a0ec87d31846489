"""Baseline population and observed figures: regions, hyperscalers, vendors, demand, targets.

Each loader reads one packaged CSV from ``model/data/`` (or a path the caller gives), checks
every cell and returns a typed DataFrame. A bad file is refused with a ``PopulationError``
naming the file, the line, the row id, the column, the value and what was expected, so a user
who edits a table sees exactly what to fix. Column meanings and sources: the CSVs' ``source``
and ``note`` columns; notes starting with ``assumed:`` flag values that are not sourced.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import pandas as pd

from model.errors import InputError, where
from model.types import BLOCS, STACK_HOME, STACKS

DATA_DIR: Path = Path(__file__).resolve().parent / "data"

REGION_COLUMNS: tuple[str, ...] = (
    "id", "name", "bloc", "us_tier", "alignment", "elec_usd_kwh", "pue", "demand_weight",
    "dc_power_gw_2024", "power_add_gw_per_year", "state_led", "source", "note",
)
HYPERSCALER_COLUMNS: tuple[str, ...] = (
    "id", "name", "region", "demand_share", "software_estate", "state_funded", "ai_lab",
    "fleet_cuda", "fleet_cann", "fleet_rocm", "fleet_other_cn", "source", "note",
)
FLEET_COLUMNS: tuple[str, ...] = tuple(f"fleet_{s}" for s in STACKS)
VENDOR_COLUMNS: tuple[str, ...] = (
    "id", "name", "bloc", "stack", "capacity_units_month_2022", "capacity_growth_per_year",
    "capacity_units_month_2023", "capacity_units_month_2024", "capacity_units_month_2025",
    "markup", "rd_share", "capital_usd", "ipo", "entity_listed",
    "source", "note",
)
DEMAND_COLUMNS: tuple[str, ...] = ("year", "world_h100e", "kind", "source", "note")
OBSERVED_COLUMNS: tuple[str, ...] = (
    "metric", "period", "value", "low", "high", "unit", "kind", "source", "note",
)
OBSERVED_KINDS: tuple[str, ...] = ("reported", "estimate", "measured", "claim", "derived", "press")
DEMAND_KINDS: tuple[str, ...] = ("derived", "assumed")

MIN_GS_REGIONS = 15
SHARE_TOLERANCE = 1e-6

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_ISO2 = re.compile(r"^[a-z]{2}$")
_YEAR_MONTH = re.compile(r"^(19|20)\d\d-(0[1-9]|1[0-2])$")
_PERIOD = re.compile(
    r"^(19|20)\d\d(-(0[1-9]|1[0-2])|-H[12]|-Q[1-4])?"
    r"(\.\.(19|20)\d\d(-(0[1-9]|1[0-2])|-H[12]|-Q[1-4])?)?$"
)


class PopulationError(InputError):
    """A population or observed-figures file is invalid."""


class _Table:
    """One CSV read as strings, with checkers that raise PopulationError pointing at a cell."""

    def __init__(self, path: Path, columns: Sequence[str], key: str) -> None:
        self.path = Path(path)
        self.name = self.path.name
        self.key = key
        if not self.path.is_file():
            raise PopulationError(f"{self.path}: file not found")
        try:
            self.raw = pd.read_csv(self.path, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError,
                UnicodeDecodeError) as exc:
            raise PopulationError(f"{self.name}: not a readable CSV file ({exc})") from None
        got = [str(c).strip() for c in self.raw.columns]
        if got != list(columns):
            missing = [c for c in columns if c not in got]
            extra = [c for c in got if c not in columns]
            detail = []
            if missing:
                detail.append(f"missing {missing}")
            if extra:
                detail.append(f"unknown {extra}")
            if not detail:
                detail.append("wrong order")
            raise PopulationError(
                f"{self.name}: columns {got}: expected exactly {list(columns)} ({'; '.join(detail)})"
            )
        self.raw = self.raw.apply(lambda col: col.str.strip())
        if self.raw.empty:
            raise PopulationError(f"{self.name}: no rows: expected at least one data row")

    def fail(self, i: int, column: str, value: object, expected: str) -> NoReturn:
        """Raise an error naming file, line (header = line 1), row key, column and value."""
        rid = self.raw.at[i, self.key] if self.key in self.raw.columns else ""
        loc = where(f"{self.name}, line {i + 2} ({self.key} {rid!r})", None, column)
        raise PopulationError(f"{loc}: value {value!r}: expected {expected}")

    def cells(self, column: str) -> list[tuple[int, str]]:
        return list(enumerate(self.raw[column].tolist()))

    def text(self, column: str, *, allow_empty: bool = False,
             pattern: re.Pattern[str] | None = None, expected: str = "") -> list[str]:
        out = []
        for i, v in self.cells(column):
            if v == "" and not allow_empty:
                self.fail(i, column, v, expected or "a non-empty text")
            if v != "" and pattern is not None and not pattern.match(v):
                self.fail(i, column, v, expected)
            out.append(v)
        return out

    def choice(self, column: str, choices: Sequence[str]) -> list[str]:
        out = []
        for i, v in self.cells(column):
            if v not in choices:
                self.fail(i, column, v, f"one of {', '.join(choices)}")
            out.append(v)
        return out

    def number(self, column: str, low: float | None = None, high: float | None = None, *,
               low_open: bool = False, integer: bool = False, unit: str = "",
               allow_empty: bool = False) -> list[float]:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        word = "an integer" if integer else "a number"
        expected = f"{word} in {'(' if low_open else '['}{lo}, {hi}]" + (f" {unit}" if unit else "") \
            + (" or empty" if allow_empty else "")
        out = []
        for i, v in self.cells(column):
            if allow_empty and v == "":
                out.append(math.nan)
                continue
            try:
                x = float(v)
            except ValueError:
                self.fail(i, column, v, expected)
            if not math.isfinite(x) or (integer and x != int(x)):
                self.fail(i, column, v, expected)
            if low is not None and (x < low or (low_open and x == low)):
                self.fail(i, column, v, expected)
            if high is not None and x > high:
                self.fail(i, column, v, expected)
            out.append(int(x) if integer else x)
        return out

    def boolean(self, column: str) -> list[bool]:
        out = []
        for i, v in self.cells(column):
            low = v.lower()
            if low not in ("true", "false", "1", "0"):
                self.fail(i, column, v, "true or false")
            out.append(low in ("true", "1"))
        return out

    def unique(self, column: str) -> None:
        seen: set[str] = set()
        for i, v in self.cells(column):
            if v in seen:
                self.fail(i, column, v, f"a unique {column} (duplicate)")
            seen.add(v)

    def check(self, ok: Callable[[int], bool], column: str, expected: str) -> None:
        for i, v in self.cells(column):
            if not ok(i):
                self.fail(i, column, v, expected)


def _path(path: str | Path | None, default: str) -> Path:
    return DATA_DIR / default if path is None else Path(path)


def _check_sums(t: _Table, values: pd.DataFrame, group_col: str | None, share_cols: Sequence[str],
                what: str) -> None:
    """Shares must sum to 1 (± SHARE_TOLERANCE) per group (one column) or per row (several)."""
    if group_col is None:
        totals = values[list(share_cols)].sum(axis=1)
        for i, total in enumerate(totals.tolist()):
            if abs(total - 1.0) > SHARE_TOLERANCE:
                cells = ", ".join(f"{c}={values.iloc[i][c]:g}" for c in share_cols)
                t.fail(i, "+".join(share_cols), f"{cells} (sum {total:.6g})",
                       f"{what} summing to 1 ± {SHARE_TOLERANCE:g}")
        return
    (col,) = share_cols
    for group, sub in values.groupby(group_col, sort=False):
        total = float(sub[col].sum())
        if abs(total - 1.0) > SHARE_TOLERANCE:
            i = int(sub.index[-1])
            cells = ", ".join(f"{rid}={x:g}" for rid, x in zip(sub[t.key], sub[col]))
            t.fail(i, col, f"{cells} (sum over {group_col} {group!r} = {total:.6g})",
                   f"{what} of {group_col} {group!r} summing to 1 ± {SHARE_TOLERANCE:g}")


#: pandas copy-on-write (always on from pandas 3): a shallow copy is then a safe private copy
_COW = int(pd.__version__.split(".")[0]) >= 3 or bool(getattr(pd.options.mode, "copy_on_write", False))


def cached_default(fn):
    """Cache a loader's result for the packaged file (path None, no other arguments); callers get
    a copy, so nobody can change the cached table (a copy-on-write view where pandas has copy on
    write, a deep copy otherwise). Other paths are read every time."""
    cache: dict[str, pd.DataFrame] = {}

    @functools.wraps(fn)
    def wrapper(path=None, *args, **kwargs):
        if path is not None or args or any(v is not None for v in kwargs.values()):
            return fn(path, *args, **kwargs)
        if "df" not in cache:
            cache["df"] = fn(None)
        return cache["df"].copy(deep=not _COW)

    return wrapper


@cached_default
def load_regions(path: str | Path | None = None) -> pd.DataFrame:
    """Regions (US bloc, China, Global-South countries) indexed by id, validated.

    Checks: bloc in BLOCS, rows ``us`` (bloc us) and ``cn`` (bloc cn) present, gs ids are
    ISO-3166 alpha-2 lower case, at least 15 gs rows, us_tier in {1,2,3}, alignment in
    [-1, 1], prices > 0, pue in [1, 3], non-negative capacities and weights, a source.
    """
    t = _Table(_path(path, "regions.csv"), REGION_COLUMNS, "id")
    ids = t.text("id", pattern=_SLUG, expected="a lower-case slug")
    t.unique("id")
    df = pd.DataFrame({
        "id": ids,
        "name": t.text("name"),
        "bloc": t.choice("bloc", BLOCS),
        "us_tier": t.number("us_tier", 1, 3, integer=True),
        "alignment": t.number("alignment", -1, 1),
        "elec_usd_kwh": t.number("elec_usd_kwh", 0, 1, low_open=True, unit="USD/kWh"),
        "pue": t.number("pue", 1, 3),
        "demand_weight": t.number("demand_weight", 0, None),
        "dc_power_gw_2024": t.number("dc_power_gw_2024", 0, None, unit="GW"),
        "power_add_gw_per_year": t.number("power_add_gw_per_year", 0, None, unit="GW/yr"),
        "state_led": t.boolean("state_led"),
        "source": t.text("source", expected="a non-empty source citation"),
        "note": t.text("note", allow_empty=True),
    })
    t.check(lambda i: df.at[i, "bloc"] != "gs" or bool(_ISO2.match(df.at[i, "id"])), "id",
            "an ISO-3166 alpha-2 lower-case code for a gs region")
    t.check(lambda i: df.at[i, "id"] not in ("us", "cn") or df.at[i, "bloc"] == df.at[i, "id"],
            "bloc", "the bloc named by the id for rows 'us' and 'cn'")
    t.check(lambda i: df.at[i, "bloc"] == "gs" or df.at[i, "id"] in ("us", "cn"), "bloc",
            "gs (only rows 'us' and 'cn' belong to blocs us and cn)")
    for rid in ("us", "cn"):
        if rid not in set(ids):
            raise PopulationError(f"{t.name}: no row with id {rid!r}: expected rows 'us' and 'cn'")
    n_gs = int((df["bloc"] == "gs").sum())
    if n_gs < MIN_GS_REGIONS:
        raise PopulationError(
            f"{t.name}, column 'bloc': {n_gs} gs regions: expected at least {MIN_GS_REGIONS}"
        )
    t.check(lambda i: df.at[i, "id"] != "us" or df.at[i, "demand_weight"] > 0, "demand_weight",
            "a positive reference weight for row 'us'")
    return df.set_index("id")


@cached_default
def load_hyperscalers(path: str | Path | None = None,
                      regions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Hyperscalers and AI labs indexed by id, validated against the regions table.

    Checks: region exists in ``regions`` (default: the packaged regions.csv), demand_share in
    [0, 1] summing to 1 per region, software_estate in [0.2, 2], fleet shares in [0, 1]
    summing to 1 per row, booleans, a source.
    """
    if regions is None:
        regions = load_regions()
    t = _Table(_path(path, "hyperscalers.csv"), HYPERSCALER_COLUMNS, "id")
    ids = t.text("id", pattern=_SLUG, expected="a lower-case slug")
    t.unique("id")
    region_ids = [str(r) for r in regions.index]
    data = {
        "id": ids,
        "name": t.text("name"),
        "region": t.choice("region", region_ids),
        "demand_share": t.number("demand_share", 0, 1),
        "software_estate": t.number("software_estate", 0.2, 2),
        "state_funded": t.boolean("state_funded"),
        "ai_lab": t.boolean("ai_lab"),
    }
    for col in FLEET_COLUMNS:
        data[col] = t.number(col, 0, 1)
    data["source"] = t.text("source", expected="a non-empty source citation")
    data["note"] = t.text("note", allow_empty=True)
    df = pd.DataFrame(data)
    _check_sums(t, df, "region", ["demand_share"], "demand shares")
    _check_sums(t, df, None, FLEET_COLUMNS, "fleet shares")
    return df.set_index("id")


@cached_default
def load_vendors(path: str | Path | None = None) -> pd.DataFrame:
    """Chip vendors indexed by id, validated.

    Capacity is accelerator packages per month: the 2022 value and the 2023-2025 values where
    given anchor the history (interpolated between them); capacity_growth_per_year is the
    fractional growth after the last anchor.
    Checks: bloc us/cn matching the stack's home bloc, stack in STACKS, capacities >= 0,
    markup >= 1 (price at or above unit cost), rd_share >= 0, capital >= 0, ipo and
    entity_listed YYYY-MM or empty, a source.
    """
    t = _Table(_path(path, "vendors.csv"), VENDOR_COLUMNS, "id")
    ids = t.text("id", pattern=_SLUG, expected="a lower-case slug")
    t.unique("id")
    df = pd.DataFrame({
        "id": ids,
        "name": t.text("name"),
        "bloc": t.choice("bloc", ("us", "cn")),
        "stack": t.choice("stack", STACKS),
        "capacity_units_month_2022": t.number("capacity_units_month_2022", 0, None,
                                              unit="units/month"),
        "capacity_growth_per_year": t.number("capacity_growth_per_year", -1, 10, unit="per year"),
        "capacity_units_month_2023": t.number("capacity_units_month_2023", 0, None,
                                              unit="units/month", allow_empty=True),
        "capacity_units_month_2024": t.number("capacity_units_month_2024", 0, None,
                                              unit="units/month", allow_empty=True),
        "capacity_units_month_2025": t.number("capacity_units_month_2025", 0, None,
                                              unit="units/month", allow_empty=True),
        "markup": t.number("markup", 1, 20, unit="price / unit cost"),
        "rd_share": t.number("rd_share", 0, 50, unit="R&D / revenue"),
        "capital_usd": t.number("capital_usd", 0, None, unit="USD"),
        "ipo": t.text("ipo", allow_empty=True, pattern=_YEAR_MONTH, expected="YYYY-MM or empty"),
        "entity_listed": t.text("entity_listed", allow_empty=True, pattern=_YEAR_MONTH,
                                expected="YYYY-MM or empty"),
        "source": t.text("source", expected="a non-empty source citation"),
        "note": t.text("note", allow_empty=True),
    })
    t.check(lambda i: STACK_HOME[df.at[i, "stack"]] == df.at[i, "bloc"], "bloc",
            "the home bloc of the vendor's stack (cuda/rocm: us; cann/other_cn: cn)")
    return df.set_index("id")


@cached_default
def load_demand(path: str | Path | None = None) -> pd.DataFrame:
    """World merchant accelerator purchases per year in H100e, indexed by year, validated.

    Checks: consecutive unique years, world_h100e > 0, kind derived/assumed, a source.
    """
    t = _Table(_path(path, "demand.csv"), DEMAND_COLUMNS, "year")
    years = t.number("year", 2000, 2100, integer=True)
    t.unique("year")
    t.check(lambda i: i == 0 or years[i] == years[i - 1] + 1, "year",
            "consecutive years in increasing order")
    df = pd.DataFrame({
        "year": years,
        "world_h100e": t.number("world_h100e", 0, None, low_open=True, unit="H100e/year"),
        "kind": t.choice("kind", DEMAND_KINDS),
        "source": t.text("source", expected="a non-empty source citation"),
        "note": t.text("note", allow_empty=True),
    })
    return df.set_index("year")


def load_observed(path: str | Path | None = None) -> pd.DataFrame:
    """Observed calibration/validation figures with their target bands, validated.

    Checks: metric a slug, period like ``2024``, ``2023-01..2023-06`` or ``2021-02..2022-01``,
    unique (metric, period), low <= value <= high, unit, kind in OBSERVED_KINDS, a source.
    """
    t = _Table(_path(path, "observed.csv"), OBSERVED_COLUMNS, "metric")
    df = pd.DataFrame({
        "metric": t.text("metric", pattern=_SLUG, expected="a lower-case metric name"),
        "period": t.text("period", pattern=_PERIOD,
                         expected="YYYY, YYYY-MM, YYYY-Hn, YYYY-Qn or a range A..B of those"),
        "value": t.number("value"),
        "low": t.number("low"),
        "high": t.number("high"),
        "unit": t.text("unit"),
        "kind": t.choice("kind", OBSERVED_KINDS),
        "source": t.text("source", expected="a non-empty source citation"),
        "note": t.text("note", allow_empty=True),
    })
    t.check(lambda i: df.at[i, "low"] <= df.at[i, "value"], "low",
            "low <= value")
    t.check(lambda i: df.at[i, "value"] <= df.at[i, "high"], "high",
            "high >= value")
    keys = (df["metric"] + "@" + df["period"]).tolist()
    seen: set[str] = set()
    for i, k in enumerate(keys):
        if k in seen:
            t.fail(i, "period", df.at[i, "period"], "a unique (metric, period) pair (duplicate)")
        seen.add(k)
    return df
