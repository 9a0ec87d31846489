"""Sweep runner benchmark: runs per second per core, runner overhead over bare runs, parallel
efficiency, flat memory.

1. N baseline runs (default 200: 4 design points x 50 replications), each leg a fresh Python
   process timed whole (imports and worker start-up count, as for a user's command):
   ``bare`` - the same runs (params and seeds of the design) called one after the other with
   ``model.run.run_tables`` in one process, writing nothing; ``serial`` - ``chipwar sweep
   --serial``; ``2 workers`` - ``chipwar sweep --workers 2``. Figures: runs per second per core
   (serial runner), runner overhead over bare runs = serial / bare - 1 (the runner steps a
   chunk's runs together, sharing each month's core call, so it can be below zero), parallel
   efficiency = serial / (2 x 2 workers). ``--repeat K`` times each leg K times, in the order
   A B C then C B A (a drift in the machine's load falls on every leg alike): the overhead and
   the efficiency are computed within each trio (its legs ran back to back) and the figures are
   the medians over the K trios (one leg slowed by a burst of the machine's other load moves
   one trio, not the figure); every trio's value is printed too. Times are medians of the legs.
   Each trio also measures the machine's own efficiency on two processes, between its serial and
   2-worker legs: Mesa's BoltzmannWealth example (the other benchmarks' reference) stepped in one
   process, then in two at once; the runner's efficiency is printed against it as well
   (``efficiency_vs_machine``), so that a shared machine's loss is not read as the runner's.
2. Peak resident memory of the parent process (VmHWM, fresh subprocess each) for a
   sweep of 100 and of 1,000 runs of a cheap run function with model-sized tables
   (168 months): flat memory means the two peaks are about equal.

Usage: python benchmarks/bench_sweep.py [--quick] [--runs N] [--repeat K] [--skip-model]
The last line prints the figures. ``--quick`` shrinks everything (20 runs, end 2023-12,
memory at 50 vs 200 runs). ``--skip-model`` measures memory only (no model needed).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from experiments.runner import build_design, read_tables, run_sweep  # noqa: E402

GRID = {"kappa": [0.5, 2.0], "us_control_level": [0.2, 0.8]}
N_MONTHS = 168
N_REGIONS = 18
N_STACKS = 4
N_PRODUCTS = 30
REF_STEPS = 50  # the machine reference: BoltzmannWealth steps per process (about 3-5 s)
REF_LEAD_S = 4.0  # the two side-by-side reference processes start their steps this long after launch


def cheap_run(params: dict, seed: int) -> dict[str, pd.DataFrame]:
    """Model-sized tables (168 months; ~12k adoption rows, 5k vendor rows) in a few ms."""
    rng = np.random.default_rng(seed)
    steps = np.arange(N_MONTHS)
    dates = np.array([f"{2022 + s // 12}-{s % 12 + 1:02d}" for s in steps])
    model = pd.DataFrame({"step": steps, "date": dates,
                          **{f"m{i}": rng.random(N_MONTHS) for i in range(12)}})
    k = N_REGIONS * N_STACKS
    adoption = pd.DataFrame({
        "step": np.repeat(steps, k), "date": np.repeat(dates, k),
        "region": np.tile(np.repeat([f"r{i}" for i in range(N_REGIONS)], N_STACKS), N_MONTHS),
        "stack": np.tile(["cuda", "cann", "rocm", "other_cn"], N_MONTHS * N_REGIONS),
        "installed_h100e": rng.random(N_MONTHS * k), "purchased_h100e": rng.random(N_MONTHS * k),
        "spend_usd": rng.random(N_MONTHS * k),
    })
    vendors = pd.DataFrame({
        "step": np.repeat(steps, N_PRODUCTS), "date": np.repeat(dates, N_PRODUCTS),
        "product": np.tile([f"p{i}" for i in range(N_PRODUCTS)], N_MONTHS),
        "units": rng.integers(0, 1000, N_MONTHS * N_PRODUCTS),
        "revenue_usd": rng.random(N_MONTHS * N_PRODUCTS),
    })
    return {"model": model, "adoption": adoption, "vendors": vendors}


def design_for(n_runs: int, end: str | None, scenario: str = "baseline"):
    reps = max(1, n_runs // 4)
    spec = {"scenario": scenario, "sampler": "grid", "replications": reps, "root_seed": 20260101,
            "parameters": GRID}
    if end:
        spec["fixed"] = {"end": end}
    return build_design(spec)


def memory_child(n_runs: int, out: Path) -> None:
    """Run a cheap sweep of n_runs on 2 workers; print this (parent) process's peak RSS."""
    spec = {"scenario": str(_scenario_stub(out.parent)), "sampler": "grid",
            "replications": n_runs // 4, "root_seed": 1, "parameters": GRID}
    design = build_design(spec)
    t0 = time.perf_counter()
    res = run_sweep(design, out, run_fn=cheap_run, workers=2, progress=False)
    rows = sum(len(pd.read_parquet(p, columns=["step"])) for p in (out / "adoption").glob("*.parquet"))
    print(json.dumps({"runs": res.n_ok, "chunks": res.n_chunks, "adoption_rows": rows,
                      "seconds": time.perf_counter() - t0,
                      "maxrss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, because Linux carries ru_maxrss over
    execve from the forking parent (a big parent would mask the child's own peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _scenario_stub(d: Path) -> Path:
    p = d / "bench_scenario.toml"
    p.write_text('name = "bench"\n', encoding="utf-8")
    return p


def measure_memory(n_runs: int, tmp: Path) -> dict:
    out = tmp / f"mem{n_runs}"
    res = subprocess.run([sys.executable, __file__, "--_memory-child", str(n_runs), str(out)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _design_file(n_runs: int, end: str | None, tmp: Path) -> Path:
    """The benchmark's design as a TOML file, for ``chipwar sweep``."""
    lines = ['scenario = "baseline"', 'sampler = "grid"', f"replications = {max(1, n_runs // 4)}",
             "root_seed = 20260101"]
    if end:
        lines += ["[fixed]", f'end = "{end}"']
    lines += ["[parameters]", *(f"{k} = {v!r}" for k, v in GRID.items())]
    path = tmp / "bench_design.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def bare_child(n_runs: int, end: str | None) -> None:
    """The design's runs (same params and seeds as the runner's) one after the other, no runner."""
    from model.run import run_tables

    design = design_for(n_runs, end)
    runs = design.runs()
    for r in runs:
        run_tables(dict(r.params), r.seed)
    print(json.dumps({"runs": len(runs)}))


def reference_child(steps: int, start_at: float) -> None:
    """Mesa's BoltzmannWealth example (10^4 agents on 100 x 100, the reference of the other
    benchmarks): ``steps`` steps from wall-clock time ``start_at`` on (0: at once); prints their
    seconds."""
    from mesa.examples import BoltzmannWealth
    from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario

    m = BoltzmannWealth(scenario=BoltzmannScenario(n=10_000, width=100, height=100, rng=1))
    m.step()
    time.sleep(max(0.0, start_at - time.time()))
    late_s = time.time() - start_at if start_at else 0.0
    t0 = time.perf_counter()
    for _ in range(steps):
        m.step()
    print(json.dumps({"seconds": time.perf_counter() - t0, "late_s": late_s}))


def machine_efficiency(steps: int = REF_STEPS) -> float:
    """The machine's own parallel efficiency for interpreter-bound work: the reference's steps in
    one process alone, then in two processes at once (each started on a shared clock, after its
    imports), seconds alone / mean seconds side by side. 1.0 on two free cores; below it when the
    two cores do not both deliver (a host's other tenants, a shared cache)."""
    def child_cmd(start_at: float) -> list[str]:
        return [sys.executable, __file__, "--_reference-child", str(steps), repr(start_at)]

    alone = json.loads(subprocess.run(child_cmd(0.0), check=True, cwd=ROOT, stdout=subprocess.PIPE,
                                      text=True).stdout.strip().splitlines()[-1])["seconds"]
    start_at = time.time() + REF_LEAD_S
    procs = [subprocess.Popen(child_cmd(start_at), cwd=ROOT, stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    pair = []
    for p in procs:
        out, _ = p.communicate()
        if p.returncode:
            raise RuntimeError(f"the reference child failed (exit {p.returncode})")
        got = json.loads(out.strip().splitlines()[-1])
        if got["late_s"] > 0.5:
            raise RuntimeError(f"a reference child started {got['late_s']:.1f} s late: "
                               f"its imports took longer than {REF_LEAD_S} s")
        pair.append(got["seconds"])
    return alone / statistics.mean(pair)


def _timed(cmd: list[str]) -> tuple[float, str]:
    """Wall time and output of a whole command (a fresh Python process: imports and worker
    start-up count, as they do for a user's script). A failing command stops the benchmark."""
    t0 = time.perf_counter()
    res = subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    return time.perf_counter() - t0, res.stdout


def time_model(n_runs: int, end: str | None, tmp: Path, repeat: int = 1) -> dict:
    design_path = _design_file(n_runs, end, tmp)
    n = design_for(n_runs, end).n_runs

    def sweep(out: str, *how: str) -> float:
        return _timed([sys.executable, "-m", "experiments.cli", "sweep", str(design_path),
                       "--out", str(tmp / out), "--overwrite", *how])[0]

    def bare() -> float:
        seconds, out = _timed([sys.executable, __file__, "--_bare-child", str(n_runs), end or ""])
        done = json.loads(out.strip().splitlines()[-1])["runs"]
        if done != n:
            raise RuntimeError(f"the bare runs did {done} runs, expected {n}")
        return seconds

    legs: list[tuple[str, float]] = []
    machine: list[float] = []
    for k in range(repeat):  # A B C C B A: a drift in the machine's load falls on all alike
        trio = [("bare", bare), ("serial", lambda k=k: sweep(f"serial{k}", "--serial")),
                ("2 workers", lambda k=k: sweep(f"pool{k}", "--workers", "2"))]
        for name, fn in (trio if k % 2 == 0 else trio[::-1]):
            legs.append((name, fn()))
            if name == "serial":  # between the serial and the 2-worker legs, in both orders
                machine.append(machine_efficiency())
    t = {"legs": legs, "runs": n, "machine": machine}
    by = {name: [x for k, x in legs if k == name] for name in ("bare", "serial", "2 workers")}
    t["bare_s"], t["serial_s"], t["workers2_s"] = (statistics.median(by[k]) for k in by)
    # each trio's own figures (its three legs ran within a minute of each other), then their median
    t["overheads"] = [s / b - 1.0 for s, b in zip(by["serial"], by["bare"], strict=True)]
    t["efficiencies"] = [s / (2 * w) for s, w in zip(by["serial"], by["2 workers"], strict=True)]
    t["vs_machine"] = [e / m for e, m in zip(t["efficiencies"], machine, strict=True)]
    serial, pooled = read_tables(tmp / "serial0"), read_tables(tmp / "pool0")
    t["serial_equals_parallel"] = all(serial[k].equals(pooled[k]) for k in ("model", "adoption", "vendors"))
    t["failed"] = json.loads((tmp / "pool0" / "manifest.json").read_text())["counts"]["failed"]
    t["runs_per_s_per_core"] = n / t["serial_s"]
    t["overhead"] = statistics.median(t["overheads"])
    t["efficiency"] = statistics.median(t["efficiencies"])
    t["machine_efficiency"] = statistics.median(machine)
    t["efficiency_vs_machine"] = statistics.median(t["vs_machine"])
    return t


def _spread(xs: list[float], fmt: str) -> str:
    return f" ({', '.join(format(x, fmt) for x in xs)})" if len(xs) > 1 else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--skip-model", action="store_true")
    ap.add_argument("--_memory-child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--repeat", type=int, default=3,
                    help="time each leg K times (A B C, C B A, ...); figures are medians over the K trios")
    ap.add_argument("--_bare-child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--_reference-child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._reference_child:
        reference_child(int(args._reference_child[0]), float(args._reference_child[1]))
        return
    if args._bare_child:
        bare_child(int(args._bare_child[0]), args._bare_child[1] or None)
        return
    if args._memory_child:
        memory_child(int(args._memory_child[0]), Path(args._memory_child[1]))
        return
    n_runs = args.runs or (20 if args.quick else 200)
    end = "2023-12" if args.quick else None
    small, large = (50, 200) if args.quick else (100, 1000)
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmpdir:
        tmp = Path(tmpdir)
        mem = {n: measure_memory(n, tmp) for n in (small, large)}
        if not args.skip_model:
            t = time_model(n_runs, end, tmp, max(args.repeat, 1))
            print(f"model: {t['runs']} baseline runs{' to ' + end if end else ''}: median bare "
                  f"{t['bare_s']:.1f} s, runner serial {t['serial_s']:.1f} s, 2 workers "
                  f"{t['workers2_s']:.1f} s (legs: " + ", ".join(f"{k} {x:.1f}" for k, x in t["legs"])
                  + f"); failed {t['failed']}; serial == 2 workers: {t['serial_equals_parallel']}")
            print(f"per trio: runner overhead{_spread(t['overheads'], '+.1%')}, "
                  f"efficiency{_spread(t['efficiencies'], '.2f')}, the machine's own 2-process "
                  f"efficiency (Mesa's BoltzmannWealth){_spread(t['machine'], '.2f')}; "
                  "the figures below are medians")
            figures += [f"runs_per_s_per_core={t['runs_per_s_per_core']:.2f}",
                        f"runner_overhead={t['overhead']:+.1%}",
                        f"machine_efficiency_2p={t['machine_efficiency']:.2f}",
                        f"efficiency_vs_machine={t['efficiency_vs_machine']:.2f}",
                        f"efficiency_2w={t['efficiency']:.2f}"]
        for m in mem.values():
            print(f"memory: {m['runs']} cheap runs ({m['adoption_rows']:,} adoption rows, "
                  f"{m['chunks']} chunks, {m['seconds']:.1f} s): parent peak RSS {m['maxrss_mb']:.0f} MB")
        figures += [f"peak_rss_{small}={mem[small]['maxrss_mb']:.0f}MB",
                    f"peak_rss_{large}={mem[large]['maxrss_mb']:.0f}MB",
                    f"rss_ratio={mem[large]['maxrss_mb'] / mem[small]['maxrss_mb']:.2f}"]
    print("bench_sweep: " + " ".join(figures))


if __name__ == "__main__":
    main()
