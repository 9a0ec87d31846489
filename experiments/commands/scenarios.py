"""`chipwar scenarios [NAME]`: the shipped scenarios and the question each answers.

Every file in model/scenarios/ is listed; test benches (arthur_docking) are marked as such. With
NAME, its description, file and policy events; an unknown NAME is answered with the nearest ones.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path

import pandas as pd


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", default=None, metavar="NAME", help="show one scenario in detail")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")


def run(args: argparse.Namespace) -> int:
    from experiments.api import check_scenario, scenarios

    df = scenarios()
    if args.name is not None:
        check_scenario(args.name)
        df = df[df["name"] == args.name]
        if df.empty:  # a .toml path
            from experiments.api import _toml_description, scenario_question

            df = pd.DataFrame([{"name": args.name, "question": scenario_question(args.name),
                                "description": _toml_description(Path(args.name)),
                                "test_bench": False, "path": args.name}])
    if args.format == "csv":
        df.to_csv(sys.stdout, index=False, lineterminator="\n")
    elif args.format == "json":
        json.dump(df.to_dict("records"), sys.stdout, indent=1)
        sys.stdout.write("\n")
    elif args.name is not None:
        print(detail(df.iloc[0]))
    else:
        w = max(len(n) for n in df["name"])
        for r in df.itertuples(index=False):
            q = r.question + ("  [test bench, not a policy question]" if r.test_bench else "")
            lines = textwrap.wrap(q, 100 - w - 2) or [""]
            print(r.name.ljust(w) + "  " + lines[0])
            for line in lines[1:]:
                print(" " * (w + 2) + line)
        print("\nchipwar scenarios NAME shows one; chipwar run --scenario NAME runs it.")
    return 0


def detail(r) -> str:
    from model.scenario import load_scenario

    sc = load_scenario(r["path"])
    out = [f"{r['name']}{'  [test bench]' if r['test_bench'] else ''}", f"question:    {r['question']}",
           f"description: {r['description']}", f"file:        {r['path']}"]
    if sc.params:
        out.append("parameters:  " + ", ".join(f"{k}={v}" for k, v in sc.params.items()))
    out.append(f"events ({len(sc.events)}):")
    for ev in sc.events:
        what = ", ".join(f"{k}={v}" for k, v in ev.fields.items())
        out.append("  " + textwrap.shorten(f"{ev.date}  {ev.kind}  {what}", 108, placeholder=" ..."))
    return "\n".join(out)
