"""Time, in one place, so tests can control it."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...


class SystemClock:
    """Wall-clock time in Unix milliseconds."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, now_ms: int | None = None) -> None:
        self._now = now_ms if now_ms is not None else time.time_ns() // 1_000_000

    def now_ms(self) -> int:
        return self._now

    def advance(self, *, ms: int = 0, seconds: float = 0, hours: float = 0) -> None:
        self._now += ms + int(seconds * 1000) + int(hours * 3_600_000)

    def set(self, now_ms: int) -> None:
        self._now = now_ms
