"""Figures of sweeps and scenario folders: design points are drawn apart, never averaged together;
phase axes are the swept values; year labels stay apart at the full horizon; one palette."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex

from experiments import plots
from model.errors import InputError
from model.outputs import STACK_COLOURS
from model.types import STACKS

MONTHS = [f"{y}-{m:02d}" for y in range(2022, 2036) for m in range(1, 13)]  # 168 months
# two design points far apart: (swept control level, its monthly lever, GS CANN share)
POINTS = {"low": (0.2, 0.15, 0.04), "high": (0.8, 0.75, 0.99)}
REPS = 2
BLOCS = (("us", "us"), ("cn", "cn"), ("in", "gs"))  # "in": India


def _tables(run_id: str, level: float, lever: float, cann: float, kappa: float, months=MONTHS):
    n = len(months)
    model = pd.DataFrame({"run_id": run_id, "seed": 1, "replication": int(run_id[-1]),
                          "step": np.arange(n), "date": months,
                          "bifurcation_index": np.linspace(0, level, n), "bloc_jsd": 0.1,
                          "cn_domestic_share": 0.5, "nvidia_china_revenue_share": 0.1,
                          "gs_cann_share": cann, "us_control_level": lever,
                          "rare_earth_restriction": 0.0,
                          "param_us_control_level": level, "kappa": kappa})
    rows = []
    for step, date in enumerate(months):
        for region, bloc in BLOCS:
            share = {"cuda": 1 - cann, "cann": cann} if bloc == "gs" else {"cuda": 1.0}
            for stack in STACKS:
                rows.append((run_id, step, date, region, bloc, stack,
                             1000.0 * share.get(stack, 0.0), 10.0, 1e6))
    adoption = pd.DataFrame(rows, columns=["run_id", "step", "date", "region", "bloc", "stack",
                                           "installed_h100e", "purchased_h100e", "spend_usd"])
    return {"model": model, "adoption": adoption}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """A sweep folder over us_control_level (stamped param_us_control_level, beside the monthly
    lever) x kappa, two replications per point; the GS CANN share is 4 % at 0.2, 99 % at 0.8."""
    root = tmp_path_factory.mktemp("pts")
    for t in ("model", "adoption", "vendors"):
        (root / t).mkdir()
    i = 0
    for level, lever, cann in POINTS.values():
        for kappa in (0.5, 2.0):
            for r in range(REPS):
                tabs = _tables(f"{i:02d}-{r}", level, lever, cann, kappa)
                for t, df in tabs.items():
                    df.to_parquet(root / t / f"{i:02d}-{r}.parquet", index=False)
            i += 1
    (root / "manifest.json").write_text(json.dumps({"design": {
        "scenario": "baseline", "sampler": "grid",
        "parameters": {"us_control_level": [0.2, 0.8], "kappa": [0.5, 2.0]}}}))
    return root


def test_points_are_the_swept_values(sweep):
    ft = plots.load_folder(sweep)
    assert ft.varied == ["param_us_control_level", "kappa"]
    assert ft.n_points == 4 and ft.n_runs == 4 * REPS
    assert sorted(set(ft.points)) == sorted(f"us_control_level={a}, kappa={k}"
                                            for a in (0.2, 0.8) for k in (0.5, 2))
    assert ft.points.value_counts().eq(REPS).all()  # replications share a label


def _gs_cann_finals(fig) -> list[float]:
    """Last value of every CANN line in the Global-South panels."""
    out = []
    for ax in fig.axes:
        if ax.get_title().startswith("Global South"):
            out += [float(ln.get_ydata()[-1]) for ln in ax.get_lines()
                    if to_hex(ln.get_color()) == STACK_COLOURS["cann"] and ln.get_linewidth() >= 2]
    return out


def test_adoption_never_averages_two_points(sweep):
    ft = plots.load_folder(sweep)
    low_high = ft.points.str.startswith("us_control_level=0.2").map({True: "0.2", False: "0.8"})
    fig = plots.make_adoption(ft.adoption, low_high)
    finals = sorted(_gs_cann_finals(fig))
    assert finals == pytest.approx([0.04, 0.99])  # a row per point, no 0.515 mean
    assert "2 design points" in fig.get_suptitle()
    # four points: still faceted (at most MAX_FACETS); many points: one line per point
    assert sorted(_gs_cann_finals(plots.make_adoption(ft.adoption, ft.points))) == pytest.approx(
        [0.04, 0.04, 0.99, 0.99])
    many = pd.Series([f"p{i}" for i in range(len(ft.points))], index=ft.points.index)
    fig = plots.make_adoption(ft.adoption, many)
    gs = next(a for a in fig.axes if a.get_title().startswith("Global South"))
    cann = [ln for ln in gs.get_lines() if to_hex(ln.get_color()) == STACK_COLOURS["cann"]]
    assert len(cann) == len(many) and {round(float(ln.get_ydata()[-1]), 2) for ln in cann} == {
        0.04, 0.99}
    # without points the old behaviour (one mean) is what a single point would show
    one = plots.make_adoption(ft.adoption)
    assert _gs_cann_finals(one) == pytest.approx([np.mean([0.04, 0.99])])


def test_gs_countries_and_installed_split_points(sweep):
    from model.population import load_regions

    ft = plots.load_folder(sweep)
    lvl = ft.points.str.split(",").str[0]
    fig = plots.make_gs_countries(ft.adoption, load_regions(), lvl)
    panels = [a for a in fig.axes if a.get_title()]
    assert len(panels) == 2 and "us_control_level=0.2" in panels[0].get_title()
    india = [t.get_text() for t in panels[0].get_yticklabels()].index(
        next(t.get_text() for t in panels[0].get_yticklabels() if t.get_text().startswith("India")))
    # the CANN segment (drawn after CUDA and ROCm) of India in each panel: 4 % and 99 %
    widths = []
    for ax in panels:
        cann = [p for p in ax.patches if to_hex(p.get_facecolor()) == STACK_COLOURS["cann"]]
        widths.append(cann[india].get_width())
    assert widths == pytest.approx([0.04, 0.99])
    with pytest.raises(InputError, match="design points"):
        plots.make_installed(ft.adoption, pd.Series([f"p{i}" for i in range(8)],
                                                    index=ft.points.index))


def test_bifurcation_draws_each_points_control_level(sweep):
    ft = plots.load_folder(sweep)
    lvl = ft.points.str.split(",").str[0]
    fig = plots.make_bifurcation(ft.model, (), ft.varied, lvl)
    lower = fig.axes[1]
    levels = sorted({round(float(np.nanmean(ln.get_ydata())), 3) for ln in lower.get_lines()
                     if len(ln.get_ydata()) == len(MONTHS) and ln.get_linestyle() == "-"})
    assert levels == [0.15, 0.75]  # the monthly lever of each point (not the swept 0.2 / 0.8)
    assert "US control level" in " ".join(t.get_text() for t in lower.get_legend().get_texts())


def test_phase_axes_are_the_swept_values(sweep):
    ft = plots.load_folder(sweep)
    fig = plots.make_phase_diagram(ft.model, ft.varied[0], ft.varied[1], "gs_cann_share")
    ax = fig.axes[0]
    assert sorted(float(t.get_text()) for t in ax.get_xticklabels()) == [0.2, 0.8]
    assert ax.get_xlabel().startswith("us_control_level") and "param_" not in ax.get_xlabel()
    assert sorted(float(t.get_text()) for t in ax.get_yticklabels()) == [0.5, 2.0]


def test_plot_folder_of_two_scenarios_draws_two_series(tmp_path):
    """A folder holding a baseline run and an h200_opening run: two series, one per scenario."""
    for scen, cann in (("baseline", 0.1), ("h200_opening", 0.9)):
        d = tmp_path / scen
        d.mkdir()
        for t, df in _tables(f"{scen}-1", 0.5, 0.5, cann, 1.0, MONTHS[:36]).items():
            df.to_parquet(d / f"{t}.parquet", index=False)
        (d / "manifest.json").write_text(json.dumps({"scenario": scen, "seed": 1,
                                                     "parameters": {"end": "2024-12"}}))
    ft = plots.load_folder(tmp_path)
    assert sorted(set(ft.points)) == ["baseline", "h200_opening"]
    fig = plots.make_bifurcation(ft.model, (), ft.varied, ft.points)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "baseline" in legend and "h200_opening" in legend
    assert sorted(_gs_cann_finals(plots.make_adoption(ft.adoption, ft.points))) == pytest.approx(
        [0.1, 0.9])
    pngs = plots.plot_folder(tmp_path, tmp_path / "figs", progress=False)
    page = (tmp_path / "figs" / "index.html").read_text()
    assert "2 design points or scenarios (baseline; h200_opening)" in page
    assert {p.name for p in pngs} >= {"adoption_shares.png", "bifurcation.png", "china_shares.png"}


def _overlaps(fig) -> tuple[int, list[int]]:
    """(overlapping neighbouring x tick labels over all axes, labels per date axis)."""
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    bad, counts = 0, []
    for ax in fig.axes:
        labs = [t for t in ax.get_xticklabels() if t.get_text() and t.get_visible()]
        if not labs or not labs[0].get_text().isdigit():
            continue
        boxes = sorted((t.get_window_extent(renderer) for t in labs), key=lambda b: b.x0)
        counts.append(len(boxes))
        bad += sum(1 for a, b in zip(boxes, boxes[1:]) if a.x1 > b.x0 - 1)
    return bad, counts


@pytest.mark.parametrize("make", ["adoption", "installed", "bifurcation", "china"])
def test_year_labels_do_not_overlap_at_168_months(make):
    tabs = _tables("r-0", 0.5, 0.5, 0.5, 1.0)
    fig = {"adoption": lambda: plots.make_adoption(tabs["adoption"]),
           "installed": lambda: plots.make_installed(tabs["adoption"]),
           "bifurcation": lambda: plots.make_bifurcation(tabs["model"]),
           "china": lambda: plots.make_china(tabs["model"], None, tabs["adoption"])}[make]()
    bad, counts = _overlaps(fig)
    assert counts and bad == 0, (bad, counts)
    assert all(6 <= c <= 9 for c in counts), counts  # one label per 2 years over 14 years


def test_year_step():
    assert [plots.year_step(y) for y in (1, 3, 6, 7, 14, 16, 30)] == [1, 1, 1, 2, 2, 2, 4]


def test_one_palette_with_the_schema_and_dashboard():
    import model.outputs as out

    assert plots.STACK_COLOURS is out.STACK_COLOURS and plots.STACK_COLORS is out.STACK_COLOURS
    assert plots.METRIC_LABELS is out.METRIC_LABELS and plots.UNIT_METRICS is out.UNIT_METRICS
    tabs = _tables("r-0", 0.5, 0.5, 0.5, 1.0, MONTHS[:24])
    fig = plots.make_adoption(tabs["adoption"])
    drawn = {to_hex(ln.get_color()) for ax in fig.axes for ln in ax.get_lines()}
    assert drawn == {STACK_COLOURS[s] for s in STACKS}
    legend = {to_hex(h.get_color()) for h in fig.legends[0].legend_handles}
    assert legend == {STACK_COLOURS[s] for s in STACKS}


def test_analysis_reads_the_schemas_metrics():
    from experiments import analysis
    from model.outputs import METRIC_NAMES

    assert analysis.METRICS == METRIC_NAMES
