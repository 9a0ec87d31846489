"""The sweep folder as a store: Parquet parts per chunk, completion markers, the failure log,
resume and reading the tables back."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.runner.base import TABLES, _canon, _now, _py, _write_json
from experiments.runner.chunks import ChunkResult, _write_parquet
from experiments.runner.manifest import _without_source
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


def _prepare_dir(out: Path, manifest: dict[str, Any], *, resume: bool,
                 overwrite: bool) -> tuple[set[str], int]:
    """Check/clean the output directory; return the run_ids already done and the session no."""
    exists = out.exists() and any(out.iterdir())
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a directory")
    done_ok: set[str] = set()
    session = 1
    if exists and not (resume or overwrite):
        raise InputError(f"--out {out}: directory is not empty; use --resume to complete that "
                         "sweep or --overwrite to replace it")
    if exists and not (out / "manifest.json").is_file():
        raise InputError(f"--out {out}: not empty and has no manifest.json (not a sweep "
                         "directory); refusing to "
                         + ("resume into" if resume else "delete") + " it")
    if exists and overwrite:
        shutil.rmtree(out)
    elif exists and resume:
        old = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        for key in ("design", "design_table", "run_fn"):
            if _canon(_without_source(old.get(key))) != _canon(_without_source(manifest[key])):
                raise DesignError(f"--resume {out}: the {key.replace('_', ' ')} differs from the "
                                  "sweep stored there (manifest.json); use --overwrite or another "
                                  "--out")
        manifest["created"] = old.get("created", manifest["created"])
        session = int(old.get("sessions", 1)) + 1
        marked = set()
        for m in _markers(out):
            done_ok.update(m["ok"])
            marked.update(m["parts"].values())
        for t in TABLES:  # orphan parts (no marker) and temp files of a killed sweep
            for p in (out / t).glob("*") if (out / t).is_dir() else ():
                if f"{t}/{p.name}" not in marked:
                    p.unlink()
        for p in (out / "done").glob(".*"):
            p.unlink()
        for p in out.glob(".*.tmp-*"):
            p.unlink()
        _rewrite_failures(out)
    for sub in ("done", *TABLES):
        (out / sub).mkdir(parents=True, exist_ok=True)
    return done_ok, session


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
        df = pd.read_parquet(files)
        keys = [k for k in ("run_id", "step") if k in df.columns]
        result[t] = df.sort_values(keys, kind="stable").reset_index(drop=True)
    return result


