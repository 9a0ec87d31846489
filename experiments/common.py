"""Shared plumbing of the experiment scripts: arguments, running a design, drawing figures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from model.errors import InputError


def parser(name: str, description: str, seeds: int) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m experiments.{name}", description=description)
    p.add_argument("--quick", action="store_true", help="a small, fast version (CI, smoke tests)")
    p.add_argument("--seeds", type=int, default=seeds, help=f"replications per design point (default {seeds})")
    p.add_argument("--out", default=f"outputs/{name}", help=f"output folder (default outputs/{name}); "
                   "must be new or empty unless --overwrite")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an earlier chipwar output in --out (never a folder that is not one)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--serial", action="store_true", help="run in this process (no pool)")
    p.add_argument("--no-plots", action="store_true", help="write tables only")
    return p


def draw(out: Path, args: argparse.Namespace) -> Path | None:
    """Draw every figure that applies to the tables in ``out``; return the index.html path."""
    if args.no_plots:
        return None
    try:
        from experiments.commands.price import price_frame
        from experiments.plots import plot_folder
    except ImportError:  # pragma: no cover - plots module missing
        return None
    pngs = plot_folder(out, price_fn=price_frame)
    index = (pngs[0].parent if pngs else out / "figures") / "index.html"
    return index if index.exists() else None


def main_guard(fn) -> int:
    """Run an experiment's main, turning bad input into exit 2 with the message."""
    try:
        return int(fn() or 0)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
