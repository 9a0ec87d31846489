"""model/main_guard.py: a script that starts worker processes outside ``if __name__ ==
"__main__":`` is refused up front with its line (its workers would import it and start again)."""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from model import main_guard
from model.errors import InputError

PROBE = "from model.main_guard import unguarded_main_line\nprint(unguarded_main_line())\n"


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def _script(tmp_path: Path, text: str, name: str = "script.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize("text, line", [
    ("import os\n" + PROBE, 3),  # top level: the probe's own line
    ("def main():\n    " + PROBE.replace("\n", "\n    ") + "\nmain()\n", 5),  # an unguarded call
    ("import helper\n", 1),  # a module that starts it at import, imported at the top level
    ("if True:\n    " + PROBE.replace("\n", "\n    "), 3),  # another if: still at the top level
], ids=["top-level", "unguarded-main()", "import-time", "other-if"])
def test_an_unguarded_line_is_found(tmp_path, text, line):
    (tmp_path / "helper.py").write_text(PROBE, encoding="utf-8")
    path = _script(tmp_path, text)
    res = _run([str(path)], tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == repr((str(path), line))


@pytest.mark.parametrize("text", [
    'if __name__ == "__main__":\n    ' + PROBE.replace("\n", "\n    "),
    "def main():\n    " + PROBE.replace("\n", "\n    ") + "\nif '__main__' == __name__:\n    main()\n",
    'import sys\nif __name__ == "__main__" and len(sys.argv) > 0:\n    '
    + PROBE.replace("\n", "\n    "),
], ids=["guarded", "guarded-main()", "guard-and-more"])
def test_a_guarded_line_passes(tmp_path, text):
    res = _run([str(_script(tmp_path, text))], tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "None"


def test_no_script_nothing_to_check(tmp_path):
    res = _run(["-c", PROBE], tmp_path)  # as in a notebook: the main module has no file
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "None"
    _script(tmp_path, PROBE, "mod_main.py")
    res = _run(["-m", "mod_main"], tmp_path)  # python -m: the module's file is the script
    assert res.stdout.strip() == repr((str(tmp_path / "mod_main.py"), 2))


def test_an_unguarded_sweep_is_refused_before_anything_starts(tmp_path):
    out = tmp_path / "out"
    path = _script(tmp_path, f"""\
        from experiments.runner import build_design, run_sweep
        design = build_design({{"scenario": "baseline", "replications": 2, "root_seed": 1,
                               "fixed": {{"end": "2022-03"}}, "sampler": "grid",
                               "parameters": {{"kappa": [0.5, 2.0]}}}})
        run_sweep(design, {str(out)!r}, workers=2)
        """)
    res = _run([str(path)], tmp_path)
    assert res.returncode == 1
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith(f"model.errors.InputError: {path}, line 5: starts a pool of worker processes")
    assert 'if __name__ == "__main__":' in last and "serial=True" in last
    assert "worker process died" not in res.stderr  # no pool was started
    assert not out.exists()  # nothing written


def test_every_pool_asks(monkeypatch):
    """The sweep's process pool and local Dask cluster, chipwar validate's pool, the analysis
    scripts' shared pool and the docking pool all check before they start a process."""
    from experiments import docking
    from experiments.analysis import shared_pool
    from experiments.runner.executors import DaskBackend, ProcessPoolBackend
    from model import validate

    monkeypatch.setattr(main_guard, "unguarded_main_line", lambda: ("s.py", 3))
    calls = [lambda: ProcessPoolBackend(2), lambda: DaskBackend(n_local=2),
             lambda: validate._run_seeds([1, 2, 3], [("x", ["2024-01"])], workers=2),
             lambda: shared_pool(argparse.Namespace(serial=False, workers=2)).__enter__(),
             lambda: docking.arthur(n_runs=2, workers=2)]
    for call in calls:
        with pytest.raises(InputError, match=r"^s\.py, line 3: starts "):
            call()
