"""Fake run functions with the model boundary's shape, for testing the sweep runner.

``fake_run(params, seed)`` returns deterministic ``model``, ``adoption`` and ``vendors``
tables (columns after DESIGN §7) drawn from ``numpy.random.default_rng(seed)`` and the
parameters; ``failing_run`` raises for one parameter value; ``slow_run`` sleeps first so a
sweep can be killed part-way. All are top-level, hence picklable for process pools and Dask.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

N_STEPS = 12
REGIONS = ("us", "cn", "india")
STACKS = ("cuda", "cann")
VENDORS = (("nvidia", "h20"), ("huawei", "ascend_910b"))
FAIL_KAPPA = 1.25  # failing_run raises when params["kappa"] equals this
SLOW_RUN_S = 0.05


def fake_run(params: dict[str, Any], seed: int) -> dict[str, pd.DataFrame]:
    """Deterministic tables from (params, seed); the runner overwrites run_id/seed/params."""
    rng = np.random.default_rng(seed)
    kappa = float(params.get("kappa", 1.0))
    level = float(params.get("us_control_level", 0.5))
    steps = np.arange(N_STEPS)
    dates = [f"2026-{m + 1:02d}" for m in steps]
    model = pd.DataFrame({
        "run_id": "unset",  # the runner must overwrite this
        "seed": -1,
        "step": steps,
        "date": dates,
        "bifurcation_index": np.clip(level * steps / N_STEPS + rng.normal(0, 0.05, N_STEPS), 0, 1),
        "cn_domestic_share": rng.uniform(0, 1, N_STEPS),
        "us_cn_compute_ratio": kappa + rng.gamma(2.0, 1.0, N_STEPS),
    })
    n = N_STEPS * len(REGIONS) * len(STACKS)
    step_col = np.repeat(steps, len(REGIONS) * len(STACKS))
    adoption = pd.DataFrame({
        "run_id": "unset",
        "step": step_col,
        "date": [dates[s] for s in step_col],
        "region": np.tile(np.repeat(REGIONS, len(STACKS)), N_STEPS),
        "stack": np.tile(STACKS, N_STEPS * len(REGIONS)),
        "installed_h100e": np.cumsum(rng.exponential(100.0, n)),
        "purchased_h100e": rng.exponential(10.0, n),
        "spend_usd": rng.exponential(1e6, n) * (1 + level),
    })
    m = N_STEPS * len(VENDORS)
    vendors = pd.DataFrame({
        "run_id": "unset",
        "step": np.repeat(steps, len(VENDORS)),
        "vendor": np.tile([v for v, _ in VENDORS], N_STEPS),
        "product": np.tile([p for _, p in VENDORS], N_STEPS),
        "region": "cn",
        "units": rng.integers(0, 10_000, m),
        "revenue_usd": rng.exponential(1e7, m),
        "price_usd": rng.uniform(8e3, 3e4, m),
    })
    return {"model": model, "adoption": adoption, "vendors": vendors}


def failing_run(params: dict[str, Any], seed: int) -> dict[str, pd.DataFrame]:
    """Like fake_run, but raises for kappa == FAIL_KAPPA (a model bug in one corner)."""
    if float(params.get("kappa", 1.0)) == FAIL_KAPPA:
        raise ZeroDivisionError(f"fake model failure at kappa={FAIL_KAPPA}")
    return fake_run(params, seed)


def slow_run(params: dict[str, Any], seed: int) -> dict[str, pd.DataFrame]:
    """Like fake_run, after sleeping SLOW_RUN_S seconds (so a sweep can be killed mid-way)."""
    time.sleep(SLOW_RUN_S)
    return fake_run(params, seed)


def kill_once_run(params: dict[str, Any], seed: int) -> dict[str, pd.DataFrame]:
    """Like fake_run, but the first call anywhere SIGKILLs its own (worker) process; the flag file
    beside the scenario file says it has happened. Only for process pools (it would kill the
    caller's process if run in-process)."""
    import os
    import signal
    from pathlib import Path

    flag = Path(params["scenario"]).parent / "killed-once.flag"
    try:
        fd = os.open(flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return fake_run(params, seed)
    os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


def always_kill_run(params: dict[str, Any], seed: int) -> dict[str, pd.DataFrame]:
    """Like fake_run, but SIGKILLs its own (worker) process whenever kappa == FAIL_KAPPA."""
    import os
    import signal

    if float(params.get("kappa", 1.0)) == FAIL_KAPPA:
        os.kill(os.getpid(), signal.SIGKILL)
    return fake_run(params, seed)
