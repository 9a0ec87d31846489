"""Stale compiled kernels: numba's disk cache knows only the file a kernel is written in.

A cached kernel is reused while its own source file is unchanged (numba compares that file's
modification time and size). But a kernel compiles into itself the kernels it calls and the
module constants it reads, often from other files: after a change there (a ``git pull`` in an
editable install, a developer's edit), the caller's cached machine code still runs the old
callee. This happened here: the recorder's month kernel kept an older ``dual_stack_share_nb``
after metrics.py changed (the results were the same only because the old code fell back).

``refresh()`` runs once per process, when the first kernel module is imported, before any kernel
is loaded: for every module of the ``model`` package that defines kernels, a digest of its source
and of every ``model`` module it imports from, transitively; where a digest changed since the
last run, that module's cache files are deleted, so numba compiles it again. The digests are kept
in ``model/__pycache__/kernel_sources.json``; while no source file's modification time or size
changed, the check is a ``stat`` per file. A package folder it cannot write (a read-only install)
is left as it is.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the model package
STAMPS = "kernel_sources.json"
_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+(\w+(?:\.\w+)*)[ \t]+import[ \t]+(?:\(([^)]*)\)|([\w \t,]+))"
                     r"|import[ \t]+(\w+(?:\.\w+)*))", re.MULTILINE)
_KERNEL = re.compile(r"^[ \t]*@(?:numba\.)?njit\b", re.MULTILINE)  # a module that defines kernels
_done = False


def refresh(root: Path = ROOT) -> list[str]:
    """Delete the disk-cached kernels of the modules under ``root`` whose source or dependencies
    changed since the last call; returns the modules (paths relative to ``root``) refreshed."""
    try:
        files = _sources(root)  # (path relative to root, path)
        seen = {rel: [(st := os.stat(path)).st_mtime_ns, st.st_size] for rel, path in files}
        store = root / "__pycache__" / STAMPS
        try:
            old = json.loads(store.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        if old.get("files") == seen:
            return []
        texts = {rel: Path(path).read_text(encoding="utf-8") for rel, path in files}
        stamps = _stamps(texts, root)
        done = [m for m, d in stamps.items() if old.get("stamps", {}).get(m) != d]
        store.parent.mkdir(exist_ok=True)
        tmp = store.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"files": seen, "stamps": stamps}), encoding="utf-8")  # writable?
        try:
            for m in done:
                _delete_cache(root / m)
        except OSError:
            tmp.unlink()
            raise
        tmp.replace(store)  # recorded only once the stale files are gone
        return done
    except OSError:
        return []


def refresh_once() -> None:
    """:func:`refresh` the first time it is called in a process."""
    global _done
    if not _done:
        _done = True
        refresh()


def _sources(root: Path) -> list[tuple[str, str]]:
    """The package's .py files as (path relative to root with '/', path), not walking into
    __pycache__ (which holds the cache files)."""
    top = str(root)
    out = []
    for folder, dirs, names in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        sub = folder[len(top) + 1:].replace(os.sep, "/")
        out += [(f"{sub}/{n}" if sub else n, os.path.join(folder, n)) for n in sorted(names) if n.endswith(".py")]
    return out


def _stamps(texts: dict[str, str], root: Path) -> dict[str, str]:
    """Each kernel module's digest: its source and its imports' sources, transitively."""
    deps = {m: _imports(t, root.name) for m, t in texts.items()}
    out = {}
    for m, text in texts.items():
        if not _KERNEL.search(text):
            continue
        closure, todo = set(), [m]
        while todo:
            for d in deps.get(todo.pop(), ()):
                if d in texts and d not in closure:
                    closure.add(d)
                    todo.append(d)
        h = hashlib.sha256(text.encode())
        for d in sorted(closure - {m}):
            h.update(b"\0" + d.encode() + b"\0" + texts[d].encode())
        out[m] = h.hexdigest()
    return out


def _imports(text: str, package: str) -> set[str]:
    """The package's modules a source imports from (``from model.x import y`` names model/x.py,
    and model/x/y.py where y is a module; ``from model import y`` model/y.py)."""
    out: set[str] = set()
    for base, grouped, names, plain in _IMPORT.findall(text):
        names = grouped or names
        mod = (base or plain).split(".")
        if mod[0] != package:
            continue
        path = "/".join(mod[1:])
        cands = [f"{path}.py", f"{path}/__init__.py"] if path else ["__init__.py"]
        for name in re.findall(r"\w+", names or ""):
            cands.append(f"{path}/{name}.py" if path else f"{name}.py")
        out.update(cands)
    return out


def _delete_cache(source: Path) -> None:
    """numba's cache files of one module: ``__pycache__/<stem>.<function>-<line>.pyXY[.N].nbi|nbc``."""
    folder = source.parent / "__pycache__"
    if not folder.is_dir():
        return
    for f in folder.iterdir():
        if f.name.startswith(source.stem + ".") and f.suffix in (".nbi", ".nbc"):
            try:
                f.unlink()
            except FileNotFoundError:
                pass
