"""The per-process memos of two loaders every model set-up calls (model/lifecycle.py,
model/scenario.py): a hit equals a fresh read, the key covers the file's content (an edited file
is read again), callers get their own copies, and a bad file is never kept."""

from __future__ import annotations

import shutil

import pytest

from model import lifecycle, scenario
from model.catalog import load_catalog
from model.errors import ScenarioError
from model.population import PopulationError


def _chips():
    return list(load_catalog().chips.index)


def test_lifecycle_hit_equals_fresh_read_and_edits_are_seen(tmp_path):
    chips = _chips()
    path = tmp_path / "lifecycle.csv"
    shutil.copy(lifecycle.LIFECYCLE_CSV, path)
    lifecycle._MEMO.clear()
    fresh = lifecycle._load(path, chips)
    first = lifecycle.load_lifecycle(chips, path)
    second = lifecycle.load_lifecycle(chips, path)
    assert first == fresh and second == fresh and second is not first
    second.clear()  # a caller's copy: the memo is untouched
    assert lifecycle.load_lifecycle(chips, path) == fresh
    chip, (end, succ) = next((c, v) for c, v in fresh.items() if v[0])
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(f"{chip},{end},", f"{chip},2019-01,", 1), encoding="utf-8")
    edited = lifecycle.load_lifecycle(chips, path)
    assert edited[chip] == ("2019-01", succ) != fresh[chip]


def test_lifecycle_bad_file_is_not_kept(tmp_path):
    path = tmp_path / "lifecycle.csv"
    path.write_text("chip,end_production,successor,source,note\nnot-a-chip,2024-01,,x,\n", encoding="utf-8")
    lifecycle._MEMO.clear()
    for _ in range(2):
        with pytest.raises(PopulationError):
            lifecycle.load_lifecycle(_chips(), path)
    assert not lifecycle._MEMO


def test_scenario_toml_memo_copies_and_follows_content(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('name = "s"\n[parameters]\nkappa = 2.0\n', encoding="utf-8")
    scenario._TOML_MEMO.clear()
    a = scenario._read_toml(path)
    b = scenario._read_toml(path)
    assert a == b == {"name": "s", "parameters": {"kappa": 2.0}} and a is not b
    a["parameters"]["kappa"] = 9.0  # nested: a deep copy
    assert scenario._read_toml(path)["parameters"]["kappa"] == 2.0
    path.write_text('name = "s"\n[parameters]\nkappa = 3.0\n', encoding="utf-8")
    assert scenario.load_scenario(path).params["kappa"] == 3.0
    path.write_text('name = "s"\n[parameters\n', encoding="utf-8")
    n = len(scenario._TOML_MEMO)
    with pytest.raises(ScenarioError, match="not valid TOML"):
        scenario._read_toml(path)
    assert len(scenario._TOML_MEMO) == n
