"""Bad-input suite, part 3 (issue 17): resources. A run's memory is estimated from its population
and horizon before it runs and refused above a limit (default: a share of this machine's memory,
``--max-memory-gb`` to change it); the estimate is checked against a real peak here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from model import checks
from model.checks import check_memory, estimate_run_memory, population_size, run_inputs
from model.errors import InputError
from tests.bad_inputs_helpers import REPO, cli, snapshot


def _params(**over):
    return run_inputs("baseline", over)[1]


def test_population_size_counts_named_buyers_segments_and_countries():
    one = population_size(_params())
    assert population_size(_params(n_firms_per_country=11)) - one == 10 * 15  # 15 Global-South countries
    assert population_size(_params(n_firms_per_hyperscaler_region=11)) - one == 10 * 2  # two segments
    assert population_size(_params(population="arthur", arthur_arrivals=500)) == 500


def test_estimate_grows_with_population_and_horizon():
    small = estimate_run_memory(_params(end="2023-12"))
    assert estimate_run_memory(_params(end="2035-12")) > small
    assert estimate_run_memory(_params(end="2023-12", n_firms_per_country=10_000)) > small + 100e6
    huge = estimate_run_memory(_params(n_firms_per_country=1_000_000))
    assert 20e9 < huge < 200e9  # 15 million buyers over 14 years


def test_refusal_names_the_estimate_and_the_flag():
    with pytest.raises(InputError, match=r"needs about 50\.\d GB.*limit of 8\.0 GB.*--max-memory-gb 51"):
        check_memory(estimate_run_memory(_params(n_firms_per_country=1_000_000)), 8_000_000_000)
    check_memory(10, None)  # no known limit: nothing refused


def test_default_limit_is_a_share_of_this_machine(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(checks, "machine_memory", lambda: 400_000_000)  # a 0.4 GB machine
    before = snapshot(tmp_path)
    rc, _, err = cli(["run", "--end", "2022-02"], capsys)
    assert rc == 2 and "limit of 0.3 GB" in err and "--max-memory-gb" in err
    assert snapshot(tmp_path) == before


def test_a_million_firms_per_country_is_refused_at_once(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(checks, "machine_memory", lambda: 16_000_000_000)
    rc, _, err = cli(["run", "--set", "n_firms_per_country=1000000"], capsys)
    assert rc == 2 and "needs about" in err and "limit of 12.8 GB" in err
    assert not (tmp_path / "outputs").exists()


_PEAK = """
import sys
from pathlib import Path
from model.run import run_one
run_one({"n_firms_per_country": int(sys.argv[1]), "end": sys.argv[2]}, 0)
# the process's own high-water mark: ru_maxrss would carry over the forking pytest process's
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        print(int(line.split()[1]) * 1024)
"""


def _peak(firms: int, end: str, env: dict[str, str] | None = None) -> int:
    res = subprocess.run([sys.executable, "-c", _PEAK, str(firms), end], cwd=REPO, capture_output=True,
                         text=True, check=True, timeout=300, env=env)
    return int(res.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux's /proc/self/status (VmHWM)")
@pytest.mark.parametrize("firms,end", [(1, "2023-06"), (4000, "2023-06")])
def test_estimate_is_above_the_measured_peak_and_not_far_above(firms, end, tmp_path):
    """The estimate (with its 25 % margin) covers the peak resident memory of a run and is at most
    2.5x a later run's (kernels loaded from numba's disk cache); for the small size it also covers
    the first run after installing, measured here with an empty kernel cache (every kernel is
    compiled in that run: 0.45 GB on 2026-12-01, model/checks.py)."""
    est = estimate_run_memory(_params(n_firms_per_country=firms, end=end))
    peak = _peak(firms, end)
    assert peak <= est <= 2.5 * peak, (peak, est)
    if firms == 1:
        first = _peak(firms, end, env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")})
        assert first <= est, (first, est)
