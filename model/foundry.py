"""The foundry layer's data: fab and packaging sites, each vendor's shares over them by year, and
the availability of a site under disruptions (docs/ODD.md, "Foundries and packaging").

``model/data/foundry_sites.csv`` lists the sites (TSMC Taiwan, TSMC Arizona, Samsung, Intel,
SMIC; CoWoS in Taiwan and outside it; China's own back end), ``foundry_shares.csv`` each
vendor's share of its wafers and of its packaging at each site, by year (sourced where
observed or announced, ASSUMED where not). Shares are interpolated linearly between years
(placed mid-year) and held past the last one; the ramp of capacity outside Taiwan can be run
slower or faster than announced (``foundry_outside_ramp``: time after 2025 stretched).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from model.errors import InputError
from model.memo import ProcessMemo
from model.population import cached_default

DATA = Path(__file__).parent / "data"
KINDS = ("wafer", "packaging")
RAMP_PIVOT = 2025.5  # shares are observed to here; the ramp pace stretches time after it
#: A disruption's ``site`` may name one site or every site in Taiwan at once.
ALL_TAIWAN = "taiwan"


def _need(df: pd.DataFrame, cols: set[str], name: str) -> None:
    missing = cols - set(df.columns)
    if missing:
        raise InputError(f"{name}: missing column(s) {', '.join(sorted(missing))}")
    empty = [c for c in cols if df[c].isna().any() or (df[c].astype(str).str.strip() == "").any()]
    if empty:
        raise InputError(f"{name}: column {sorted(empty)[0]!r} has an empty cell; every row needs one "
                         "(source: a reference, or ASSUMED)")


@cached_default
def load_sites(path: Path | None = None) -> pd.DataFrame:
    """The sites, indexed by id: kind (wafer | packaging), in_taiwan (bool), operator, source."""
    p = Path(path or DATA / "foundry_sites.csv")
    df = pd.read_csv(p, dtype={"in_taiwan": str})
    _need(df, {"site", "kind", "in_taiwan", "operator", "source"}, p.name)
    bad = df[~df["kind"].isin(KINDS)]
    if len(bad):
        raise InputError(f"{p.name}: site {bad['site'].iloc[0]!r}: kind = {bad['kind'].iloc[0]!r}: "
                         f"expected one of {', '.join(KINDS)}")
    tw = df["in_taiwan"].str.lower()
    if not tw.isin(("true", "false")).all():
        row = df[~tw.isin(("true", "false"))].iloc[0]
        raise InputError(f"{p.name}: site {row['site']!r}: in_taiwan = {row['in_taiwan']!r}: expected true or false")
    if df["site"].duplicated().any() or (df["site"] == ALL_TAIWAN).any():
        raise InputError(f"{p.name}: site ids must be unique and not {ALL_TAIWAN!r}")
    df["in_taiwan"] = tw == "true"
    return df.set_index("site")


@cached_default
def load_shares(path: Path | None = None) -> pd.DataFrame:
    """Vendor x kind x site x year shares in [0, 1], summing to 1 per vendor, kind and year."""
    p = Path(path or DATA / "foundry_shares.csv")
    df = pd.read_csv(p)
    _need(df, {"vendor", "kind", "site", "year", "share", "source"}, p.name)
    sites = load_sites()
    unknown = sorted(set(df["site"]) - set(sites.index))
    if unknown:
        raise InputError(f"{p.name}: unknown site {unknown[0]!r}; expected one of {', '.join(sites.index)}")
    wrong = df[df["kind"] != sites.loc[df["site"], "kind"].to_numpy()]
    if len(wrong):
        r = wrong.iloc[0]
        raise InputError(f"{p.name}: {r['vendor']} {r['site']}: kind {r['kind']!r} but the site is a "
                         f"{sites.loc[r['site'], 'kind']} site")
    if ((df["share"] < 0) | (df["share"] > 1)).any():
        r = df[(df["share"] < 0) | (df["share"] > 1)].iloc[0]
        raise InputError(f"{p.name}: {r['vendor']} {r['site']} {r['year']}: share = {r['share']}: expected [0, 1]")
    tot = df.groupby(["vendor", "kind", "year"])["share"].sum()
    off = tot[(tot - 1.0).abs() > 1e-6]
    if len(off):
        (v, k, y), s = off.index[0], off.iloc[0]
        raise InputError(f"{p.name}: {v} {k} shares of {y} sum to {s:.4f}: expected 1")
    return df


@dataclass(frozen=True)
class Disruption:
    """A site (or every Taiwan site) loses ``depth`` of its output from ``start`` for ``months``,
    then recovers linearly over ``recovery_months``."""

    site: str
    depth: float
    start: int  # month index
    months: int
    recovery_months: int = 0

    def availability(self, month: int) -> float:
        """1 - the depth still lost this month (Eq. F1)."""
        k = month - self.start
        if k < 0:
            return 1.0
        if k < self.months:
            return 1.0 - self.depth
        r = k - self.months
        if r < self.recovery_months:
            return 1.0 - self.depth * (1.0 - (r + 1) / (self.recovery_months + 1))
        return 1.0


_AT_CACHE = ProcessMemo(20_000)


class ShareTable:
    """Each vendor's shares over sites as arrays: ``at(month, pace)`` -> (V, N) per kind."""

    def __init__(self, vendor_ids: list[str], shares: pd.DataFrame, sites: pd.DataFrame) -> None:
        self.sites = list(sites.index)
        self.in_taiwan = sites["in_taiwan"].to_numpy(bool)
        self.kind = sites["kind"].to_numpy(object)
        vend, site = shares["vendor"].tolist(), shares["site"].tolist()
        missing = sorted(set(vendor_ids) - set(vend))
        if missing:
            raise InputError(f"foundry_shares.csv: no rows for vendor {missing[0]!r}; every vendor of "
                             "vendors.csv needs its wafer and packaging shares")
        # the rows of each (vendor, site), from the columns as arrays (no pandas per group)
        years, values = shares["year"].to_numpy(float), shares["share"].to_numpy(float)
        rows: dict[tuple[str, str], list[int]] = {}
        for i, key in enumerate(zip(vend, site)):
            rows.setdefault(key, []).append(i)
        v_index: dict[str, int] = {}
        for i, vid in enumerate(vendor_ids):
            v_index.setdefault(vid, i)
        s_index: dict[str, int] = {}
        for i, sid in enumerate(self.sites):
            s_index.setdefault(sid, i)
        self._curves: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        for (vid, sid) in sorted(rows):
            if vid in v_index:
                idx = np.array(rows[(vid, sid)])
                idx = idx[np.argsort(years[idx], kind="stable")]  # by year, ties in file order
                self._curves[(v_index[vid], s_index[sid])] = (years[idx] + 0.5, values[idx])
        kinds = set(zip(vend, shares["kind"].tolist()))
        for vid in vendor_ids:
            for k in KINDS:
                if (vid, k) not in kinds:
                    raise InputError(f"foundry_shares.csv: vendor {vid!r} has no {k} shares")
        self.n_vendors = len(vendor_ids)
        # what ``at`` depends on besides (month, pace): the curves themselves (issue 19: a
        # per-process cache of a pure function, shared by every model built on the same tables),
        # as their content: rows (vendor, site) with their years and shares, in file order
        self._key = (tuple(vendor_ids), tuple(self.sites), "\x1f".join(map(str, vend)),
                     "\x1f".join(map(str, site)), years.tobytes(), values.tobytes())

    def at(self, month: int, pace: float = 1.0) -> np.ndarray:
        """(V, N) shares of each vendor at each site this month; after mid-2025 time runs ``pace``
        times as fast along the announced ramps (0: held at 2025). Read-only: cached per process."""
        return _AT_CACHE.get_or((self._key, int(month), float(pace)), lambda: self._at(month, pace))

    def _at(self, month: int, pace: float) -> np.ndarray:
        t = month / 12.0
        if t > RAMP_PIVOT:
            t = RAMP_PIVOT + (t - RAMP_PIVOT) * pace
        out = np.zeros((self.n_vendors, len(self.sites)))
        for (v, s), (years, values) in self._curves.items():
            out[v, s] = np.interp(t, years, values)
        return out
