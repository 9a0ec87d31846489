"""Benchmark: the model at 10^2 ... 10^5 buyer agents, against Mesa's own BoltzmannWealth.

    python benchmarks/bench_scale.py [--steps 24] [--quick] [--full-repeat 3]

Each size runs in its own process (clean peak memory): the baseline scenario with firm-level
buyers (n firms per Global-South country and per enterprise segment), ``--steps`` months after
set-up. Prints step time, agent-steps per second and peak memory per size, the scaling exponent
fitted from 10^3 to 10^5 buyers, memory per buyer agent, a full baseline run (168 months) at
10^4 buyers, and - measured in the same run - Mesa's BoltzmannWealth example at 10^4 agents on a
100 x 100 grid (the configuration of Mesa's own large benchmark case); the full run is made
``--full-repeat`` times (default 3), each beside its own BoltzmannWealth measurement, and the
median pair is the figure. Last line:
``exponent=<x> ratio_vs_mesa=<y>`` (ratio = our agent-steps/s at 10^5 buyers / Mesa's).
Run on demand, not a test: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys

import numpy as np

CHILD = r"""
import json, sys, time
import numpy as np
kind, arg, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")

if kind == "chipwar":
    from model.market_model import ChipMarketModel
    t0 = time.perf_counter()
    m = ChipMarketModel(rng=1, n_firms_per_country=arg, n_firms_per_hyperscaler_region=arg)
    t1 = time.perf_counter()
    n = 168 if steps <= 0 else steps
    for _ in range(n):
        m.step()
    if steps <= 0:
        m.tables()
    t2 = time.perf_counter()
    print(json.dumps({"buyers": int(len(m.buyers.ids)), "agents": len(m.agents), "init_s": t1 - t0,
                      "run_s": t2 - t1, "step_s": (t2 - t1) / n, "peak_mb": peak_mb()}))
else:
    from mesa.examples import BoltzmannWealth
    from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario
    m = BoltzmannWealth(scenario=BoltzmannScenario(n=arg, width=100, height=100, rng=1))
    m.step()
    t1 = time.perf_counter()
    for _ in range(steps):
        m.step()
    t2 = time.perf_counter()
    print(json.dumps({"agents": arg, "step_s": (t2 - t1) / steps, "peak_mb": peak_mb()}))
"""

# firms per country/segment for ~10^2 ... 10^5 buyer agents (12 named buyers + 17 n firms)
SIZES = {100: 5, 1_000: 58, 10_000: 588, 100_000: 5_882}


def child(kind: str, arg: int, steps: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, kind, str(arg), str(steps)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=24)
    ap.add_argument("--quick", action="store_true", help="fewer steps, no 168-month run")
    ap.add_argument("--full-repeat", type=int, default=3, help="168-month runs at 10^4 buyers (median)")
    args = ap.parse_args()
    steps = 6 if args.quick else args.steps
    print(f"{'buyers':>8} {'agents':>8} {'step ms':>9} {'agent-steps/s':>14} {'peak MB':>8}")
    rows = {}
    for target, n in SIZES.items():
        r = child("chipwar", n, steps)
        rows[target] = r
        print(f"{r['buyers']:>8,} {r['agents']:>8,} {r['step_s'] * 1e3:>9.1f} "
              f"{r['agents'] / r['step_s']:>14,.0f} {r['peak_mb']:>8.0f}")
    ref = child("mesa", 10_000, max(steps // 2, 5))
    ref_rate = ref["agents"] / ref["step_s"]
    print(f"Mesa BoltzmannWealth, 10,000 agents on 100 x 100: {ref['step_s'] * 1e3:.1f} ms/step, "
          f"{ref_rate:,.0f} agent-steps/s")
    xs = np.log([rows[t]["buyers"] for t in (1_000, 10_000, 100_000)])
    ys = np.log([rows[t]["step_s"] for t in (1_000, 10_000, 100_000)])
    exponent = float(np.polyfit(xs, ys, 1)[0])
    big, small = rows[100_000], rows[100]
    per_agent_kb = (big["peak_mb"] - small["peak_mb"]) * 1024 / (big["buyers"] - small["buyers"])
    ours = big["agents"] / big["step_s"]
    print(f"scaling exponent (10^3 -> 10^5 buyers): {exponent:.3f} (target <= 1.05)")
    print(f"memory per buyer agent: {per_agent_kb:.2f} KB (peak RSS difference 10^5 vs 10^2 buyers)")
    print(f"ours at 10^5 buyers / Mesa reference: {ours / ref_rate:.2f} (target >= 2)")
    if not args.quick:
        # issue 19: <= 1.5 s on the developers' machine, whose BoltzmannWealth step was ~49 ms
        # (a 0.42 s baseline run at 8.6 steps): about 31 steps on any machine. Each run in a fresh
        # process (its kernels loaded from the disk cache), each paired with a BoltzmannWealth
        # measurement taken right after it; the median pair (a shared machine drifts by 1.5x)
        pairs = []
        for _ in range(args.full_repeat):
            full = child("chipwar", SIZES[10_000], 0)
            step = child("mesa", 10_000, max(steps // 2, 5))["step_s"]
            pairs.append((full["init_s"] + full["run_s"], full["init_s"], step))
        for run_s, init_s, step in pairs:
            print(f"baseline run, 168 months, {full['buyers']:,} buyers: {run_s:.2f} s (set-up {init_s:.2f} s); "
                  f"BoltzmannWealth step {step * 1e3:.1f} ms: {run_s / step:.1f} steps")
        run_s, init_s, step = sorted(pairs, key=lambda p: p[0] / p[2])[len(pairs) // 2]
        print(f"baseline run at {full['buyers']:,} buyers, median of {len(pairs)}: {run_s / step:.1f} "
              f"BoltzmannWealth steps ({run_s:.2f} s; target <= 1.5 s on the developers' machine, "
              "about 31 steps)")
    print(f"exponent={exponent:.3f} ratio_vs_mesa={ours / ref_rate:.2f}")
    if not math.isfinite(exponent):
        sys.exit(1)


if __name__ == "__main__":
    main()
