"""Benchmark the market's hot path (cluster core pricing + every buyer's logit choice).

Sizes are evaluations = offerings x workloads x regions x buyers, each ending in a buyer's
choice probability. First it prints the cost of one launch-time core call
(``performance`` of O new offerings on the launch's four workloads, per call, the best of
``--repeats``), at O = 1, 2 (a month's new designs) and 140 (every offering of a run by 2035).
In the same run it times a plain numpy ceiling on arrays of the same
shape and dtype: one multiply-add, one exp and one normalising sum over the offering axis,
the irreducible work of a logit choice. Last line: ratio_vs_numpy_ceiling = ceiling / core
at the largest size (1.0 = as fast as the ceiling). Run: .venv/bin/python benchmarks/bench_core.py
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.cluster import Offerings, Workloads, performance, price_and_choose  # noqa: E402


def _offerings(n_off: int, rng: np.random.Generator) -> Offerings:
    """The catalog's systems (or synthetic ones if the catalog is unavailable), tiled to n_off."""
    try:
        from model.catalog import load_catalog

        cat = load_catalog()
        base = Offerings.from_frame(cat.systems, cat.chips)
    except Exception:  # the benchmark must still run on a bare core
        k = 8
        bf16 = rng.uniform(100, 2500, k)
        base = Offerings(
            ids=np.array([f"s{i}" for i in range(k)], dtype=object), chip=np.array(["c"] * k, dtype=object),
            stack=np.array(["cuda"] * k, dtype=object), bf16_tflops=bf16, fp8_tflops=2 * bf16,
            int8_tops=2 * bf16, hbm_gb=rng.uniform(64, 288, k), hbm_tb_s=rng.uniform(1.5, 8, k),
            scaleup_gb_s=rng.uniform(400, 1800, k), scaleout_gb_s=np.full(k, 50.0),
            domain=np.full(k, 8), watts_allin=rng.uniform(700, 2000, k),
            price_usd_per_accel=rng.uniform(1e4, 5e4, k), n_per_system=np.full(k, 8))
    idx = np.arange(n_off) % len(base)
    return base.take(idx)


def _best(fn, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--max-exp", type=int, default=7, help="largest size = 10^max_exp evaluations")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(20250101)
    wl = Workloads.load()
    n_off, n_reg = 40, 5
    off = _offerings(n_off, rng)
    elec = rng.uniform(0.05, 0.15, n_reg)
    pue = rng.uniform(1.1, 1.5, n_reg)
    levy = rng.choice([0.0, 0.15, 0.25], size=(n_off, n_reg))
    subsidy = rng.choice([0.0, 0.5], size=(n_off, n_reg))
    launch_wl = Workloads.load(ids=["llama3-405b-train", "deepseek-v3-train", "deepseek-r1-prefill",
                                    "deepseek-r1-decode"])  # model/components/offerings.py WORKLOAD_IDS
    performance(off.take([0]), launch_wl, 16384)  # compiled kernels loaded (or compiled) first
    for n_new in (1, 2, 140):
        new, calls = _offerings(n_new, rng), max(1, 2000 // n_new)
        t = _best(lambda new=new, calls=calls: [performance(new, launch_wl, 16384) for _ in range(calls)],
                  args.repeats) / calls
        print(f"performance() of {n_new} offerings x 4 launch workloads: {t * 1e3:.3f} ms per call")
    per_buyer = n_off * len(wl) * n_reg
    print(f"offerings {n_off}, workloads {len(wl)}, regions {n_reg}: {per_buyer} evaluations per buyer")
    print(f"{'evaluations':>12} {'buyers':>7} {'core s':>10} {'core eval/s':>12} "
          f"{'ceiling s':>10} {'ceiling eval/s':>14} {'ratio':>6}")
    ratio = float("nan")
    for e in range(3, args.max_exp + 1):
        n_buy = max(1, round(10 ** e / per_buyer))
        evals = n_buy * per_buyer
        beta = rng.uniform(1.0, 5.0, n_buy)
        aff = rng.normal(0.0, 1.0, (n_buy, n_off))
        avail = rng.random((n_reg, n_off)) > 0.1

        def core(beta=beta, aff=aff, avail=avail) -> None:  # bound now: timed in this iteration
            price_and_choose(off, wl, price_sensitivity=beta, affinity=aff, available=avail,
                             elec_usd_kwh=elec, pue=pue, levy=levy, energy_subsidy=subsidy)

        x = rng.normal(0.0, 1.0, (1, len(wl), n_reg, n_off))
        c = rng.normal(0.0, 1.0, (n_buy, 1, 1, n_off))
        b4 = beta[:, None, None, None]

        def ceiling(b4=b4, x=x, c=c) -> None:
            u = b4 * x + c                      # one multiply-add
            np.exp(u, out=u)                    # one exp
            u /= u.sum(axis=-1, keepdims=True)  # one normalising sum

        t_core = _best(core, args.repeats)
        t_ceil = _best(ceiling, args.repeats)
        ratio = t_ceil / t_core
        print(f"{evals:>12,} {n_buy:>7,} {t_core:>10.5f} {evals / t_core:>12.3e} "
              f"{t_ceil:>10.5f} {evals / t_ceil:>14.3e} {ratio:>6.2f}")
    print(f"ratio_vs_numpy_ceiling={ratio:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
