"""The launch's bookkeeping (issue 19): columns grown one block per dtype, the workloads' cache key
kept only for read-only workloads; each gives what the straightforward code gives."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from model.cluster import Workloads
from model.components.offerings import _appended, _workload_key


def test_appended_equals_concatenation_and_keeps_dtypes():
    old = {"a": np.array([1.5, 2.5]), "b": np.array([1, 2]), "c": np.array(["x", "y"], dtype=object),
           "d": np.array([3.0, 4.0]), "e": np.array([True, False])}
    new = {"a": [9.0], "b": [np.int64(7)], "c": ["z"], "d": [np.float64(0.1)], "e": [np.bool_(True)]}
    before = {k: v.copy() for k, v in old.items()}
    out = _appended(old, new)
    for k, v in old.items():
        want = np.concatenate((v, np.array(new[k], dtype=v.dtype)))
        assert out[k].dtype == v.dtype and out[k].flags.c_contiguous
        assert out[k].tobytes() == want.tobytes() if v.dtype != object else list(out[k]) == list(want)
        assert np.array_equal(v, before[k])  # the old columns are never written
    out["a"][0] = -1.0  # a fresh allocation: writing the result leaves the old column alone
    assert old["a"][0] == 1.5


def test_appended_arrays_takes_one_element_rows_and_refuses_others():
    old = {"x": np.array([1.0, 2.0]), "y": np.array([3.0, 4.0])}
    out = _appended(old, {"x": [np.array([5.0]), np.array([6.0])], "y": [np.array([7.0]), np.array([8.0])]},
                    arrays=True)
    assert out["x"].tolist() == [1.0, 2.0, 5.0, 6.0] and out["y"].tolist() == [3.0, 4.0, 7.0, 8.0]
    with pytest.raises(ValueError, match="one value per offering"):
        _appended(old, {"x": [np.array([5.0, 6.0])], "y": [np.array([7.0])]}, arrays=True)


def test_workload_key_is_kept_only_for_read_only_workloads():
    shared = Workloads.load(ids=["deepseek-r1-decode", "llama3-405b-train"])
    assert not shared.seq_len.flags.writeable
    assert _workload_key(shared) is _workload_key(shared)  # the packaged workloads: kept
    own = dataclasses.replace(shared, seq_len=shared.seq_len.copy())  # a writeable copy
    k1 = _workload_key(own)
    own.seq_len[0] = own.seq_len[0] * 2
    k2 = _workload_key(own)
    assert k1 != k2  # a workload that can change is keyed afresh on every call
    assert k1 == _workload_key(shared)
