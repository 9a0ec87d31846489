"""Figures from written tables (issue 7): one run, several runs, or a sweep folder.

Every figure is drawn from the written tables (``model``, ``adoption``, ``vendors``; their
columns, the metrics' labels and bounds and the one palette shared with the dashboard come from
``model/outputs.py``), never from a live model, so a figure can be redrawn from disk at any
time. Runs that differ in scenario or swept parameters are different design points: figures
split them (panels, colours, or one line per point) and average only over the replications of
one point. Each figure has two
functions: ``make_<name>(...) -> Figure`` builds it (tests inspect its axes) and
``fig_<name>(..., out_path) -> Path`` saves it as a PNG. ``plot_folder`` detects what a folder
holds, draws every figure that applies and writes an ``index.html`` that shows them.

One module per figure family: ``common`` (colours, labels, drawing helpers), ``adoption``
(figures 1-2), ``bifurcation`` (3), ``blocs`` (4-5: China, Global South), ``offerings`` (6: the
cluster core's comparison), ``sweeps`` (phase diagrams, sensitivity, discovery boxes), ``index``
(the HTML page) and ``folder`` (reading folders, ``plot_folder``). Every public name is
importable from ``experiments.plots`` itself. The figures never import the command line's
modules (``experiments/commands``): ``chipwar plot`` passes in the pricing function.

Matplotlib is used through its object API (``matplotlib.figure.Figure``, saved with the Agg
canvas), never pyplot: no display is needed, the process-wide backend is left alone (the
dashboard may share the process) and no global figure state leaks between figures or tests.
"""

from experiments.plots.adoption import (
    adoption_shares,
    fig_adoption,
    fig_installed,
    make_adoption,
    make_installed,
)
from experiments.plots.bifurcation import (
    event_marks,
    fig_bifurcation,
    make_bifurcation,
)
from experiments.plots.blocs import (
    fig_china,
    fig_gs_countries,
    final_country_shares,
    load_observed_table,
    make_china,
    make_gs_countries,
    period_bounds,
    quarterly,
)
from experiments.plots.common import (
    BLOC_LABELS,
    CONTRACT_COLUMNS,
    DEFAULT_WORKLOADS,
    DPI,
    EVENT_LABELS,
    INDEX_NAME,
    MAX_FACETS,
    MAX_GROUPS,
    MAX_RUN_LINES,
    METRIC_LABELS,
    PHASE_METRICS,
    POINT_COLOURS,
    STACK_COLORS,
    STACK_COLOURS,
    STACK_LABELS,
    UNIT_METRICS,
    month_time,
    n_points,
    param_name,
    point_means,
    save_figure,
    split_points,
    year_step,
)
from experiments.plots.folder import (
    FolderTables,
    Planned,
    aggregation,
    load_folder,
    plot_folder,
    point_labels,
    scenario_events,
)
from experiments.plots.index import (
    write_index,
)
from experiments.plots.offerings import (
    PriceFn,
    fig_offerings,
    make_offerings,
    offering_energy,
    price_table,
    workload_is_training,
)
from experiments.plots.sweeps import (
    BOX_COLUMNS,
    SENSITIVITY_COLUMNS,
    fig_discovery_box,
    fig_phase_diagram,
    fig_sensitivity,
    make_discovery_box,
    make_phase_diagram,
    make_sensitivity,
)

__all__ = [
    "BLOC_LABELS",
    "BOX_COLUMNS",
    "CONTRACT_COLUMNS",
    "DEFAULT_WORKLOADS",
    "DPI",
    "EVENT_LABELS",
    "FolderTables",
    "INDEX_NAME",
    "MAX_FACETS",
    "MAX_GROUPS",
    "MAX_RUN_LINES",
    "METRIC_LABELS",
    "PHASE_METRICS",
    "POINT_COLOURS",
    "Planned",
    "PriceFn",
    "SENSITIVITY_COLUMNS",
    "STACK_COLORS",
    "STACK_COLOURS",
    "STACK_LABELS",
    "UNIT_METRICS",
    "adoption_shares",
    "aggregation",
    "event_marks",
    "fig_adoption",
    "fig_bifurcation",
    "fig_china",
    "fig_discovery_box",
    "fig_gs_countries",
    "fig_installed",
    "fig_offerings",
    "fig_phase_diagram",
    "fig_sensitivity",
    "final_country_shares",
    "load_folder",
    "load_observed_table",
    "make_adoption",
    "make_bifurcation",
    "make_china",
    "make_discovery_box",
    "make_gs_countries",
    "make_installed",
    "make_offerings",
    "make_phase_diagram",
    "make_sensitivity",
    "month_time",
    "n_points",
    "offering_energy",
    "param_name",
    "period_bounds",
    "plot_folder",
    "point_labels",
    "point_means",
    "price_table",
    "quarterly",
    "save_figure",
    "scenario_events",
    "split_points",
    "workload_is_training",
    "write_index",
    "year_step",
]
