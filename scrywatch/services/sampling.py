"""Tail sampling rules: which finished traces are kept. Pure functions, no I/O.

A trace is kept when any span errored, when it lasted longer than `slow_ms`, or when its id falls
in the baseline share. The baseline is a hash of the trace id, so every process (and every rerun)
makes the same choice for the same trace.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from scrywatch.config import TracesConfig

_HASH_SPACE = float(1 << 64)


@dataclass(frozen=True)
class SamplingPolicy:
    slow_ms: float
    baseline_ratio: float

    @classmethod
    def from_config(cls, config: TracesConfig) -> SamplingPolicy:
        return cls(slow_ms=float(config.slow_ms), baseline_ratio=float(config.baseline_ratio))


def trace_fraction(trace_id: str) -> float:
    """A uniform, stable number in [0, 1) derived from the trace id."""
    digest = hashlib.blake2b(trace_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _HASH_SPACE


def in_baseline(trace_id: str, ratio: float) -> bool:
    """True when this trace belongs to the baseline share `ratio` (0..1)."""
    if ratio <= 0.0:
        return False
    if ratio >= 1.0:
        return True
    return trace_fraction(trace_id) < ratio


def keep_trace(policy: SamplingPolicy, *, trace_id: str, error_count: int, duration_ms: float) -> bool:
    """The decision for one finished trace."""
    return error_count > 0 or duration_ms > policy.slow_ms or in_baseline(trace_id, policy.baseline_ratio)
