"""The recorder's pandas tables are its Arrow tables' ``to_pandas()`` exactly: the same columns
in order, dtypes (pandas' Arrow-backed ``str`` for strings, large_string data as Arrow's
conversion gives), index, attrs and every value's bits (issue 19: built without the round trip)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from model.market_model import ChipMarketModel
from tests.guard import table_digest


def _same(df: pd.DataFrame, ref: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(df, ref, check_exact=True, check_column_type=True, check_index_type=True)
    assert list(df.columns) == list(ref.columns) and df.columns.dtype == ref.columns.dtype
    assert isinstance(df.index, pd.RangeIndex) and df.index.equals(ref.index) and df.attrs == ref.attrs
    assert table_digest(df) == table_digest(ref)
    for c in ref.columns:
        a, b = df[c].array, ref[c].array
        assert type(a) is type(b) and df[c].dtype == ref[c].dtype, c
        if isinstance(b, pd.arrays.ArrowStringArray):
            assert a._pa_array.type == b._pa_array.type == pa.large_string()
            assert a._pa_array.null_count == 0
        else:  # bits, NaN payloads and negative zeros included
            assert df[c].to_numpy().tobytes() == ref[c].to_numpy().tobytes(), c


@pytest.mark.parametrize("kw, steps", [
    (dict(rng=2, end="2024-06"), None),
    (dict(rng=3, scenario="full_decoupling", end="2023-06"), None),  # NaN shares: China buys nothing abroad
    (dict(rng=4), 0),  # no month recorded yet: empty tables of the same columns
    (dict(rng=5), 1),
    (dict(rng=6, scenario="arthur_docking"), 30),
])
def test_tables_are_the_arrow_tables_to_pandas(kw, steps):
    m = ChipMarketModel(**kw)
    if steps is None:
        m.run_model()
    else:
        for _ in range(steps):
            m.step()
    t, ref = m.tables(), {k: tab.to_pandas() for k, tab in m.arrow_tables().items()}
    assert list(t) == list(ref) == ["model", "adoption", "vendors"]
    for k in ref:
        _same(t[k], ref[k])
    months = len(m.recorder.records["model"])
    assert months == (steps if steps is not None else m.end_month - m.start_month + 1)
    assert len(t["model"]) == months and len(t["adoption"]) == months * len(m.regions) * 4


def test_arrow_tables_keep_string_type():
    m = ChipMarketModel(rng=7, end="2022-03")
    m.run_model()
    for tab in m.arrow_tables().values():
        for f in tab.schema:
            assert f.type in (pa.string(), pa.int64(), pa.float64()), f


def test_tables_do_not_share_the_recorders_arrays():
    m = ChipMarketModel(rng=8, end="2022-04")
    m.run_model()
    t = m.tables()
    kept = [a for rec in m.recorder.records.values() for r in rec for a in r if isinstance(a, np.ndarray)]
    assert kept
    for df in t.values():
        for c in df.columns:
            col = df[c].to_numpy()
            if col.dtype.kind in "if":
                assert not any(np.shares_memory(col, a) for a in kept), c
