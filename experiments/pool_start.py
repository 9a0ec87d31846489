"""The worker pool's fork server, started before the command line is even parsed (issue 19).

``chipwar sweep`` on the local process pool needs a fork server that has imported the model and
loaded its compiled kernels (about 1.5-2 s) before the first run can start. Building the full
command line imports pandas and the runner (about 0.6 s); starting the server first lets the
two overlap. Standard library only, so that importing this module costs nothing; the runner's
executors take the server's preload list from here, so both ask for the same server.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver

DEFAULT_RUN_FN = "model.run:run_tables"  # the runner's default run function (experiments.runner.base)
_NOT_THE_POOL = ("--serial", "--scheduler", "--dask-local", "-h", "--help")


def preload_for(run_fn_modules: tuple[str, ...]) -> list[str]:
    """The fork server's preload: the entry module, the runner, the run function's module and,
    with the model's, its warm-up (every compiled kernel and one set-up)."""
    warm = ["model._warm"] if any(m == "model" or m.startswith("model.") for m in run_fn_modules) else []
    return ["__main__", "experiments.runner", *run_fn_modules, *warm]


def start_for_sweep_args(args: list[str]) -> bool:
    """Start the fork server in the background when these ``chipwar sweep`` arguments choose the
    local process pool (no --serial, --scheduler, --dask-local; --workers absent or >= 1); True if
    it did. Anything it cannot read leaves the decision to the real parser (nothing started)."""
    if any(a == flag or a.startswith(flag + "=") for a in args for flag in _NOT_THE_POOL):
        return False
    run_fn = DEFAULT_RUN_FN
    for i, a in enumerate(args):
        name, eq, value = a.partition("=")
        if name in ("--workers", "--run-fn"):
            if not eq:
                if i + 1 >= len(args):
                    return False
                value = args[i + 1]
            if name == "--run-fn":
                run_fn = value
            elif not value.isdigit() or int(value) < 1:
                return False
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(preload_for((run_fn.split(":")[0],)))
    multiprocessing.forkserver.ensure_running()  # returns at once; the server loads alone
    return True
