"""The README's lists match the code: workloads, scenarios, sub-commands, experiments and the
flags it says they take (each flag a README command uses must be in that command's --help)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.test_docs import readme_commands

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title_start: str) -> str:
    m = re.search(rf"^#+ {re.escape(title_start)}.*?$(.*?)(?=^#+ )", README, re.M | re.S)
    assert m, f"README has no section starting {title_start!r}"
    return m.group(1)


def _help(argv: list[str]) -> str:
    res = subprocess.run([sys.executable, *argv, "--help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_price_section_lists_every_workload():
    text = _section("`chipwar price`")
    m = re.search(r"Workloads: (.*?); regions", text, re.S)
    listed = re.findall(r"`([a-z0-9-]+)`", m.group(1))
    ids = pd.read_csv(ROOT / "model" / "data" / "workloads.csv")["id"].tolist()
    assert sorted(listed) == sorted(ids)


def test_scenario_table_lists_every_scenario():
    from model.scenario import available_scenarios

    rows = re.findall(r"^\| `([a-z0-9_]+)` \|", _section("Scenarios and parameters"), re.M)
    assert sorted(rows) == available_scenarios()
    assert re.search(r"^\| `arthur_docking` \| test bench", README, re.M)


def test_every_subcommand_has_a_readme_section_and_back():
    from experiments.cli import COMMANDS

    headed = set()
    for h in re.findall(r"^### (.+)$", README, re.M):
        headed |= set(re.findall(r"`chipwar ([a-z-]+)`", h))
    assert headed == set(COMMANDS)


def _experiment_rows() -> list[str]:
    return re.findall(r"^\| `([a-z_]+)` \|", _section("Experiments"), re.M)


def test_experiment_table_names_modules_with_the_flags_the_readme_promises():
    text = " ".join(_section("Experiments").split())
    common = re.search(r"Each is `python -m experiments\.NAME ([^`]*)`", text).group(1)
    docking = re.search(r"`python -m experiments\.docking ([^`]*)`", text).group(1)
    promised = {"common": re.findall(r"--[a-z-]+", common), "docking": re.findall(r"--[a-z-]+", docking)}
    assert {"--quick", "--seeds", "--workers", "--out"} <= set(promised["common"])
    names = _experiment_rows()
    assert "docking" in names and len(names) >= 7
    for name in names:
        assert (ROOT / "experiments" / f"{name}.py").is_file(), name
        helptext = _help(["-m", f"experiments.{name}"])
        for flag in promised["docking" if name == "docking" else "common"]:
            assert re.search(rf"(^|\s|\[){flag}\b", helptext), f"experiments.{name} has no {flag}"
        description = " ".join(helptext.split("options:")[0].split("\n\n", 1)[1].split())
        assert description.endswith((".", "?", ")")), f"experiments.{name}: help text cut: {description!r}"


@pytest.mark.parametrize("command", [c for c in readme_commands(README)])
def test_flags_in_readme_commands_exist(command):
    tokens = shlex.split(command)
    if tokens[0] == "chipwar":
        argv = ["-m", "experiments.cli"] + [t for t in tokens[1:2] if not t.startswith("-")]
        if tokens[1] == "catalog" and len(tokens) > 2 and not tokens[2].startswith("-"):
            argv.append(tokens[2])
    else:
        argv = ["-m", tokens[2]]
    helptext = _help(argv)
    for tok in tokens:
        if tok.startswith("--"):
            flag = tok.split("=", 1)[0]
            assert re.search(rf"(^|\s|\[){re.escape(flag)}\b", helptext), f"{command!r}: {flag} not in --help"
