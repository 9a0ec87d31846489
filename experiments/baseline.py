"""Baseline experiment: history 2022-2025, then reaction functions, over many seeds.

    python -m experiments.baseline [--quick] [--seeds 20] [--out outputs/baseline]

Writes the tables (Parquet parts, manifest) under outputs/baseline/, the figures and an
index.html that explains them; prints where it wrote. `make run` runs this.
"""

from __future__ import annotations

import sys

from experiments.analysis import guard, run_spec
from experiments.common import draw, parser
from experiments.outdir import experiment_out


def main(argv: list[str] | None = None) -> int:
    p = parser("baseline", "The baseline scenario over many seeds: adoption by bloc and stack with uncertainty.", 20)
    args = p.parse_args(argv)
    if args.quick:
        args.seeds = min(args.seeds, 3)

    def go() -> int:
        spec = {"scenario": "baseline", "sampler": "grid", "replications": args.seeds,
                "root_seed": 20220101, "parameters": {},
                "fixed": {"end": "2027-12"} if args.quick else {}}
        out = experiment_out(args.out, overwrite=args.overwrite, script="baseline")
        _design, res = run_spec(spec, args, out, origin="experiments.baseline")
        index = draw(out, args)
        print(f"wrote tables to {out}/ (model/, adoption/, vendors/, manifest.json)")
        if index:
            print(f"figures: {index.resolve()}")
        return 1 if res.n_failed else 0

    return guard(go)


if __name__ == "__main__":
    sys.exit(main())
