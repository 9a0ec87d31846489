"""Shared helpers of the bad-input suite (tests/test_bad_inputs*.py): run the CLI in-process in a
temporary working folder, snapshot a folder tree to prove that nothing outside the intended
output changed, write scenario files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from experiments.cli import main

REPO = Path(__file__).resolve().parents[1]
PACKAGED = (REPO / "model" / "data", REPO / "model" / "scenarios")


def cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """``chipwar ARGV`` in this process: (exit status, stdout, stderr); argparse's exit too."""
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse: a malformed flag value
        rc = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Traceback" not in out, err
    return rc, out, err


def snapshot(root: Path, skip: Path | None = None) -> dict[str, str]:
    """relative path -> sha256 (folders as 'dir') of every entry under ``root``, except ``skip``."""
    found: dict[str, str] = {}
    skip = skip.resolve() if skip is not None else None
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if skip is not None and (here.resolve() == skip or skip in here.resolve().parents):
            dirnames[:] = []
            continue
        for d in dirnames:
            p = here / d
            if skip is None or p.resolve() != skip:
                found[str(p.relative_to(root))] = "dir"
        for f in filenames:
            p = here / f
            if skip is not None and p.resolve() == skip:
                continue
            found[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return found


def packaged_snapshot() -> dict[str, str]:
    """The packaged data and scenarios (no command may change them without being asked)."""
    out: dict[str, str] = {}
    for folder in PACKAGED:
        out.update({f"{folder.name}/{k}": v for k, v in snapshot(folder).items()
                    if "__pycache__" not in k})
    return out


def scenario(tmp: Path, text: str, name: str = "case.toml", encoding: str = "utf-8") -> Path:
    path = tmp / name
    path.write_bytes(text.encode(encoding))
    return path


# A stand-alone scenario (no history events) for cases about dates and events.
PLAIN = 'name = "plain"\n[parameters]\nstart = "2023-01"\nend = "2023-06"\n'
