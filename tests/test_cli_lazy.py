"""experiments/cli.py builds only the named sub-command's parser: the other command modules (which
import pandas and the model) are not imported; with no command, or one that cannot be imported,
every available command is listed as before."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from experiments import cli

ROOT = Path(__file__).resolve().parents[1]


def test_a_named_command_imports_only_its_module():
    code = ("import sys\nfrom experiments.cli import main\n"
            "try:\n    main(['export', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('experiments.commands.')))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=300, check=True)
    assert "usage: chipwar export" in res.stdout
    assert res.stdout.strip().splitlines()[-1] == "['experiments.commands.export']"


def test_every_command_without_a_name(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert all(name in out for name in cli.COMMANDS)


def test_a_command_whose_module_is_absent_falls_back_to_the_list(monkeypatch, capsys):
    real = importlib.import_module

    def no_dashboard(name, *a, **k):
        if name == cli.COMMANDS["dashboard"][0]:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)  # as _available skips
        return real(name, *a, **k)

    monkeypatch.setattr(cli.importlib, "import_module", no_dashboard)
    with pytest.raises(SystemExit) as exc:
        cli.main(["dashboard"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'dashboard'" in err and "price" in err and "sweep" in err
