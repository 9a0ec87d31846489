"""Imported by the sweep runner's fork server (experiments/runner/executors.py): loads every
compiled kernel once (the market's, the month's other passes, the recorder's and metrics', and,
through one model set-up, the performance core's with the catalog's rows in its per-process
cache), before workers are forked from it. The server holds the command's stdout and stderr until
it exits, so its exit skips the collector's final passes (``model.gc_pause.freeze_at_exit``);
workers forked from it leave with ``os._exit`` and never run exit handlers."""

from model.components import recorder
from model.gc_pause import freeze_at_exit
from model.kernels import warm_up
from model.market_model import ChipMarketModel

warm_up()
recorder.warm_up()
ChipMarketModel(rng=0)  # set-up prices the catalog through the core's kernels
freeze_at_exit()
