"""Template contexts for the alerts, insights and traces pages: test_templates.SAMPLES includes OPS_SAMPLES.
Built with the real view helpers (rule form, waterfall, service-map layout) so the templates see what the
handlers give them; `text` goes into every field a user or an SDK controls."""

from __future__ import annotations

from typing import Any

from scrywatch.errors import InvalidInput
from scrywatch.models.alerts import AlertFiring, AlertRule, AlertTestResult, ResolveNotice
from scrywatch.models.insights import (
    SUMMARY_MINUTES,
    ErrorPattern,
    InsightSummary,
    PersistentPattern,
    ServiceActivity,
    WindowCounts,
)
from scrywatch.models.logs import LEVELS, LogEvent
from scrywatch.models.traces import ServiceEdge, ServiceMap, ServiceStats, SpanView, TraceDetail, TraceSummary
from scrywatch.web.dashboard import alertform, alerthistory, alerts, insights, servicemap, traces, waterfall

NOW = 1_767_225_600_000
P = "/o/acme/p/default"


def _t() -> Any:
    from tests.dashboard import test_templates  # the shared helpers (signed_in); imported late

    return test_templates


def frame(text: str, *, bare: bool = False) -> dict[str, Any]:
    return {**_t().signed_in(text, bare=bare), "section": "alerts", "switch_route": "dash.alerts"}


def event(text: str, i: int = 0, **fields: Any) -> LogEvent:
    return LogEvent(id=f"01E{i:023d}", timestamp=NOW - i * 1000, level=("error", "warn", "info")[i % 3],
                    type="custom", message=text, service=text, **fields)


# -- alerts ----------------------------------------------------------------------------------
def rule(text: str, i: int = 0, *, bare: bool = False, **changes: Any) -> AlertRule:
    values: dict[str, Any] = dict(
        id=f"r{i}", name=text, condition_field="service", condition_value=text, threshold=5, window_minutes=10,
        cooldown_minutes=15, notify_type="webhook", webhook_url=f"https://hooks.slack.com/services/{text}",
        notify_email=None, enabled=i % 2 == 0, created_at=NOW, updated_at=NOW,
        last_fired_at=None if bare else NOW - 60_000)
    return AlertRule(**{**values, **changes})


def rules_ctx(text: str, *, bare: bool = False) -> dict[str, Any]:
    items = [] if bare else [
        alerts.RuleItem(rule(text, 0), *alerts.channel(rule(text, 0)), 2, f"{P}/logs?q=x"),
        alerts.RuleItem(r := rule(text, 1, notify_type="email", webhook_url=None, notify_email=f"{text}@x.io"),
                        *alerts.channel(r), 0, f"{P}/logs"),
    ]
    tested = None if bare else (rule(text), AlertTestResult(status="failed", attempts=1, error=text,
                                                            response_status=500, channel="slack"))
    return {**frame(text, bare=bare), "items": items, "tab": "rules", "open_total": 0 if bare else 3,
            "open_more": not bare, "tested": tested, "field_labels": alertform.FIELD_LABELS}


def form_ctx(text: str, *, bare: bool = False) -> dict[str, Any]:
    if bare:
        form = alertform.RuleForm.blank()
    else:
        form, _ = alertform.read({"name": text, "condition_field": "service", "condition_value": text,
                                  "threshold": text, "window_minutes": "0", "cooldown_minutes": "99999999",
                                  "notify_type": "email", "webhook_url": text, "notify_email": ""})
        form.errors["name"] = text
    return {**frame(text, bare=bare), "form": form, "rule": None if bare else rule(text),
            "field_labels": alertform.FIELD_LABELS, "notify_types": alertform.NOTIFY_TYPES,
            "suggestions": alertform.suggestions({"service": [] if bare else [text]}),
            "summary": [alertform.field_message(k, v) for k, v in form.errors.items()], "tab": "rules"}


def firing(text: str, state: str, i: int, *, bare: bool = False) -> AlertFiring:
    done = state != "open"
    return AlertFiring(
        id=f"a{i}", rule_id="r0", rule_name=text, fired_at=NOW - i * 60_000, matched_count=12, threshold=5,
        window_minutes=10, condition_field="level", condition_value=text, state=state,  # type: ignore[arg-type]
        acknowledged_at=NOW if done else None, acknowledged_by="u1" if done else None,
        resolved_at=NOW if state == "resolved" else None, resolved_by="auto" if state == "resolved" else None,
        delivery_status="failed" if i % 2 else "delivered", error=text if i % 2 else None, attempts=3,
        response_status=502 if i % 2 else 200, delivery_finished_at=NOW,
        sample_events=[] if bare else [event(text, n) for n in range(3)],
        resolve_notification=ResolveNotice(status="failed", attempts=1, error=text, response_status=None)
        if state == "resolved" else None)


def history_ctx(text: str, *, bare: bool = False) -> dict[str, Any]:
    items = [] if bare else [alerthistory.AlertItem(firing(text, s, i), f"{P}/logs", text if i else None,
                                                    "automatically" if s == "resolved" else None)
                             for i, s in enumerate(("open", "acknowledged", "resolved"))]
    return {**frame(text, bare=bare), "items": items, "tab": "history", "states": alerthistory.STATES,
            "state": "" if bare else "open", "rule_id": "" if bare else "r0", "rules": [] if bare else [rule(text)],
            "error": None if bare else InvalidInput(text, field="state"), "here": f"{P}/alerts/history",
            "first_href": None if bare else f"{P}/alerts/history", "next_href": None if bare else f"{P}/x?c=1"}


# -- insights --------------------------------------------------------------------------------
def summary(text: str) -> InsightSummary:
    window = WindowCounts(from_ms=NOW - 900_000, to_ms=NOW, event_count=1200, error_count=30, warn_count=4)
    return InsightSummary(
        id="s1", summary_text=text + "\n" + text, error_count=30, warn_count=4, event_count=1200, created_at=NOW,
        time_window_minutes=15, provider="openai", model=text, fallback=True, fallback_reason=text, window=window,
        previous=window, top_services=[ServiceActivity(service=text, event_count=9, error_count=2),
                                       ServiceActivity(service=None, event_count=1, error_count=0)],
        top_error_patterns=[ErrorPattern(pattern=text, count=3, services=[text, text], sample=text, is_new=True)],
        changes=[text])


def insights_ctx(text: str, *, bare: bool = False) -> dict[str, Any]:
    patterns = [PersistentPattern(id=f"p{i}", normalized_message=text + " {num}", level=level, service=text,
                                  first_seen=NOW - 7_200_000, last_seen=NOW, occurrence_count=1234, is_new=i == 0)
                for i, level in enumerate(("error", "<b>"))]
    items = [] if bare else [insights.PatternItem(p, f"{P}/logs?q=x") for p in patterns]
    return {**frame(text, bare=bare), "summary": None if bare else summary(text), "minutes": SUMMARY_MINUTES,
            "default_minutes": 15, "items": items, "levels": LEVELS, "level": "" if bare else "error",
            "service": "" if bare else text, "services": [] if bare else [text], "new_count": 0 if bare else 1,
            "error": None if bare else InvalidInput(text, field="level"), "explorer": f"{P}/logs"}


# -- traces ----------------------------------------------------------------------------------
def trace_summary(text: str, i: int = 0, *, status: str = "error") -> TraceSummary:
    return TraceSummary(id=f"{i:032x}", name=text, service=text, environment=text, start_time=NOW - i, end_time=NOW,
                        duration_ms=1234.5 / (i + 1), status=status, span_count=3, error_count=2,  # type: ignore[arg-type]
                        root_span_id="a" * 16, http_method="GET", http_url=text, http_status_code=500,
                        sampling="held" if i else "kept")


def list_ctx(text: str, *, bare: bool = False) -> dict[str, Any]:
    items = [] if bare else [traces.TraceItem(trace_summary(text, i, status=("error", "ok")[i % 2]), f"{P}/traces/x",
                                              100 / (i + 1), i) for i in range(3)]
    values = {k: "" if bare else text for k in traces.FILTERS} | {"range": "all" if bare else "1h"}
    return {**frame(text, bare=bare), "items": items, "values": values, "ranges": traces.RANGES,
            "error": None if bare else InvalidInput(text, field="min_duration"), "total": 0 if bare else 120,
            "first": 1, "last": len(items), "services": [] if bare else [text], "base": f"{P}/traces", "tab": "list",
            "prev_href": None if bare else f"{P}/traces?offset=0", "next_href": None if bare else f"{P}/traces?o=1",
            "filtered": not bare}


def span(text: str, i: int, parent: int | None, depth: int, **changes: Any) -> SpanView:
    values: dict[str, Any] = dict(
        id=f"{i:016x}", trace_id="0" * 32, parent_span_id=None if parent is None else f"{parent:016x}", name=text,
        service=f"{text}{i % 2}", environment=text, kind="server", start_time=NOW + i, end_time=NOW + i * 3,
        duration_ms=float(i * 2), offset_ms=float(i), depth=depth, status="error" if i == 2 else "ok",
        status_message=text, attributes={text: text, "http.status_code": 500, "nested": {"a": [1, text]}},
        events=[{"name": text, "timestamp": NOW + i + 0.5, "attributes": {text: text}}, {"odd": text}],
        resource={"service.name": text})
    return SpanView(**{**values, **changes})


def trace_ctx(text: str, *, bare: bool = False) -> dict[str, Any]:
    if bare:
        spans = [span("", 0, None, 0, attributes={}, events=[], resource=None, status_message=None, kind=None,
                      environment=None, duration_ms=0.0)]
    else:
        spans = [span(text, 0, None, 0), span(text, 1, 0, 1), span(text, 2, 1, 2), span(text, 3, 99, 40)]
    logs = [] if bare else [event(text, 0, span_id=f"{1:016x}"), event(text, 1, span_id="ffff"), event(text, 2)]
    detail = TraceDetail(trace=trace_summary(text), spans=spans)
    wf = waterfall.build(detail, logs)
    return {**frame(text, bare=bare), "trace": detail.trace, "wf": wf, "logs": logs, "logs_total": 500,
            "selected": "" if bare else spans[1].id, "span_names": {s.id: s.name for s in spans},
            "explorer": f"{P}/logs?q=trace:x", "colors": dict(wf.legend), "base": f"{P}/traces/{'0' * 32}"}


def map_ctx(text: str, *, bare: bool = False) -> dict[str, Any]:
    stats = [] if bare else [
        ServiceStats(service=text, request_count=100, error_count=10, p50_ms=1.5, p95_ms=120.0, p99_ms=65_000.0),
        ServiceStats(service="api", request_count=50, error_count=0, p50_ms=None, p95_ms=None, p99_ms=None)]
    edges = [] if bare else [ServiceEdge(source=text, target="api", count=40),
                             ServiceEdge(source="api", target=text, count=2),
                             ServiceEdge(source="api", target="db", count=7)]
    found = ServiceMap(services=stats, edges=edges, from_ms=NOW - 3_600_000, to_ms=NOW)
    return {**frame(text, bare=bare), "map": found, "drawing": servicemap.layout(stats, edges),
            "ranges": traces.MAP_RANGES, "range": "1h", "tab": "map", "traces_base": f"{P}/traces",
            "list_range": "1h"}


OPS_SAMPLES: dict[str, Any] = {
    "alerts/_tabs.html": lambda t, bare=False: rules_ctx(t, bare=bare),
    "alerts/_test_result.html": lambda t, bare=False: rules_ctx(t, bare=False),
    "alerts/rules.html": lambda t, bare=False: rules_ctx(t, bare=bare),
    "alerts/form.html": lambda t, bare=False: form_ctx(t, bare=bare),
    "alerts/history.html": lambda t, bare=False: history_ctx(t, bare=bare),
    "insights/page.html": lambda t, bare=False: insights_ctx(t, bare=bare),
    "traces/_macros.html": lambda t, bare=False: {},
    "traces/list.html": lambda t, bare=False: list_ctx(t, bare=bare),
    "traces/trace.html": lambda t, bare=False: trace_ctx(t, bare=bare),
    "traces/map.html": lambda t, bare=False: map_ctx(t, bare=bare),
}
