"""Benchmark: one baseline run (168 monthly steps) against Mesa's BoltzmannWealth, in one process.

    python benchmarks/bench_model.py [--runs 5] [--boltzmann-steps 20]

Prints the baseline run's median wall time over ``--runs`` runs (set-up, 168 months and the
tables), Mesa's BoltzmannWealth step time at 10^4 agents on a 100 x 100 grid measured in the
same process (alternating with the runs, so both see the same machine), the share of a run spent
in each phase of the month's plan, and last
``ratio_vs_boltzmann_step=<run_s / step_s>``: a run's cost in BoltzmannWealth steps, a figure
that means the same on a fast or a slow machine. Run on demand, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

from model.components.base import MonthContext
from model.market_model import ChipMarketModel


def one_run(seed: int) -> float:
    t0 = time.perf_counter()
    m = ChipMarketModel(rng=seed)
    m.run_model()
    m.tables()
    return time.perf_counter() - t0


def boltzmann_step(steps: int) -> float:
    """Median seconds per step of Mesa's BoltzmannWealth example (10^4 agents, 100 x 100)."""
    from mesa.examples import BoltzmannWealth
    from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario

    m = BoltzmannWealth(scenario=BoltzmannScenario(n=10_000, width=100, height=100, rng=1))
    m.step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        m.step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def phase_shares(seed: int) -> dict[str, float]:
    """Wall time of each phase of the plan over one run, as a share of the run's steps."""
    m = ChipMarketModel(rng=seed)
    acc: dict[str, float] = defaultdict(float)
    while m.running:
        ctx = MonthContext(m.month)
        for phase in m.plan:
            t0 = time.perf_counter()
            phase(m, ctx)
            acc[phase.name] += time.perf_counter() - t0
        m.datacollector.collect(m)
        m.month += 1
        m.running = m.month <= m.end_month
    t0 = time.perf_counter()
    m.tables()
    acc["tables"] += time.perf_counter() - t0
    total = sum(acc.values())
    return {k: v / total for k, v in sorted(acc.items(), key=lambda kv: -kv[1])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--boltzmann-steps", type=int, default=20)
    args = ap.parse_args()
    one_run(0)  # warm caches (catalog, imports, compiled kernels)
    boltzmann_step(2)
    runs, steps = [], []
    for seed in range(1, args.runs + 1):  # alternate, so both see the same machine
        runs.append(one_run(seed))
        steps.append(boltzmann_step(max(args.boltzmann_steps // args.runs, 2)))
    run_s, step_s = statistics.median(runs), statistics.median(steps)
    print(f"baseline run (168 steps), {args.runs} runs: median {run_s:.3f} s "
          f"(min {min(runs):.3f}, max {max(runs):.3f})")
    print(f"Mesa BoltzmannWealth, 10^4 agents on 100 x 100: median step {step_s * 1000:.1f} ms")
    print("phases (share of a run): " + ", ".join(f"{k} {v:.0%}" for k, v in phase_shares(99).items()))
    print(f"median_run_s={run_s:.3f} boltzmann_step_s={step_s:.4f} ratio_vs_boltzmann_step={run_s / step_s:.2f}")


if __name__ == "__main__":
    main()
