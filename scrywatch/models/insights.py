"""Insights: persistent message patterns and plain-English summaries of a recent window."""

from __future__ import annotations

import msgspec

from scrywatch.models._base import Inbound, Record

SUMMARY_MINUTES = (5, 15, 30, 60)
DEFAULT_SUMMARY_MINUTES = 15
NEW_PATTERN_MS = 3_600_000


class SummaryCreate(Inbound):
    minutes: int = DEFAULT_SUMMARY_MINUTES  # one of SUMMARY_MINUTES; checked by the service


class PersistentPattern(Record):
    id: str
    normalized_message: str
    level: str
    service: str | None
    first_seen: int
    last_seen: int
    occurrence_count: int
    is_new: bool = False


class PatternCount(Record):
    """A pattern's occurrences in one refresh, to be added to the stored totals."""

    hash: str
    normalized_message: str
    level: str
    service: str | None
    first_seen: int
    last_seen: int
    count: int


class WindowFacts(Record):
    """Raw aggregates of one window, read from storage (counts exact, messages newest first)."""

    level_counts: dict[str, int]
    service_level_counts: list[tuple[str | None, str, int]]
    error_messages: list[tuple[str, str | None]]


class WindowCounts(Record, rename={"from_ms": "from", "to_ms": "to"}):
    from_ms: int
    to_ms: int
    event_count: int
    error_count: int
    warn_count: int


class ServiceActivity(Record):
    service: str | None
    event_count: int
    error_count: int


class ErrorPattern(Record):
    pattern: str
    count: int
    services: list[str]
    sample: str
    is_new: bool  # absent from the previous window


class InsightSummary(Record):
    """What POST/GET /insights/summary answer: the spec's fields, then how it was made and the facts."""

    id: str
    summary_text: str
    error_count: int
    warn_count: int
    event_count: int
    created_at: int
    time_window_minutes: int
    provider: str = "builtin"
    model: str | None = None
    fallback: bool = False
    fallback_reason: str | None = None
    window: WindowCounts | None = None
    previous: WindowCounts | None = None
    top_services: list[ServiceActivity] = msgspec.field(default_factory=list)
    top_error_patterns: list[ErrorPattern] = msgspec.field(default_factory=list)
    changes: list[str] = msgspec.field(default_factory=list)
