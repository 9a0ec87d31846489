"""Policy rule engine: US export controls and China's countermeasures as rules on offerings.

The US and Chinese regulator agents own a :class:`PolicyState` each month; the market asks it
three vectorised questions about the offering table: which (offering, region) pairs are
available, what levy applies to a sale, and which licences are pending. Equations and
thresholds: docs/ODD.md §Submodels "Export controls" and "China's countermeasures".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class USRule:
    """One US export-control rule (3A090 style). A chip is *controlled* when
    (tpp >= tpp and io >= io_gb_s [if io_gb_s set]) or (tpp >= tpp_pd and density >= density).
    Designers also avoid the *grey zone* (licence notification): tpp >= grey_tpp and density >= grey_density.
    """

    tpp: float = float("inf")
    io_gb_s: float | None = None
    tpp_pd: float = float("inf")
    density: float = float("inf")
    grey_tpp: float = float("inf")
    grey_density: float = float("inf")
    # destination tiers the rule applies to (tier 3 = China, Russia, ...; 2 = the "40+" list)
    tiers: tuple[int, ...] = (3,)
    hbm_to_china: bool = False  # Dec-2024 rule: HBM stacks cannot go to Chinese vendors

    def key(self) -> tuple:
        """The thresholds that define the rule (a vendor designs one variant per rule)."""
        return (self.tpp, self.io_gb_s, self.tpp_pd, self.density, self.grey_tpp, self.grey_density)

    def controlled(self, tpp: np.ndarray, density: np.ndarray, io_gb_s: np.ndarray) -> np.ndarray:
        io_ok = io_gb_s >= self.io_gb_s if self.io_gb_s is not None else np.ones_like(tpp, bool)
        return ((tpp >= self.tpp) & io_ok) | ((tpp >= self.tpp_pd) & (density >= self.density))

    def design_limits(self, die_area_mm2: float = 800.0) -> tuple[float, float | None]:
        """Largest uncontrolled TPP and chip-to-chip I/O for a die of this area (Eq. V3).

        A clause (tpp >= T and density >= D) is avoided with tpp < max(T, D x area); a variant
        avoids every clause, and the grey zone. Under the 2022 form (TPP and I/O) the compute
        may stay and the I/O is cut instead: returns (inf, io threshold).
        """
        if self.io_gb_s is not None and not np.isfinite(self.tpp_pd):
            return float("inf"), self.io_gb_s
        clause_pd = max(self.tpp_pd, self.density * die_area_mm2)
        grey = max(self.grey_tpp, self.grey_density * die_area_mm2)
        return min(self.tpp, clause_pd, grey), None


def rule_for_level(level: float) -> USRule:
    """Map the scalar ``us_control_level`` in [0, 1] to concrete thresholds (docs/ODD.md, Eq. P1).

    The design limit (largest uncontrolled TPP) falls log-linearly from 40,000 at level 0
    (nothing on the market is controlled) to 1,000 at level 1 (an H20 is controlled):
    tpp_limit = 40,000 * (1,000 / 40,000) ** level. The 2023 rule's 2,400 grey zone sits at
    level ~0.76; the 2025-12 H200 opening (TPP 15,832 licensed) near 0.25. Above level 0.8 the
    rule also covers tier-2 destinations.
    """
    level = float(np.clip(level, 0.0, 1.0))
    if level <= 0.0:
        return USRule()
    limit = 40_000.0 * (1_000.0 / 40_000.0) ** level
    tiers = (2, 3) if level > 0.8 else (3,)
    return USRule(tpp=limit, grey_tpp=limit, grey_density=1.6 if level >= 0.7 else float("inf"),
                  tiers=tiers, hbm_to_china=level >= 0.6)


def level_for_rule(rule: USRule) -> float:
    """Inverse of :func:`rule_for_level` on the design limit: the stringency summary for plots."""
    limit, _io = rule.design_limits()
    if rule.io_gb_s is not None and not np.isfinite(limit):
        limit = rule.tpp  # the 2022 form: count its TPP threshold as the limit
    if not np.isfinite(limit):
        return 0.0
    return float(np.clip(np.log(limit / 40_000.0) / np.log(1_000.0 / 40_000.0), 0.0, 1.0))


@dataclass
class Licence:
    """A licensed channel: chips matching ``match`` may be sold to ``regions`` with a levy."""

    match: tuple[str, ...]  # chip ids or parent ids, or "compliance" for every US compliance variant
    regions: tuple[str, ...]
    levy: float = 0.0  # share of revenue paid to the US government
    approval: float = 1.0  # probability per offering-region-month that a licence is granted
    start: int = 0  # absolute month from which licences are issued (event date + delay)


@dataclass
class PolicyState:
    """All policy levers in force this month (both regulators)."""

    us_rule: USRule = field(default_factory=USRule)
    licences: list[Licence] = field(default_factory=list)
    # Diffusion-rule caps: tier -> H100e per country per year (None: no cap)
    tier_caps_h100e: dict[int, float] = field(default_factory=dict)
    us_guidance_cann_penalty: float = 0.0  # utility penalty for using Ascend outside China (2025-05 guidance)
    # the US and its Tier-1 allies buy no Chinese-vendor accelerators (Eq. P2c; parameter us_bloc_buys_cn_chips)
    us_bloc_buys_cn: bool = False
    # China
    cn_bans: set[str] = field(default_factory=set)  # chip ids / parent ids / "compliance"
    cn_mandate: float = 0.0  # required domestic share for state-funded buyers (0..1)
    cn_subsidy: float = 0.0  # electricity subsidy fraction for domestic-chip data centres
    rare_earth: float = 0.0  # restriction level in [0, 1]
    antitrust_fine: float = 0.0  # fraction of Nvidia's China revenue withheld

    @property
    def us_control_level(self) -> float:
        return level_for_rule(self.us_rule)

    # -- the levers, as the regulators and scripted events move them -----------------------------
    def set_us_rule(self, rule: USRule, *, keep_hbm: bool = False) -> None:
        """Put ``rule`` in force; ``keep_hbm`` keeps an HBM ban already in force (a level change
        never lifts the Dec-2024 HBM rule)."""
        hbm = self.us_rule.hbm_to_china
        self.us_rule = rule
        if keep_hbm:
            rule.hbm_to_china = hbm or rule.hbm_to_china

    def grant_licence(self, licence: Licence) -> None:
        self.licences.append(licence)

    def revoke_licences(self, match: set[str]) -> None:
        """Drop every licence naming any of ``match``."""
        self.licences = [lc for lc in self.licences if not match & set(lc.match)]

    def set_licence_levy(self, region: str, levy: float) -> None:
        """The levy on every licence covering ``region`` (the US takes over its deals' terms)."""
        for lic in self.licences:
            if region in lic.regions:
                lic.levy = levy

    def ban(self, chips: set[str]) -> None:
        self.cn_bans |= set(chips)

    def unban(self, chips: set[str]) -> None:
        self.cn_bans -= set(chips)


def _isin(values: np.ndarray, names) -> np.ndarray:
    """``np.isin(values, names)`` for hashable values (ids, tiers) by set membership: the same
    answer without its sort, a fraction of its cost on the few dozen entries the tables hold."""
    s = set(names)
    return np.fromiter((v in s for v in values.tolist()), dtype=bool, count=len(values))


def _matches(patterns: set[str] | tuple[str, ...], chip: np.ndarray, parent: np.ndarray,
             compliance: np.ndarray, us_vendor: np.ndarray, cache: dict | None = None) -> np.ndarray:
    """Offerings whose chip or parent chip is named; 'compliance' = every US compliance variant,
    'us_all' = every US-vendor offering. ``cache`` (the OfferingView's, rebuilt whenever offerings
    are added) keeps each pattern set's mask."""
    key = frozenset(patterns)
    if cache is not None and key in cache:
        return cache[key]
    pats = set(patterns)
    m = np.fromiter((c in pats or q in pats for c, q in zip(chip.tolist(), parent.tolist())),
                    dtype=bool, count=len(chip))
    if "compliance" in pats:
        m |= compliance & us_vendor
    if "us_all" in pats:
        m |= us_vendor
    if cache is not None:
        cache[key] = m
    return m


def availability(policy: PolicyState, off: OfferingView, region_tier: np.ndarray,
                 region_ids: np.ndarray, region_is_cn: np.ndarray,
                 month: int = 10**9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (available (O,R) bool, levy (O,R) share of revenue, approval (O,R) probability).

    US rule: a controlled US-vendor chip is unavailable in the rule's destination tiers unless a
    licence covers it (then it carries the licence's levy and approval probability).
    China: banned chips are unavailable in China. Tier 1 (the US and its allies) buys no
    Chinese-vendor chip unless ``policy.us_bloc_buys_cn``. (docs/ODD.md Eq. P2-P3)
    """
    O, R = len(off.chip), len(region_ids)
    controlled = policy.us_rule.controlled(off.tpp, off.density, off.io_gb_s) & off.us_vendor
    dest = _isin(region_tier, policy.us_rule.tiers)
    blocked = controlled[:, None] & dest[None, :]
    levy = np.zeros((O, R))
    approval = np.ones((O, R))
    for lic in policy.licences:
        if lic.start > month:
            continue
        m = _matches(lic.match, off.chip, off.parent, off.compliance, off.us_vendor, off.cache)
        cover = m[:, None] & _isin(region_ids, lic.regions)[None, :]
        np.maximum(levy, lic.levy, out=levy, where=cover)  # in place: max and min are exact
        np.minimum(approval, lic.approval, out=approval, where=cover & blocked)
        blocked &= ~cover
    available = ~blocked
    # compliance variants are made for the destinations the rule covers, and only while a rule
    # controls their parent; elsewhere (or without such a rule) buyers get the uncut parent (Eq. V3b)
    parent_ctl = np.where(off.parent_idx >= 0, controlled[np.maximum(off.parent_idx, 0)], True)
    available &= ~((off.compliance & ~parent_ctl)[:, None] | (off.compliance[:, None] & ~dest[None, :]))
    if not policy.us_bloc_buys_cn:  # Eq. P2c
        available &= ~(off.cn_vendor[:, None] & (region_tier == 1)[None, :])
    if policy.cn_bans:
        banned = _matches(policy.cn_bans, off.chip, off.parent, off.compliance, ~off.cn_vendor, off.cache)
        available &= ~(banned[:, None] & region_is_cn[None, :])
    return available, levy, approval


def availability_fast(policy: PolicyState, off: OfferingView, region_tier: np.ndarray,
                      region_ids: np.ndarray, region_is_cn: np.ndarray, month: int,
                      memo: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`availability`, the same three tables, for a caller asking every month: the
    licences' and bans' name masks are extended, not rebuilt, when offerings are appended
    (``memo``, the caller's dict, keeps them with the ids they were built on), region masks are
    kept, and the tables are filled in one compiled pass (``model.month_kernels.availability``)."""
    from model import month_kernels

    rule = policy.us_rule
    controlled = rule.controlled(off.tpp, off.density, off.io_gb_s) & off.us_vendor
    names = off.cache.get(_NAMES)
    if names is None:
        names = off.cache[_NAMES] = (off.chip.tolist(), off.parent.tolist())
    rows, regs, levies, approvals = [], [], [], []
    for lic in policy.licences:
        if lic.start > month:
            continue
        rows.append(_matches_memo(lic.match, names, off, off.us_vendor, memo))
        regs.append(_regions_memo(region_ids, lic.regions, memo))
        levies.append(lic.levy)
        approvals.append(lic.approval)
    O, R = len(names[0]), len(region_ids)
    banned = (_matches_memo(policy.cn_bans, names, off, ~off.cn_vendor, memo) if policy.cn_bans
              else np.zeros(O, dtype=bool))
    return month_kernels.availability(
        controlled, _regions_memo(region_tier, rule.tiers, memo),
        np.array(rows, dtype=bool).reshape(len(rows), O), np.array(regs, dtype=bool).reshape(len(rows), R),
        np.array(levies, dtype=float), np.array(approvals, dtype=float), off.compliance,
        np.asarray(off.parent_idx, dtype=np.int64), off.cn_vendor, region_tier == 1,
        bool(policy.us_bloc_buys_cn), banned, region_is_cn)


_NAMES = "names"  # the view cache's entry of (chip ids, parent ids) as lists (pattern keys are frozensets)


def _matches_memo(patterns, names: tuple, off: OfferingView, us_vendor: np.ndarray, memo: dict) -> np.ndarray:
    """:func:`_matches` for a view whose ids may extend those of an earlier one: the name part
    is computed for the new rows only."""
    key = frozenset(patterns)
    hit = off.cache.get(key)
    if hit is not None:
        return hit
    chips, parents = names
    ent = memo.get(key)
    n = 0
    if ent is not None:
        n = len(ent[0])
        if not (len(chips) >= n and chips[:n] == ent[0] and parents[:n] == ent[1]):
            n = 0
    pats = set(patterns)
    tail = np.fromiter((c in pats or q in pats for c, q in zip(chips[n:], parents[n:])), dtype=bool,
                       count=len(chips) - n)
    by_name = np.concatenate([ent[2], tail]) if n else tail
    memo[key] = (chips, parents, by_name)
    m = by_name.copy()
    if "compliance" in pats:
        m |= off.compliance & us_vendor
    if "us_all" in pats:
        m |= us_vendor
    off.cache[key] = m
    return m


def _regions_memo(values: np.ndarray, names: tuple, memo: dict) -> np.ndarray:
    """``_isin(values, names)``, kept per (values array, names)."""
    key = ("in", id(values), tuple(names))
    ent = memo.get(key)
    if ent is None or ent[0] is not values:
        ent = memo[key] = (values, _isin(values, names))
    return ent[1]


@dataclass
class OfferingView:
    """The columns of the offering table the rule engine reads (struct of arrays)."""

    chip: np.ndarray
    parent: np.ndarray
    tpp: np.ndarray
    density: np.ndarray
    io_gb_s: np.ndarray
    us_vendor: np.ndarray
    cn_vendor: np.ndarray
    compliance: np.ndarray
    parent_idx: np.ndarray  # index of the parent offering of a compliance variant, -1 if none
    cache: dict = field(default_factory=dict)  # pattern masks; a new view when offerings change


def clip_float(x: float, lo: float, hi: float) -> float:
    """``float(np.clip(x, lo, hi))`` of a Python float, bit for bit (NaN kept, -0.0 kept as
    np.clip keeps it: max() returns x unless lo > x), without an array round trip (~3 us)."""
    return float(min(max(x, lo), hi))


def us_level_reaction(level: float, *, cn_over_us: float, rare_earth: float, nvidia_cn_share: float,
                      p: dict) -> float:
    """Eq. R1: the US stringency level next month.

    level' = level + a_t * max(0, (cn/us - target) / target)
                   - a_l * max(0, rare_earth - threshold)
                   - lobby * [Nvidia's China revenue share < 5 %]
    clipped to [0, 1]: tightens as China's effective compute approaches the target ratio of the
    US bloc's, loosens under rare-earth pressure (Geneva/London/Busan) and lost revenue.
    """
    target = max(float(p["us_target_ratio"]), 1e-9)
    tighten = float(p["us_tighten_rate"]) * max(0.0, (cn_over_us - target) / target)
    loosen = float(p["us_loosen_rate"]) * max(0.0, rare_earth - float(p["us_loosen_threshold"]))
    share = nvidia_cn_share if nvidia_cn_share == nvidia_cn_share else 0.0
    lobby = float(p["us_revenue_lobby"]) if share < 0.05 else 0.0
    return clip_float(level + tighten - loosen - lobby, 0.0, 1.0)


def cn_rare_earth_reaction(restriction: float, *, us_level_change: float, p: dict) -> float:
    """Eq. R2: China's rare-earth restriction next month.

    r' = base + (r - base) (1 - c) + retaliation * max(0, d level_US), clipped to [0, 1]:
    retaliates when US controls tighten; restrictions above the base relax at rate c, their
    cost to China (export revenue, credibility).
    """
    base = float(p["rare_earth_base"])
    relaxed = base + (restriction - base) * (1.0 - float(p["cn_rare_earth_cost"]))
    return clip_float(relaxed + float(p["cn_retaliation"]) * max(0.0, us_level_change), 0.0, 1.0)
