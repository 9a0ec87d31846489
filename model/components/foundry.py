"""Foundries and packaging: each vendor's capacity is the least of its demand path and what its
wafer sites and its packaging sites can make this month (Eq. F1-F3), and the share of US-bloc
capacity its sites could make entirely outside Taiwan (Eq. F4).

A vendor's sites share its path by the shares of ``model/data/foundry_shares.csv``; a site's
availability falls under a disruption (a ``foundry_disruption`` event, or the
``taiwan_disruption_*`` parameters) and recovers. With ``foundry_headroom`` h, what the sites can
make is h x path x (share-weighted availability): with no disruption and h >= 1 it never binds,
so the layer changes nothing until a site is hit. China's package pool reads the SMIC site's
availability through the same layer (``Supply.update``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from model.components.base import Component, MonthContext
from model.float_sums import np_sum
from model.foundry import ALL_TAIWAN, Disruption, ShareTable, load_shares, load_sites
from model.memo import ProcessMemo

_CAPABILITY = ProcessMemo(20_000)  # Foundry.capability, per process


class Foundry(Component):
    """Sites, each vendor's shares over them, disruptions and this month's capacity factors."""

    owns = ("disruptions", "factor", "outside_share")
    reads = ("vendors.capacity_units", "params", "dates")

    def __init__(self, p: dict[str, Any], dates: dict[str, int], vendor_ids: list[str],
                 blocs: list[str]) -> None:
        self.p, self.dates = p, dates
        self.site_table = load_sites()
        self.sites = list(self.site_table.index)
        self.table = ShareTable(vendor_ids, load_shares(), self.site_table)
        self.in_taiwan = self.table.in_taiwan
        self.is_wafer = self.table.kind == "wafer"
        self.us = np.array([b == "us" for b in blocs])
        self.disruptions: list[Disruption] = []
        self.factor = np.ones(len(vendor_ids))
        self.outside_share = 0.0  # what the Arthur docking records: it has no vendors' capacity
        self._site_key = (self.in_taiwan.tobytes(), self.is_wafer.tobytes())
        ones = np.ones(len(self.sites))
        ones.flags.writeable = False
        self._ones = (ones, ones.tobytes())  # the availability with no disruption, and its key
        self._us_idx = np.flatnonzero(self.us).tolist()

    def disrupt(self, d: Disruption) -> None:
        """A scripted disruption from its start month (the event handler's call)."""
        self.disruptions.append(d)

    def _all(self) -> list[Disruption]:
        out = list(self.disruptions)
        depth = float(self.p["taiwan_disruption_depth"])
        if depth > 0:
            out.append(Disruption(ALL_TAIWAN, depth, self.dates["taiwan_disruption_start"],
                                  int(self.p["taiwan_disruption_months"]),
                                  int(self.p["taiwan_disruption_recovery_months"])))
        return out

    def availability(self, month: int) -> np.ndarray:
        """(N,) share of each site's output still available this month (Eq. F1); several
        disruptions of one site multiply."""
        a = np.ones(len(self.sites))
        for d in self._all():
            hit = self.in_taiwan if d.site == ALL_TAIWAN else np.array([s == d.site for s in self.sites])
            a[hit] *= d.availability(month)
        return a

    def _undisrupted(self) -> bool:
        """No disruption at all (scripted or by the parameters): every site's availability is 1."""
        return not self.disruptions and not float(self.p["taiwan_disruption_depth"]) > 0

    def site_availability(self, site: str, month: int) -> float:
        if self._undisrupted():
            return 1.0
        return float(self.availability(month)[self.sites.index(site)])

    def capability(self, month: int) -> tuple[np.ndarray, np.ndarray]:
        """(V,) what each vendor's sites can make as a share of its path (Eq. F2: the least of
        its wafer and packaging terms), and (V,) the share they can make outside Taiwan.

        A pure function of the share table, the month, the ramp pace, the headroom and the sites'
        availability: kept per process under all of them (read-only arrays)."""
        pace, h = float(self.p["foundry_outside_ramp"]), float(self.p["foundry_headroom"])
        if self._undisrupted():  # all ones: the same key and inputs as availability's ones
            a, a_key = self._ones
        else:
            a = self.availability(month)
            a_key = a.tobytes()
        key = (self.table._key, self._site_key, int(month), pace, h, a_key)
        return _CAPABILITY.get_or(key, lambda: self._capability(month, pace, h, a))

    def _capability(self, month: int, pace: float, h: float, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        shares = self.table.at(month, pace)
        terms, outside = [], []
        for kind in (self.is_wafer, ~self.is_wafer):
            s = shares[:, kind]
            tot = s.sum(axis=1)
            safe = np.where(tot > 0, tot, 1.0)
            # x / x is exactly 1.0: with no disruption the factor is exactly h
            terms.append(np.where(tot > 0, (s * a[kind]).sum(axis=1) / safe, 1.0) * h)
            out = s * a[kind] * ~self.in_taiwan[kind]
            outside.append(np.where(tot > 0, out.sum(axis=1) / safe, 0.0) * h)
        return np.minimum(terms[0], terms[1]), np.minimum(outside[0], outside[1])

    def cap(self, model: Any, ctx: MonthContext) -> None:
        """Eq. F3: capacity = min(path after policy, what the sites can make); Eq. F4 the share
        of US-bloc capacity its sites can make entirely outside Taiwan."""
        f, out = self.capability(ctx.month)
        if not self.p["foundry_layer"]:
            f = np.ones_like(f)
        agents = model.vendors.agents
        us = self._us_idx
        before = [float(agents[i].capacity_units) for i in us]  # only the US bloc's are summed
        fl = f.tolist()
        for v in agents:
            if fl[v.vidx] < 1.0:
                v.cut_capacity(fl[v.vidx])
        self.factor = np.minimum(f, 1.0)
        # the US bloc's sums on floats: np.sum's bits (float_sums) and np.minimum's (b on a tie, NaN kept)
        after = [float(agents[i].capacity_units) for i in us]
        ol = out.tolist()
        total = np_sum(after)
        made = [b * ol[i] for b, i in zip(before, us)]
        made_out = np_sum([x if x < y or x != x else y for x, y in zip(made, after)])
        self.outside_share = float(made_out / total) if total > 0 else 0.0
