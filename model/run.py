"""The model boundary: ``run_one(params, seed) -> tables``. Sweeps, experiments, the CLI and the
dashboard all call this one function (EMA-workbench style)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from model.market_model import ChipMarketModel

# keys of ``params`` that are not model parameters
_META = {"scenario", "run_id", "replication"}


def build_model(params: dict[str, Any], seed: int) -> ChipMarketModel:
    """Construct (and so validate) a model for ``params`` without running it."""
    overrides = {k: v for k, v in params.items() if k not in _META}
    return ChipMarketModel(scenario=params.get("scenario", "baseline"), rng=int(seed),
                           run_id=params.get("run_id"), **overrides)


def run_one(params: dict[str, Any], seed: int) -> dict[str, pd.DataFrame]:
    """Run one simulation to its end month; return the tables ``model``, ``adoption``, ``vendors``.

    A pure function of (scenario, parameters, seed): the same inputs give identical tables.
    """
    model = build_model(params, seed)
    model.run_model()
    return model.tables()
