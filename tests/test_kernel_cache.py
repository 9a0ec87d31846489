"""model/core/kernel_cache.py: a cached kernel is dropped when its module or any module it imports
from changed (numba itself looks only at the kernel's own file)."""

from __future__ import annotations

import os
from pathlib import Path

from model.core import kernel_cache as K

KERNEL = "from numba import njit\n{imports}\n\n@njit(cache=True)\ndef f(x):\n    return x + {value}\n"


def _package(root: Path) -> Path:
    pkg = root / "model"
    (pkg / "core").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "core" / "__init__.py").write_text("")
    (pkg / "consts.py").write_text("from model.core.deep import Z\nA = 1.0\n")
    (pkg / "core" / "deep.py").write_text("Z = 2.0\n")
    (pkg / "a.py").write_text(KERNEL.format(imports="from model.consts import A", value="A"))
    (pkg / "b.py").write_text(KERNEL.format(imports="from model import (\n    c,\n)", value="1.0"))
    (pkg / "c.py").write_text(KERNEL.format(imports="", value="2.0"))
    (pkg / "other.py").write_text("X = 3\n")
    return pkg


def _caches(pkg: Path) -> None:
    """numba's file names: <stem>.<function>-<line>.py312.nbi and .N.nbc, beside the sources."""
    folder = pkg / "__pycache__"
    folder.mkdir(exist_ok=True)
    for stem in ("a", "b", "c"):
        for suffix in (".py312.nbi", ".py312.1.nbc"):
            (folder / f"{stem}.f-5{suffix}").write_text("x")
    (folder / "ab.f-5.py312.nbi").write_text("x")  # another module whose name starts with "a"


def _left(pkg: Path) -> set[str]:
    return {p.name.split(".")[0] for p in (pkg / "__pycache__").glob("*.nb?")}


def _touch(path: Path, text: str) -> None:
    path.write_text(text)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a later time even on coarse clocks


def test_a_change_drops_the_kernels_compiled_against_it(tmp_path):
    pkg = _package(tmp_path)
    _caches(pkg)
    assert K.refresh(pkg) == ["a.py", "b.py", "c.py"]  # no digests yet: everything once
    assert _left(pkg) == {"ab"}
    _caches(pkg)
    assert K.refresh(pkg) == []  # nothing changed: the stat-only path
    assert _left(pkg) == {"a", "b", "c", "ab"}
    _touch(pkg / "core" / "deep.py", "Z = 5.0\n")  # imported by consts, which a imports from
    assert K.refresh(pkg) == ["a.py"]
    assert _left(pkg) == {"b", "c", "ab"}
    _caches(pkg)
    _touch(pkg / "c.py", KERNEL.format(imports="", value="3.0"))  # b imports c (in parentheses)
    assert sorted(K.refresh(pkg)) == ["b.py", "c.py"]
    assert _left(pkg) == {"a", "ab"}
    _caches(pkg)
    _touch(pkg / "other.py", "X = 4\n")  # imported by no kernel module
    assert K.refresh(pkg) == []
    assert _left(pkg) == {"a", "b", "c", "ab"}


def test_the_real_recorder_kernel_depends_on_the_metrics_it_inlines():
    files = K._sources(K.ROOT)
    texts = {rel: Path(path).read_text(encoding="utf-8") for rel, path in files}
    before = K._stamps(texts, K.ROOT)
    assert "kernels_recorder.py" in before and "core/serve.py" in before
    texts["metrics.py"] += "\n# changed\n"
    after = K._stamps(texts, K.ROOT)
    assert after["kernels_recorder.py"] != before["kernels_recorder.py"]  # month_rows inlines metrics'
    assert after["core/serve.py"] == before["core/serve.py"]  # the core does not read metrics.py


def test_an_unwritable_package_is_left_alone(tmp_path, monkeypatch):
    pkg = _package(tmp_path)
    _caches(pkg)

    def refuse(*args, **kwargs):
        raise PermissionError("read-only")

    monkeypatch.setattr(Path, "write_text", refuse)
    assert K.refresh(pkg) == []  # could not record digests: deletes nothing either
    assert _left(pkg) == {"a", "b", "c", "ab"}
