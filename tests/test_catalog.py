"""The hardware catalog: shipped data, validation messages, Epoch import and `chipwar catalog`."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.cli import main
from model.catalog import (
    CHIP_COLUMNS,
    CHIPS_CSV,
    SYSTEM_COLUMNS,
    SYSTEMS_CSV,
    epoch_slug,
    import_epoch,
    load_catalog,
    load_chips,
    load_systems,
)
from model.errors import CatalogError
from model.types import STACK_HOME, STACKS

FIXTURES = Path(__file__).parent / "fixtures"
EPOCH_SAMPLE = FIXTURES / "epoch_sample.csv"
TODAY = dt.date(2031, 2, 3)
EPOCH_TAG = "Epoch AI ML Hardware (CC-BY 4.0), imported 2031-02-03"

REQUIRED_CHIPS = (
    "a100-sxm a800 h100-sxm h800 h20 h200 b200 gb200 rtx-pro-6000d mi300x mi308x mi355x "
    "ascend-910b ascend-910c ascend-950pr ascend-950dt ascend-960 ascend-970 mlu370-x8 mlu590 "
    "thead-ppu kunlun-p800 mtt-s4000 br100 mxc500 vr200"
).split()
REQUIRED_SYSTEMS = (
    "gb200-nvl72 cloudmatrix-384 hgx-a100 hgx-a800 hgx-h100 hgx-h800 hgx-h20 hgx-h200 hgx-b200 "
    "atlas-800-910b mi300x-8 mi355x-8 atlas-950-superpod atlas-960-superpod vr-nvl144"
).split()
VENDORS = ("nvidia amd huawei cambricon alibaba-thead baidu-kunlunxin moore-threads metax "
           "biren enflame iluvatar").split()


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


# ----------------------------------------------------------------------------- shipped data


def test_shipped_catalog_loads_with_contract_columns(cat):
    assert tuple(["id", *cat.chips.columns]) == CHIP_COLUMNS
    assert tuple(["id", *cat.systems.columns]) == (*SYSTEM_COLUMNS, "vendor", "stack", "home_bloc")
    assert set(REQUIRED_CHIPS) <= set(cat.chips.index)
    assert set(REQUIRED_SYSTEMS) <= set(cat.systems.index)
    for col in ("bf16_tflops", "fp8_tflops", "hbm_tb_s", "scaleup_gb_s", "price_usd"):
        assert cat.chips[col].dtype == np.float64
    for col in ("scaleup_gb_s", "scaleout_gb_s", "watts_allin", "price_usd"):
        assert cat.systems[col].dtype == np.float64
    assert cat.systems["n_accel"].dtype == np.int64
    assert cat.chips["stack"].isin(STACKS).all()
    assert (cat.chips["home_bloc"] == cat.chips["stack"].map(STACK_HOME)).all()


def test_every_row_has_a_source_and_ids_are_unique(cat):
    for frame in (cat.chips, cat.systems):
        assert frame.index.is_unique
        assert (frame["source"].str.strip().str.len() > 0).all()


def test_references_resolve(cat):
    variants = cat.chips.loc[cat.chips["variant_of"] != "", "variant_of"]
    assert variants.isin(cat.chips.index).all()
    for part, parent in {"a800": "a100-sxm", "h800": "h100-sxm", "h20": "h100-sxm",
                         "mi308x": "mi300x", "rtx-pro-6000d": "rtx-pro-6000"}.items():
        assert cat.chip(part)["variant_of"] == parent
    assert cat.systems["chip"].isin(cat.chips.index).all()
    derived = cat.chips.loc[cat.systems["chip"], ["vendor", "stack", "home_bloc"]].to_numpy()
    assert (cat.systems[["vendor", "stack", "home_bloc"]].to_numpy() == derived).all()
    assert set(VENDORS) <= set(cat.systems["vendor"])  # every vendor has an offering
    assert (cat.systems["scaleup_domain"] <= cat.systems["n_accel"]).all()


def test_system_prices_known_for_everything_before_2030(cat):
    early = cat.systems[cat.systems["available"] < "2030-01"]
    assert early["price_usd"].notna().all()


def test_chip_and_system_lookup(cat):
    assert cat.chip("h100-sxm")["bf16_tflops"] == pytest.approx(989.4)
    assert cat.system("cloudmatrix-384")["chip"] == "ascend-910c"
    with pytest.raises(CatalogError, match="unknown chip 'h999'"):
        cat.chip("h999")


def test_default_catalog_is_cached_but_callers_cannot_corrupt_it():
    a = load_catalog()
    a.chips.loc["h100-sxm", "bf16_tflops"] = 1.0
    assert load_catalog().chip("h100-sxm")["bf16_tflops"] == pytest.approx(989.4)


# ----------------------------------------------------------------------------- published figures


def _system_totals(cat, sid: str) -> dict[str, float]:
    s = cat.system(sid)
    c = cat.chip(s["chip"])
    n = s["n_accel"]
    return {
        "bf16_pflops": n * c["bf16_tflops"] / 1e3, "fp8_pflops": n * c["fp8_tflops"] / 1e3,
        "hbm_tb": n * c["hbm_gb"] / 1e3, "hbm_tb_s": n * c["hbm_tb_s"],
        "allin_kw": n * s["watts_allin"] / 1e3,
    }


@pytest.mark.parametrize(
    "system, figure, published",
    [
        ("gb200-nvl72", "bf16_pflops", 180.0),   # 72 x 2.5 PFLOPS (docs/SOURCES.md#systems)
        ("gb200-nvl72", "hbm_tb", 13.8),
        ("gb200-nvl72", "hbm_tb_s", 576.0),
        ("gb200-nvl72", "allin_kw", 145.0),
        ("cloudmatrix-384", "bf16_pflops", 300.0),
        ("cloudmatrix-384", "hbm_tb", 49.2),
        ("cloudmatrix-384", "hbm_tb_s", 1229.0),
        ("cloudmatrix-384", "allin_kw", 559.0),
        ("atlas-950-superpod", "fp8_pflops", 8000.0),   # 8 EF FP8 [C]
        ("atlas-960-superpod", "fp8_pflops", 30000.0),  # 30 EF FP8 [C]
        ("vr-nvl144", "fp8_pflops", 1200.0),            # 1.2 EF FP8 [C]
    ],
)
def test_published_system_figures_within_10_percent(cat, system, figure, published):
    got = _system_totals(cat, system)[figure]
    assert got == pytest.approx(published, rel=0.10), f"{system} {figure}: {got} vs {published}"


def test_watts_per_dense_tflop_and_server_power_convention(cat):
    nvl = _system_totals(cat, "gb200-nvl72")
    cm = _system_totals(cat, "cloudmatrix-384")
    w_per_tflop_nvl = nvl["allin_kw"] * 1e3 / (nvl["bf16_pflops"] * 1e3)
    w_per_tflop_cm = cm["allin_kw"] * 1e3 / (cm["bf16_pflops"] * 1e3)
    assert w_per_tflop_nvl == pytest.approx(0.81, rel=0.05)
    assert w_per_tflop_cm == pytest.approx(1.86, rel=0.05)
    assert w_per_tflop_cm / w_per_tflop_nvl == pytest.approx(2.3, rel=0.05)
    assert cat.system("hgx-h100")["watts_allin"] == pytest.approx(1275, rel=0.01)  # 1.82 x 700 W


def test_export_control_tpp_of_compliance_parts(cat):
    tpp = cat.chips["bf16_tflops"] * 16
    assert tpp["h20"] == pytest.approx(2368, rel=1e-3)
    assert tpp["h100-sxm"] == pytest.approx(15832, rel=1e-3)
    assert tpp["rtx-pro-6000d"] < 4800  # assumed just under the 3A090 line
    assert cat.chip("ascend-910c")["scaleup_gb_s"] == 2 * 392  # per direction -> bidirectional
    assert np.isnan(cat.chip("ascend-910c")["fp8_tflops"])  # no FP8 on 910B/910C
    assert cat.chip("mxc500")["hbm_tb_s"] == pytest.approx(1.8)  # Epoch typo fixed


# ----------------------------------------------------------------------------- bad inputs

Mutation = Callable[[list[list[str]]], None]


def _read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _write_rows(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return path


def _set(row_id: str, column: str, value: str) -> Mutation:
    def mutate(rows: list[list[str]]) -> None:
        col = rows[0].index(column)
        for r in rows[1:]:
            if r[0] == row_id:
                r[col] = value
                return
        raise AssertionError(row_id)
    return mutate


def _drop_column(column: str) -> Mutation:
    def mutate(rows: list[list[str]]) -> None:
        col = rows[0].index(column)
        for r in rows:
            del r[col]
    return mutate


def _add_column(column: str) -> Mutation:
    def mutate(rows: list[list[str]]) -> None:
        rows[0].append(column)
        for r in rows[1:]:
            r.append("x")
    return mutate


def _swap_columns(a: str, b: str) -> Mutation:
    def mutate(rows: list[list[str]]) -> None:
        i, j = rows[0].index(a), rows[0].index(b)
        for r in rows:
            r[i], r[j] = r[j], r[i]
    return mutate


def _duplicate(row_id: str) -> Mutation:
    def mutate(rows: list[list[str]]) -> None:
        rows.append(next(list(r) for r in rows if r[0] == row_id))
    return mutate


def _both(*mutations: Mutation) -> Mutation:
    def mutate(rows: list[list[str]]) -> None:
        for m in mutations:
            m(rows)
    return mutate


# (case, table, mutation, column named in the message, bad value named in the message)
BAD_CASES = [
    ("missing column", "chips", _drop_column("tdp_w"), "tdp_w", "missing"),
    ("extra column", "chips", _add_column("colour"), "colour", "unexpected"),
    ("misordered", "chips", _swap_columns("bf16_tflops", "fp8_tflops"), "fp8_tflops", "order"),
    ("duplicate id", "chips", _duplicate("h20"), "id", "h20"),
    ("id not a slug", "chips", _set("h20", "id", "H20 China"), "id", "H20 China"),
    ("unknown stack", "chips", _set("h20", "stack", "opencl"), "stack", "opencl"),
    ("unknown bloc", "chips", _set("h20", "home_bloc", "eu"), "home_bloc", "eu"),
    ("bloc vs stack", "chips", _set("h20", "home_bloc", "cn"), "home_bloc", "cn"),
    ("non-numeric", "chips", _set("h100-sxm", "bf16_tflops", "fast"), "bf16_tflops", "fast"),
    ("negative", "chips", _set("h100-sxm", "bf16_tflops", "-5"), "bf16_tflops", "-5"),
    ("bf16 too big", "chips", _set("h100-sxm", "bf16_tflops", "250000"), "bf16_tflops", "250000"),
    ("tdp too big", "chips", _set("h100-sxm", "tdp_w", "9000"), "tdp_w", "9000"),
    ("zero bandwidth", "chips", _set("h100-sxm", "hbm_tb_s", "0"), "hbm_tb_s", "0"),
    ("nan bandwidth", "chips", _set("h100-sxm", "hbm_tb_s", "nan"), "hbm_tb_s", "nan"),
    ("bad month", "chips", _set("b200", "release", "2025-13"), "release", "2025-13"),
    ("bad month format", "chips", _set("b200", "release", "2025/01"), "release", "2025/01"),
    ("empty source", "chips", _set("b200", "source", ""), "source", "''"),
    ("unknown parent", "chips", _set("h20", "variant_of", "h999"), "variant_of", "h999"),
    ("no compute figure", "chips",
     _both(_set("mi300x", "bf16_tflops", ""), _set("mi300x", "fp8_tflops", "")),
     "bf16_tflops", "fp8_tflops"),
    ("sys missing column", "systems", _drop_column("watts_allin"), "watts_allin", "missing"),
    ("sys unknown chip", "systems", _set("hgx-h100", "chip", "h999"), "chip", "h999"),
    ("sys unknown kind", "systems", _set("hgx-h100", "scaleup_kind", "infiniband"),
     "scaleup_kind", "infiniband"),
    ("sys domain > n", "systems", _set("hgx-h100", "scaleup_domain", "16"), "scaleup_domain", "16"),
    ("sys fractional n", "systems", _set("hgx-h100", "n_accel", "8.5"), "n_accel", "8.5"),
    ("sys negative watts", "systems", _set("hgx-h100", "watts_allin", "-1"), "watts_allin", "-1"),
    ("sys empty watts", "systems", _set("hgx-h100", "watts_allin", ""), "watts_allin", "''"),
    ("sys bad month", "systems", _set("hgx-h100", "available", "2024-1"), "available", "2024-1"),
    ("sys before chip", "systems", _set("hgx-b200", "available", "2020-01"),
     "available", "2020-01"),
    ("sys empty source", "systems", _set("hgx-b200", "source", ""), "source", "''"),
]


@pytest.mark.parametrize("case, table, mutate, column, bad", BAD_CASES,
                         ids=[c[0] for c in BAD_CASES])
def test_bad_catalog_is_refused_with_file_column_and_value(
    tmp_path, case, table, mutate, column, bad
):
    rows = _read_rows(CHIPS_CSV if table == "chips" else SYSTEMS_CSV)
    mutate(rows)
    name = f"bad_{table}.csv"
    path = _write_rows(tmp_path / name, rows)
    with pytest.raises(CatalogError) as info:
        if table == "chips":
            load_chips(path)
        else:
            load_systems(path, chips=load_chips())
    msg = str(info.value)
    assert name in msg, msg
    assert column in msg, msg
    assert bad in msg, msg


def test_error_names_the_one_based_data_row(tmp_path):
    rows = _read_rows(CHIPS_CSV)
    data_row = 1 + [r[0] for r in rows[1:]].index("h20")
    _set("h20", "tdp_w", "abc")(rows)
    path = _write_rows(tmp_path / "chips.csv", rows)
    with pytest.raises(CatalogError, match=rf"chips\.csv, row {data_row}, column 'tdp_w': 'abc'"):
        load_chips(path)


# ----------------------------------------------------------------------------- Epoch import


def _chips_copy(tmp_path: Path, *mutations: Mutation) -> Path:
    rows = _read_rows(CHIPS_CSV)
    for m in mutations:
        m(rows)
    return _write_rows(tmp_path / "chips.csv", rows)


def test_epoch_slug():
    assert epoch_slug("NVIDIA H100 SXM5 80GB") == "h100-sxm"  # alias table
    assert epoch_slug("NVIDIA B300 (Blackwell Ultra)") == "b300-blackwell-ultra"
    assert epoch_slug("Huawei Ascend 910C") == "ascend-910c"
    assert epoch_slug("MTT S4000") == "mtt-s4000"


def test_import_epoch_updates_appends_and_keeps_epoch_as_source(tmp_path):
    path = _chips_copy(
        tmp_path, _set("h100-sxm", "tdp_w", "650"), _set("h100-sxm", "price_usd", "")
    )
    with pytest.warns(UserWarning, match="Google"):
        out = import_epoch(EPOCH_SAMPLE, path, today=TODAY)
    rep = out.attrs["epoch_import"]
    # updated: only the changed values, source leads with Epoch and keeps the other sources
    assert rep["updated"] == {"h100-sxm": ["tdp_w", "price_usd"]}
    h100 = out.loc["h100-sxm"]
    assert (h100["tdp_w"], h100["price_usd"]) == (700.0, 33600.0)
    assert h100["source"].startswith(EPOCH_TAG) and "docs/SOURCES.md#chips" in h100["source"]
    # deliberate choices survive: 910C BF16 stays SemiAnalysis' 780, not Epoch's 800
    assert out.loc["ascend-910c", "bf16_tflops"] == 780.0
    assert out.loc["mi355x", "fp8_tflops"] == pytest.approx(5033.2)
    assert out.loc["mxc500", "hbm_tb_s"] == pytest.approx(1.8)  # 18 TB/s typo corrected
    assert {"ascend-910c", "mi355x", "mxc500"} <= set(rep["unchanged"])
    # appended: a new Nvidia part, stack and bloc from the vendor map, Epoch as the source
    assert rep["added"] == ["b300-blackwell-ultra"]
    b300 = out.loc["b300-blackwell-ultra"]
    assert (b300["vendor"], b300["stack"], b300["home_bloc"]) == ("nvidia", "cuda", "us")
    assert (b300["bf16_tflops"], b300["fp8_tflops"], b300["hbm_gb"]) == (2250.0, 4500.0, 270.0)
    assert b300["release"] == "2025-08" and b300["source"] == EPOCH_TAG
    # skipped: foreign vendor, no compute figure (and no release date)
    assert "Google" in rep["skipped"]["Google TPU v4i"]
    assert rep["skipped"]["Cambricon MLU370-S4"] == "no dense BF16 or FP8 figure"
    assert "Huawei Ascend 910B2" in rep["skipped"]
    # the written file is exactly the returned table and passes validation
    again = load_chips(path)
    pd.testing.assert_frame_equal(again, out, check_like=False)
    assert len(out) == len(load_chips()) + 1


def test_import_epoch_is_idempotent(tmp_path):
    path = _chips_copy(tmp_path)
    with pytest.warns(UserWarning):
        import_epoch(EPOCH_SAMPLE, path, today=TODAY)
    first = path.read_bytes()
    with pytest.warns(UserWarning):
        rep = import_epoch(EPOCH_SAMPLE, path, today=dt.date(2032, 1, 1)).attrs["epoch_import"]
    assert rep["added"] == [] and rep["updated"] == {}
    assert path.read_bytes() == first


def test_import_epoch_dry_run_and_new_path(tmp_path):
    path = _chips_copy(tmp_path, _set("h100-sxm", "tdp_w", "650"))
    before = path.read_bytes()
    with pytest.warns(UserWarning):
        out = import_epoch(EPOCH_SAMPLE, path, write=False, today=TODAY)
    assert out.loc["h100-sxm", "tdp_w"] == 700.0 and path.read_bytes() == before
    fresh = tmp_path / "sub_new.csv"
    with pytest.warns(UserWarning):
        out = import_epoch(EPOCH_SAMPLE, fresh, today=TODAY)
    assert fresh.exists() and out.attrs["epoch_import"]["base"] == str(CHIPS_CSV)


def test_import_epoch_refuses_a_bad_epoch_file(tmp_path):
    rows = _read_rows(EPOCH_SAMPLE)
    _drop_column("TDP (W)")(rows)
    bad = _write_rows(tmp_path / "epoch_bad.csv", rows)
    path = _chips_copy(tmp_path)
    before = path.read_bytes()
    with pytest.raises(CatalogError, match=r"epoch_bad\.csv.*'TDP \(W\)'"):
        import_epoch(bad, path, today=TODAY)
    assert path.read_bytes() == before


def test_import_epoch_writes_nothing_when_the_result_is_invalid(tmp_path):
    rows = _read_rows(EPOCH_SAMPLE)
    col = rows[0].index("TDP (W)")
    next(r for r in rows if r[0] == "NVIDIA H100 SXM5 80GB")[col] = "9000"
    bad = _write_rows(tmp_path / "epoch_hot.csv", rows)
    path = _chips_copy(tmp_path)
    before = path.read_bytes()
    with pytest.raises(CatalogError, match=r"nothing written.*tdp_w.*9000"):
        with pytest.warns(UserWarning):
            import_epoch(bad, path, today=TODAY)
    assert path.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".chips.csv.")]  # no temp left


# ----------------------------------------------------------------------------- CLI


def test_cli_list_and_check(capsys):
    assert main(["catalog", "list"]) == 0
    assert "cloudmatrix-384" in capsys.readouterr().out
    assert main(["catalog", "list", "--kind", "chips", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ",".join(CHIP_COLUMNS)
    assert main(["catalog", "list", "--kind", "systems", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    nvl = next(r for r in records if r["id"] == "gb200-nvl72")
    assert nvl["n_accel"] == 72 and nvl["stack"] == "cuda"
    assert main(["catalog", "check"]) == 0
    cat = load_catalog()
    expected = f"ok: {len(cat.chips)} chips, {len(cat.systems)} systems"
    assert capsys.readouterr().out.strip() == expected


def test_cli_check_bad_file_exits_2(tmp_path, capsys):
    path = _chips_copy(tmp_path, _set("h20", "stack", "opencl"))
    assert main(["catalog", "check", "--chips", str(path)]) == 2
    err = capsys.readouterr().err
    assert "chips.csv" in err and "'stack'" in err and "opencl" in err
    assert main(["catalog", "check", "--systems", str(tmp_path / "nope.csv")]) == 2


def test_cli_import_epoch(tmp_path, capsys):
    path = _chips_copy(tmp_path, _set("h100-sxm", "tdp_w", "650"))
    assert main(["catalog", "import-epoch", str(EPOCH_SAMPLE), "--chips", str(path)]) == 0
    out = capsys.readouterr().out
    assert "added 1, updated 1 (1 values)" in out and f"wrote {path}" in out
    assert "+ b300-blackwell-ultra" in out and "~ h100-sxm: tdp_w" in out
    assert load_chips(path).loc["h100-sxm", "tdp_w"] == 700.0


def test_cli_import_bad_epoch_file_exits_2(tmp_path, capsys):
    rows = _read_rows(EPOCH_SAMPLE)
    _drop_column("Hardware name")(rows)
    bad = _write_rows(tmp_path / "epoch_bad.csv", rows)
    path = _chips_copy(tmp_path)
    assert main(["catalog", "import-epoch", str(bad), "--chips", str(path)]) == 2
    assert "'Hardware name'" in capsys.readouterr().err
    missing = str(tmp_path / "missing.csv")
    assert main(["catalog", "import-epoch", missing, "--chips", str(path)]) == 2
