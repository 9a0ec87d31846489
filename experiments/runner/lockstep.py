"""Several runs of one chunk stepped month by month together (the replication axis of issue 19).

Each run is still its own ``ChipMarketModel`` with its own generator, set-up and tables: the runs
only take turns, phase by phase, so that the one costly core call of a month - pricing the
offerings launched that month (``offerings.launch``) - is made once for the new offerings of
every run in the chunk instead of once per run. The core is pure and row-independent, so the
shared call fills the per-process performance cache with exactly the rows each run would have
computed alone: every run's tables are bit-identical to a separate ``run_tables`` call
(tests/test_lockstep.py). A run that raises is dropped with its traceback; the others go on.
"""

from __future__ import annotations

import traceback
from typing import Any

import pyarrow as pa

from model.components.base import MonthContext
from model.components.offerings import prefetch_performance

LAUNCH = "offerings.launch"
ALONE_BUYERS = 2_000  # runs with more buyers are stepped alone (memory: one such model at a time)
GROUP = 16  # at most this many runs are stepped together


def run_lockstep(params: list[dict[str, Any]], seeds: list[int]) -> list[dict[str, pa.Table] | str]:
    """The Arrow tables of each (params, seed) run, or the traceback (str) of a run that failed;
    in the order given. Runs whose month plans differ from the first's, or with more than
    ALONE_BUYERS buyers, run on their own."""
    from model.run import build_model

    out: list[dict[str, pa.Table] | str | None] = [None] * len(seeds)
    models: dict[int, Any] = {}
    names: list[str] | None = None
    for i, (p, seed) in enumerate(zip(params, seeds)):
        try:
            m = build_model(p, seed)
            if len(m.buyers.ids) > ALONE_BUYERS or (names is not None and m.plan.names() != names):
                m.run_model()  # alone (a big population: one such model in memory at a time)
                out[i] = m.arrow_tables()
            else:
                names = m.plan.names()
                models[i] = m
        except Exception:
            out[i] = traceback.format_exc()
    _step_together(models, names or [], out)
    for i, m in models.items():
        if out[i] is None:
            try:
                out[i] = m.arrow_tables()
            except Exception:
                out[i] = traceback.format_exc()
    return out  # type: ignore[return-value]


def _step_together(models: dict[int, Any], names: list[str], out: list) -> None:
    """``ChipMarketModel.step`` of every model, in turns, phase by phase, to their end months; a
    model that raises gets its traceback in ``out`` and leaves the group."""
    active = [i for i in models if models[i].running]
    while active:
        ctx = {i: MonthContext(models[i].month) for i in active}
        for k, name in enumerate(names):
            if name == LAUNCH:
                prefetch_performance([models[i].offerings for i in active])
            for i in list(active):
                m = models[i]
                try:
                    m.plan[k](m, ctx[i])
                except Exception:
                    out[i] = traceback.format_exc()
                    active.remove(i)
        for i in active:
            m = models[i]
            m.datacollector.collect(m)
            m.month += 1
            if m.month > m.end_month:
                m.running = False
        active = [i for i in active if models[i].running]
