"""Scenario validation: every bad input is refused before a run starts, naming file, key and value;
the CLI exits 2 and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.cli import main
from model.errors import ScenarioError
from model.scenario import available_scenarios, load_scenario, month_index, parse_overrides

GOOD_EVENT = '[[events]]\ndate = "2023-10"\nkind = "cn_ban"\nchips = ["h20"]\n'

BAD = [
    ("unknown top-level key", 'colour = "red"\n', "unknown key 'colour'"),
    ("unknown parameter", "[parameters]\nkapa = 1.0\n", "unknown parameter 'kapa'"),
    ("wrong type", '[parameters]\nkappa = "high"\n', "kappa = 'high'"),
    ("out of range", "[parameters]\nus_control_level = 1.5\n", "us_control_level = 1.5"),
    ("bad date", '[[events]]\ndate = "2023-13"\nkind = "rare_earth"\nlevel = 0.5\n', "'2023-13'"),
    ("missing date", '[[events]]\nkind = "rare_earth"\nlevel = 0.5\n', "missing key 'date'"),
    ("unknown kind", '[[events]]\ndate = "2023-01"\nkind = "embargo"\n', "kind = 'embargo'"),
    ("unknown chip", '[[events]]\ndate = "2023-01"\nkind = "cn_ban"\nchips = ["h2000"]\n', "unknown chip 'h2000'"),
    ("unknown region", '[[events]]\ndate = "2023-01"\nkind = "us_licence"\nmatch = ["h20"]\nregions = ["atlantis"]\n',
     "unknown region 'atlantis'"),
    ("level out of range", '[[events]]\ndate = "2023-01"\nkind = "rare_earth"\nlevel = 2\n', "level = 2"),
    ("unknown event key", '[[events]]\ndate = "2023-01"\nkind = "rare_earth"\nlevel = 0.2\nspeed = 1\n',
     "unknown key 'speed'"),
    ("not toml", "this is = = not toml\n", "not valid TOML"),
    ("unknown parent", 'extends = "atlantis"\n', "unknown"),
    ("bad set", '[[events]]\ndate = "2027-01"\nkind = "set"\nparameters = { kappa = -1 }\n', "kappa = -1"),
]


@pytest.fixture(scope="module")
def known():
    from model.catalog import load_catalog
    from model.population import load_regions

    return set(load_catalog().chips.index), set(load_regions().index)


@pytest.mark.parametrize("label,text,needle", BAD, ids=[b[0] for b in BAD])
def test_bad_scenario_is_refused_with_file_key_and_value(tmp_path, known, label, text, needle):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(f, known_chips=known[0], known_regions=known[1])
    assert "bad.toml" in str(exc.value) or label == "unknown parent"
    assert needle in str(exc.value)


@pytest.mark.parametrize("label,text,needle", BAD[:6], ids=[b[0] for b in BAD[:6]])
def test_cli_refuses_bad_scenario_exit_2_nothing_written(tmp_path, capsys, label, text, needle):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    out = tmp_path / "out"
    assert main(["run", "--scenario", str(f), "--out", str(out), "--end", "2022-03"]) == 2
    assert needle in capsys.readouterr().err
    assert not out.exists()


def test_cli_refuses_bad_override_and_unknown_scenario(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["run", "--set", "kappa=-3", "--out", str(out)]) == 2
    assert "kappa" in capsys.readouterr().err
    assert main(["run", "--scenario", "atlantis", "--out", str(out)]) == 2
    assert "baseline" in capsys.readouterr().err  # lists the valid names
    assert main(["run", "--end", "2022-99", "--out", str(out)]) == 2
    assert not out.exists()


def test_shipped_scenarios_load(known):
    names = available_scenarios()
    assert "baseline" in names
    for name in names:
        sc = load_scenario(name, known_chips=known[0], known_regions=known[1])
        assert sc.events == sorted(sc.events, key=lambda e: e.month)


def test_good_scenario_extends_baseline(tmp_path, known):
    f = tmp_path / "mine.toml"
    f.write_text('extends = "baseline"\ndrop_events = ["us_rule"]\n[parameters]\nkappa = 2.5\n' + GOOD_EVENT)
    sc = load_scenario(f, known_chips=known[0], known_regions=known[1])
    assert sc.params["kappa"] == 2.5
    assert not any(e.kind == "us_rule" for e in sc.events)
    assert any(e.kind == "cn_ban" and e.date == "2023-10" for e in sc.events)


def test_month_index_and_overrides():
    assert month_index("2022-01") == 2022 * 12
    assert month_index("2023-10-17") == 2023 * 12 + 9
    assert parse_overrides(["kappa=2", "lots=4"]) == {"kappa": 2.0, "lots": 4}
    with pytest.raises(ScenarioError, match="expected key=value"):
        parse_overrides(["kappa"])


def test_baseline_file_is_in_package():
    assert (Path(__file__).parents[1] / "model" / "scenarios" / "baseline.toml").is_file()
