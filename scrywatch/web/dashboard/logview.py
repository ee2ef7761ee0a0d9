"""The Log Explorer's state as it travels in URLs: filters, search text and time range.

A page URL reads `?q=<search syntax>&range=1h` (or `&from=<ms>&to=<ms>` for a custom range), plus
`live=1` while the Live tail is on (relative ranges only) and `event=<id>` while an event's drawer is
open (scripts read and write both; `event` never travels into other links). The
/logs API parameters (`level=error&exclude_type=navigation`, as lenses saved through the API hold
them) are accepted too and merged in; every link the pages build is canonical: the filters written
in the search syntax, so the search box, the URL and the chips always say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from urllib.parse import quote, urlencode

from msgspec.structs import replace

from scrywatch import querylang
from scrywatch.errors import InvalidInput
from scrywatch.models.logs import LogQuery
from scrywatch.services.search import parse_query

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
# key -> (label, span)
RANGES: dict[str, tuple[str, int]] = {
    "15m": ("Last 15 minutes", 15 * MINUTE_MS),
    "1h": ("Last hour", HOUR_MS),
    "24h": ("Last 24 hours", 24 * HOUR_MS),
    "7d": ("Last 7 days", 7 * 24 * HOUR_MS),
}
DEFAULT_RANGE = "24h"
CUSTOM = "custom"
# Facet fields: (query attribute, exclusion attribute, search-syntax name, label)
FACETS: tuple[tuple[str, str, str, str], ...] = (
    ("level", "not_levels", "level", "Level"),
    ("type", "not_types", "type", "Type"),
    ("service", "not_services", "service", "Service"),
    ("environment", "not_environments", "env", "Environment"),
    ("device_type", "not_device_types", "device", "Device"),
)
INCLUDE_ATTR = {"level": "levels", "type": "types", "service": "service", "environment": "environment",
                 "device_type": "device_type", "user_id": "user_id", "session_id": "session_id",
                 "trace_id": "trace_id"}
_EXCLUDE_ATTR = {f: ex for f, ex, _, _ in FACETS}
_TEXT_NAME = {"level": "level", "type": "type", "service": "service", "environment": "env",
              "device_type": "device", "user_id": "user", "session_id": "session", "trace_id": "trace"}


@dataclass(frozen=True)
class Chip:
    """An active filter, shown removable above the results."""

    label: str  # in the search syntax, e.g. `-type:navigation`
    negated: bool
    remove: LogQuery


@dataclass(frozen=True)
class EventLinks:
    """`href(id)`: an event's page (and drawer) URL carrying a view's parameters."""

    prefix: str
    query: str

    def href(self, event_id: str) -> str:
        return self.prefix + quote(event_id, safe="") + self.query


@dataclass(frozen=True)
class View:
    """What the Log Explorer shows: a query (without time), a time range, and any input error."""

    query: LogQuery
    range: str  # a RANGES key or CUSTOM
    from_ms: int
    to_ms: int
    error: InvalidInput | None = None
    raw_text: str = ""  # what was typed, kept in the box when it did not parse
    live: bool = False  # the Live tail is on (never with a custom range)

    @cached_property
    def text(self) -> str:
        return self.raw_text if self.error is not None else querylang.format(self.query)

    @property
    def timed(self) -> LogQuery:
        """The query over the range (what the services are asked)."""
        return replace(self.query, from_ms=self.from_ms, to_ms=self.to_ms)

    @property
    def is_custom(self) -> bool:
        return self.range == CUSTOM

    @property
    def is_plain(self) -> bool:
        """No filter and no text: what a brand-new project shows."""
        return self.query == LogQuery()

    def time_params(self) -> dict[str, str]:
        if self.is_custom:
            return {"from": str(self.from_ms), "to": str(self.to_ms)}
        live = {"live": "1"} if self.live else {}
        return live if self.range == DEFAULT_RANGE else {"range": self.range, **live}

    def params(self, query: LogQuery | None = None, **changes: str) -> dict[str, str]:
        """Canonical page parameters for this view, with another query or time range if given."""
        text = querylang.format(query) if query is not None else self.text
        time = changes or self.time_params()
        return {**({"q": text} if text else {}), **{k: v for k, v in time.items() if v}}

    def href(self, base: str, query: LogQuery | None = None, **changes: str) -> str:
        params = self.params(query, **changes)
        return f"{base}?{urlencode(params)}" if params else base

    def event_links(self, sample_path: str) -> EventLinks:
        """Links to events that keep this view, from one event's path (`.../events/<id>`): building
        each row's link from the route table would cost more than the rest of the row."""
        params = self.params()
        return EventLinks(sample_path.rsplit("/", 1)[0] + "/", f"?{urlencode(params)}" if params else "")

    def clear_href(self, base: str) -> str:
        return self.href(base, LogQuery())

    def tail_params(self) -> str:
        """The live tail's query string: the same filters (no time bounds; the tail is 'from now'), with
        the text matched as the search matches it (words and phrases, not a substring)."""
        params = querylang.to_params(self.query)
        return urlencode({**params, "match": "fulltext"} if "q" in params else params)

    def page_href(self, base: str, cursor: str) -> str:
        """This view's older events, after a cursor (for browsers without scripts)."""
        return f"{base}?{urlencode({**self.params(), 'cursor': cursor})}"

    def local_input(self, ms: int) -> str:
        """A time for <input type=datetime-local> (UTC; scripts show the viewer's own zone)."""
        return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")

    def lens_filters(self) -> dict[str, str]:
        """What a lens saves: the /logs API parameters of the query, plus the time range."""
        time = {"range": self.range} if not self.is_custom else {"from": str(self.from_ms), "to": str(self.to_ms)}
        return {**querylang.to_params(self.query), **time}

    # -- facet edits -------------------------------------------------------------------------
    def include(self, name: str, value: str) -> LogQuery:
        """The query also requiring field=value (level and type add to their list; others replace)."""
        attr = INCLUDE_ATTR[name]
        changes: dict[str, Any] = {}
        current = getattr(self.query, attr)
        changes[attr] = tuple(dict.fromkeys([*current, value])) if isinstance(current, tuple) else value
        if name in _EXCLUDE_ATTR:
            changes[_EXCLUDE_ATTR[name]] = tuple(v for v in getattr(self.query, _EXCLUDE_ATTR[name]) if v != value)
        return replace(self.query, **changes)

    def exclude(self, name: str, value: str) -> LogQuery:
        """The query excluding field=value (and no longer requiring it)."""
        ex = _EXCLUDE_ATTR[name]
        q = self.without(name, value)
        return replace(q, **{ex: tuple(dict.fromkeys([*getattr(q, ex), value]))})

    def without(self, name: str, value: str, *, negated: bool = False) -> LogQuery:
        """The query without this one filter."""
        attr = _EXCLUDE_ATTR[name] if negated else INCLUDE_ATTR[name]
        current = getattr(self.query, attr)
        kept = tuple(v for v in current if v != value) if isinstance(current, tuple) else None
        return replace(self.query, **{attr: kept})

    def state(self, name: str, value: str) -> str:
        """'on', 'excluded' or '' for a facet value."""
        current = getattr(self.query, INCLUDE_ATTR[name])
        if value == current or (isinstance(current, tuple) and value in current):
            return "on"
        return "excluded" if value in getattr(self.query, _EXCLUDE_ATTR[name]) else ""

    def chips(self) -> list[Chip]:
        """Every active filter and the query without it."""
        out: list[Chip] = []
        for name, attr in INCLUDE_ATTR.items():
            current = getattr(self.query, attr)
            for value in (current if isinstance(current, tuple) else () if current is None else (current,)):
                out.append(Chip(f"{_TEXT_NAME[name]}:{value}", False, self.without(name, value)))
        for name, ex in _EXCLUDE_ATTR.items():
            for value in getattr(self.query, ex):
                out.append(Chip(f"-{_TEXT_NAME[name]}:{value}", True, self.without(name, value, negated=True)))
        if self.query.q:
            out.append(Chip(self.query.q, False, replace(self.query, q=None)))
        return out


def _merge(a: LogQuery, b: LogQuery) -> LogQuery:
    """Both queries' filters: lists joined, a's single values first, texts joined."""
    changes: dict[str, Any] = {}
    for name in a.__struct_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, tuple):
            changes[name] = tuple(dict.fromkeys([*x, *y]))
        elif name == "q":
            changes[name] = " ".join(t for t in (x, y) if t) or None
        else:
            changes[name] = x if x is not None else y
    return LogQuery(**changes)


def read(params: Mapping[str, str], *, now_ms: int) -> View:
    """The view a page URL asks for; bad input is kept in `error` (the page shows it) instead of raised."""
    text = (params.get("q") or "").strip()
    range_key = params.get("range", "")
    try:
        api = parse_query({k: v for k, v in params.items() if k not in ("q", "from", "to")})
        query = _merge(querylang.parse(text), api)
        query = replace(query, q=querylang.canonical_text(query.q) if query.q else None)
        times = parse_query({k: v for k, v in params.items() if k in ("from", "to")})
    except InvalidInput as exc:
        span = RANGES[DEFAULT_RANGE][1]
        return View(query=LogQuery(), range=DEFAULT_RANGE, from_ms=now_ms - span, to_ms=now_ms, error=exc,
                    raw_text=text)
    live = params.get("live") == "1"
    if range_key != CUSTOM and range_key in RANGES and times.from_ms is None and times.to_ms is None:
        return View(query=query, range=range_key, from_ms=now_ms - RANGES[range_key][1], to_ms=now_ms, live=live)
    if times.from_ms is None and times.to_ms is None:
        span = RANGES[DEFAULT_RANGE][1]
        return View(query=query, range=DEFAULT_RANGE, from_ms=now_ms - span, to_ms=now_ms, live=live)
    to_ms = times.to_ms if times.to_ms is not None else now_ms
    from_ms = times.from_ms if times.from_ms is not None else to_ms - RANGES[DEFAULT_RANGE][1]
    return View(query=query, range=CUSTOM, from_ms=from_ms, to_ms=to_ms)


def lens_href(base: str, filters: Mapping[str, Any]) -> str:
    """Where applying a lens goes: the explorer with the lens's saved parameters."""
    params = {str(k): v if isinstance(v, str) else str(v) for k, v in filters.items() if v is not None}
    return f"{base}?{urlencode(params)}" if params else base
