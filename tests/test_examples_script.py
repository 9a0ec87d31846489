"""docs/examples.py takes --out and never writes into tracked folders unless --update-docs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ex():
    spec = importlib.util.spec_from_file_location("chipwar_docs_examples", ROOT / "docs" / "examples.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up there
    spec.loader.exec_module(mod)
    yield mod
    sys.modules.pop(spec.name, None)


def test_defaults_stay_under_out(ex, tmp_path):
    tables, figures = ex.targets(ex._parse(["--out", str(tmp_path / "ex")]))
    assert tables == tmp_path / "ex" and figures == tmp_path / "ex" / "figures"
    tables, figures = ex.targets(ex._parse([]))
    assert figures == Path("outputs/examples/figures")


def test_update_docs_is_the_only_way_into_docs(ex):
    _, figures = ex.targets(ex._parse(["--update-docs"]))
    assert figures == ROOT / "docs"
    _, figures = ex.targets(ex._parse(["--update-docs", "--quick"]))  # a smoke run never replaces them
    assert figures != ROOT / "docs"


@pytest.mark.parametrize("argv", [["--figures", str(ROOT / "docs")], ["--out", str(ROOT / "docs" / "x")],
                                  ["--out", str(ROOT / "model")]])
def test_tracked_targets_are_refused_before_anything_runs(ex, argv, capsys):
    before = {p: p.stat().st_mtime_ns for p in (ROOT / "docs").glob("*.png")}
    assert ex.main(argv) == 2
    assert "--update-docs" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in (ROOT / "docs").glob("*.png")} == before
    assert not (ROOT / "docs" / "x").exists()
