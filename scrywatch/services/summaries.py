"""The built-in summarizer: window aggregates -> facts -> plain-English text. Pure: no I/O, no clock.

Every number in the text is one of the aggregates, stated exactly; percentages are only added next
to the two exact numbers they compare.
"""

from __future__ import annotations

from collections import defaultdict

from scrywatch.models.insights import ErrorPattern, ServiceActivity, WindowCounts, WindowFacts
from scrywatch.services.patterns import normalize_message, pattern_hash

TOP_SERVICES = 5
TOP_PATTERNS = 5
MIN_NOTABLE_DELTA = 5  # smaller absolute moves are noise, whatever their percentage
SAMPLE_CHARS = 300
NO_SERVICE = "(no service)"


def window_counts(facts: WindowFacts, from_ms: int, to_ms: int) -> WindowCounts:
    c = facts.level_counts
    return WindowCounts(from_ms=from_ms, to_ms=to_ms, event_count=sum(c.values()), error_count=c.get("error", 0),
                        warn_count=c.get("warn", 0))


def top_services(facts: WindowFacts, limit: int = TOP_SERVICES) -> list[ServiceActivity]:
    events: dict[str | None, int] = defaultdict(int)
    errors: dict[str | None, int] = defaultdict(int)
    for service, level, n in facts.service_level_counts:
        events[service] += n
        if level == "error":
            errors[service] += n
    ranked = sorted(events, key=lambda s: (-events[s], s or ""))
    return [ServiceActivity(service=s, event_count=events[s], error_count=errors[s]) for s in ranked[:limit]]


def error_patterns(current: WindowFacts, previous: WindowFacts, limit: int = TOP_PATTERNS) -> list[ErrorPattern]:
    """The most frequent normalised error messages of the window (ties: most recent first)."""
    seen_before = {pattern_hash(normalize_message(m)) for m, _ in previous.error_messages}
    counts: dict[str, int] = defaultdict(int)
    services: dict[str, set[str]] = defaultdict(set)
    sample: dict[str, str] = {}
    text: dict[str, str] = {}
    for message, service in current.error_messages:  # newest first
        normalized = normalize_message(message)
        h = pattern_hash(normalized)
        counts[h] += 1
        text.setdefault(h, normalized)
        sample.setdefault(h, message[:SAMPLE_CHARS])
        if service:
            services[h].add(service)
    order = sorted(counts, key=lambda h: -counts[h])  # stable: newest first among equals
    return [ErrorPattern(pattern=text[h], count=counts[h], services=sorted(services[h]), sample=sample[h],
                         is_new=bool(previous.error_messages) and h not in seen_before) for h in order[:limit]]


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _move(what: str, before: int, now: int) -> str | None:
    """'errors rose from 4 to 12 (+200%)' when the move is notable, else None."""
    delta = now - before
    if abs(delta) < MIN_NOTABLE_DELTA:
        return None
    if before == 0:
        return f"{what} appeared: {now}, none in the previous window"
    if now == 0:
        return f"{what} stopped: none, {before} in the previous window"
    pct = round(delta * 100 / before)
    if abs(pct) < 50:
        return None
    verb = "rose" if delta > 0 else "fell"
    return f"{what} {verb} from {before} to {now} ({pct:+d}%)"


def changes(cur: WindowCounts, prev: WindowCounts, cur_facts: WindowFacts, prev_facts: WindowFacts,
            patterns: list[ErrorPattern]) -> list[str]:
    """Notable differences from the previous window, most important first."""
    out = [m for m in (_move("errors", prev.error_count, cur.error_count),
                       _move("warnings", prev.warn_count, cur.warn_count),
                       _move("events", prev.event_count, cur.event_count)) if m]
    if prev.event_count:
        now_services = {s for s, _, n in cur_facts.service_level_counts if n and s}
        before: dict[str, int] = defaultdict(int)
        for s, _, n in prev_facts.service_level_counts:
            if s:
                before[s] += n
        out += [f"service {s} started logging (none in the previous window)"
                for s in sorted(now_services - set(before))]
        out += [f"service {s} went quiet: no events, {before[s]} in the previous window"
                for s in sorted(set(before) - now_services) if before[s] >= MIN_NOTABLE_DELTA]
    out += [f'new error pattern "{p.pattern}" ({_plural(p.count, "time")})' for p in patterns if p.is_new]
    return out


def builtin_text(minutes: int, cur: WindowCounts, prev: WindowCounts, services: list[ServiceActivity],
                 patterns: list[ErrorPattern], notable: list[str]) -> str:
    """A short plain-English summary that states the aggregates exactly."""
    span = f"the last {minutes} minutes"
    prev_span = f"the previous {minutes} minutes"
    if cur.event_count == 0:
        text = f"No events were logged in {span}."
        if prev.event_count:
            text += (f" In {prev_span} there were {_plural(prev.event_count, 'event')}, "
                     f"{_plural(prev.error_count, 'error')} and {_plural(prev.warn_count, 'warning')}.")
        return text
    other = cur.event_count - cur.error_count - cur.warn_count
    parts = [f"In {span}, {_plural(cur.event_count, 'event')} {'was' if cur.event_count == 1 else 'were'} logged: "
             f"{_plural(cur.error_count, 'error')}, {_plural(cur.warn_count, 'warning')} and {other} info or debug."]
    parts.append(f"In {prev_span} there were {_plural(prev.event_count, 'event')}, "
                 f"{_plural(prev.error_count, 'error')} and {_plural(prev.warn_count, 'warning')}.")
    if services:
        listed = ", ".join(f"{s.service or NO_SERVICE} ({_plural(s.event_count, 'event')}, "
                           f"{_plural(s.error_count, 'error')})" for s in services)
        parts.append(f"Most active services: {listed}.")
    if patterns:
        listed = "; ".join(f'"{p.pattern}" {_plural(p.count, "time")}'
                           + (f" in {', '.join(p.services)}" if p.services else "") for p in patterns)
        parts.append(f"Most frequent errors: {listed}.")
    elif cur.error_count == 0:
        parts.append("No errors were logged.")
    if notable:
        parts.append("Notable changes: " + "; ".join(notable) + ".")
    return " ".join(parts)
