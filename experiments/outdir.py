"""Output folders are ours or refused (issue 17).

Every command that writes a folder of results goes through :func:`prepare_out_dir` before it
computes anything and :func:`replace_dir` (write beside, then rename) when it is done:

- a folder that does not exist, or is empty, is ours to fill;
- a non-empty folder is refused unless ``overwrite`` is given, and even then it is replaced only
  if it carries chipwar's own marker (``manifest.json`` with ``"kind": "chipwar-..."`` and a
  ``schema``), never ``/``, the home folder, the current folder or a parent of it;
- names taken from files (scenario or design ``name``) are made safe with :func:`safe_name`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from model.errors import InputError

MARKER = "manifest.json"
SCHEMA = 1
_SAFE = re.compile(r"[^A-Za-z0-9._+-]+")


def safe_name(name: str, origin: str = "name") -> str:
    """A file-name-safe version of ``name`` (letters, digits, ``._+-``); refuses what has none."""
    out = _SAFE.sub("_", str(name)).strip("._")
    if not out:
        raise InputError(f"{origin} = {name!r}: expected a name with letters or digits "
                         "(it becomes a folder name)")
    return out[:120]


def marker(kind: str, **fields: Any) -> dict[str, Any]:
    """The fields that mark a folder as chipwar's: ``kind`` (run, sweep, plot, ...) and schema."""
    return {"kind": f"chipwar-{kind}", "schema": SCHEMA, **fields}


def is_ours(path: Path) -> bool:
    """True if ``path`` carries chipwar's marker (not just any manifest.json)."""
    try:
        data = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and str(data.get("kind", "")).startswith("chipwar-") and "schema" in data


def _protected(path: Path) -> str | None:
    """Why ``path`` may never be replaced, or None."""
    p = path.resolve()
    if p == Path(p.anchor):
        return "it is the file-system root"
    if p == Path.home().resolve():
        return "it is the home folder"
    cwd = Path.cwd().resolve()
    if p == cwd or p in cwd.parents:
        return "it is the current folder or one of its parents"
    return None


def prepare_out_dir(path: str | Path, *, overwrite: bool = False, flag: str = "--out",
                    check_writable: bool = True) -> Path:
    """Check (before any work) that results may be written to ``path``; returns it as a Path.

    Nothing is deleted here: a replaceable folder is replaced only by :func:`replace_dir` once the
    new results exist. Raises InputError (exit 2) naming the folder and what to do.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise InputError(f"{flag} {out}: exists and is not a folder")
    why = _protected(out)
    if why:  # even when empty: the final rename would move it
        raise InputError(f"{flag} {out}: refusing to write into it: {why}")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise InputError(f"{flag} {out}: folder is not empty; choose an empty or new folder, "
                             "or pass --overwrite to replace an earlier chipwar output there")
        if not is_ours(out):
            raise InputError(f"{flag} {out}: not empty and not a chipwar output folder (no chipwar "
                             f"{MARKER}); refusing to replace it even with --overwrite")
    if check_writable:
        # the staging folder is made beside ``out`` and renamed, so its parent must be writable
        check_writable_dir(out.absolute().parent, flag=flag, target=out)
    return out


def check_writable_dir(folder: Path, *, flag: str = "--out", target: Path | None = None) -> None:
    """Fail early, with one line, if nothing can be created in ``folder`` (or its nearest parent)."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise InputError(f"{flag} {target or folder}: cannot write there ({probe} is a file, not a folder)")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {target or folder}: cannot write there ({probe} is not writable)")
    try:  # os.access says yes to root on a read-only mount's files; a real probe does not
        Path(tempfile.mkdtemp(prefix=".chipwar-probe.", dir=probe)).rmdir()
    except OSError as exc:
        raise InputError(f"{flag} {target or folder}: cannot write there ({probe}: {exc.strerror})") from None


def replace_dir(tmp: Path, out: Path) -> None:
    """Move the finished folder ``tmp`` to ``out``; an existing ``out`` (checked by
    :func:`prepare_out_dir`) is moved aside first and removed only after the rename."""
    old = None
    if out.exists():
        if any(out.iterdir()) and (_protected(out) or not is_ours(out)):
            raise InputError(f"{out}: refusing to replace a folder that is not a chipwar output")
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
    try:
        tmp.rename(out)
    except OSError:
        if old is not None:
            old.rename(out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def staging_dir(out: Path) -> Path:
    """A fresh temporary folder beside ``out`` (same file system, so the final rename is atomic)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))


def experiment_out(path: str | Path, *, overwrite: bool, script: str, holds_sweeps: bool = False,
                   flag: str = "--out") -> Path:
    """Check an experiment script's output folder before it runs (the policy of
    :func:`prepare_out_dir`). A folder that holds several sweeps (``holds_sweeps``: scenarios,
    sensitivity) is created now and carries chipwar's marker itself, so that ``--overwrite``
    can later tell it from a folder that is not ours; one that holds only that marker (a run
    stopped before its first sweep) counts as empty."""
    out = Path(path)
    only_marker = out.is_dir() and [p.name for p in out.iterdir()] == [MARKER] and is_ours(out)
    out = prepare_out_dir(out, overwrite=overwrite or only_marker, flag=flag)
    if holds_sweeps:
        out.mkdir(parents=True, exist_ok=True)
        if not is_ours(out):
            (out / MARKER).write_text(json.dumps(marker("experiment", script=script), indent=2),
                                      encoding="utf-8")
    return out
