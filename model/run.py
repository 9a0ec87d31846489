"""The model boundary: ``run_one(params, seed) -> tables``. Experiments, the CLI and the
dashboard call this one function (EMA-workbench style); the sweep runner calls its Arrow twin,
``run_tables``."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

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


def run_tables(params: dict[str, Any], seed: int) -> dict[str, pa.Table]:
    """``run_one`` returning Arrow tables (the same rows and types): the sweep runner's default
    run function, which writes them to Parquet without a round trip through pandas."""
    model = build_model(params, seed)
    model.run_model()
    return model.arrow_tables()
