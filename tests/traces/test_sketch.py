"""The latency sketch: quantiles within 1 % of exact nearest-rank quantiles, mergeable, compact."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scrywatch.services.sketch import LatencySketch, merge_bytes, nearest_rank

QUANTILES = (0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0)
durations = st.one_of(
    st.just(0.0),
    st.floats(min_value=1e-6, max_value=3.6e6, allow_nan=False, allow_infinity=False),
    st.integers(min_value=1, max_value=10_000).map(lambda n: n / 1000),  # whole microseconds
)


def exact(values: list[float], q: float) -> float:
    return sorted(values)[nearest_rank(q, len(values)) - 1]


def within_one_percent(estimate: float | None, truth: float) -> bool:
    assert estimate is not None
    return abs(estimate - truth) <= 0.01 * truth


@given(st.lists(durations, min_size=1, max_size=400))
def test_quantiles_within_one_percent_of_exact(values: list[float]) -> None:
    sketch = LatencySketch().add_all(values)
    assert sketch.count == len(values)
    for q in QUANTILES:
        assert within_one_percent(sketch.quantile(q), exact(values, q)), q


@given(st.lists(st.lists(durations, max_size=60), min_size=1, max_size=8))
def test_merging_serialized_sketches_equals_one_sketch_of_everything(parts: list[list[float]]) -> None:
    blobs = [LatencySketch().add_all(p).to_bytes() for p in parts]
    merged = blobs[0]
    for blob in blobs[1:]:
        merged = merge_bytes(merged, blob)
    everything = [v for p in parts for v in p]
    combined = LatencySketch.from_bytes(merged)
    direct = LatencySketch().add_all(everything)
    assert (combined.buckets, combined.zero_count, combined.count) == (direct.buckets, direct.zero_count,
                                                                      direct.count)
    if everything:
        for q in QUANTILES:
            assert within_one_percent(combined.quantile(q), exact(everything, q))
    else:
        assert combined.quantile(0.5) is None


def test_sketch_is_compact() -> None:
    # A minute of 10,000 requests between 1 ms and 10 s.
    values = [1.0 * 1.0009 ** i for i in range(10_000)]
    blob = LatencySketch().add_all(values).to_bytes()
    assert len(blob) < 3_000
    with pytest.raises(ValueError):
        LatencySketch.from_bytes(b"\x92\x07\x00")


def test_nearest_rank_forgives_float_noise() -> None:
    assert nearest_rank(0.07, 100) == 7  # 0.07 * 100 is 7.000000000000001
    assert nearest_rank(0.5, 3) == 2 and nearest_rank(1.0, 3) == 3 and nearest_rank(0.0001, 3) == 1
