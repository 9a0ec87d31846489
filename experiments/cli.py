"""The `chipwar` command line: one entry point, one sub-command per job.

Exit status: 0 on success, 2 on bad input (with the message), 1 on a failure inside a run (a
disk or permission error that no earlier check caught is one line naming the path, exit 1).
Each sub-command lives in ``experiments/commands/<name>.py`` with ``add_arguments(parser)``
and ``run(args) -> int``; only the named command's module is imported, so that
``chipwar export --help`` answers in 0.05 s (0.4 s when every module was imported).
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import traceback
from typing import NoReturn

from model.errors import InputError
from model.gc_pause import freeze_at_exit

# sub-command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "price": ("experiments.commands.price", "compare offerings with the cluster-performance core"),
    "run": ("experiments.commands.run", "one scenario run; writes the output tables"),
    "sweep": ("experiments.commands.sweep", "a design x replications on an executor"),
    "plot": ("experiments.commands.plot", "figures from written tables"),
    "validate": ("experiments.commands.validate", "history replay against observed figures"),
    "dashboard": ("experiments.commands.dashboard", "the live dashboard (a Solara page in the browser)"),
    "catalog": ("experiments.commands.catalog", "list, check and import hardware data"),
    "summary": ("experiments.commands.summary", "yearly tables by vendor and region, headline metrics by year"),
    "params": ("experiments.commands.params", "list the model parameters (filter by a word)"),
    "scenarios": ("experiments.commands.scenarios", "list the scenarios and the question each answers"),
    "export": ("experiments.commands.export", "write a run or sweep folder's tables as CSV"),
}


def _available(only: str | None = None) -> dict[str, object]:
    mods = {}
    for name, (modname, _help) in COMMANDS.items():
        if only is not None and name != only:
            continue
        try:
            mods[name] = importlib.import_module(modname)
        except ModuleNotFoundError as exc:
            if exc.name != modname:  # a real import error inside the module
                raise
    return mods


class SuggestingParser(argparse.ArgumentParser):
    """An ArgumentParser that answers an invalid choice (a mistyped sub-command, ``--format``
    value, ...) with the nearest valid ones."""

    def error(self, message: str) -> NoReturn:
        m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if m:
            from model.errors import did_you_mean

            valid = re.findall(r"'([^']*)'", m.group(2)) or [c.strip() for c in m.group(2).split(",")]
            message = message.replace(m.group(0), f"invalid choice: {m.group(1)!r}"
                                      f"{did_you_mean(m.group(1), valid)}; choose from {', '.join(valid)}")
        super().error(message)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = SuggestingParser(
        prog="chipwar",
        description="Agent-based geopolitical market model of the AI-accelerator race.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # only the named sub-command's module (the others import pandas and the model: 0.3-0.4 s);
    # every module when none is named or it cannot be imported (an optional dependency missing:
    # the command is then absent, and the error lists the ones there are)
    mods = (only is not None and _available(only)) or _available()
    for name, mod in mods.items():
        p = sub.add_parser(name, help=COMMANDS[name][1], description=COMMANDS[name][1])
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    freeze_at_exit()  # the process's exit skips the collector's final passes (0.2-0.6 s)
    if argv[:1] == ["sweep"]:  # the pool's server loads while the command line is built
        from experiments.pool_start import start_for_sweep_args

        start_for_sweep_args(argv[1:])
    parser = build_parser(argv[0] if argv[:1] and argv[0] in COMMANDS else None)
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except InputError as exc:
        print(f"chipwar {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # last resort: a disk or permission failure while writing or reading
        print(f"chipwar {args.command}: error: {os_error_line(exc)}", file=sys.stderr)
        return 1
    except Exception:  # a failure inside a run
        traceback.print_exc()
        return 1


def os_error_line(exc: OSError) -> str:
    """One line naming the path and what failed (``No space left on device``, ...)."""
    what = exc.strerror or type(exc).__name__
    paths = [str(p) for p in (exc.filename, exc.filename2) if p]
    return f"{' -> '.join(paths)}: {what}" if paths else f"{what} ({exc})"


if __name__ == "__main__":
    sys.exit(main())
