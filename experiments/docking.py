"""Docking with Arthur (1989): the real ChipMarketModel, policy, prices and capacity off, two
technologies and R-/S-type adopters arriving one per month, reduces to the competing-technologies
model with increasing returns (docs/ODD.md "Docking with Arthur (1989)").

    python -m experiments.docking [--runs 500] [--seed 0] [--workers N] [--quick] [--out DIR]

prints the comparison with the theory: lock-in with probability one, winners split by the type
mix, mean time to lock-in near the gambler's-ruin value (Delta + 1)^2 (121 for the standard
payoffs), and, without increasing returns, A's share converging to the type mix; and writes
``runs.csv`` (one row per run) and ``report.txt`` to DIR (default outputs/docking).
"""


from __future__ import annotations

import argparse
import concurrent.futures as cf
import math
import multiprocessing
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.progress import Progress
from model.main_guard import refuse_unguarded_script

DESCRIPTION = ("Docking with Arthur (1989): the market model with policy, prices and capacity off "
               "reduces to competing technologies with increasing returns; prints lock-in rate, "
               "winners and mean lock-in time against the gambler's-ruin value.")
STANDARD = {"a_r": 2.0, "b_r": 1.0, "a_s": 1.0, "b_s": 2.0, "r": 0.1, "s": 0.1}


def gamblers_ruin_time(a_r: float = 2.0, b_r: float = 1.0, a_s: float = 1.0, b_s: float = 2.0,
                       r: float = 0.1, s: float = 0.1, **_: float) -> float:
    """Mean arrivals to lock-in for a symmetric walk absorbed past +-Delta: (Delta + 1)^2, where
    Delta = (a_R - b_R)/r = (b_S - a_S)/s is the lead at which one type switches (Arthur 1989)."""
    delta = max((a_r - b_r) / r if r > 0 else math.inf, (b_s - a_s) / s if s > 0 else math.inf)
    return (math.floor(delta) + 1) ** 2


def _one(args: tuple[int, dict, int, bool]) -> dict:
    from model.market_model import ChipMarketModel
    from model.types import STACK_INDEX

    seed, payoffs, arrivals, stop = args
    m = ChipMarketModel(scenario="arthur_docking", rng=seed, arthur_arrivals=arrivals, stop_at_lock_in=stop,
                        **{f"arthur_{k}": v for k, v in payoffs.items()})
    m.run_model()
    n = m.buyers.fleet_eff.sum(axis=0)
    na, nb = float(n[STACK_INDEX["cuda"]]), float(n[STACK_INDEX["cann"]])
    locked = m.arthur.lock_in_step is not None
    return {"seed": seed, "locked_in": locked, "winner": m.arthur.winner if locked else None,
            "lock_in_step": m.arthur.lock_in_step if locked else np.nan,
            "arrivals": int(na + nb), "share_a": na / (na + nb) if na + nb else np.nan,
            "share_r_types": float(m.arthur.is_r[: int(na + nb)].mean())}


def arthur(n_runs: int = 500, seed: int = 0, *, arrivals: int = 2000, stop_at_lock_in: bool = True,
           workers: int | None = None, progress: bool | None = False, **payoffs: float) -> pd.DataFrame:
    """One row per run: ``locked_in``, ``winner`` (A/B), ``lock_in_step``, final ``share_a``.

    Payoffs default to Arthur's example (a_R=2, b_R=1, a_S=1, b_S=2, r=s=0.1); seeds from
    SeedSequence(seed).spawn(n_runs). Runs stop at lock-in unless ``stop_at_lock_in`` is False
    (needed to read shares after all arrivals). ``progress`` None shows progress on stderr (a bar on a
    terminal, a line every few seconds elsewhere)."""
    unknown = set(payoffs) - set(STANDARD)
    if unknown:
        raise ValueError(f"unknown payoff(s) {sorted(unknown)}; expected {sorted(STANDARD)}")
    pay = {**STANDARD, **payoffs}
    seeds = [int(c.generate_state(1)[0]) for c in np.random.SeedSequence(seed).spawn(n_runs)]
    jobs = [(s, pay, arrivals, stop_at_lock_in) for s in seeds]
    workers = workers if workers is not None else min(2, multiprocessing.cpu_count())
    rows = []
    with Progress(n_runs, "docking runs", enabled=progress) as bar:
        if workers > 1 and n_runs > 1:
            refuse_unguarded_script("a pool of worker processes", "workers=1")
            ctx = multiprocessing.get_context("forkserver")
            with cf.ProcessPoolExecutor(workers, mp_context=ctx) as ex:
                for row in ex.map(_one, jobs, chunksize=max(1, n_runs // (4 * workers))):
                    rows.append(row)
                    bar.update()
        else:
            for j in jobs:
                rows.append(_one(j))
                bar.update()
    df = pd.DataFrame(rows)
    df.insert(0, "run", range(n_runs))
    return df


def report(n_runs: int, seed: int, workers: int | None) -> str:
    """The comparison with the theory, as printed by ``python -m experiments.docking``."""
    return _report(n_runs, seed, workers)[0]


def _report(n_runs: int, seed: int, workers: int | None) -> tuple[str, pd.DataFrame]:
    lines = []
    df = arthur(n_runs, seed, workers=workers, progress=None)
    theory = gamblers_ruin_time(**STANDARD)
    mean_t = df["lock_in_step"].mean()
    share_a_wins = (df["winner"] == "A").mean()
    lines.append(f"Arthur (1989) docking, {n_runs} runs, a_R=2 b_R=1 a_S=1 b_S=2 r=s=0.1, 2,000 arrivals:")
    lines.append(f"  lock-in            {df['locked_in'].mean():7.1%}   theory 100 %")
    lines.append(f"  A wins             {share_a_wins:7.1%}   theory 50 % (the type mix)")
    lines.append(f"  mean lock-in time  {mean_t:7.1f}   gambler's ruin (Delta+1)^2 = {theory:.0f} "
                 f"({mean_t / theory - 1:+.1%}); Arthur's simulation: 116")
    flat = arthur(max(4, min(20, n_runs // 25)), seed + 1, stop_at_lock_in=False, workers=workers,
                  progress=None, r=0.0, s=0.0)
    lines.append(f"  r = s = 0: A's share after 2,000 arrivals {flat['share_a'].mean():.3f} "
                 f"(type mix {flat['share_r_types'].mean():.3f}; {len(flat)} runs)")
    runs = pd.concat([df.assign(increasing_returns=True), flat.assign(increasing_returns=False)],
                     ignore_index=True)
    return "\n".join(lines), runs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.docking", description=DESCRIPTION)
    p.add_argument("--runs", type=int, default=500, help="runs with increasing returns (default 500)")
    p.add_argument("--seed", type=int, default=0, help="root seed of SeedSequence (default 0)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: up to 2)")
    p.add_argument("--quick", action="store_true", help="100 runs")
    p.add_argument("--out", default="outputs/docking",
                   help="folder for runs.csv and report.txt (default outputs/docking)")
    args = p.parse_args(argv)
    if not 1 <= args.runs <= 1_000_000:
        print(f"error: --runs {args.runs}: expected an integer in [1, 1000000]", file=sys.stderr)
        return 2
    if not 0 <= args.seed < 2**63:
        print(f"error: --seed {args.seed}: expected an integer in [0, 2**63)", file=sys.stderr)
        return 2
    if args.workers is not None and not 1 <= args.workers <= 1024:
        print(f"error: --workers {args.workers}: expected an integer in [1, 1024]", file=sys.stderr)
        return 2
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        print(f"error: --out {out}: exists and is not a folder", file=sys.stderr)
        return 2
    text, runs = _report(100 if args.quick else args.runs, args.seed, args.workers)
    print(text)
    out.mkdir(parents=True, exist_ok=True)
    runs.to_csv(out / "runs.csv", index=False)
    (out / "report.txt").write_text(text + "\n", encoding="utf-8")
    print(f"wrote {out}/ (runs.csv, report.txt)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
