"""Log events: the wire shape SDKs send, the stored event, and the query filters."""

from __future__ import annotations

from typing import Any

import msgspec

LEVELS = ("error", "warn", "info", "debug")
TYPES = ("crash", "session", "navigation", "api_call", "custom", "cron")
DEVICE_TYPES = ("mobile", "tablet", "desktop", "server", "ios", "android", "macos", "windows", "linux", "web")
# Fields the rollup tables count by; a query that filters only on these (and time) is answered
# exactly from the rollups.
ROLLUP_FIELDS = ("level", "type", "service", "environment", "device_type")
STRING_FIELDS = ("service", "environment", "user_id", "session_id", "device_type", "trace_id", "span_id")
MAX_FIELD_CHARS = 256
MAX_PAGE = 200
DEFAULT_PAGE = 50


class EventIn(msgspec.Struct, kw_only=True):
    """One event as SDKs send it: loosely typed, normalised by services/ingest.py.

    Unknown fields are ignored (SDKs add their own); wrong types are per-event errors.
    """

    timestamp: int | float | str | None = None
    level: str | int | None = None
    type: str | None = None
    message: str | None = None
    id: str | int | None = None
    service: str | None = None
    environment: str | None = None
    user_id: str | int | None = None
    session_id: str | int | None = None
    device_type: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    metadata: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"null"))


class BatchIn(msgspec.Struct):
    """A request body: events are decoded one by one so one bad event does not sink the batch."""

    events: list[msgspec.Raw]


class LogEvent(msgspec.Struct, kw_only=True):
    """A stored event, as the API returns it. `metadata` is the stored JSON text, passed through."""

    id: str
    timestamp: int
    level: str
    type: str
    message: str
    service: str | None = None
    environment: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    device_type: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    metadata: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"null"))
    received_at: int = 0

    def metadata_value(self) -> Any:
        """The metadata decoded (for templates and filters)."""
        return msgspec.json.decode(self.metadata) if self.metadata else None


class NewEvent(msgspec.Struct, kw_only=True):
    """A normalised event ready to store (no id yet unless the client sent one)."""

    timestamp: int
    level: str
    type: str
    message: str
    client_id: str | None
    service: str | None
    environment: str | None
    user_id: str | None
    session_id: str | None
    device_type: str | None
    trace_id: str | None
    span_id: str | None
    metadata: bytes | None  # compact JSON, or None for null/absent


class IngestError(msgspec.Struct):
    index: int
    field: str
    message: str


class IngestResult(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What POST /api/ingest answers (with status 202); zero counts and no errors are left out."""

    status: int  # always 202: the Go, PHP and Flutter SDKs read it
    inserted: int
    duplicates: int = 0
    rejected: int = 0
    errors: list[IngestError] = msgspec.field(default_factory=list)


class LogQuery(msgspec.Struct, kw_only=True, frozen=True):
    """Filters shared by /logs, /facets, /patterns, the archive, export, alerts and the tail."""

    levels: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    service: str | None = None
    environment: str | None = None
    device_type: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    trace_id: str | None = None
    # Exclusions (extension; the dashboard's alt-click and `-field:value` syntax).
    not_levels: tuple[str, ...] = ()
    not_types: tuple[str, ...] = ()
    not_services: tuple[str, ...] = ()
    not_environments: tuple[str, ...] = ()
    not_device_types: tuple[str, ...] = ()
    q: str | None = None
    from_ms: int | None = None
    to_ms: int | None = None

    @property
    def rollup_only(self) -> bool:
        """True when only rollup dimensions and time are filtered (no text, no ids)."""
        return not (self.q or self.user_id or self.session_id or self.trace_id)


class Page(msgspec.Struct, kw_only=True, frozen=True):
    limit: int = DEFAULT_PAGE
    offset: int = 0
    cursor: str | None = None


class LogPage(msgspec.Struct, kw_only=True):
    """A page of /logs results, newest first."""

    results: list[LogEvent]
    total: int
    total_exact: bool = True
    next_cursor: str | None = None
    has_more: bool = False
