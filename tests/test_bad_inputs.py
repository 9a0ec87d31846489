"""Bad-input suite, part 1 (issue 17): scenario files and `chipwar run` flags.

Every case runs the CLI in-process with the working folder in a temporary directory and asserts
the exit status, that the message names the file or flag, the key and the value, that there is
no traceback, and that nothing at all was written (a snapshot of the folder before and after;
no ``outputs/``). Part 2 (tests/test_bad_inputs_io.py) covers output folders, Epoch CSVs,
validate, the experiment scripts and resources.
"""

from __future__ import annotations

import pytest

from tests.bad_inputs_helpers import PLAIN, cli, packaged_snapshot, scenario, snapshot

BASE = 'extends = "baseline"\n'

# (id, scenario text, extra flags, fragments the message must contain)
SCENARIO_CASES = [
    ("latin1", 'name = "caf\u00e9"\n', [], ["case.toml", "not UTF-8", "0xe9"]),
    ("not-toml", "name = \n", [], ["case.toml", "not valid TOML"]),
    ("unknown-top-key", 'nmae = "x"\n', [], ["case.toml", "'nmae'"]),
    ("name-not-string", "name = 5\n", [], ["case.toml", "name = 5", "string"]),
    ("name-empty", 'name = "  "\n', [], ["case.toml", "name", "non-empty"]),
    ("name-no-letters", 'name = "/../.."\n', [], ["name", "'/../..'", "letters or digits"]),
    ("extends-unknown", 'extends = "nope"\n', [], ["'nope'", "unknown", "baseline"]),
    ("extends-not-string", "extends = 3\n", [], ["case.toml", "extends = 3"]),
    ("parameters-not-table", "parameters = 3\n", [], ["case.toml", "[parameters]"]),
    ("unknown-parameter", "[parameters]\nkapa = 1\n", [],
     ["case.toml", "parameters.kapa", "'kapa'", "unknown parameter"]),
    ("wrong-type", '[parameters]\nkappa = "high"\n', [], ["parameters.kappa", "'high'", "a number"]),
    ("out-of-range", "[parameters]\nkappa = 99\n", [], ["parameters.kappa", "99", "[0, 50]"]),
    ("parameter-inf", "[parameters]\nkappa = inf\n", [], ["parameters.kappa", "inf", "a number"]),
    ("parameter-nan", "[parameters]\nkappa = nan\n", [], ["parameters.kappa", "nan"]),
    ("int-parameter-inf", "[parameters]\nlots = inf\n", [], ["parameters.lots", "inf", "an integer"]),
    ("start-1999", BASE + '[parameters]\nstart = "1999-01"\n', [],
     ["case.toml, parameters.start", "'1999-01'", "2022-01", "2035-12"]),
    ("start-after-history", PLAIN.replace("2023-01", "2036-01").replace("2023-06", "2037-01"), [],
     ["parameters.start", "'2036-01'", "2035-12"]),
    ("end-before-start-key", BASE + '[parameters]\nend = "2021-06"\n', [],
     ["case.toml, parameters.end", "'2021-06'", "before start", "'2022-01'"]),
    ("start-month-13", '[parameters]\nstart = "2022-13"\n', [], ["start", "'2022-13'", "real date"]),
    ("date-parameter-bad", BASE + '[parameters]\nbundle_start = "soon"\n', [], ["bundle_start", "'soon'"]),
    ("event-feb-30", PLAIN + '[[events]]\ndate = "2023-02-30"\nkind = "us_level"\nlevel = 0.5\n', [],
     ["events[0], date", "'2023-02-30'", "real date"]),
    ("event-before-start", PLAIN + '[[events]]\ndate = "2022-06"\nkind = "us_level"\nlevel = 0.5\n', [],
     ["case.toml, events[0]", "'2022-06'", "before the run's start 2023-01"]),
    ("event-duplicate", PLAIN + '[[events]]\ndate = "2023-03"\nkind = "us_level"\nlevel = 0.5\n' * 2, [],
     ["events[1]", "duplicate of case.toml, events[0]", "us_level"]),
    ("tpp-inf", PLAIN + '[[events]]\ndate = "2023-03"\nkind = "us_rule"\ntpp = inf\n', [],
     ["events[0], tpp = inf", "finite"]),
    ("tpp-negative", PLAIN + '[[events]]\ndate = "2023-03"\nkind = "us_rule"\ntpp = -5\n', [],
     ["events[0], tpp = -5", "> 0"]),
    ("level-above-1", PLAIN + '[[events]]\ndate = "2023-03"\nkind = "us_level"\nlevel = 1.5\n', [],
     ["events[0], level = 1.5", "[0, 1]"]),
    ("event-unknown-kind", PLAIN + '[[events]]\ndate = "2023-03"\nkind = "embargo"\n', [],
     ["events[0]", "kind = 'embargo'", "us_rule"]),
    ("event-no-date", PLAIN + '[[events]]\nkind = "us_level"\nlevel = 0.5\n', [], ["events[0]", "'date'"]),
    ("event-unknown-field", PLAIN + '[[events]]\ndate = "2023-03"\nkind = "us_level"\nlevel = 0.5\nlvl = 1\n',
     [], ["events[0]", "'lvl'", "us_level"]),
    ("event-missing-field", PLAIN + '[[events]]\ndate = "2023-03"\nkind = "us_level"\n', [],
     ["events[0]", "'level'"]),
    ("unknown-chip", PLAIN + '[[events]]\ndate = "2023-03"\nkind = "cn_ban"\nchips = ["h999"]\n', [],
     ["events[0], chips", "'h999'"]),
    ("unknown-region", PLAIN + '[[events]]\ndate = "2023-03"\nkind = "us_licence"\nmatch = ["h20"]\n'
     'regions = ["atlantis"]\n', [], ["events[0], regions", "'atlantis'"]),
    ("bad-tier", PLAIN + '[[events]]\ndate = "2023-03"\nkind = "us_rule"\ntiers = [4]\n', [],
     ["events[0], tiers = [4]", "1, 2 or 3"]),
    ("events-not-array", PLAIN + "events = 3\n", [], ["case.toml", "events"]),
    ("drop-events-bad", BASE + 'drop_events = ["us_rules"]\n', [], ["drop_events", "us_rules"]),
    ("mix-all-zero", BASE + "[parameters]\nmix_train_dense = 0\nmix_train_moe = 0\nmix_prefill = 0\n"
     "mix_decode = 0\n", [], ["case.toml, parameters.mix_train_dense", "mix_decode = 0", "positive"]),
    ("set-moves-end", PLAIN + '[[events]]\ndate = "2023-03"\nkind = "set"\n[events.parameters]\n'
     'end = "2023-04"\n', [], ["events[0], parameters", "end cannot change mid-run"]),
    ("set-zeroes-mix", PLAIN + '[[events]]\ndate = "2023-03"\nkind = "set"\n[events.parameters]\n'
     "mix_train_dense = 0\nmix_train_moe = 0\nmix_prefill = 0\nmix_decode = 0\n", [],
     ["after the set event case.toml, events[0]", "positive"]),
    ("set-bad-value", PLAIN + '[[events]]\ndate = "2023-03"\nkind = "set"\n[events.parameters]\nkappa = -1\n',
     [], ["events[0], parameters.kappa", "-1"]),
]


@pytest.mark.parametrize("text,extra,fragments", [c[1:] for c in SCENARIO_CASES],
                         ids=[c[0] for c in SCENARIO_CASES])
def test_bad_scenario_is_refused_and_nothing_written(tmp_path, monkeypatch, capsys, text, extra, fragments):
    monkeypatch.chdir(tmp_path)
    path = scenario(tmp_path, text, encoding="latin-1" if "caf\u00e9" in text else "utf-8")
    before, packaged = snapshot(tmp_path), packaged_snapshot()
    rc, _out, err = cli(["run", "--scenario", path, *extra], capsys)
    assert rc == 2, err
    for frag in fragments:
        assert frag in err, (frag, err)
    assert err.count("\n") == 1, err  # one line
    assert snapshot(tmp_path) == before and packaged_snapshot() == packaged


def test_scenario_path_that_is_a_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dir.toml").mkdir()
    rc, _, err = cli(["run", "--scenario", tmp_path / "dir.toml"], capsys)
    assert rc == 2 and "dir.toml" in err and "not found" in err
    assert not (tmp_path / "outputs").exists()


# (id, flags, fragments)
FLAG_CASES = [
    ("seed-negative", ["--seed", "-1"], ["--seed -1", "[0, 2**63)"]),
    ("seed-2-64", ["--seed", str(2**64)], [f"--seed {2**64}", "[0, 2**63)"]),
    ("seed-2-63", ["--seed", str(2**63)], [f"--seed {2**63}"]),
    ("seed-text", ["--seed", "abc"], ["--seed", "'abc'"]),
    ("end-before-start-flag", ["--end", "2021-12"], ["--end: end = '2021-12'", "before start = '2022-01'"]),
    ("end-month-13", ["--end", "2022-13"], ["--end", "'2022-13'", "real date"]),
    ("end-feb-30", ["--end", "2022-02-30"], ["--end", "'2022-02-30'", "real date"]),
    ("end-garbage", ["--end", "soon"], ["--end", "'soon'"]),
    ("set-end-before-start", ["--set", "end=2021-12"], ["--set end: end = '2021-12'", "before start"]),
    ("set-start-after-end", ["--set", "start=2030-01", "--end", "2029-12"],
     ["--end: end = '2029-12'", "start = '2030-01'", "--set start"]),
    ("set-start-1999", ["--set", "start=1999-01"], ["--set start: start = '1999-01'", "2022-01"]),
    ("set-start-skips-events", ["--set", "start=2024-01"],
     ["baseline.toml, events[0]", "before the run's start 2024-01", "--set start"]),
    ("set-no-equals", ["--set", "kappa"], ["--set 'kappa'", "key=value"]),
    ("set-unknown", ["--set", "kapa=1"], ["--set kapa", "'kapa'", "unknown parameter"]),
    ("set-inf", ["--set", "kappa=inf"], ["--set kappa", "inf", "[0, 50]"]),
    ("set-int-inf", ["--set", "lots=inf"], ["--set lots", "inf", "an integer"]),
    ("set-text", ["--set", "kappa=abc"], ["--set kappa", "'abc'"]),
    ("set-bool", ["--set", "outside_option=maybe"], ["--set outside_option", "'maybe'", "true or false"]),
    ("set-mix-zero", ["--set", "mix_train_dense=0", "--set", "mix_train_moe=0", "--set", "mix_prefill=0",
                      "--set", "mix_decode=0"], ["--set mix_train_dense", "positive"]),
    ("scenario-unknown", ["--scenario", "baselin"], ["'baselin'", "baseline"]),
    ("scenario-missing-file", ["--scenario", "nope.toml"], ["nope.toml", "not found"]),
    ("memory-firms", ["--set", "n_firms_per_country=1000000", "--max-memory-gb", "8"],
     ["needs about", "GB", "limit of 8.0 GB", "--max-memory-gb"]),
    ("memory-limit-zero", ["--max-memory-gb", "0"], ["--max-memory-gb 0", "positive"]),
    ("memory-limit-tiny", ["--max-memory-gb", "0.1"], ["needs about 0.", "limit of 0.1 GB", "--max-memory-gb 1"]),
    ("memory-limit-nan", ["--max-memory-gb", "nan"], ["--max-memory-gb nan"]),
]


@pytest.mark.parametrize("flags,fragments", [c[1:] for c in FLAG_CASES], ids=[c[0] for c in FLAG_CASES])
def test_bad_run_flag_is_refused_before_computing(tmp_path, monkeypatch, capsys, flags, fragments):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("mine")
    before = snapshot(tmp_path)
    rc, _out, err = cli(["run", *flags], capsys)
    assert rc == 2, err
    for frag in fragments:
        assert frag in err, (frag, err)
    assert snapshot(tmp_path) == before  # no outputs/, nothing else


def test_events_after_a_short_end_are_one_warning_and_the_run_completes(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rc, out, err = cli(["run", "--end", "2022-02", "--out", "r"], capsys)
    assert rc == 0, err
    warn = [ln for ln in err.splitlines() if "warning" in ln]
    assert len(warn) == 1 and "after the end 2022-02 will not fire" in warn[0] and "baseline.toml" in warn[0]
    assert "2022-10 us_rule" in warn[0]
    assert "2/2 months" in err  # progress off a terminal: a line every few seconds and at the end
    assert (tmp_path / "r" / "model.parquet").is_file()


def test_a_scenario_named_like_a_path_stays_inside_outputs(tmp_path, monkeypatch, capsys):
    work = tmp_path / "a" / "b" / "c" / "d"
    work.mkdir(parents=True)
    (tmp_path / "victim").mkdir()
    (tmp_path / "victim" / "thesis.tex").write_text("precious")
    monkeypatch.chdir(work)
    path = scenario(work, 'name = "/../../../../victim"\nextends = "baseline"\n')
    before = snapshot(tmp_path, skip=work / "outputs")
    rc, out, err = cli(["run", "--scenario", path, "--end", "2022-02"], capsys)
    assert rc == 0, err
    assert [p.name for p in (work / "outputs").iterdir()] == ["run-victim-0"]
    assert snapshot(tmp_path, skip=work / "outputs") == before
    assert (tmp_path / "victim" / "thesis.tex").read_text() == "precious"
