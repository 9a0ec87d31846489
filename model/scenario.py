"""Scenarios: TOML files of parameter overrides plus dated policy events (read, never executed).

A scenario may ``extends`` another (the shipped counterfactuals extend ``baseline``): its
parameters overlay the parent's, its events are appended, and ``drop_events`` removes parent
events by kind (e.g. a no-controls world drops every ``us_rule``). Everything is validated
before a run starts; errors name the file, the key, the value and what was expected.
"""

from __future__ import annotations

import copy
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.errors import ScenarioError, did_you_mean
from model.months import month_index, month_label  # noqa: F401 (re-exported: the scenario's dates)
from model.params import PARAMETERS, check_value

SCENARIO_DIR = Path(__file__).parent / "scenarios"

# kind -> {field: (type(s), description)}; "note" and "date" are always allowed.
_NUM = (int, float)
EVENT_FIELDS: dict[str, dict[str, tuple[tuple[type, ...], str]]] = {
    "us_rule": {
        "tpp": (_NUM, "TPP threshold (number > 0)"),
        "io_gb_s": (_NUM, "chip-to-chip I/O threshold in GB/s (number > 0)"),
        "tpp_pd": (_NUM, "TPP threshold of the density test (number > 0)"),
        "density": (_NUM, "performance-density threshold (number > 0)"),
        "grey_tpp": (_NUM, "TPP of the licence-notification grey zone (number > 0)"),
        "grey_density": (_NUM, "density of the grey zone (number > 0)"),
        "tiers": ((list,), "list of destination tiers, each 1, 2 or 3"),
        "hbm_to_china": ((bool,), "true or false"),
    },
    "us_level": {"level": (_NUM, "a number in [0, 1]")},
    "us_licence": {
        "match": ((list,), "list of chip ids or 'compliance'"),
        "regions": ((list,), "list of region ids"),
        "levy": (_NUM, "a share of revenue in [0, 1]"),
        "approval": (_NUM, "a probability in [0, 1]"),
        "delay_months": ((int,), "a whole number of months >= 0"),
    },
    "us_revoke_licence": {"match": ((list,), "list of chip ids or 'compliance'")},
    "us_tier_caps": {"tier2_h100e_per_year": (_NUM, "H100e per country per year (number >= 0)"),
                     "remove": ((bool,), "true to lift all caps")},
    "us_guidance": {"cann_penalty": (_NUM, "a utility penalty in [0, 10]")},
    "cn_ban": {"chips": ((list,), "list of chip ids or 'compliance'")},
    "cn_unban": {"chips": ((list,), "list of chip ids or 'compliance'")},
    "cn_mandate": {"share": (_NUM, "a share in [0, 1]")},
    "cn_subsidy": {"share": (_NUM, "a share in [0, 1]")},
    "rare_earth": {"level": (_NUM, "a level in [0, 1]")},
    "antitrust": {"fine": (_NUM, "a share in [0, 1]")},
    "set": {"parameters": ((dict,), "a table of parameter = value")},
    "foundry_disruption": {
        "site": ((str,), "a site id of model/data/foundry_sites.csv or 'taiwan' (every Taiwan site)"),
        "depth": (_NUM, "a share of the site's output lost, in [0, 1]"),
        "months": ((int,), "a whole number of months >= 0 at full depth"),
        "recovery_months": ((int,), "a whole number of months >= 0 of linear recovery"),
    },
}
_REQUIRED = {
    "us_rule": (), "us_level": ("level",), "us_licence": ("match", "regions"),
    "us_revoke_licence": ("match",), "us_tier_caps": (), "us_guidance": ("cann_penalty",),
    "cn_ban": ("chips",), "cn_unban": ("chips",), "cn_mandate": ("share",), "cn_subsidy": ("share",),
    "rare_earth": ("level",), "antitrust": ("fine",), "set": ("parameters",),
    "foundry_disruption": ("site", "depth", "months"),
}
CHIP_GROUPS = ("compliance", "us_all")
_UNIT_RANGE = {"level", "levy", "approval", "share", "fine", "depth"}
_TOP_KEYS = {"name", "description", "extends", "parameters", "events", "drop_events"}


@dataclass(frozen=True)
class Event:
    month: int  # months since 2000-01 (absolute month index)
    date: str  # YYYY-MM as written (day dropped)
    kind: str
    fields: dict[str, Any]
    origin: str  # "file, events[i]"


@dataclass
class Scenario:
    name: str
    path: Path | None
    description: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    #: parameter name -> where its value was set ("file, parameters.key")
    sources: dict[str, str] = field(default_factory=dict)


def available_scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def resolve(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        if not p.is_file():
            raise ScenarioError(f"scenario file {p}: not found")
        return p
    cand = SCENARIO_DIR / f"{name_or_path}.toml"
    if not cand.is_file():
        raise ScenarioError(
            f"scenario {str(name_or_path)!r}: unknown{did_you_mean(str(name_or_path), available_scenarios())}; "
            f"expected one of {', '.join(available_scenarios())} "
            "or a path to a .toml file"
        )
    return cand


def load_scenario(name_or_path: str | Path, *, known_chips: set[str] | None = None,
                  known_regions: set[str] | None = None, _seen: tuple[Path, ...] = ()) -> Scenario:
    """Read and validate a scenario (following ``extends``). Raises ScenarioError."""
    path = resolve(name_or_path).resolve()
    if path in _seen:
        raise ScenarioError(f"{path.name}: 'extends' forms a cycle through {', '.join(p.name for p in _seen)}")
    data = _read_toml(path)
    fname = path.name
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ScenarioError(f"{fname}: unknown key {sorted(unknown)[0]!r}; "
                            f"expected one of {', '.join(sorted(_TOP_KEYS))}")
    if "extends" in data:
        if not isinstance(data["extends"], str):
            raise ScenarioError(f"{fname}: extends = {data['extends']!r}: expected a scenario name")
        base = load_scenario(data["extends"], known_chips=known_chips, known_regions=known_regions,
                             _seen=_seen + (path,))
    else:
        base = Scenario(name="", path=None)
    params = dict(base.params)
    sources = dict(base.sources)
    raw_params = data.get("parameters", {})
    if not isinstance(raw_params, dict):
        raise ScenarioError(f"{fname}: [parameters] must be a table of name = value")
    for key, value in raw_params.items():
        params[key] = check_value(key, value, f"{fname}, parameters.{key}")
        sources[key] = f"{fname}, parameters.{key}"
    drop = data.get("drop_events", [])
    if not isinstance(drop, list) or any(k not in EVENT_FIELDS for k in drop):
        raise ScenarioError(f"{fname}: drop_events = {drop!r}: expected a list of event kinds "
                            f"({', '.join(EVENT_FIELDS)})")
    events = [e for e in base.events if e.kind not in drop]
    raw_events = data.get("events", [])
    if not isinstance(raw_events, list):
        raise ScenarioError(f"{fname}: events must be an array of tables ([[events]])")
    for i, ev in enumerate(raw_events):
        events.append(_check_event(ev, f"{fname}, events[{i}]", known_chips, known_regions))
    events.sort(key=lambda e: e.month)  # stable: file order within a month
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name.strip():
        raise ScenarioError(f"{fname}: name = {name!r}: expected a non-empty string")
    return Scenario(name=name, path=path, description=str(data.get("description", base.description)),
                    params=params, events=events, sources=sources)


#: per-process memo of parsed scenario files, keyed on their text (every model set-up reads one
#: or two); each call gets its own deep copy, a file that fails to parse is never kept
_TOML_MEMO: dict[str, dict[str, Any]] = {}


def _read_toml(path: Path) -> dict[str, Any]:
    """A scenario file's TOML table; ScenarioError for unreadable, non-UTF-8 or invalid files."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position "
                            f"{exc.start}); expected a TOML file saved as UTF-8") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the scenario file ({exc.strerror})") from None
    if text not in _TOML_MEMO:
        try:
            parsed = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"{path.name}: not valid TOML: {exc}") from None
        if len(_TOML_MEMO) > 256:
            _TOML_MEMO.clear()
        _TOML_MEMO[text] = parsed
    return copy.deepcopy(_TOML_MEMO[text])


_THRESHOLDS = ("tpp", "io_gb_s", "tpp_pd", "density", "grey_tpp", "grey_density")


def _check_event(ev: Any, origin: str, known_chips: set[str] | None,
                 known_regions: set[str] | None) -> Event:
    if not isinstance(ev, dict):
        raise ScenarioError(f"{origin}: expected a table with date and kind")
    kind = ev.get("kind")
    if kind not in EVENT_FIELDS:
        raise ScenarioError(f"{origin}: kind = {kind!r}: expected one of {', '.join(EVENT_FIELDS)}")
    if "date" not in ev:
        raise ScenarioError(f"{origin}: missing key 'date' (expected YYYY-MM)")
    month = month_index(ev["date"], f"{origin}, date")
    spec = EVENT_FIELDS[kind]
    fields = {key: _check_field(kind, key, value, origin) for key, value in ev.items()
              if key not in ("date", "kind", "note")}
    for key in _REQUIRED[kind]:
        if key not in fields:
            raise ScenarioError(f"{origin}: missing key {key!r} for kind {kind!r} ({spec[key][1]})")
    _check_lists(fields, origin, known_chips, known_regions)
    if kind == "set":
        fields["parameters"] = {k: check_value(k, v, f"{origin}, parameters.{k}")
                                for k, v in fields["parameters"].items()}
        from model.components import startup_params  # lazy: the components read scenarios

        fixed = sorted(set(fields["parameters"]) & startup_params())
        if fixed:
            raise ScenarioError(f"{origin}, parameters: {', '.join(fixed)} cannot change mid-run (read once, at "
                                "set-up); set them in [parameters] or with --set instead")
    date = month_label(month)
    return Event(month=month, date=date, kind=kind, fields=fields, origin=origin)


def _check_field(kind: str, key: str, value: Any, origin: str) -> Any:
    """One event field: a known key of the right type; numbers finite and in their range."""
    spec = EVENT_FIELDS[kind]
    if key not in spec:
        raise ScenarioError(f"{origin}: unknown key {key!r} for kind {kind!r}; expected "
                            f"{', '.join(spec) or 'no other keys'}")
    types, expected = spec[key]
    if isinstance(value, bool) and bool not in types or not isinstance(value, types):
        raise ScenarioError(f"{origin}, {key} = {value!r}: expected {expected}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        lo, hi = (0.0, 1.0) if key in _UNIT_RANGE else (0.0, 10.0) if key == "cann_penalty" else (0.0, None)
        if not math.isfinite(value) or value < lo or (hi is not None and value > hi) or (
            key in _THRESHOLDS and value <= 0
        ):
            raise ScenarioError(f"{origin}, {key} = {value!r}: expected {expected} (finite)")
    return value


def _check_lists(fields: dict[str, Any], origin: str, known_chips: set[str] | None,
                 known_regions: set[str] | None) -> None:
    """Tiers are 1-3; chip ids and region ids are known ones."""
    if "tiers" in fields and (not fields["tiers"] or any(t not in (1, 2, 3) for t in fields["tiers"])):
        raise ScenarioError(f"{origin}, tiers = {fields['tiers']!r}: expected a list of tiers 1, 2 or 3")
    for key in ("match", "chips"):
        for chip in fields.get(key, ()):
            if not isinstance(chip, str) or (known_chips is not None and chip not in CHIP_GROUPS
                                             and chip not in known_chips):
                raise ScenarioError(f"{origin}, {key}: unknown chip {chip!r}; expected a chip id from "
                                    "model/data/chips.csv (see `chipwar catalog list`), 'compliance' "
                                    "(US compliance variants) or 'us_all' (every US-vendor chip)")
    if "site" in fields:
        from model.foundry import ALL_TAIWAN, load_sites

        sites = list(load_sites().index)
        if fields["site"] not in sites and fields["site"] != ALL_TAIWAN:
            raise ScenarioError(f"{origin}, site = {fields['site']!r}: unknown site; expected one of "
                                f"{', '.join(sites)} or {ALL_TAIWAN!r} (every Taiwan site)")
    for reg in fields.get("regions", ()):
        if not isinstance(reg, str) or (known_regions is not None and reg not in known_regions):
            raise ScenarioError(f"{origin}, regions: unknown region {reg!r}; expected one of "
                                f"{', '.join(sorted(known_regions or []))}")


def parse_overrides(pairs: list[str], origin: str = "--set") -> dict[str, Any]:
    """Parse ``key=value`` strings (CLI ``--set``) into validated parameters."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ScenarioError(f"{origin} {pair!r}: expected key=value")
        key, value = pair.split("=", 1)
        out[key.strip()] = check_value(key.strip(), value.strip(), f"{origin} {key.strip()}")
    return out


def check_params(params: dict[str, Any], origin: str) -> dict[str, Any]:
    return {k: check_value(k, v, f"{origin}, {k}") for k, v in params.items()}


__all__ = ["Event", "Scenario", "load_scenario", "month_index", "month_label", "parse_overrides",
           "available_scenarios", "PARAMETERS", "check_params"]
