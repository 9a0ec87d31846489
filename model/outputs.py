"""The output schema, once: every table's columns and every model metric's name, label, unit and
bounds. The recorder writes these columns; analysis, plots, the dashboard and the tests read
them from here (the contract of the output tables: docs/ODD.md, "Outputs")."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """One column of the model table: a monthly scalar outcome of a run."""

    name: str
    label: str
    unit: str = "share"
    low: float | None = 0.0
    high: float | None = 1.0

    @property
    def bounded(self) -> bool:
        """True for shares and indices in [0, 1] (colour scales and y-limits fixed to it)."""
        return self.low == 0.0 and self.high == 1.0


METRICS: tuple[Metric, ...] = (
    Metric("bifurcation_index", "bifurcation index I(region; stack)/H(stack)", "index"),
    Metric("bloc_jsd", "US-bloc vs China JSD (base 2)", "bits"),
    Metric("hhi_world", "world HHI of stacks", "index"),
    Metric("top_stack_share_world", "world share of the top stack"),
    Metric("cn_domestic_share", "China's purchases on domestic chips (share of H100e)"),
    Metric("cn_domestic_unit_share", "China's purchases on domestic chips (share of units)"),
    Metric("cn_domestic_value_share", "China's purchases on domestic chips (share of spending)"),
    Metric("nvidia_china_revenue_share", "Nvidia revenue from China (share of total)"),
    Metric("gs_cuda_share", "Global South installed share on CUDA"),
    Metric("gs_cann_share", "Global South installed share on CANN"),
    Metric("gs_dual_stack_share", "share of Global-South buyers on two stacks"),
    Metric("us_cn_compute_ratio", "installed effective compute, US bloc / China", "ratio", 0.0, None),
    Metric("rare_earth_restriction", "rare-earth restriction (0-1)", "level"),
    Metric("us_control_level", "US control level (0-1)", "level"),
    Metric("us_capacity_outside_taiwan_share", "US-bloc capacity its sites can make outside Taiwan (share)"),
)
METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in METRICS)
METRIC_LABELS: dict[str, str] = {m.name: m.label for m in METRICS}
UNIT_METRICS: frozenset[str] = frozenset(m.name for m in METRICS if m.bounded)

MODEL_COLUMNS: tuple[str, ...] = ("run_id", "seed", "step", "date") + METRIC_NAMES
ADOPTION_COLUMNS: tuple[str, ...] = ("run_id", "step", "date", "region", "bloc", "stack", "installed_h100e",
                                     "purchased_h100e", "spend_usd", "software_efficiency")
VENDOR_COLUMNS: tuple[str, ...] = ("run_id", "step", "date", "vendor", "product", "region", "units",
                                   "revenue_usd", "price_usd", "capacity_units")
TABLES: dict[str, tuple[str, ...]] = {"model": MODEL_COLUMNS, "adoption": ADOPTION_COLUMNS,
                                      "vendors": VENDOR_COLUMNS}
#: Every column of the three tables (what is not a varied parameter in a sweep's tables).
CONTRACT_COLUMNS: frozenset[str] = frozenset(c for cols in TABLES.values() for c in cols) | {"replication"}

#: One palette for figures and the dashboard.
STACK_COLOURS: dict[str, str] = {"cuda": "#59a14f", "rocm": "#4e79a7", "cann": "#e15759", "other_cn": "#f28e2b"}
STACK_LABELS: dict[str, str] = {"cuda": "CUDA (Nvidia)", "rocm": "ROCm (AMD)", "cann": "CANN (Huawei Ascend)",
                                "other_cn": "other Chinese"}
BLOC_LABELS: dict[str, str] = {"us": "US & Tier-1 allies", "cn": "China", "gs": "Global South"}
