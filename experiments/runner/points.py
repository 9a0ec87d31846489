"""Design points: checking the varied parameters, sampling them (grid, Latin hypercube, Sobol,
Morris) and reading a table file of points."""

from __future__ import annotations

import itertools
import math
import re
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.errors import DesignError, ScenarioError

_MONTH = re.compile(r"^\d{4}-\d{2}$")
PARAMETERS_HELP = "a table of parameter = [values] (grid) or [low, high] (lhs, sobol, morris)"


def _check_param(name: str, value: Any, origin: str) -> Any:
    """One parameter value, checked by the registry; a month parameter (its default is YYYY-MM)
    must also be a real month (``model.scenario.month_index``)."""
    from model.params import PARAMETERS, check_value

    try:
        out = check_value(name, value, origin)
        p = PARAMETERS.get(name)
        if p is not None and p.kind is str and _MONTH.match(str(p.default)):
            from model.months import month_index

            month_index(out, origin)
        return out
    except ScenarioError as exc:
        raise DesignError(str(exc)) from None


def count_points(sampler: str, params: dict[str, list[Any]], samples: int | None,
                 options: dict[str, Any]) -> int:
    """How many design points a sampler will make, computed before making them."""
    d = len(params)
    if sampler == "grid":
        return math.prod(len(v) for v in params.values())
    if sampler == "lhs":
        return int(samples or 0)
    if sampler == "sobol":
        return int(samples or 0) * ((2 * d + 2) if options.get("second_order", True) else (d + 2))
    return int(samples or 0) * (d + 1)  # morris: trajectories x (d + 1)


def _check_parameters(params: Any, sampler: str, origin: str) -> dict[str, list[Any]]:
    from model.params import PARAMETERS

    if sampler == "grid" and isinstance(params, dict) and not params:
        return {}  # a single design point: replications of the scenario as it is
    if not isinstance(params, dict) or not params:
        raise DesignError(f"{origin}: [parameters]: missing or empty: expected "
                          f"{PARAMETERS_HELP}")
    out: dict[str, list[Any]] = {}
    for name, values in params.items():
        key = f"{origin}, parameters.{name}"
        if name not in PARAMETERS:
            _check_param(name, None, key)  # raises with the "did you mean" hint
        if not isinstance(values, list) or not values:
            raise DesignError(f"{key} = {values!r}: expected a non-empty list "
                              + ("of values" if sampler == "grid" else "[low, high]"))
        if sampler == "grid":
            checked = [_check_param(name, v, key) for v in values]
            if len(set(map(repr, checked))) != len(checked):
                raise DesignError(f"{key} = {values!r}: values repeat; each grid value once")
            out[name] = checked
            continue
        kind = PARAMETERS[name].kind
        if kind not in (int, float):
            raise DesignError(f"{key}: sampler {sampler!r} needs a numeric parameter; {name} is "
                              f"{kind.__name__} (use sampler 'grid' for it)")
        if len(values) != 2:
            raise DesignError(f"{key} = {values!r}: expected [low, high] for sampler {sampler!r}")
        low, high = (_check_param(name, v, key) for v in values)
        if not low < high:
            raise DesignError(f"{key} = {values!r}: expected low < high")
        out[name] = [low, high]
    return out



def _sample(sampler: str, params: dict[str, list[Any]], samples: int | None,
            options: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """Design points as a DataFrame (columns in the order the parameters were listed)."""
    from model.params import PARAMETERS

    names = list(params)
    if sampler == "grid":
        if not names:
            return pd.DataFrame(index=range(1))
        rows = list(itertools.product(*(params[n] for n in names)))
        return pd.DataFrame(rows, columns=names)
    bounds = np.array([params[n] for n in names], dtype=float)
    if sampler == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(len(names), rng=rng).random(samples)
        x = qmc.scale(unit, bounds[:, 0], bounds[:, 1])
    else:
        problem = {"num_vars": len(names), "names": names, "bounds": bounds.tolist()}
        if sampler == "sobol":
            from SALib.sample import sobol

            x = sobol.sample(problem, samples, calc_second_order=options.get("second_order", True),
                             seed=rng)
        else:
            from SALib.sample import morris

            x = morris.sample(problem, samples, num_levels=options.get("levels", 4), seed=rng)
    df = pd.DataFrame(x, columns=names)
    for n in names:
        if PARAMETERS[n].kind is int:
            df[n] = np.rint(df[n]).astype("int64")
    return df


def _read_points_table(value: Any, origin: str, base_dir: Path) -> tuple[pd.DataFrame, Path]:
    from model.params import PARAMETERS

    if not isinstance(value, str) or not value:
        raise DesignError(f"{origin}: table = {value!r}: expected a path to a CSV or TOML file of "
                          "design points (sampler = 'table')")
    path = Path(value) if Path(value).is_absolute() else base_dir / value
    if not path.is_file():
        raise DesignError(f"{origin}: table = {value!r}: file not found (looked in {path})")
    tname = f"{origin}: table {path.name}"
    if path.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise DesignError(f"{tname}: not valid TOML: {exc}") from None
        if set(data) != {"points"} or not isinstance(data["points"], list) or not all(
            isinstance(p, dict) for p in data["points"]
        ):
            raise DesignError(f"{tname}: expected only an array of tables [[points]] "
                              "(one per design point)")
        records = data["points"]
        cols = list(dict.fromkeys(k for rec in records for k in rec))
    elif path.suffix.lower() == ".csv":
        try:
            raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise DesignError(f"{tname}: not a readable CSV: {exc}") from None
        cols = list(raw.columns)
        records = raw.to_dict("records")
    else:
        raise DesignError(f"{tname}: expected a .csv or .toml file")
    if not records:
        raise DesignError(f"{tname}: no design points")
    for c in cols:
        if c not in PARAMETERS:
            _check_param(c, None, f"{tname}, column {c!r}")
    rows = []
    for i, rec in enumerate(records):
        missing = [c for c in cols if c not in rec or rec[c] == ""]
        if missing:
            raise DesignError(f"{tname}, row {i + 1}: no value for {missing[0]!r}")
        rows.append({c: _check_param(c, rec[c], f"{tname}, row {i + 1}") for c in cols})
    return pd.DataFrame(rows, columns=cols), path.resolve()


