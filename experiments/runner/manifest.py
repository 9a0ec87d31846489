"""The sweep manifest: what was run (design, run function), with which code and packages."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path
from typing import Any

from experiments import outdir
from experiments.runner.base import TABLES, _now
from experiments.runner.design import Design

KIND = "chipwar-sweep"  # outdir.marker("sweep")'s kind: the folder is a chipwar sweep


def _new_manifest(design: Design, run_fn_label: str) -> dict[str, Any]:
    """What is run and with what; ``code_version`` is the first session's, ``code_versions``
    (added by the store) one entry per session."""
    return {
        **outdir.marker("sweep"),
        "code_version": code_version(),
        "code_versions": [code_version()],
        "packages": package_versions(),
        "python": sys.version.split()[0],
        "scenario": design.scenario,
        "run_fn": run_fn_label,
        "root_seed": design.root_seed,
        "replications": design.replications,
        "design": design.spec(),
        "design_table": design.table_records(),
        "tables": list(TABLES),
        "created": _now(),
        "finished": None,
        "status": "running",
        "counts": {"design_points": len(design.points), "runs": design.n_runs},
    }


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """``git describe --always --dirty`` of the source tree, else the package version."""
    root = Path(__file__).resolve().parents[2]  # the repository (experiments/runner/..)
    try:
        res = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=root,
                             capture_output=True, text=True, timeout=10, check=False)
        if res.returncode == 0 and res.stdout.strip():
            return res.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return _dist_version("chipwar") or "unknown"


def package_versions() -> dict[str, str | None]:
    return {p: _dist_version(p) for p in ("chipwar", "mesa", "numpy", "pandas", "pyarrow",
                                          "scipy", "SALib", "distributed")}


def _dist_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _without_source(obj: Any) -> Any:
    """The design spec without its file path (the same design may be named differently)."""
    return {k: v for k, v in obj.items() if k != "source"} if isinstance(obj, dict) else obj
