"""Design building: a validated design file (or dict) and its table of design points.

A *design* is a table of parameter sets (one row per design point) built from a grid, a Latin
hypercube, a Sobol or Morris sample (SALib) or a table file. Each point is run ``replications``
times with seeds from ``numpy.random.SeedSequence(root_seed).spawn(n_runs)``.
"""

from __future__ import annotations

import importlib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.runner.base import DEFAULT_RUN_FN, _py
from experiments.runner.points import (
    PARAMETERS_HELP,
    _check_param,
    _check_parameters,
    _read_points_table,
    _sample,
    count_points,
)
from model.errors import DesignError, ScenarioError

SAMPLERS: tuple[str, ...] = ("grid", "lhs", "sobol", "morris", "table")
DESIGN_KEYS: dict[str, str] = {
    "scenario": "a scenario name in model/scenarios/ or a path to a .toml file",
    "sampler": f"one of {', '.join(SAMPLERS)}",
    "samples": "a positive integer (lhs: points; sobol: base N, a power of 2; "
               "morris: trajectories)",
    "replications": "a positive integer",
    "root_seed": "a non-negative integer",
    "fixed": "a table of parameter = value held constant",
    "parameters": PARAMETERS_HELP,
    "table": "a path to a CSV or TOML file of design points (sampler = 'table')",
    "levels": "an integer >= 2: Morris grid levels (default 4)",
    "second_order": "true or false: Sobol second-order indices (default true)",
    "description": "free text",
}
_SAMPLER_SPAWN_KEY = (0xD351, 0)  # 2-element key: never equal to a run seed's (i,) key
_QUICK_SAMPLES = {"lhs": 4, "sobol": 2, "morris": 2}


@dataclass(frozen=True)
class Run:
    """One simulation: a design point x a replication, with its stable id and seed."""

    run_id: str
    design_index: int
    replication: int
    seed: int
    params: dict[str, Any]  # to the run function: scenario, fixed, varied, run_id, replication
    varied: dict[str, Any]  # the design row: stamped as columns on every output row


@dataclass(frozen=True)
class Design:
    """A validated design: where it came from, its settings and its table of design points."""

    source: str
    scenario: str
    sampler: str
    replications: int
    root_seed: int
    fixed: dict[str, Any]
    parameters: dict[str, list[Any]]
    points: pd.DataFrame
    samples: int | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def n_runs(self) -> int:
        return len(self.points) * self.replications

    def runs(self) -> list[Run]:
        """All runs in run_id order; seeds from SeedSequence(root_seed).spawn(n_runs)."""
        children = np.random.SeedSequence(self.root_seed).spawn(self.n_runs)
        names = list(self.points.columns)
        # fixed-width ids sort in run order as strings (wider only for huge designs)
        wi = max(5, len(str(len(self.points) - 1)))
        wr = max(3, len(str(self.replications - 1)))
        out = []
        for i, row in enumerate(self.points.itertuples(index=False, name=None)):
            varied = {n: _py(v) for n, v in zip(names, row, strict=True)}
            for r in range(self.replications):
                k = i * self.replications + r
                run_id = f"{i:0{wi}d}-{r:0{wr}d}"
                params = {"scenario": self.scenario, **self.fixed, **varied,
                          "run_id": run_id, "replication": r}
                out.append(Run(run_id=run_id, design_index=i, replication=r,
                               seed=int(children[k].generate_state(1)[0]),
                               params=params, varied=varied))
        return out

    def spec(self) -> dict[str, Any]:
        """JSON-able description (stored in the manifest; compared on resume)."""
        return {
            "source": self.source, "scenario": self.scenario, "sampler": self.sampler,
            "samples": self.samples, "replications": self.replications,
            "root_seed": self.root_seed, "fixed": self.fixed, "parameters": self.parameters,
            "options": self.options,
        }

    def table_records(self) -> list[dict[str, Any]]:
        return [{k: _py(v) for k, v in rec.items()} for rec in self.points.to_dict("records")]


def load_design(path: str | Path, *, replications: int | None = None,
                quick: bool = False, max_runs: int | None = None) -> Design:
    """Read and validate a design TOML file; raise DesignError naming file, key and value."""
    path = Path(path)
    if not path.is_file():
        raise DesignError(f"design file {path}: not found")
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DesignError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise DesignError(f"{path}: not a UTF-8 text file") from None
    return build_design(spec, origin=str(path), base_dir=path.parent,
                        replications=replications, quick=quick, max_runs=max_runs)


def build_design(spec: Mapping[str, Any], *, origin: str = "design", base_dir: Path | None = None,
                 replications: int | None = None, quick: bool = False,
                 max_runs: int | None = None) -> Design:
    """Validate a design dict (the TOML's content) and sample its design points.

    ``replications`` overrides the file's value. ``quick`` shrinks the design for a smoke
    test: one replication (unless given), at most 4 samples (sobol: 2; morris: 2
    trajectories), grid lists cut to their first and last values, tables to 4 rows.
    ``max_runs`` (default :func:`default_max_runs`, from this machine's memory) refuses a
    larger design before its points are made, with the estimate.
    """
    _populate_registry()
    base_dir = base_dir or Path.cwd()
    sampler = _check_keys(spec, origin)
    scenario = _check_scenario(spec.get("scenario", "baseline"), origin, base_dir)
    reps = _check_int(spec.get("replications", 1), origin, "replications", low=1)
    if replications is not None:
        reps = _check_int(replications, "--replications", "replications", low=1)
    elif quick:
        reps = 1
    if "root_seed" not in spec:
        raise DesignError(f"{origin}: missing key 'root_seed': expected {DESIGN_KEYS['root_seed']}")
    root_seed = _check_int(spec["root_seed"], origin, "root_seed", low=0)
    fixed = _check_fixed(spec.get("fixed", {}), origin)
    samples = _check_samples(spec, sampler, origin)
    options = _check_options(spec, sampler, origin)
    if sampler == "table":
        points, params_spec = _table_points(spec, origin, base_dir, options, quick)
    else:
        if "table" in spec:
            raise DesignError(f"{origin}: table: only used by sampler 'table'")
        params_spec = _check_parameters(spec.get("parameters"), sampler, origin)
        if quick and sampler == "grid":
            params_spec = {k: v if len(v) <= 2 else [v[0], v[-1]] for k, v in params_spec.items()}
        elif quick:
            samples = min(samples, _QUICK_SAMPLES[sampler])
        _check_size(count_points(sampler, params_spec, samples, options), reps, origin, max_runs)
        rng = np.random.default_rng(np.random.SeedSequence(root_seed, spawn_key=_SAMPLER_SPAWN_KEY))
        points = _sample(sampler, params_spec, samples, options, rng)
    if sampler == "table":
        _check_size(len(points), reps, origin, max_runs)
    overlap = sorted(set(points.columns) & set(fixed))
    if overlap:
        raise DesignError(f"{origin}: {overlap[0]!r} is both fixed and varied; keep it in one "
                          "place")
    if "scenario" in points.columns:
        raise DesignError(f"{origin}: 'scenario' cannot be varied in a design table; use one "
                          "design per scenario")
    return Design(source=origin, scenario=scenario, sampler=sampler, replications=reps,
                  root_seed=root_seed, fixed=fixed, parameters=params_spec, points=points,
                  samples=samples, options=options)


def _check_keys(spec: Mapping[str, Any], origin: str) -> str:
    """Refuse unknown top-level keys; return the sampler."""
    unknown = sorted(set(spec) - set(DESIGN_KEYS))
    if unknown:
        raise DesignError(f"{origin}: unknown key {unknown[0]!r}; expected one of "
                          f"{', '.join(DESIGN_KEYS)}")
    sampler = spec.get("sampler", "grid")
    if sampler not in SAMPLERS:
        raise DesignError(f"{origin}: sampler = {sampler!r}: expected {DESIGN_KEYS['sampler']}")
    if "description" in spec and not isinstance(spec["description"], str):
        raise DesignError(f"{origin}: description = {spec['description']!r}: expected a string")
    return sampler


def _check_samples(spec: Mapping[str, Any], sampler: str, origin: str) -> int | None:
    """``samples`` for the samplers that need it (lhs, sobol, morris); refused for the others."""
    if sampler not in ("lhs", "sobol", "morris"):
        if "samples" in spec:
            raise DesignError(f"{origin}: samples = {spec['samples']!r}: not used by sampler "
                              f"{sampler!r}; remove it")
        return None
    if "samples" not in spec:
        raise DesignError(f"{origin}: missing key 'samples': sampler {sampler!r} needs "
                          f"{DESIGN_KEYS['samples']}")
    samples = _check_int(spec["samples"], origin, "samples", low=1)
    if sampler == "sobol" and samples & (samples - 1):
        raise DesignError(f"{origin}: samples = {samples}: sampler 'sobol' needs a power of 2 "
                          "(the balance properties of Sobol' points require it)")
    if sampler == "morris" and samples < 2:
        raise DesignError(f"{origin}: samples = {samples}: Morris needs at least 2 "
                          "trajectories")
    return samples


def _check_options(spec: Mapping[str, Any], sampler: str, origin: str) -> dict[str, Any]:
    """The sampler's options: Morris ``levels``, Sobol ``second_order``."""
    options: dict[str, Any] = {}
    if "levels" in spec:
        if sampler != "morris":
            raise DesignError(f"{origin}: levels: only used by sampler 'morris'")
        options["levels"] = _check_int(spec["levels"], origin, "levels", low=2)
    if "second_order" in spec:
        if sampler != "sobol" or not isinstance(spec["second_order"], bool):
            raise DesignError(f"{origin}: second_order = {spec['second_order']!r}: expected true "
                              "or false, with sampler 'sobol'")
        options["second_order"] = spec["second_order"]
    return options


def _table_points(spec: Mapping[str, Any], origin: str, base_dir: Path, options: dict[str, Any],
                  quick: bool) -> tuple[pd.DataFrame, dict[str, list[Any]]]:
    """Design points read from the ``table`` file (sampler 'table'); records its path in options."""
    if "parameters" in spec:
        raise DesignError(f"{origin}: [parameters]: not used by sampler 'table' (the table "
                          "file lists the points)")
    if "table" not in spec:
        raise DesignError(f"{origin}: missing key 'table': sampler 'table' needs "
                          f"{DESIGN_KEYS['table']}")
    points, table_path = _read_points_table(spec["table"], origin, base_dir)
    options["table"] = str(table_path)
    if quick:
        points = points.iloc[:4].reset_index(drop=True)
    return points, {}


def _populate_registry() -> None:
    """Import the model boundary so every module has registered its parameters.

    Best effort: if the model cannot be imported, the registry holds what is registered so
    far; a sweep of the real model then fails loudly when its run function is resolved.
    """
    try:
        importlib.import_module(DEFAULT_RUN_FN.split(":")[0])
    except ImportError:
        pass


def _check_int(value: Any, origin: str, key: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise DesignError(f"{origin}: {key} = {value!r}: expected an integer >= {low}")
    return int(value)


def _check_scenario(value: Any, origin: str, base_dir: Path) -> str:
    if not isinstance(value, str) or not value:
        raise DesignError(f"{origin}: scenario = {value!r}: expected {DESIGN_KEYS['scenario']}")
    p = Path(value)
    if p.suffix == ".toml" or os.sep in value or "/" in value:
        cand = p if p.is_absolute() else base_dir / p
        if not cand.is_file() and p.is_file():
            cand = p
        if not cand.is_file():
            raise DesignError(f"{origin}: scenario = {value!r}: file not found (looked in {cand})")
        value = str(cand.resolve())
    try:
        scenario_mod = importlib.import_module("model.scenario")
    except ModuleNotFoundError as exc:
        if exc.name != "model.scenario":
            raise
        return value
    try:
        scenario_mod.load_scenario(value)
    except ScenarioError as exc:
        raise DesignError(f"{origin}: scenario = {value!r}: {exc}") from None
    return value


def _check_fixed(fixed: Any, origin: str) -> dict[str, Any]:
    if not isinstance(fixed, dict):
        raise DesignError(f"{origin}: fixed = {fixed!r}: expected {DESIGN_KEYS['fixed']}")
    out = {k: _check_param(k, v, f"{origin}, fixed.{k}") for k, v in fixed.items()}
    if "start" in out and "end" in out:
        from model.months import month_index

        if month_index(out["end"]) < month_index(out["start"]):
            raise DesignError(f"{origin}, fixed.end = {out['end']!r}: expected a month at or after "
                              f"fixed.start = {out['start']!r}")
    return out


# Memory the parent holds per run before the first one starts (its Run record: seed, id and
# parameter dict; measured with tracemalloc on 50,000 runs of two varied parameters: 0.42 kB
# held, 0.79 kB at the peak of building them; rounded up) and per design point (the points
# table and its JSON copy in the manifest, ~40 B per point and parameter).
BYTES_PER_RUN = 1_000
BYTES_PER_POINT = 400
MEMORY_SHARE = 0.25  # the default limit: this share of the machine's memory


def machine_memory() -> int:
    """Physical memory in bytes (0 if unknown)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


def default_max_runs() -> int:
    """The largest sweep whose bookkeeping fits in MEMORY_SHARE of this machine's memory."""
    mem = machine_memory() or 8 * 2**30
    return max(1, int(MEMORY_SHARE * mem / BYTES_PER_RUN))


def _check_size(n_points: int, reps: int, origin: str, max_runs: int | None) -> None:
    """Refuse, before sampling, a design too large to hold: the run count and its estimate."""
    if max_runs is not None and (isinstance(max_runs, bool) or not isinstance(max_runs, int)
                                 or max_runs < 1):
        raise DesignError(f"--max-runs {max_runs!r}: expected a positive integer")
    limit = max_runs if max_runs is not None else default_max_runs()
    n_runs = n_points * reps
    if n_runs <= limit:
        return
    need = n_runs * BYTES_PER_RUN + n_points * BYTES_PER_POINT
    why = ("the --max-runs limit" if max_runs is not None else
           f"the default limit, {MEMORY_SHARE:.0%} of this machine's {_gib(machine_memory())} of memory")
    raise DesignError(f"{origin}: {n_points:,} design points x {reps} replication"
                      f"{'s' if reps != 1 else ''} = {n_runs:,} runs, about {_gib(need)} of memory "
                      f"before the first run; more than {limit:,} runs ({why}). Shrink the design, "
                      "or pass --max-runs N to raise the limit")


def _gib(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB" if n >= 2**28 else f"{n / 2**20:,.0f} MiB"
