"""The model's components: each mechanism with the state it owns (see ``base.Component``), and
the plans that order them into a month (``plans``)."""

from __future__ import annotations

#: Parameters the model itself reads once: the run's span and which population it builds.
MODEL_STARTUP = ("start", "end", "population", "us_bloc_buys_cn_chips")


def startup_params() -> frozenset[str]:
    """Every parameter read only at set-up (a scripted ``set`` event may not change them)."""
    from model.components.arthur import ArthurDocking
    from model.components.buyers import POPULATION_PARAMS
    from model.components.offerings import OfferingTable
    from model.components.supply import Supply

    return frozenset(MODEL_STARTUP + POPULATION_PARAMS + ArthurDocking.startup_params
                     + OfferingTable.startup_params + Supply.startup_params)
