"""Figures from written tables: every figure renders from a real short run and a fake sweep,
carries its labels, and `chipwar plot` writes an index that links every PNG."""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from experiments import plots
from experiments.cli import main
from model.population import load_observed, load_regions
from model.run import run_one
from model.types import STACKS

END = "2024-12"
SEEDS = (1, 2)
GRID = [(k, q) for k in (0.5, 2.0) for q in (0.2, 0.6)]  # kappa x bass_q
REPS = 3


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, pd.DataFrame]]:
    """Two short real runs (model.run.run_one), one per seed."""
    return {s: run_one({"end": END}, s) for s in SEEDS}


@pytest.fixture(scope="module")
def runs_dir(runs, tmp_path_factory) -> Path:
    """A folder of two run folders, laid out as `chipwar run` writes them."""
    root = tmp_path_factory.mktemp("runs")
    for s, tables in runs.items():
        d = root / f"seed{s}"
        d.mkdir()
        for name, df in tables.items():
            df.to_parquet(d / f"{name}.parquet", index=False)
        (d / "manifest.json").write_text(json.dumps({"scenario": "baseline", "seed": s,
                                                     "parameters": {"end": END}}))
    return root


@pytest.fixture(scope="module")
def sweep_dir(runs, tmp_path_factory) -> Path:
    """A fake sweep folder: parts under model/, adoption/, vendors/ with replication and two
    varied parameters (kappa, bass_q); the bifurcation index is shifted by kappa and by the
    replication (unevenly, so a cell's mean differs from its median)."""
    root = tmp_path_factory.mktemp("sweep")
    for t in ("model", "adoption", "vendors"):
        (root / t).mkdir()
    for i, (kappa, q) in enumerate(GRID):
        for r in range(REPS):
            run_id = f"{i:05d}-{r:03d}"
            src = runs[SEEDS[r % len(SEEDS)]]
            for t, df in src.items():
                df = df.assign(run_id=run_id, replication=r, kappa=kappa, bass_q=q)
                if t == "model":
                    shifted = (df["bifurcation_index"] + 0.1 * kappa + 0.03 * r * r).clip(0, 1)
                    df = df.assign(seed=100 + i * REPS + r, bifurcation_index=shifted)
                df.to_parquet(root / t / f"{run_id}.parquet", index=False)
    manifest = {"scenario": "baseline", "replications": REPS,
                "design": {"scenario": "baseline", "sampler": "grid",
                           "parameters": {"kappa": [0.5, 2.0], "bass_q": [0.2, 0.6]}}}
    (root / "manifest.json").write_text(json.dumps(manifest))
    pd.DataFrame({"parameter": ["kappa", "kappa", "bass_q", "bass_q"], "index": ["S1", "ST"] * 2,
                  "value": [0.1, 0.2, 0.5, 0.6], "conf": [0.02, 0.03, 0.05, 0.04]}
                 ).to_csv(root / "sobol.csv", index=False)
    return root


@pytest.fixture(scope="module")
def both(runs) -> dict[str, pd.DataFrame]:
    """The two runs' tables concatenated (what load_folder gives for a folder of runs)."""
    return {t: pd.concat([runs[s][t] for s in SEEDS], ignore_index=True)
            for t in ("model", "adoption")}


def _png_ok(path: Path) -> None:
    assert path.is_file() and path.stat().st_size > 5_000, f"{path} missing or tiny"
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 300
    assert img[..., :3].std() > 0.05, "blank image"


def _texts(fig) -> str:
    """All visible text of a figure: titles, labels, tick labels, legend entries, annotations."""
    out = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    return "\n".join(out)


# --------------------------------------------------------------------------- single figures


def test_adoption_shares_sum_to_one(both):
    sh = plots.adoption_shares(both["adoption"])
    tot = sh.groupby(["run_id", "date", "bloc"])["share"].sum()
    assert np.allclose(tot.dropna(), 1.0)
    assert set(sh["stack"]) == set(STACKS)


def test_adoption_figure(both, tmp_path):
    fig = plots.make_adoption(both["adoption"])
    axes = [a for a in fig.axes if a.get_title()]
    from model.outputs import BLOC_LABELS

    assert [a.get_title() for a in axes] == [BLOC_LABELS[b] for b in ("us", "cn", "gs")]
    assert "installed H100e" in axes[0].get_ylabel() and axes[0].get_xlabel() == "month"
    text = _texts(fig)
    assert all(plots.STACK_LABELS[s] in text for s in STACKS)
    assert "2 runs" in fig.get_suptitle()
    # per panel and stack: one mean line + 2 thin run lines
    assert len(axes[1].get_lines()) == len(STACKS) * 3
    _png_ok(plots.fig_adoption(both["adoption"], tmp_path / "a.png"))


def test_installed_figure(both, tmp_path):
    fig = plots.make_installed(both["adoption"])
    axes = [a for a in fig.axes if a.get_title()]
    assert len(axes) == 3 and "million H100e" in axes[0].get_ylabel()
    # the top of the stack at the last month is the mean total installed of the bloc
    ad = both["adoption"]
    last = ad[(ad["step"] == ad["step"].max()) & (ad["bloc"] == "us")]
    want_m = last["installed_h100e"].sum() / len(SEEDS) / 1e6
    assert f"final {want_m:,.2f} M H100e" in axes[0].get_title()
    _png_ok(plots.fig_installed(both["adoption"], tmp_path / "i.png"))


def test_bifurcation_figure_marks_events(both, tmp_path):
    from model.scenario import load_scenario

    events = load_scenario("baseline").events
    marks = [m for m in plots.event_marks(events) if m[0] <= END]
    fig = plots.make_bifurcation(both["model"], events)
    text = _texts(fig)
    assert "policy events" in text and "US rule" in text
    for i, (date, label) in enumerate(marks):
        assert f"{i + 1:>2}  {date}  {label}" in text
    assert f"{len(marks) + 1:>2}  " not in text, "events after the run's end must not be listed"
    ax = fig.axes[0]
    assert ax.get_ylim()[1] <= 1.05 and "split" in ax.get_ylabel()
    legend = " | ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert "bifurcation index" in legend and "JSD" in legend
    # a lever that was swept is not drawn as if it were the monthly lever
    fig2 = plots.make_bifurcation(both["model"], (), varied=["us_control_level"])
    assert "US control level" not in _texts(fig2)
    _png_ok(plots.fig_bifurcation(both["model"], tmp_path / "b.png", events))


def test_event_marks_merge_a_month():
    evs = [{"date": "2025-10", "kind": "rare_earth", "fields": {"level": 0.6}},
           {"date": "2025-10", "kind": "rare_earth", "fields": {"level": 0.2}},
           {"date": "2025-10", "kind": "cn_ban", "fields": {"chips": ["h20"]}},
           {"date": "2022-10", "kind": "us_rule", "fields": {"tpp": 4800}}]
    assert plots.event_marks(evs) == [("2022-10", "US rule"),
                                      ("2025-10", "rare earths 0.6 -> 0.2 + China ban")]


@pytest.mark.parametrize("period, start, end", [
    ("2024", "2024-01-01", "2025-01-01"),
    ("2023-01..2023-06", "2023-01-01", "2023-07-01"),
    ("2021-02..2022-01", "2021-02-01", "2022-02-01"),
    ("2024-H2", "2024-07-01", "2025-01-01"),
    ("2024-Q2", "2024-04-01", "2024-07-01"),
])
def test_period_bounds(period, start, end):
    assert plots.period_bounds(period) == (pd.Timestamp(start), pd.Timestamp(end))


def test_china_figure_overlays_observed(both, tmp_path):
    # the figure overlays observed cn_domestic_share (H100e basis); the shipped figures are now by
    # units and by value (issue 16), so the overlay is checked on those rows under that name
    obs = load_observed()
    dom = obs["metric"].isin(["cn_domestic_unit_share", "cn_domestic_value_share"])
    obs.loc[dom, "metric"] = "cn_domestic_share"
    fig = plots.make_china(both["model"], obs, both["adoption"])
    left, right = fig.axes[:2]
    assert "domestic" in left.get_title() and "Nvidia" in right.get_title()
    # every observed cn_domestic_share inside the run's range is drawn as an errorbar
    n_obs = sum(1 for p in obs.loc[obs["metric"] == "cn_domestic_share", "period"]
                if plots.period_bounds(p)[0] < pd.Timestamp("2025-01-01"))
    assert n_obs >= 3 and len(left.containers) == n_obs
    labels = [t.get_text() for t in left.get_legend().get_texts()]
    assert "model, quarterly" in labels and any(lab.startswith("observed") for lab in labels)
    # the quarterly domestic share is weighted by China's purchases in each month
    q = plots.quarterly(both["model"], "cn_domestic_share", both["adoption"])
    md, ad = both["model"], both["adoption"]
    run = md["run_id"].iloc[0]
    months = ["2024-04", "2024-05", "2024-06"]
    m = md[(md["run_id"] == run) & md["date"].isin(months)].set_index("date")["cn_domestic_share"]
    w = ad[(ad["run_id"] == run) & (ad["region"] == "cn") & ad["date"].isin(months)
           ].groupby("date")["purchased_h100e"].sum()
    assert q.loc[pd.Timestamp("2024-05-15"), run] == pytest.approx((m * w).sum() / w.sum())
    # the bold quarterly line is drawn at the quarters' middles, the monthly one faint
    qline = next(ln for ln in left.get_lines() if ln.get_label() == "model, quarterly")
    mline = next(ln for ln in left.get_lines() if ln.get_label() == "model, monthly")
    assert len(qline.get_xdata()) == len(q) and mline.get_alpha() < 0.5 < qline.get_linewidth()
    _png_ok(plots.fig_china(both["model"], tmp_path / "c.png", obs))


def test_gs_countries_sorted_by_alignment(both, tmp_path):
    regions = load_regions()
    df = plots.final_country_shares(both["adoption"], regions)
    assert set(df.index) == set(regions.index[regions["bloc"] == "gs"])
    assert df["alignment"].is_monotonic_increasing
    ok = df[list(STACKS)].notna().all(axis=1)
    assert np.allclose(df.loc[ok, list(STACKS)].sum(axis=1), 1.0)
    fig = plots.make_gs_countries(both["adoption"], regions)
    ax = fig.axes[0]
    top_down = sorted(zip(ax.get_yticks(), (t.get_text() for t in ax.get_yticklabels())),
                      reverse=True)
    vals = [float(re.search(r"\(([+-]\d\.\d\d)\)", t).group(1)) for _, t in top_down]
    assert len(vals) == len(df) and vals == sorted(vals)  # US-leaning at the top
    assert "alignment" in ax.get_ylabel() and "installed H100e" in ax.get_xlabel()
    _png_ok(plots.fig_gs_countries(both["adoption"], regions, tmp_path / "g.png"))


@pytest.mark.parametrize("workload, unit", [("deepseek-r1-decode", "USD per million tokens"),
                                            ("llama3-405b-train", "USD per effective PFLOP-hour")])
def test_offerings_figure_uses_the_core(workload, unit, tmp_path):
    from experiments.commands.price import price_frame

    table = price_frame(None, workload, "us", None)
    fig = plots.make_offerings(table)
    ax1, ax2 = fig.axes[:2]
    assert unit in ax1.get_xlabel() and "per token (J)" in ax2.get_xlabel()
    col = "usd_per_mtok" if "million" in unit else "usd_per_effective_pflop_hour"
    want = table.sort_values(col, na_position="last", kind="stable")[col]
    assert [p.get_width() for p in ax1.patches] == pytest.approx(np.nan_to_num(want.to_numpy()))
    e = plots.offering_energy(table)
    row = e[e["system"] == "cloudmatrix-384"].iloc[0]
    assert row["j_per_token"] == pytest.approx(row["facility_kw"] * 1000 / row["accelerators"]
                                               / row["tokens_per_s_per_accel"])
    _png_ok(plots.fig_offerings(table, tmp_path / "o.png"))


def test_phase_diagram_cells_are_means(sweep_dir, tmp_path):
    ft = plots.load_folder(sweep_dir)
    assert ft.kind == "sweep" and ft.varied == ["kappa", "bass_q"] and ft.n_runs == len(GRID) * REPS
    fig = plots.make_phase_diagram(ft.model, "kappa", "bass_q", "bifurcation_index")
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("kappa") and ax.get_ylabel() == "bass_q (1/yr)"
    assert END in ax.get_title()
    at = ft.model[ft.model["date"] == END]
    want = at.groupby(["bass_q", "kappa"])["bifurcation_index"].mean()
    xs = [float(t.get_text()) for t in ax.get_xticklabels()]
    ys = [float(t.get_text()) for t in ax.get_yticklabels()]
    assert len(ax.texts) == len(want) == 4
    for t in ax.texts:  # cell (column j, row i) is drawn at (j + 0.5, i + 0.5)
        xj, yi = t.get_position()
        cell = want[(ys[int(yi)], xs[int(xj)])]
        assert float(t.get_text().split("\n")[0]) == pytest.approx(cell, abs=0.0051)
        assert f"(n={REPS})" in t.get_text()
    _png_ok(plots.fig_phase_diagram(ft.model, "kappa", "bass_q", "bifurcation_index",
                                    tmp_path / "p.png"))


def test_phase_diagram_bins_continuous_parameters():
    rng = np.random.default_rng(3)
    n = 60
    df = pd.DataFrame({"run_id": [f"r{i}" for i in range(n)], "date": "2030-12",
                       "kappa": rng.uniform(0, 2, n), "bass_q": rng.uniform(0.1, 0.9, n),
                       "gs_cann_share": rng.uniform(0, 1, n)})
    fig = plots.make_phase_diagram(df, "kappa", "bass_q", "gs_cann_share")
    ax = fig.axes[0]
    assert len(ax.get_xticklabels()) <= 6 and len(ax.get_yticklabels()) <= 6
    assert sum(int(re.search(r"n=(\d+)", t.get_text()).group(1)) for t in ax.texts) == n


def test_sensitivity_and_box_figures(tmp_path):
    si = pd.DataFrame({"parameter": ["a", "a", "b", "b"], "index": ["S1", "ST", "S1", "ST"],
                       "value": [0.1, 0.15, 0.6, 0.7], "conf": [0.01, 0.02, 0.05, np.nan]})
    fig = plots.make_sensitivity(si)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "a"]  # most influential on top
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["S1", "ST"]
    assert "sensitivity index" in ax.get_xlabel()
    _png_ok(plots.fig_sensitivity(si, tmp_path / "s.png"))
    box = pd.DataFrame({"parameter": ["kappa", "bass_q"], "low": [1.5, np.nan],
                        "high": [2.0, np.nan],
                        "full_low": [0.5, 0.1], "full_high": [2.0, 0.9]})
    fig = plots.make_discovery_box(box, coverage=0.8, density=0.6)
    ax = fig.axes[0]
    assert "coverage 80%" in ax.get_title() and "density 60%" in ax.get_title()
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert "not restricted" in ticks[1] and "not restricted" not in ticks[0]
    widths = [p.get_width() for p in ax.patches][2:]  # after the two full-range bars
    assert widths == pytest.approx([1 / 3, 1.0])
    _png_ok(plots.fig_discovery_box(box, tmp_path / "x.png"))


def test_write_index_relative_links(tmp_path):
    a = tmp_path / "f" / "one.png"
    a.parent.mkdir()
    a.write_bytes(b"x")
    idx = plots.write_index(tmp_path / "f", [(a, "first <figure> & more")], "T")
    page = idx.read_text()
    assert 'src="one.png"' in page and "first &lt;figure&gt; &amp; more" in page
    assert "http" not in page


# --------------------------------------------------------------------------- folders and CLI


def test_load_folder_layouts(runs_dir, sweep_dir):
    ft = plots.load_folder(runs_dir)
    assert ft.kind == "runs" and ft.n_runs == 2 and ft.scenarios == ["baseline"]
    one = plots.load_folder(runs_dir / "seed1")
    assert one.kind == "run" and one.n_runs == 1
    assert plots.load_folder(sweep_dir).extras == [sweep_dir / "sobol.csv"]


def _linked(index: Path) -> set[str]:
    return set(re.findall(r'<img src="([^"]+)"', index.read_text()))


def test_cli_plot_run_folder(runs_dir, tmp_path, capsys):
    out = tmp_path / "figs"
    argv = ["plot", str(runs_dir), "--out", str(out), "--workloads", "deepseek-r1-decode"]
    assert main(argv) == 0
    index = out / "index.html"
    assert str(index) in capsys.readouterr().out
    pngs = {p.name for p in out.glob("*.png")}
    assert pngs == _linked(index)
    assert {"adoption_shares.png", "installed_compute.png", "bifurcation.png", "china_shares.png",
            "gs_countries.png", "offerings_deepseek-r1-decode.png"} == pngs
    for p in out.glob("*.png"):
        _png_ok(p)


def test_cli_plot_sweep_folder(sweep_dir):
    assert main(["plot", str(sweep_dir), "--workloads", "none"]) == 0
    out = sweep_dir / "figures"
    pngs = {p.name for p in out.glob("*.png")}
    assert pngs == _linked(out / "index.html")
    assert {"phase_bifurcation_index.png", "sensitivity_sobol.png", "adoption_shares.png"} <= pngs


def test_cli_plot_refuses_empty_or_bad_input(tmp_path, runs_dir, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["plot", str(empty)]) == 2
    assert "no tables found" in capsys.readouterr().err
    assert not (empty / "figures").exists()
    assert main(["plot", str(runs_dir), "--out", str(tmp_path / "o"), "--workloads", "nope"]) == 2
    assert "unknown workload 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_plot_reports_progress_when_not_on_a_terminal(runs_dir, tmp_path, capsys):
    from experiments.cli import main

    assert main(["plot", str(runs_dir), "--workloads", "none", "--out", str(tmp_path / "f")]) == 0
    err = capsys.readouterr().err  # not a terminal: plain status lines, the last one at the end
    n = len(list((tmp_path / "f").glob("*.png")))
    assert f"{n}/{n} figures (" in err and "ETA" in err, err
