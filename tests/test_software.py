"""Software that matures (model/components/software.py, Eq. E6-E7): the calibration on published
same-silicon CUDA gains, efficiency never falls, serving gains outpace training, an offering's
value rises over time, and with maturity frozen every table equals the digests committed before
the multiplier existed (tests/fixtures/guard_software_frozen.json)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from model.components.software import efficiency_step
from model.market_model import ChipMarketModel
from model.params import defaults
from model.types import STACK_INDEX, STACKS
from tests.guard import CONFIGS, SEED, table_digest

FROZEN = Path(__file__).parent / "fixtures" / "guard_software_frozen.json"


def _cuda_path(months: int, p: dict) -> np.ndarray:
    """CUDA's efficiency after ``months`` from 1, at its held maturity 0.95 (no co-design)."""
    eff = np.ones((1, 2))
    rate = np.array([p["software_rate_train"], p["software_rate_serve"]])
    ceiling = np.array([p["software_ceiling_train"], p["software_ceiling_serve"]])
    for _ in range(months):
        eff = efficiency_step(eff, np.array([0.95]), np.zeros(1), rate, ceiling, p["software_codesign_ceiling"])
    return eff[0]


def test_cuda_path_reproduces_the_2023_24_same_silicon_gains():
    """Training: +27 % on the same 512 H100 in a year (MLPerf Training 2023-06 -> 2024-06);
    serving: x2 on H100 LLM inference in six months (TensorRT-LLM, 2023-09 -> 2024-03)."""
    p = defaults()
    assert _cuda_path(12, p)[0] == pytest.approx(1.27, abs=0.002)
    assert _cuda_path(6, p)[1] == pytest.approx(2.0, abs=0.002)


def test_efficiency_never_falls_and_stays_under_its_ceiling():
    rng = np.random.default_rng(7)
    rate, ceiling = np.array([0.07, 0.23]), np.array([1.6, 3.0])
    eff = np.ones((len(STACKS), 2))
    for _ in range(200):
        m = rng.uniform(0, 1, len(STACKS))
        x = rng.uniform(0, 1, len(STACKS)) * rng.integers(0, 2, len(STACKS))
        nxt = efficiency_step(eff, m, x, rate, ceiling, 1.0)
        assert (nxt >= eff).all()
        assert (nxt <= ceiling[None, :] * 2.0 + 1e-12).all()  # codesign <= 1 doubles the ceiling at most
        eff = nxt
    # a stack that stalls (maturity 0, no co-design) keeps its efficiency: it falls behind, not down
    stalled = efficiency_step(eff, np.zeros(len(STACKS)), np.zeros(len(STACKS)), rate, ceiling, 1.0)
    assert np.array_equal(stalled, eff)


def test_serving_gains_outpace_training():
    p = defaults()
    for months in (1, 6, 12, 36):
        train, serve = _cuda_path(months, p)
        assert serve > train > 1.0


@pytest.mark.parametrize("seed", [1, 2])
def test_maturity_raises_an_offerings_value_and_never_lowers_it(seed):
    """A CloudMatrix (CANN) is worth more in 2028 than in 2026 at launch value; month by month its
    effective value never falls; before software_start it is the core's launch value."""
    m = ChipMarketModel("baseline", rng=seed, end="2028-12")
    off = m.offerings
    i = off.index("cloudmatrix-384")
    assert off.stack[i] == STACK_INDEX["cann"]
    values, months = [], []
    while m.running:
        m.step()
        values.append(float(m.ecosystems.software.effective_value(off)[i]))
        months.append(m.month - 1)
    values = np.array(values)
    assert (np.diff(values) >= 0).all()
    start = m.dates["software_start"]
    before = np.array(months) < start
    assert np.allclose(values[before], off.value[i])
    assert values[-1] > 1.2 * off.value[i]
    eff = m.tables()["adoption"]
    assert (eff["software_efficiency"] >= 1.0).all()
    assert (eff.loc[eff["date"] < "2026-01", "software_efficiency"] == 1.0).all()


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_frozen_maturity_equals_the_digests_before_the_multiplier(name):
    """With ``software_maturity`` off (and no disruption) every column that existed before this
    layer is bit for bit what it was; the new columns are only appended."""
    from model.run import run_one

    expected = json.loads(FROZEN.read_text())[name]
    tables = run_one({**CONFIGS[name], "software_maturity": False}, SEED)
    for table, digest in expected.items():
        got = table_digest(tables[table])
        old_cols = digest["_columns"].split(",")
        assert got["_columns"].split(",")[:len(old_cols)] == old_cols
        diff = sorted(c for c in digest if c != "_columns" and got.get(c) != digest[c])
        assert not diff, f"{name}: table {table!r} changed in {diff} with maturity frozen"


def test_efficiency_step_on_floats_is_efficiency_step_bit_for_bit():
    """The month's step on Python floats (only exp in numpy) gives efficiency_step's bits."""
    from model.components.software import efficiency_step_floats

    rng = np.random.default_rng(11)
    for _ in range(2000):
        S = int(rng.integers(1, 6))
        eff = rng.uniform(0.5, 8.0, (S, 2))
        m, x = rng.uniform(0, 1, S), rng.uniform(0, 1, S) * (rng.uniform(size=S) < 0.5)
        rate, ceiling = rng.uniform(0, 0.2, 2), rng.uniform(1.0, 10.0, 2)
        k = float(rng.uniform(0, 2))
        want = efficiency_step(eff, m, x, rate, ceiling, k)
        got = efficiency_step_floats(eff, m, x, rate.tolist(), ceiling.tolist(), k)
        assert got.shape == want.shape and got.tobytes() == want.tobytes()
