"""Shared vocabulary of the figures (colours, labels, metric names) and drawing helpers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from model.errors import InputError

#: One colour per stack, used by every figure (vendor brand colours, made distinct).
STACK_COLORS: dict[str, str] = {
    "cuda": "#76b900",      # Nvidia green
    "cann": "#c7000b",      # Huawei red
    "rocm": "#f28e2b",      # AMD, shifted to orange so it never reads as Huawei's red
    "other_cn": "#7b4ea3",  # other Chinese vendors: purple
}
STACK_LABELS: dict[str, str] = {
    "cuda": "CUDA (Nvidia)", "cann": "CANN (Huawei Ascend)", "rocm": "ROCm (AMD)",
    "other_cn": "other Chinese stacks",
}
BLOC_LABELS: dict[str, str] = {"us": "US bloc", "cn": "China", "gs": "Global South"}
#: Short labels for scenario event kinds on time axes.
EVENT_LABELS: dict[str, str] = {
    "us_rule": "US rule", "us_level": "US control level", "us_licence": "US licence",
    "us_revoke_licence": "US licence revoked", "us_tier_caps": "US tier caps",
    "us_guidance": "US guidance", "cn_ban": "China ban", "cn_unban": "China unban",
    "cn_mandate": "China mandate", "cn_subsidy": "China subsidy", "rare_earth": "rare earths",
    "antitrust": "China antitrust", "set": "parameters set",
}
METRIC_LABELS: dict[str, str] = {
    "bifurcation_index": "bifurcation index I(region; stack)/H(stack)",
    "bloc_jsd": "US-bloc vs China JSD (base 2)",
    "hhi_world": "world HHI of stacks",
    "top_stack_share_world": "world share of the top stack",
    "cn_domestic_share": "China's purchases on domestic chips (share of H100e)",
    "nvidia_china_revenue_share": "Nvidia revenue from China (share of total)",
    "gs_cuda_share": "Global South installed share on CUDA",
    "gs_cann_share": "Global South installed share on CANN",
    "gs_dual_stack_share": "share of Global-South buyers on two stacks",
    "us_cn_compute_ratio": "installed effective compute, US bloc / China",
    "rare_earth_restriction": "rare-earth restriction (0-1)",
    "us_control_level": "US control level (0-1)",
}
#: Metrics bounded in [0, 1] (colour scales and y-limits are fixed to that range).
UNIT_METRICS: frozenset[str] = frozenset(METRIC_LABELS) - {"us_cn_compute_ratio"}
#: Columns of the output tables that are not varied parameters.
CONTRACT_COLUMNS: frozenset[str] = frozenset(
    set(METRIC_LABELS) | {"run_id", "seed", "replication", "step", "date", "region", "bloc",
                          "stack",
                          "installed_h100e", "purchased_h100e", "spend_usd", "vendor", "product",
                          "units", "revenue_usd", "price_usd", "capacity_units"}
)
DPI = 110
INDEX_NAME = "index.html"
DEFAULT_WORKLOADS: tuple[str, ...] = ("deepseek-r1-decode", "llama3-405b-train")
PHASE_METRICS: tuple[str, ...] = ("bifurcation_index", "cn_domestic_share", "gs_cann_share")
MAX_RUN_LINES = 40  # thin single-run lines drawn per series (more only blurs the figure)
_MODEL_BLUE = "#1f4e79"
_INDEX_PALETTE = ("#4c72b0", "#dd8452", "#55a868", "#8172b3", "#937860", "#da8bc3")


def _style() -> Any:
    """Seaborn's white-grid look, applied only inside a figure's construction."""
    return sns.axes_style("whitegrid", {"grid.color": "#e3e3e3"})


def _new_figure(width_in: float, height_in: float) -> Figure:
    return Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")


def save_figure(fig: Figure, out_path: str | Path) -> Path:
    """Write ``fig`` as a PNG at DPI, creating the folder; return the path."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=DPI, format="png")
    return out


def month_time(dates: pd.Series | Sequence[str]) -> pd.Series:
    """'YYYY-MM' strings -> timestamps at the first of the month (for date axes)."""
    return pd.to_datetime(pd.Series(dates, dtype="str"), format="%Y-%m")


def _date_axis(ax: Any) -> None:
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    for lab in ax.get_xticklabels():
        lab.set_rotation(0)


def _n_runs(df: pd.DataFrame) -> int:
    return int(df["run_id"].nunique()) if "run_id" in df.columns and len(df) else 0


def _runs_phrase(n: int) -> str:
    if n <= 1:
        return "1 run"
    return f"{n} runs: line = mean, shaded = middle 95 % of runs, thin = single runs"


def _require(df: pd.DataFrame, cols: Iterable[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(f"{what}: missing column(s) {', '.join(missing)} "
                         f"(have {', '.join(map(str, df.columns))})")


def _wide(df: pd.DataFrame, value: str) -> pd.DataFrame:
    """One column per run, one row per month (index = month timestamp)."""
    w = df.pivot_table(index="date", columns="run_id", values=value, aggfunc="mean")
    w.index = pd.DatetimeIndex(month_time(w.index))
    return w.sort_index()


def _draw_band(ax: Any, wide: pd.DataFrame, color: str, label: str, *, lw: float = 2.0,
               runs: bool = True) -> None:
    """Mean line, middle-95 % band across runs and (optionally) thin single-run lines."""
    x = wide.index
    arr = wide.to_numpy(dtype=float)
    n = arr.shape[1]
    if runs and n > 1:
        for j in range(min(n, MAX_RUN_LINES)):
            ax.plot(x, arr[:, j], color=color, lw=0.6, alpha=0.3, zorder=1)
    if n > 1:
        ok = ~np.all(np.isnan(arr), axis=1)
        lo = np.full(len(x), np.nan)
        hi = np.full(len(x), np.nan)
        lo[ok] = np.nanpercentile(arr[ok], 2.5, axis=1)
        hi[ok] = np.nanpercentile(arr[ok], 97.5, axis=1)
        ax.fill_between(x, lo, hi, color=color, alpha=0.18, lw=0, zorder=0)
    mean = np.full(len(x), np.nan)
    ok = ~np.all(np.isnan(arr), axis=1)
    mean[ok] = np.nanmean(arr[ok], axis=1)
    ax.plot(x, mean, color=color, lw=lw, label=label, zorder=3)


def _stack_legend(fig: Figure, stacks: Sequence[str], *, patches: bool = False, **kw: Any) -> None:
    if patches:
        handles = [Patch(color=STACK_COLORS[s], label=STACK_LABELS[s]) for s in stacks]
    else:
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], color=STACK_COLORS[s], lw=2.5, label=STACK_LABELS[s])
                   for s in stacks]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False, **kw)


def _param_label(name: str) -> str:
    """A parameter name with its unit from the registry, when it has one."""
    try:
        from model.params import PARAMETERS, defaults

        defaults()  # loads every module that registers parameters
        unit = PARAMETERS[name].unit if name in PARAMETERS else ""
    except Exception:  # a label must never stop a figure
        unit = ""
    return f"{name} ({unit})" if unit else name


