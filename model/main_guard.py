"""A script that starts worker processes outside ``if __name__ == "__main__":``, refused up front.

Worker processes started by a fork server (the sweep pool, ``chipwar validate``'s pool) or by
spawn (a local Dask cluster) import the script that started them again, as ``__mp_main__``, so
that its functions can be found there. A script that starts the sweep in its top-level code then
starts it again in every worker; multiprocessing refuses that in the worker, the worker dies, and
the parent only sees a pool that broke (it used to replace it three times, then report that "a
worker process died", after four copies of multiprocessing's traceback). Python documents the
rule ("Safe importing of main module" in the multiprocessing guide); Mesa's ``batch_run`` has it
too.

``unguarded_main_line`` finds the line of the main script that is running now (the call being
made comes from it) and reads the script with ``ast``: when that line is not inside a top-level
``if __name__ == "__main__":`` block, the pool would start again in each worker, and
``refuse_unguarded_script`` raises an :class:`InputError` naming the script and the line, before
any process is started or any file written. A notebook, ``python -c``, a thread or a worker
process has no such line: nothing is checked there.
"""

from __future__ import annotations

import ast
import sys
from types import FrameType

from model.errors import InputError


def unguarded_main_line() -> tuple[str, int] | None:
    """(script, line) when the main script's top-level code outside ``if __name__ == "__main__":``
    is what is running now (at that line); None otherwise, and whenever it cannot be told."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not path or getattr(main, "__name__", None) != "__main__":
        return None  # a notebook, python -c, or a worker (whose main module is __mp_main__)
    line = _main_frame_line(sys._getframe(1), vars(main))
    if line is None:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), filename=path)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None  # not a readable source file (a zip application, a frozen program)
    for stmt in tree.body:
        if stmt.lineno <= line <= (stmt.end_lineno or stmt.lineno):
            return None if _is_main_guard(stmt) else (path, line)
    return None


def refuse_unguarded_script(what: str, serially: str) -> None:
    """InputError if the main script starts ``what`` (worker processes) outside its guard;
    ``serially`` says how to run without them."""
    found = unguarded_main_line()
    if found is not None:
        path, line = found
        raise InputError(
            f"{path}, line {line}: starts {what} outside `if __name__ == \"__main__\":`; each "
            "worker process imports this script again and would start it again. Put the code "
            "that starts it under `if __name__ == \"__main__\":` (functions and imports can stay "
            f"above), or run it serially ({serially})")


def _main_frame_line(frame: FrameType | None, main_globals: dict) -> int | None:
    """The current line of the main module's top-level code among ``frame`` and its callers."""
    while frame is not None:
        if frame.f_code.co_name == "<module>" and frame.f_globals is main_globals:
            return frame.f_lineno
        frame = frame.f_back
    return None


def _is_main_guard(stmt: object) -> bool:
    """A top-level ``if`` whose test compares ``__name__`` with ``"__main__"``."""
    if not isinstance(stmt, ast.If):
        return False
    for node in ast.walk(stmt.test):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if (any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
                    and any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)):
                return True
    return False
