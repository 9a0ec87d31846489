"""Imported by the sweep runner's fork server (experiments/runner/executors.py): loads every
compiled kernel once (the market's, the month's other passes, the recorder's and metrics', and,
through one model set-up, the performance core's with the catalog's rows in its per-process
cache), before workers are forked from it."""

from model.components import recorder
from model.kernels import warm_up
from model.market_model import ChipMarketModel

warm_up()
recorder.warm_up()
ChipMarketModel(rng=0)  # set-up prices the catalog through the core's kernels
