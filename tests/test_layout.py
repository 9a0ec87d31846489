"""The code's shape is a promise too (issue 14): one mechanism per file, a small model class,
imports that run one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("model", "agents", "experiments")


def _py_files():
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", _py_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_file_over_400_lines(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= 400, f"{path.relative_to(ROOT)} has {n} lines: split it by concept"


def test_the_model_class_is_small():
    tree = ast.parse((ROOT / "model" / "market_model.py").read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ChipMarketModel")
    assert cls.end_lineno - cls.lineno + 1 <= 150


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


@pytest.mark.parametrize("pkg, forbidden", [
    ("model", "experiments"), ("agents", "experiments"), ("agents", "model.market_model"),
    ("experiments/plots", "experiments.commands"),
])
def test_imports_run_one_way(pkg, forbidden):
    bad = [str(p.relative_to(ROOT)) for p in (ROOT / pkg).rglob("*.py")
           if any(m == forbidden or m.startswith(forbidden + ".") for m in _imports(p))]
    assert not bad, f"{forbidden} imported from {bad}"
