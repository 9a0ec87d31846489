"""The docs keep up with the code: every parameter is described in docs/ODD.md, and the
README's commands run (with ``--quick`` where a command accepts it, writing only to a tmp dir)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "ODD.md"
README = ROOT / "README.md"
BASELINE = ROOT / "model" / "scenarios" / "baseline.toml"
COMMAND_TIMEOUT_S = 900


# ---------------------------------------------------------------------------------------------
# ODD.md documents every parameter
# ---------------------------------------------------------------------------------------------
def _odd_names() -> set[str]:
    """Identifier-like words of docs/ODD.md (so ``end`` is not found inside ``spend``)."""
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", ODD.read_text(encoding="utf-8")))


def _missing(names: list[str]) -> list[str]:
    words = _odd_names()
    return [n for n in names if n not in words]


def test_baseline_scenario_parameters_are_in_odd():
    names = list(tomllib.loads(BASELINE.read_text(encoding="utf-8")).get("parameters", {}))
    assert names, f"{BASELINE} has no [parameters] table"
    missing = _missing(names)
    assert not missing, (f"docs/ODD.md does not mention {len(missing)} parameter(s) of "
                         f"model/scenarios/baseline.toml: {', '.join(missing)}")


def test_registry_parameters_are_in_odd():
    from model import params

    params.defaults()  # imports the modules that register their parameters
    names = list(params.PARAMETERS)
    assert names, "model.params.PARAMETERS is empty after defaults()"
    missing = _missing(names)
    assert not missing, (f"docs/ODD.md does not mention {len(missing)} of {len(names)} registered "
                         f"parameters: {', '.join(missing)}")


# ---------------------------------------------------------------------------------------------
# README commands run
# ---------------------------------------------------------------------------------------------
_FENCE = re.compile(r"^\s*(```|~~~)")
_COMMAND = re.compile(r"^(chipwar\s|chipwar$|python3?\s+-m\s+experiments\.)")


def readme_commands(text: str) -> list[str]:
    """Shell lines in fenced blocks that start with ``chipwar`` or ``python -m experiments.``.

    Drops a leading ``$ `` prompt and a trailing ``# comment``; joins ``\\`` continuations.
    """
    out: list[str] = []
    fenced, pending = False, ""
    for raw in text.splitlines():
        if _FENCE.match(raw):
            fenced, pending = not fenced, ""
            continue
        if not fenced:
            continue
        line = pending + raw.strip()
        if line.endswith("\\"):
            pending = line[:-1].rstrip() + " "
            continue
        pending = ""
        line = re.sub(r"^\$\s+", "", line)
        line = re.sub(r"\s+#.*$", "", line).strip()
        if _COMMAND.match(line):
            out.append(line)
    return out


def skip_reason(command: str) -> str | None:
    """Why a README command is not run here, or None."""
    tokens = shlex.split(command)
    if tokens[:2] == ["chipwar", "dashboard"]:
        return "chipwar dashboard serves a page until stopped"
    if tokens[:2] == ["chipwar", "sweep"]:
        design = next((t for t in tokens[2:] if not t.startswith("-")), "")
        if "smoke" not in Path(design).stem:
            return f"chipwar sweep with more than a smoke design ({design or 'no design'})"
    return None


def build_argv(command: str, sandbox: Path, help_text: Callable[[list[str]], str]) -> list[str]:
    """argv for ``command`` run by this interpreter: ``--quick`` added where ``--help`` lists it,
    an absolute ``--out`` moved into ``sandbox`` (relative ones already land there: cwd)."""
    tokens = shlex.split(command)
    if tokens[0] == "chipwar":
        base, rest = [sys.executable, "-m", "experiments.cli"], tokens[1:]
        help_argv = base + ([rest[0]] if rest and not rest[0].startswith("-") else []) + ["--help"]
    else:  # python -m experiments.<module> ...
        base, rest = [sys.executable, "-m", tokens[2]], tokens[3:]
        help_argv = base + ["--help"]
    if "--help" in rest or "-h" in rest:
        return base + rest
    helptext = help_text(help_argv)
    if re.search(r"(^|\s)--quick\b", helptext) and "--quick" not in rest:
        rest = rest + ["--quick"]
    for k, tok in enumerate(rest):
        if tok == "--out" and k + 1 < len(rest) and Path(rest[k + 1]).is_absolute():
            rest[k + 1] = str(sandbox / "outputs" / Path(rest[k + 1]).name)
        elif tok.startswith("--out=") and Path(tok[6:]).is_absolute():
            rest[k] = "--out=" + str(sandbox / "outputs" / Path(tok[6:]).name)
    return base + rest


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _help_text(sandbox: Path) -> Callable[[list[str]], str]:
    cache: dict[tuple[str, ...], str] = {}

    def get(argv: list[str]) -> str:
        key = tuple(argv)
        if key not in cache:
            res = subprocess.run(argv, cwd=sandbox, env=_env(), capture_output=True, text=True,
                                 timeout=120, check=False)
            cache[key] = res.stdout + res.stderr
        return cache[key]

    return get


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Path:
    """A working directory that sees the project's files but has its own empty outputs/, so the
    README's commands (run in order, later ones reading what earlier ones wrote) write only here."""
    box = tmp_path_factory.mktemp("readme")
    for entry in ROOT.iterdir():
        if entry.name in {"outputs", ".git", ".venv"} or entry.name.endswith(("_cache", ".egg-info")):
            continue
        (box / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    (box / "outputs").mkdir()
    return box


_README_COMMANDS = readme_commands(README.read_text(encoding="utf-8"))
# issue 16: `chipwar validate` exits 1 until the unit/value-basis bands are fitted (see
# tests/test_validate.py CALIBRATION_PENDING); strict, so the mark must go once it passes
_PENDING = pytest.mark.xfail(strict=True, reason="issue 16: calibration to the unit/value bands pending")
_CASES = [pytest.param(c, id=c[:60], marks=[_PENDING] if c.startswith("chipwar validate") else [])
          for c in _README_COMMANDS] or [
    pytest.param(None, marks=pytest.mark.skip(reason="README.md lists no chipwar / python -m "
                                                     "experiments. commands yet"), id="none")]


@pytest.mark.parametrize("command", _CASES)
def test_readme_command_runs(command: str, sandbox: Path):
    reason = skip_reason(command)
    if reason:
        pytest.skip(reason)
    argv = build_argv(command, sandbox, _help_text(sandbox))
    res = subprocess.run(argv, cwd=sandbox, env=_env(), capture_output=True, text=True,
                         timeout=COMMAND_TIMEOUT_S, check=False)
    assert res.returncode == 0, (f"README command {command!r} (run as {shlex.join(argv[2:])}) "
                                 f"exited {res.returncode}\n--- stdout\n{res.stdout[-3000:]}"
                                 f"\n--- stderr\n{res.stderr[-3000:]}")


# ---------------------------------------------------------------------------------------------
# the extractor itself
# ---------------------------------------------------------------------------------------------
SAMPLE = """\
Intro `chipwar run` in prose is not a command.

```bash
make run            # set-up, skipped
$ chipwar run --scenario baseline --seed 1   # one run
chipwar sweep experiments/designs/policy_grid.toml \\
    --workers 4
chipwar sweep experiments/designs/smoke.toml
python -m experiments.baseline --out outputs/baseline
.venv/bin/pytest
```

```
chipwar dashboard
```
"""


def test_readme_extractor_and_argv(tmp_path):
    cmds = readme_commands(SAMPLE)
    assert cmds == ["chipwar run --scenario baseline --seed 1",
                    "chipwar sweep experiments/designs/policy_grid.toml --workers 4",
                    "chipwar sweep experiments/designs/smoke.toml",
                    "python -m experiments.baseline --out outputs/baseline",
                    "chipwar dashboard"]
    assert [skip_reason(c) is not None for c in cmds] == [False, True, False, False, True]

    helps = {"run": "  --seed S\n  --out DIR", "sweep": "  --quick  shrink\n  --out DIR",
             "baseline": "  --quick  a small version\n  --out OUT"}

    def fake_help(argv: list[str]) -> str:
        return next(h for k, h in helps.items() if k in argv or f"experiments.{k}" in argv)

    run = build_argv(cmds[0], tmp_path, fake_help)
    assert run[1:3] == ["-m", "experiments.cli"] and run[3:] == cmds[0].split()[1:]  # no --quick
    assert build_argv(cmds[2], tmp_path, fake_help)[-1] == "--quick"
    base = build_argv(cmds[3], tmp_path, fake_help)
    assert base[2:] == ["experiments.baseline", "--out", "outputs/baseline", "--quick"]
    absolute = build_argv("chipwar sweep experiments/designs/smoke.toml --out /srv/x", tmp_path,
                          fake_help)
    assert absolute[absolute.index("--out") + 1] == str(tmp_path / "outputs" / "x")


def test_odd_parameter_tables_are_generated_from_the_registry():
    """docs/ODD.md's parameter tables match model.params (regenerate: docs/gen_param_tables.py --write)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, str(root / "docs" / "gen_param_tables.py"), "--check"],
                       capture_output=True, text=True, cwd=root)
    assert r.returncode == 0, r.stdout + r.stderr
