"""The exact regression guard (tests/guard.py): all three tables of nine fixed-seed
configurations equal the committed digests, column by column."""

from __future__ import annotations

import pytest

from tests.guard import CONFIGS, committed, digests


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_tables_match_committed_digests(name):
    expected = committed()[name]
    got = digests(name)
    assert sorted(got) == sorted(expected)
    for table in expected:
        diff = {c: (expected[table][c], got[table].get(c)) for c in expected[table]
                if got[table].get(c) != expected[table][c]}
        assert not diff, f"{name}: table {table!r} changed in {sorted(diff)}"
