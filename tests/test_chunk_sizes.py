"""The sweep's automatic chunk sizes (experiments/runner/sweep.py _auto_size)."""

from __future__ import annotations

from experiments.runner import sweep as S


def _sizes(workers: int, n: int, per_run_s: float, per_run_bytes: float = 1e5) -> list[int]:
    """The sizes the guided schedule hands out for n runs, as if every chunk were timed at once."""
    out, submitted = [], 0
    done, compute, nbytes = 0, 0.0, 0
    while submitted < n:
        k = min(S._auto_size(workers, n, submitted, done, compute, int(nbytes)), n - submitted)
        out.append(k)
        submitted += k
        done, compute, nbytes = submitted, per_run_s * submitted, per_run_bytes * submitted
    return out


def test_first_chunk_is_one_run_then_guided():
    sizes = _sizes(2, 200, 0.15)
    assert sizes[0] == 1
    assert sum(sizes) == 200
    assert max(sizes) == sizes[1] and sizes[1] > 10  # a share of what is left (3 s / 0.15 s caps at 20)


def test_cheap_runs_keep_three_to_a_chunk_at_the_tail():
    sizes = _sizes(2, 200, 0.15)
    assert min(sizes[1:-1]) == S._TAIL_RUNS  # never a lone cheap run before the very last chunk
    assert sizes[-6:-1] == [S._TAIL_RUNS] * 5


def test_dear_runs_shrink_to_single_runs():
    sizes = _sizes(2, 60, 0.4)  # two such runs already take more than _TAIL_S
    assert sizes[-3:] == [1, 1, 1]
    sizes = _sizes(2, 60, 0.2)
    assert min(sizes[1:-1]) == 2


def test_the_tail_floor_respects_the_memory_cap():
    sizes = _sizes(2, 50, 0.01, per_run_bytes=10 * 2**20)  # one run's tables ~10 MB: one per chunk
    assert set(sizes) == {1}


def test_one_worker_is_not_given_a_tail():
    sizes = _sizes(1, 40, 0.15)
    assert sizes[0] == 1 and all(k == 10 for k in sizes[1:-1])  # a quarter of the sweep each
