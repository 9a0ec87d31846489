"""Checks of a run's inputs before anything runs (issue 17): pure functions, no model built.

Every input that reaches the model - CLI flags, ``--set``, scenario keys and events - is checked
here as a whole, after the scenario is merged with its overrides, so that a run which could
never give a meaningful table is refused before it computes. A refusal raises ScenarioError or
InputError naming where the value was set (file and key, or the flag), the value and what was
expected; ``check_run_inputs`` returns the warnings that do not stop a run (one line each).

- dates are real months (``2022-02-30`` is refused by ``month_index``);
- ``start`` lies in the history the data cover (the first to the last year of
  ``model/data/demand.csv``, 2022-01 to 2035-12) and ``end`` is not before it;
- events dated before the start are refused (they would never fire); events after the end are
  named in one warning line (a run cut short with ``--end`` is normal); duplicate events are
  refused; a ``set`` event may not change a set-up parameter (``start``, ``end``, ...);
- at least one ``mix_*`` weight is positive (all zero makes every table NaN);
- seeds are integers in [0, 2^63); the memory a run needs is estimated from its population and
  horizon (:func:`estimate_run_memory`) and refused above a limit (:func:`check_memory`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from typing import Any

from model.errors import InputError, ScenarioError
from model.months import month_index, month_label
from model.params import PARAMETERS, defaults
from model.scenario import Event

SEED_MAX = 2**63  # seeds are stored as int64 in the tables
MIX_WEIGHTS = ("mix_train_dense", "mix_train_moe", "mix_prefill", "mix_decode")


def check_seed(seed: Any, origin: str = "--seed") -> int:
    """A seed as an int in [0, 2^63), or InputError naming ``origin``."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < SEED_MAX:
        raise InputError(f"{origin} {seed!r}: expected an integer in [0, 2**63) "
                         f"(0 to {SEED_MAX - 1})")
    return int(seed)


def history_bounds() -> tuple[str, str]:
    """First and last month a run may start in: the years of the packaged demand table."""
    from model.population import load_demand

    years = load_demand().index
    return f"{int(years.min()):04d}-01", f"{int(years.max()):04d}-12"


def date_parameters() -> list[str]:
    """Names of the registry's date parameters (YYYY-MM strings)."""
    defaults()  # load every registry
    return [name for name, prm in PARAMETERS.items()
            if prm.kind is str and isinstance(prm.default, str) and prm.default[:2] in ("19", "20")]


def _where(sources: Mapping[str, str] | None, origin: str, key: str) -> str:
    return (sources or {}).get(key) or f"{origin}: default {key}"


def check_run_inputs(params: Mapping[str, Any], events: Iterable[Event], origin: str = "run",
                     sources: Mapping[str, str] | None = None) -> list[str]:
    """Check a run's merged parameters and its events; return warnings, raise on a refusal.

    ``params``: every model parameter (defaults, then the scenario's, then overrides);
    ``sources``: where each non-default value was set (``"baseline.toml, parameters.end"``,
    ``"--end"``); other keys are named ``"<origin>, <key>"``.
    """
    for name in date_parameters():
        if name in params:
            month_index(params[name], f"{_where(sources, origin, name)} = {params[name]!r}")
    start, end = month_index(params["start"]), month_index(params["end"])
    first, last = history_bounds()
    if not month_index(first) <= start <= month_index(last):
        raise ScenarioError(f"{_where(sources, origin, 'start')}: start = {params['start']!r}: expected a "
                            f"month from {first} (the first month of the catalog's and demand data's "
                            f"history) to {last}")
    if end < start:
        raise ScenarioError(f"{_where(sources, origin, 'end')}: end = {params['end']!r} is before start = "
                            f"{params['start']!r} (set at {_where(sources, origin, 'start')}): expected "
                            "end >= start")
    _check_mix(params, sources, origin, "")
    return _check_events(list(events), dict(params), start, end, sources, origin)


def _check_mix(params: Mapping[str, Any], sources: Mapping[str, str] | None, origin: str,
               when: str) -> None:
    weights = {k: params.get(k, 0.0) for k in MIX_WEIGHTS}
    if not any(isinstance(w, (int, float)) and w > 0 for w in weights.values()):
        shown = ", ".join(f"{k} = {v!r}" for k, v in weights.items())
        raise ScenarioError(f"{_where(sources, origin, MIX_WEIGHTS[0])}{when}: {shown}: expected at least "
                            "one positive workload weight (all zero leaves no useful work to price)")


def _event_key(ev: Event) -> str:
    return json.dumps([ev.month, ev.kind, ev.fields], sort_keys=True, default=str)


def _check_events(events: list[Event], params: dict[str, Any], start: int, end: int,
                  sources: Mapping[str, str] | None, origin: str) -> list[str]:
    from model.components import startup_params  # lazy: the components import the scenario module

    seen: dict[str, Event] = {}
    late: list[Event] = []
    for ev in events:
        if ev.month < start:
            raise ScenarioError(f"{ev.origin}: date = {ev.date!r} is before the run's start "
                                f"{month_label(start)} ({_where(sources, origin, 'start')}): expected "
                                "an event dated within the run (it would never fire)")
        _check_event_numbers(ev)
        key = _event_key(ev)
        if key in seen:
            raise ScenarioError(f"{ev.origin}: duplicate of {seen[key].origin} ({ev.kind} on {ev.date} "
                                "with the same fields): expected each event once")
        seen[key] = ev
        if ev.month > end:
            late.append(ev)
        elif ev.kind == "set":
            moved = sorted(set(ev.fields.get("parameters", {})) & startup_params())
            if moved:  # refused when a scenario file is read; here for events built in code too
                raise ScenarioError(f"{ev.origin}, parameters: {', '.join(moved)} cannot change mid-run "
                                    "(read once, at set-up); expected them in [parameters] or --set")
            params.update(ev.fields.get("parameters", {}))
            _check_mix(params, sources, origin, f" after the set event {ev.origin}")
    if not late:
        return []
    shown = ", ".join(f"{e.date} {e.kind}" for e in late[:4]) + (", ..." if len(late) > 4 else "")
    files = sorted({e.origin.split(",")[0] for e in late})
    return [f"{len(late)} event(s) after the end {month_label(end)} will not fire: {shown} "
            f"(from {', '.join(files)})"]


def _check_event_numbers(ev: Event) -> None:
    for key, value in ev.fields.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ScenarioError(f"{ev.origin}, {key} = {value!r}: expected a finite number")


# ----------------------------------------------------------------------------- resources

#: fitted to the peak resident memory measured for 15 to 1.5 million Global-South buyers and 3 to
#: 168 months (README; tests/test_bad_inputs_resources.py re-measures two sizes): about 480 MB
#: for the interpreter, libraries and catalog - enough for the first run after installing, which
#: also compiles the kernels and numba's own caches (a 15-country run to 2023-06 peaked at 426 MB
#: with an empty kernel cache on 2026-12-01, a full run at 493 MB once issue 19's last kernels
#: were in, later runs at 286 MB, each its own VmHWM; the
#: 582-588 MB once noted here was the test suite's process, which ru_maxrss carries into a child)
#: - 0.16 MB per simulated month of tables, and per buyer 1.0 KB at set-up plus 10 bytes per month
#: as offerings multiply. With the 25 % margin the estimate is 1.4x that first run's peak and
#: 2.0-2.1x that of later runs (tests/test_bad_inputs_resources.py).
BASE_BYTES = 480e6
PER_MONTH_BYTES = 0.16e6
PER_BUYER_BYTES = 1.0e3
PER_BUYER_MONTH_BYTES = 10.0
MARGIN = 1.25


def population_size(params: Mapping[str, Any]) -> int:
    """Buyers a run creates: named hyperscalers, enterprise segments x firms, countries x firms."""
    if params.get("population") == "arthur":
        return int(params.get("arthur_arrivals", 0))
    from model.population import load_hyperscalers, load_regions

    hs = load_hyperscalers()
    n_ent = int(sum(str(h).endswith("-enterprise") for h in hs.index))
    n_gs = int((load_regions()["bloc"] == "gs").sum())
    return (len(hs) - n_ent + n_ent * int(params.get("n_firms_per_hyperscaler_region", 1))
            + n_gs * int(params.get("n_firms_per_country", 1)))


def estimate_run_memory(params: Mapping[str, Any]) -> int:
    """Peak memory (bytes) of one run, from its population and horizon, with a 25 % margin."""
    months = month_index(params["end"]) - month_index(params["start"]) + 1
    if params.get("population") == "arthur":  # one arrival a month, whatever ``end`` says
        months = int(params.get("arthur_arrivals", months))
    buyers = population_size(params)
    est = BASE_BYTES + PER_MONTH_BYTES * months + buyers * (PER_BUYER_BYTES + PER_BUYER_MONTH_BYTES * months)
    return int(est * MARGIN)


def machine_memory() -> int | None:
    """Physical memory of this machine in bytes, or None where the OS does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def default_memory_limit(share: float = 0.8) -> int | None:
    """The default limit: ``share`` of this machine's memory (None: no limit known)."""
    total = machine_memory()
    return int(total * share) if total else None


def check_memory(estimate: int, limit: int | None, flag: str = "--max-memory-gb",
                 what: str = "this run") -> None:
    """Refuse (InputError) when ``estimate`` exceeds ``limit`` bytes, naming the flag to raise it."""
    if limit is not None and estimate > limit:
        raise InputError(f"{what} needs about {estimate / 1e9:.1f} GB of memory (estimated from the "
                         f"population and horizon), above the limit of {limit / 1e9:.1f} GB; reduce "
                         f"n_firms_per_country / n_firms_per_hyperscaler_region or the horizon, or "
                         f"pass {flag} {math.ceil(estimate / 1e9)} to raise the limit")


def memory_limit_from_flag(value: float | None, flag: str = "--max-memory-gb") -> int | None:
    """``--max-memory-gb`` in bytes (None: the default share of this machine)."""
    if value is None:
        return default_memory_limit()
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"{flag} {value!r}: expected a positive number of gigabytes")
    return int(value * 1e9)


# ----------------------------------------------------------------------------- merging


def run_inputs(scenario: str, overrides: Mapping[str, Any], override_sources: Mapping[str, str] | None = None):
    """The scenario (validated), its merged parameters and where each was set, as the model
    constructor merges them: defaults, then the scenario's ``[parameters]``, then ``overrides``.

    Returns ``(spec, params, sources)``.
    """
    from model.catalog import load_catalog
    from model.population import load_regions
    from model.scenario import load_scenario

    spec = load_scenario(scenario, known_chips=set(load_catalog().chips.index),
                         known_regions=set(load_regions().index))
    params = defaults()
    params.update(spec.params)
    sources = dict(spec.sources)
    params.update(overrides)
    sources.update({k: (override_sources or {}).get(k, f"override {k}") for k in overrides})
    return spec, params, sources
