"""The sweep folder as a store: Parquet parts per chunk, completion markers, the failure log,
one writer at a time, resume and reading the tables back.

The folder is chipwar's or refused (``experiments.outdir``): its manifest carries the
``chipwar-sweep`` marker, ``--overwrite`` replaces only a folder with that marker (never ``/``,
the home folder, the current folder or a parent of it), and ``--resume`` completes only one.
A writer holds ``fcntl.flock`` on ``DIR/.lock`` (the file keeps its PID) for the whole session;
the OS drops the lock when the process ends, however it ends.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from experiments import outdir
from experiments.runner.base import TABLES, _canon, _now, _py, _write_json, read_parquet
from experiments.runner.chunks import ChunkResult, _write_parquet
from experiments.runner.manifest import KIND, _without_source, code_version
from model.errors import DesignError, InputError


def _write_chunk(out: Path, res: ChunkResult, session: int) -> None:
    """Parts first (temp + replace), failures appended, the completion marker last."""
    name = res.run_ids[0]
    k = 0
    while (out / "done" / f"{name}.json").exists():  # a resumed retry of a chunk's first run
        k += 1
        name = f"{res.run_ids[0]}.r{k}"
    parts = {}
    for t in TABLES:
        target = out / t / f"{name}.parquet"
        if t in res.files:  # written by the worker: publish it
            os.replace(res.files[t], target)
        elif t in res.tables:
            tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
            _write_parquet(res.tables[t], tmp)
            os.replace(tmp, target)
        else:
            continue
        parts[t] = f"{t}/{target.name}"
    if res.failures:
        with open(out / "failures.jsonl", "a", encoding="utf-8") as fh:
            for rec in res.failures:
                fh.write(json.dumps(rec, default=_py) + "\n")
    _write_json(out / "done" / f"{name}.json",
                {"chunk": name, "runs": res.run_ids, "ok": res.ok, "parts": parts,
                 "failures": res.failures, "session": session, "finished": _now()})


def _markers(out: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8"))
            for p in sorted((out / "done").glob("*.json"))]


LOCK_NAME = ".lock"


class SweepLock:
    """One writer per sweep folder: an exclusive ``flock`` on ``DIR/.lock``, refused (InputError,
    exit 2) with the holder's PID when another process has it."""

    def __init__(self, out: Path) -> None:
        self.out, self.path, self._fd = out, out / LOCK_NAME, None

    def acquire(self) -> SweepLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise InputError(f"--out {self.out}: another sweep (PID {holder}) is writing to this "
                             "folder; wait for it to finish or stop it, then --resume") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def check_out_dir(out: Path, *, resume: bool, overwrite: bool) -> None:
    """Refuse (InputError, nothing touched) a folder this sweep may not write: a non-empty folder
    without ``--resume``/``--overwrite``, one that is not a chipwar sweep, a protected one."""
    if resume and overwrite:
        raise InputError("choose --resume or --overwrite, not both")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder")
    if resume and out.is_dir() and any(out.iterdir()):
        if not _is_sweep(out):
            raise InputError(f"--out {out}: not a chipwar sweep folder (no manifest.json with the "
                             f"{KIND!r} marker); refusing to resume into it")
        outdir.check_writable_dir(out, target=out)
        return
    outdir.prepare_out_dir(out, overwrite=overwrite)  # refuses what is not ours, checks writability
    if overwrite and out.is_dir() and any(out.iterdir()) and not _is_sweep(out):
        raise InputError(f"--out {out}: a chipwar output but not a sweep folder (no {KIND!r} "
                         "marker); refusing to replace it with a sweep")


def _is_sweep(out: Path) -> bool:
    if not outdir.is_ours(out):
        return False
    try:
        return json.loads((out / outdir.MARKER).read_text(encoding="utf-8")).get("kind") == KIND
    except (OSError, ValueError):
        return False


def open_store(out: Path) -> tuple[SweepLock, Path | None]:
    """Create the folder if needed and take its lock; returns the lock and the top-most folder
    this call created (None if ``out`` existed), so that a caller failing before any work can
    remove what it made (:func:`discard_new`)."""
    created = None
    for p in (out, *out.parents):
        if p.exists():
            break
        created = p
    try:
        out.mkdir(parents=True, exist_ok=True)
        return SweepLock(out).acquire(), created
    except OSError as exc:
        raise InputError(f"--out {out}: cannot create the sweep folder or its lock: "
                         f"{exc.strerror or exc}") from None


def discard_new(out: Path, lock: SweepLock, created: Path) -> None:
    """Remove the folders :func:`open_store` just created (they hold only the lock file)."""
    lock.release()
    (out / LOCK_NAME).unlink(missing_ok=True)
    for p in (out, *out.parents):
        try:
            p.rmdir()
        except OSError:
            return
        if p == created:
            return


def resume_state(out: Path, manifest: dict[str, Any], allow_code_change: bool = False) -> tuple[set[str], int]:
    """Under the lock, for ``--resume``: check that the stored sweep is this one (design, run
    function, code version), record this session's code version, tidy what a killed session
    left. Returns the run_ids already done and this session's number."""
    if not (out / outdir.MARKER).is_file():  # resuming into a new folder: a first session
        return set(), 1
    old = json.loads((out / outdir.MARKER).read_text(encoding="utf-8"))
    for key in ("design", "design_table", "run_fn"):
        if _canon(_without_source(old.get(key))) != _canon(_without_source(manifest[key])):
            raise DesignError(f"--resume {out}: the {key.replace('_', ' ')} differs from the "
                              "sweep stored there (manifest.json); use --overwrite or another "
                              "--out")
    versions = list(old.get("code_versions") or [old.get("code_version", "unknown")])
    now = code_version()
    if now not in versions and not allow_code_change:
        raise InputError(f"--resume {out}: the sweep there was run by code version "
                         f"{versions[-1]}, this is {now}; its tables would mix two versions of "
                         "the model. Pass --allow-code-change to resume anyway, or start again "
                         "with --overwrite or another --out")
    manifest["code_version"] = old.get("code_version", versions[0])  # the first session's
    manifest["code_versions"] = versions + [now]
    manifest["created"] = old.get("created", manifest["created"])
    return _tidy_for_resume(out), int(old.get("sessions", 1)) + 1


def clear_sweep(out: Path) -> None:
    """Under the lock, for ``--overwrite``: empty a chipwar sweep folder (all but the lock)."""
    if not _is_sweep(out):
        return  # a new or empty folder (anything else was refused by check_out_dir)
    for p in out.iterdir():
        if p.name == LOCK_NAME:
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()


def make_subdirs(out: Path) -> None:
    for sub in ("done", *TABLES):
        (out / sub).mkdir(parents=True, exist_ok=True)


def _tidy_for_resume(out: Path) -> set[str]:
    """Drop orphan parts (no marker) and temp files of a killed sweep; the run_ids done."""
    done_ok: set[str] = set()
    marked = set()
    for m in _markers(out):
        done_ok.update(m["ok"])
        marked.update(m["parts"].values())
    for t in TABLES:
        for p in (out / t).glob("*") if (out / t).is_dir() else ():
            if f"{t}/{p.name}" not in marked:
                p.unlink()
    for p in (out / "done").glob(".*"):
        p.unlink()
    for p in out.glob(".*.tmp-*"):
        p.unlink()
    _rewrite_failures(out)
    return done_ok


def remove_worker_leftovers(out: Path) -> None:
    """Hidden temp parts of chunks whose worker died before they were published."""
    for t in TABLES:
        for p in (out / t).glob(".*.parquet.w-*"):
            p.unlink(missing_ok=True)


def _rewrite_failures(out: Path) -> None:
    """failures.jsonl = the latest failure of each run that has never succeeded."""
    markers = _markers(out)
    ok = {r for m in markers for r in m["ok"]}
    latest: dict[str, dict[str, Any]] = {}
    for m in sorted(markers, key=lambda m: m.get("session", 1)):
        for rec in m["failures"]:
            if rec["run_id"] not in ok:
                latest[rec["run_id"]] = rec
    text = "".join(json.dumps(latest[k], default=_py) + "\n" for k in sorted(latest))
    tmp = out / f".failures.jsonl.tmp-{os.getpid()}"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out / "failures.jsonl")


def read_tables(out_dir: str | Path) -> dict[str, pd.DataFrame]:
    """The sweep's tables, from completed chunks only, sorted by run_id and step."""
    out = Path(out_dir)
    if not (out / "manifest.json").is_file():
        raise InputError(f"{out}: not a sweep directory (no manifest.json)")
    markers = _markers(out)
    result = {}
    for t in TABLES:
        files = sorted(str(out / m["parts"][t]) for m in markers if t in m["parts"])
        if not files:
            result[t] = pd.DataFrame()
            continue
        df = read_parquet(files)
        keys = [k for k in ("run_id", "step") if k in df.columns]
        result[t] = df.sort_values(keys, kind="stable").reset_index(drop=True)
    return result


