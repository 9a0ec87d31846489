"""`chipwar params [WORD]`: the parameter registry (name, default, range, unit, source, meaning).

WORD keeps the parameters whose name, meaning or source contain it; a WORD that matches none is
answered with the nearest parameter names. Set a parameter with `chipwar run --set NAME=VALUE`,
in a scenario's [parameters] or in a design file.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import textwrap

from model.errors import InputError, did_you_mean


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("word", nargs="?", default=None, metavar="WORD",
                   help="keep parameters whose name, meaning or source contain WORD (e.g. levy, rare)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")


def run(args: argparse.Namespace) -> int:
    from experiments.api import parameters

    df = parameters(args.word)
    if df.empty:
        names = list(parameters()["name"])
        raise InputError(f"no parameter matches {args.word!r}{did_you_mean(args.word, names)}; "
                         "`chipwar params` lists all of them")
    cols = ["name", "default", "range", "unit", "source", "doc"]
    if args.format == "csv":
        df[cols + ["kind", "low", "high"]].to_csv(sys.stdout, index=False, lineterminator="\n")
    elif args.format == "json":
        rows = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
                for r in df[cols + ["kind", "low", "high"]].to_dict("records")]
        json.dump(rows, sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
    else:
        print(render(df))
    return 0


def _default(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def render(df) -> str:
    """Name, default, range and unit aligned; the source and meaning wrapped beneath each name."""
    rows = [(r.name, _default(r.default), r.range, r.unit or "-") for r in df.itertuples(index=False)]
    w = [max(len(h), *(len(x[i]) for x in rows)) for i, h in enumerate(("name", "default", "range", "unit"))]
    head = "  ".join(h.ljust(w[i]) for i, h in enumerate(("name", "default", "range", "unit")))
    lines = [head, "  ".join("-" * x for x in w)]
    for (name, default, rng, unit), r in zip(rows, df.itertuples(index=False)):
        lines.append("  ".join((name.ljust(w[0]), default.ljust(w[1]), rng.ljust(w[2]), unit)))
        lines += textwrap.wrap(f"{r.doc} [source: {r.source}]", 100, initial_indent="    ",
                               subsequent_indent="    ")
    lines.append(f"\n{len(df)} parameter{'s' if len(df) != 1 else ''}; 'assumed' = no public figure "
                 "pins it; sources are sections of docs/SOURCES.md.")
    return "\n".join(lines)
