"""A mergeable latency sketch (DDSketch-style log buckets): add, merge, quantile, compact bytes.

A value v > 0 goes to bucket i = ceil(log_gamma(v)) and is read back as 2*gamma^i / (gamma + 1),
which is within RELATIVE_ACCURACY of every value in (gamma^(i-1), gamma^i]. Quantiles use the
nearest rank, so a quantile is within that accuracy of the exact nearest-rank quantile of the
values added, whatever their distribution, and merging two sketches is adding their counts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import msgspec

# 0.5 %: half the 1 % the service map promises, so float rounding at bucket edges never matters.
RELATIVE_ACCURACY = 0.005
GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(GAMMA)
# Durations are whole nanoseconds; anything below one (in ms) is counted as zero.
MIN_VALUE_MS = 1e-6
_FORMAT_VERSION = 1
_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(list[int])


def bucket_of(value_ms: float) -> int | None:
    """The bucket index of a value; None for the zero bucket."""
    if not value_ms >= MIN_VALUE_MS:  # also catches NaN
        return None
    return math.ceil(math.log(value_ms) / _LOG_GAMMA)


def nearest_rank(q: float, n: int) -> int:
    """The 1-based rank of the nearest-rank q-quantile among n values (float noise forgiven)."""
    return min(n, max(1, math.ceil(q * n - 1e-9)))


def bucket_value(index: int) -> float:
    """The value a bucket stands for."""
    return 2.0 * GAMMA**index / (GAMMA + 1.0)


class LatencySketch:
    """Counts of durations (ms) in log-scale buckets."""

    __slots__ = ("buckets", "zero_count", "count")

    def __init__(self) -> None:
        self.buckets: dict[int, int] = {}
        self.zero_count = 0
        self.count = 0

    def add(self, value_ms: float, n: int = 1) -> None:
        index = bucket_of(value_ms)
        if index is None:
            self.zero_count += n
        else:
            self.buckets[index] = self.buckets.get(index, 0) + n
        self.count += n

    def add_all(self, values_ms: Iterable[float]) -> LatencySketch:
        for value in values_ms:
            self.add(value)
        return self

    def merge(self, other: LatencySketch) -> LatencySketch:
        """Add other's counts into this sketch; returns self."""
        buckets = self.buckets
        for index, n in other.buckets.items():
            buckets[index] = buckets.get(index, 0) + n
        self.zero_count += other.zero_count
        self.count += other.count
        return self

    def quantile(self, q: float) -> float | None:
        """The nearest-rank q-quantile (0 < q <= 1) of the values added; None when empty."""
        if self.count == 0:
            return None
        rank = nearest_rank(q, self.count)
        seen = self.zero_count
        if seen >= rank:
            return 0.0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                return bucket_value(index)
        return bucket_value(max(self.buckets))

    # -- storage ---------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """Compact form: msgpack ints [version, zero_count, first index, count, delta, count, ...]."""
        flat = [_FORMAT_VERSION, self.zero_count]
        previous = 0
        for index in sorted(self.buckets):
            flat.append(index - previous)
            flat.append(self.buckets[index])
            previous = index
        return _encoder.encode(flat)

    @classmethod
    def from_bytes(cls, data: bytes) -> LatencySketch:
        flat = _decoder.decode(data)
        if not flat or flat[0] != _FORMAT_VERSION:
            raise ValueError("unknown latency sketch format")
        sketch = cls()
        sketch.zero_count = flat[1]
        total = flat[1]
        index = 0
        buckets = sketch.buckets
        for i in range(2, len(flat) - 1, 2):
            index += flat[i]
            buckets[index] = flat[i + 1]
            total += flat[i + 1]
        sketch.count = total
        return sketch


def merge_bytes(a: bytes, b: bytes) -> bytes:
    """Two serialized sketches merged into one."""
    return LatencySketch.from_bytes(a).merge(LatencySketch.from_bytes(b)).to_bytes()
