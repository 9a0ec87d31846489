"""The live dashboard: a Solara page over the same ChipMarketModel the runs use, served by
``chipwar dashboard``. The sidebar holds the scenario, the levers (each with its value), the seed
and the buttons; tabs show *This run* (tiles, levers in force, stack shares by bloc, bifurcation,
China's domestic share, the month's prices, CSV and PNG downloads), *Seeds* (a band over seeds)
and *Compare* (two scenarios side by side).

How it runs (``experiments/dashboard_runs.py``): Reset steps a model with the sidebar's settings to
its end in a background thread (about a second); Step and Play move one cursor over the recorded
months, so every view shows the same month. Settings apply on Reset (the lever table says which are
waiting); errors are shown on the page, never as a traceback.
"""

from __future__ import annotations

import inspect
import threading
import time
from typing import Any

import solara
import solara.lab

from experiments.dashboard_runs import (
    DISRUPTION_START,
    LEVERS,
    Comparison,
    RecordedRun,
    SeedBand,
    dashboard_scenarios,
    disruption_start_choices,
    reaction_start_choices,
    scenario_settings,
    stack_shares_by_bloc,
)
from experiments.dashboard_views import (
    BIFURCATION_LINES,
    CHINA_LINES,
    band_figure,
    compare_figure,
    csv_bytes,
    end_tiles_html,
    metric_figure,
    png_bytes,
    price_html,
    stack_share_figure,
    status_html,
)
from model.params import PARAMETERS

__all__ = ["LEVERS", "Page", "RecordedRun", "SeedBand", "Comparison", "State", "dashboard_scenarios",
           "reaction_start_choices", "stack_share_figure", "stack_shares_by_bloc", "status_html", "price_html"]

TITLE = "chipwar — AI-accelerator market"
PLAY_SPEED_DEFAULT = 84  # months per second: 2022-01 to 2035-12 in 2 s once computed
SEEDS_DEFAULT = 10


class State:
    """One browser session's state: the sidebar's settings, the run shown and the cursor."""

    def __init__(self, scenario: str = "baseline", seed: int = 0) -> None:
        self.scenario = solara.reactive(scenario)  # the sidebar (applied on Reset)
        self.settings = solara.reactive(scenario_settings(scenario))
        self.seed = solara.reactive(int(seed))
        self.run = solara.reactive(RecordedRun(scenario, None, seed))  # the run shown
        self.months = solara.reactive(0)  # months shown: the cursor over the recorded run
        self.playing = solara.reactive(False)
        self._guards: dict[tuple[str, Any], Any] = {}
        self.speed = solara.reactive(PLAY_SPEED_DEFAULT)
        self.message = solara.reactive(None)
        self.tick = solara.reactive(0)  # bumped while background runs progress
        self.band = solara.reactive(None)
        self.band_n = solara.reactive(SEEDS_DEFAULT)
        self.cmp = solara.reactive(None)
        self.frame_drawn = threading.Event()  # set when the plots have drawn the month shown
        scen = dashboard_scenarios()
        self.cmp_a = solara.reactive("baseline" if "baseline" in scen else scen[0])
        self.cmp_b = solara.reactive("h200_opening" if "h200_opening" in scen else scen[-1])

    # ------------------------------------------------------------ actions (every one guarded)
    def guarded(self, what: str, fn):
        """fn, what it raises shown on the page; one wrapper per method (re-bound handlers lose clicks)."""
        key = (what, fn) if inspect.ismethod(fn) else None
        if key in self._guards:
            return self._guards[key]

        def call(*args: Any) -> None:
            try:
                self.message.set(None)
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - the page shows it and stays up
                self.playing.set(False)
                self.message.set(f"{what}: {type(exc).__name__}: {exc}")
        return self._guards.setdefault(key, call) if key is not None else call

    def pick_scenario(self, name: str) -> None:
        self.scenario.set(name)
        self.settings.set(scenario_settings(name))

    def set_setting(self, name: str, value: Any) -> None:
        self.settings.set({**self.settings.value, name: value})

    def reset(self) -> None:
        new = RecordedRun(self.scenario.value, self.settings.value, self.seed.value)
        self.run.value.stop()
        self.playing.set(False)
        self.months.set(0)
        self.run.set(new)

    def _ready_run(self) -> RecordedRun:
        r = self.run.value
        if not r.done.wait(60):
            raise TimeoutError("the run is still computing after 60 s")
        if r.error:
            raise RuntimeError(r.error)
        return r

    def step(self) -> None:
        self.months.set(min(self.months.value + 1, self._ready_run().months))

    def to_end(self) -> None:
        self.playing.set(False)
        self.months.set(self._ready_run().months)

    def play(self) -> None:  # Play and Pause are two buttons, never one that toggles: a second
        self.playing.set(True)  # click, or one queued while the page redraws, changes nothing

    def pause(self) -> None:
        self.playing.set(False)

    def run_seeds(self) -> None:
        r = self.run.value
        if self.band.value is not None:
            self.band.value.stop()
        self.band.set(SeedBand(r.scenario, r.settings, r.seed, self.band_n.value))

    def compare(self) -> None:
        if self.cmp.value is not None:
            self.cmp.value.stop()
        self.cmp.set(Comparison(self.cmp_a.value, self.cmp_b.value, self.seed.value))

    # ------------------------------------------------------------ background loops
    def play_loop(self) -> None:
        """While playing: move the cursor at ``speed`` months per second, rendering as it goes;
        stop at the run's last month."""
        if not self.playing.value:
            return
        try:
            r = self._ready_run()
        except Exception as exc:  # noqa: BLE001
            self.playing.set(False)
            self.message.set(f"Play: {exc}")
            return
        if self.months.value >= r.months:
            self.months.set(0)  # Play at the end starts again from the beginning
        pos, last = self.months.value + 1.0, time.monotonic()  # the first month at once
        while self.playing.value and self.run.value is r:
            m = min(r.months, int(pos))
            idle = 0.02
            if m != self.months.value:
                self.frame_drawn.clear()
                t0 = time.monotonic()
                self.months.set(m)
                # pace Play to the page: a month is shown only once the previous frame is drawn
                # (else renders queue up and the page lags the cursor), then the page gets half a
                # frame's time to itself (a click on Pause waits for no more); the clock keeps the pace
                self.frame_drawn.wait(1.0)
                idle = max(idle, 0.5 * (time.monotonic() - t0))
            if m >= r.months:
                self.playing.set(False)
                break
            time.sleep(idle)
            now = time.monotonic()
            pos, last = pos + (now - last) * self.speed.value, now

    def poll_loop(self) -> None:
        """While any background run computes, bump ``tick`` a few times a second."""
        while True:
            jobs = [self.run.value, self.band.value, self.cmp.value]
            busy = [j for j in jobs if j is not None and not _done(j)]
            self.tick.set(self.tick.value + 1)
            if not busy:
                return
            time.sleep(0.25)


def _done(job: Any) -> bool:
    d = job.done
    return d if isinstance(d, bool) else d.is_set()


# ---------------------------------------------------------------- components
@solara.component
def Background(st: State) -> None:
    """The play and poll loops as Solara tasks (restarted when the run or play state changes)."""
    solara.lab.use_task(st.play_loop, dependencies=[st.playing.value, st.run.value], raise_error=False)
    solara.lab.use_task(st.poll_loop, dependencies=[st.run.value, st.band.value, st.cmp.value], raise_error=False)


@solara.component
def Controls(st: State) -> None:
    """The sidebar: scenario, levers (values shown), seed, play speed and the buttons."""
    s = st.settings.value
    solara.Select("Scenario", value=st.scenario.value, values=dashboard_scenarios(),
                  on_value=st.guarded("Scenario", st.pick_scenario))
    for name, label, step in LEVERS:
        p = PARAMETERS[name]
        solara.SliderFloat(f"{label}: {float(s[name]):.2f}", value=float(s[name]), min=float(p.low),
                           max=float(p.high), step=step,
                           on_value=st.guarded(label, lambda v, n=name: st.set_setting(n, v)))
    p = PARAMETERS
    solara.Select(f"Taiwan disruption from ({p['taiwan_disruption_months'].default} months, "
                  f"{p['taiwan_disruption_recovery_months'].default} to recover)",
                  value=str(s[DISRUPTION_START]), values=disruption_start_choices(),
                  on_value=st.guarded("Taiwan disruption from", lambda v: st.set_setting(DISRUPTION_START, v)))
    solara.Select("Levers act from", value=str(s["reaction_start"]), values=reaction_start_choices(),
                  on_value=st.guarded("Levers act from", lambda v: st.set_setting("reaction_start", v)))
    solara.SliderInt(f"Random seed: {st.seed.value}", value=st.seed.value, min=0, max=99,
                     on_value=st.guarded("Random seed", st.seed.set))
    playing, months, run = st.playing.value, st.months.value, st.run.value
    st.tick.value  # noqa: B018 - re-render when the run finishes
    stuck = playing or bool(run.error)  # Step and End also wait while the cursor is at the end
    at_end = stuck or (run.ready and months >= run.months)
    with solara.Row(justify="space-between"):
        solara.Button("Reset", color="primary", on_click=st.guarded("Reset", st.reset))
        solara.Button("▶ Play", color="primary", on_click=st.guarded("Play", st.play), disabled=stuck)
        solara.Button("❚❚ Pause", color="primary", on_click=st.guarded("Pause", st.pause), disabled=not playing)
        solara.Button("Step", color="primary", on_click=st.guarded("Step", st.step), disabled=at_end)
        solara.Button("End", color="primary", on_click=st.guarded("End", st.to_end), disabled=at_end)
    solara.SliderInt(f"Play speed: {st.speed.value} months per second", value=st.speed.value, min=6, max=168,
                     step=6, on_value=st.speed.set)
    solara.Text("Scenario, levers and seed apply on Reset. Step moves one month; End jumps to the "
                "last month.", style="font-size:12px;color:#555")
    if st.message.value:
        solara.Error(st.message.value)
    elif run.error:
        solara.Error(run.error)


@solara.component
def StatusCard(st: State) -> None:
    """Month shown, headline tiles, and the levers in force and waiting for Reset."""
    st.tick.value  # noqa: B018
    html = status_html(st.run.value, st.months.value, st.settings.value, st.scenario.value)
    solara.HTML(tag="div", unsafe_innerHTML=html)


def _figure(fig_fn, deps: list, name: str) -> None:
    """A figure rendered (memoised on deps) with a PNG download, or the error that stopped it."""
    try:
        fig = fig_fn()
    except Exception as exc:  # noqa: BLE001 - shown, never a traceback
        solara.Error(f"{name}: {type(exc).__name__}: {exc}")
        return
    solara.FigureMatplotlib(fig, dependencies=deps, format="png", dpi=90)


def _png_or_error(fig_fn) -> bytes | str:
    try:
        return png_bytes(fig_fn(), tight=False)
    except Exception as exc:  # noqa: BLE001 - shown, never a traceback
        return f"{type(exc).__name__}: {exc}"


@solara.component
def RunPlots(st: State) -> None:
    """Stack shares, bifurcation and China's domestic share up to the month shown."""
    st.tick.value  # noqa: B018
    r, m = st.run.value, st.months.value
    deps = [id(r), m, r.ready]
    pngs = [solara.use_memo(lambda: _png_or_error(lambda: stack_share_figure(r, m)), deps),
            solara.use_memo(lambda: _png_or_error(lambda: metric_figure(r, m, BIFURCATION_LINES, "Bifurcation")), deps),
            solara.use_memo(lambda: _png_or_error(lambda: metric_figure(r, m, CHINA_LINES, "China")), deps)]
    with solara.Column(classes=["chipwar-plots"]):
        for name, png in zip(("stack shares", "bifurcation", "China"), pngs, strict=True):
            if isinstance(png, bytes):
                solara.Image(png, format="png")
            else:
                solara.Error(f"{name}: {png}")
    st.frame_drawn.set()


@solara.component
def PriceTable(st: State) -> None:
    st.tick.value  # noqa: B018
    solara.HTML(tag="div", unsafe_innerHTML=price_html(st.run.value, st.months.value),
                style="overflow:auto;max-height:520px;padding-right:4px")


@solara.component
def Downloads(st: State) -> None:
    """The tables up to the month shown as CSV, and the three plots as PNG."""
    st.tick.value  # noqa: B018
    r, m = st.run.value, st.months.value
    if not r.ready:
        solara.Text("Downloads appear when the run is computed.")
        return
    stem = f"chipwar-{r.scenario}-seed{r.seed}-to-{r.month_label(m) if m else 'start'}"
    with solara.Row(style="flex-wrap:wrap"):
        for name in ("model", "adoption", "vendors"):
            solara.FileDownload(lambda name=name: csv_bytes(r.shown(m)[name]), filename=f"{stem}-{name}.csv",
                                label=f"{name} table (CSV)", mime_type="text/csv")
        figs = {"stack-shares": lambda: stack_share_figure(r, m),
                "bifurcation": lambda: metric_figure(r, m, BIFURCATION_LINES, "Bifurcation"),
                "china": lambda: metric_figure(r, m, CHINA_LINES, "China")}
        for name, fn in figs.items():
            solara.FileDownload(lambda fn=fn: png_bytes(fn()), filename=f"{stem}-{name}.png",
                                label=f"{name} plot (PNG)", mime_type="image/png")


@solara.component
def RunView(st: State) -> None:
    with solara.Columns([5, 6]):
        with solara.Column():
            StatusCard(st)
            PriceTable(st)
        with solara.Column():
            RunPlots(st)
            Downloads(st)


@solara.component
def SeedsView(st: State) -> None:
    """Several seeds of the run shown (its settings), median and 10-90 % band."""
    st.tick.value  # noqa: B018
    band, r = st.band.value, st.run.value
    with solara.Row():
        solara.SliderInt(f"Seeds: {st.band_n.value}", value=st.band_n.value, min=2, max=30, on_value=st.band_n.set)
        solara.Button(f"Run {st.band_n.value} seeds", color="primary", on_click=st.guarded("Seeds", st.run_seeds))
    solara.Text(f"Runs the settings of the run shown ({r.scenario}, seeds {r.seed} to {r.seed + st.band_n.value - 1}) "
                "one after another in the background; the band fills in as they finish.",
                style="font-size:12px;color:#555")
    if band is None:
        return
    if band.error:
        solara.Error(band.error)
    k = len(band.model_tables)
    state = "done" if band.done.is_set() else "running"
    solara.HTML(tag="div", unsafe_innerHTML=f"<span id='chipwar-seeds-state'>{k} of {band.n} seeds {state}"
                + (f" in {band.seconds:.1f} s" if band.done.is_set() else "") + "</span>")
    _figure(lambda: band_figure(band, r.start_month, r.end_month), [id(band), k], "seed band")
    if k:
        solara.FileDownload(lambda: csv_bytes(band.combined()), filename=f"chipwar-{band.scenario}-seeds-model.csv",
                            label="model tables of all seeds (CSV)", mime_type="text/csv")
        solara.FileDownload(lambda: png_bytes(band_figure(band, r.start_month, r.end_month)),
                            filename=f"chipwar-{band.scenario}-seeds.png", label="band plot (PNG)",
                            mime_type="image/png")


@solara.component
def CompareView(st: State) -> None:
    """Two scenarios side by side, each as its file sets it, with the sidebar's seed."""
    st.tick.value  # noqa: B018
    scen = dashboard_scenarios()
    with solara.Row():
        solara.Select("Scenario A", value=st.cmp_a.value, values=scen, on_value=st.cmp_a.set)
        solara.Select("Scenario B", value=st.cmp_b.value, values=scen, on_value=st.cmp_b.set)
        solara.Button("Compare", color="primary", on_click=st.guarded("Compare", st.compare))
    solara.Text("Each scenario runs as its file sets it (the sidebar's levers are not applied), with the "
                f"sidebar's seed ({st.seed.value}), to its last month.", style="font-size:12px;color:#555")
    cmp = st.cmp.value
    if cmp is None:
        return
    if cmp.error:
        solara.Error(cmp.error)
    with solara.Columns([1, 1]):
        for run in cmp.runs:
            with solara.Column():
                solara.HTML(tag="div", unsafe_innerHTML=end_tiles_html(run))
                _figure(lambda run=run: stack_share_figure(run, run.months), [id(run), run.ready], run.scenario)
    if cmp.done and not cmp.error:
        _figure(lambda: compare_figure(cmp), [id(cmp)], "comparison")
        solara.FileDownload(lambda: png_bytes(compare_figure(cmp)), label="comparison plot (PNG)",
                            filename=f"chipwar-compare-{cmp.runs[0].scenario}-{cmp.runs[1].scenario}.png",
                            mime_type="image/png")


@solara.component
def Page() -> None:
    """The page: one State per browser session."""
    st = solara.use_memo(State, dependencies=[])
    solara.Title(TITLE)
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    with solara.Sidebar():
        with solara.Card("Settings"):
            Controls(st)
    Background(st)
    with solara.lab.Tabs(lazy=True):
        with solara.lab.Tab("This run"):
            RunView(st)
        with solara.lab.Tab("Seeds"):
            SeedsView(st)
        with solara.lab.Tab("Compare"):
            CompareView(st)

