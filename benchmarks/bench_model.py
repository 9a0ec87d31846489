"""Benchmark: one baseline run (168 monthly steps) - wall time, agent-steps/s, core share.

    python benchmarks/bench_model.py [--runs 5]

Prints the median wall seconds over the runs, agent-steps per second (agents x steps / s),
and a profile summary: the share of step time spent in the numpy core (model/cluster.py),
the market clearing (model/market.py) and the rest. Last line:
``median_run_s=<x> agent_steps_per_s=<y>``. Run on demand, not a test (shared machines are noisy).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time

from model.market_model import ChipMarketModel


def one_run(seed: int) -> tuple[float, int]:
    t0 = time.perf_counter()
    m = ChipMarketModel(rng=seed)
    m.run_model()
    m.tables()
    return time.perf_counter() - t0, len(m.agents) * (m.month - m.start_month)


def profile_shares(seed: int) -> dict[str, float]:
    prof = cProfile.Profile()
    m = ChipMarketModel(rng=seed)
    prof.enable()
    m.run_model()
    prof.disable()
    st = pstats.Stats(prof)
    total = max(v[3] for k, v in st.stats.items() if k[2] == "step" and k[0].endswith("market_model.py"))
    core = sum(v[2] for k, v in st.stats.items() if k[0].endswith("model/cluster.py"))
    market = sum(v[2] for k, v in st.stats.items() if k[0].endswith("model/market.py"))
    return {"core": core / total, "market": market / total, "rest": 1 - (core + market) / total}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    one_run(0)  # warm caches (catalog, imports)
    times, agent_steps = [], 0
    for seed in range(1, args.runs + 1):
        dt, agent_steps = one_run(seed)
        times.append(dt)
    med = statistics.median(times)
    shares = profile_shares(99)
    print(f"baseline run (168 steps), {args.runs} runs: median {med:.3f} s, "
          f"min {min(times):.3f} s, max {max(times):.3f} s")
    print(f"agent-steps per run: {agent_steps}  ->  {agent_steps / med:,.0f} agent-steps/s")
    print("profile (share of step time, own time): " + ", ".join(f"{k} {v:.0%}" for k, v in shares.items()))
    print(f"median_run_s={med:.3f} agent_steps_per_s={agent_steps / med:.0f}")


if __name__ == "__main__":
    main()
