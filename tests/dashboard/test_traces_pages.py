"""Traces pages over HTTP against a real server: the list and its filters, a trace's waterfall with its span
details and logs, the service map, empty states, refused filters, unknown traces and hostile strings.

The server's clock is a FakeClock so that the tail-sampling hold can pass without waiting; spans go in
through POST /api/traces with the project's API key, logs through /api/ingest.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import msgspec
import pytest

from scrywatch.clock import FakeClock
from tests.alerts.live import ingest, run_job
from tests.dashboard.forms import get_page
from tests.support import Account, LiveServer
from tests.traces.support import new_trace_id, span

HTML = {"Accept": "text/html"}
NOW = 1_767_225_600_000 + 5 * 3_600_000 + 30 * 60_000 + 4_321  # 2026-01-01 05:30:04.321Z
HOLD_S = 30
HOSTILE = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)> {{ 7*7 }} مرحبا 🚀 " + "W" * 150
# The waterfall trace: (key, parent key, service, name, offset ms, duration ms, status)
CHECKOUT = [
    ("root", None, "web", "GET /checkout", 0, 200, "ok"),
    ("charge", "root", "api", "POST /charge", 20, 100, "error"),
    ("query", "charge", "db", "SELECT orders", 30, 50, "ok"),
    ("session", "root", "cache", "GET session", 150, 40, "ok"),
    ("late", "missing", "worker", "late job", 180, 20, "ok"),  # its parent never arrived
]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def server(make_server: Callable[..., LiveServer], clock: FakeClock) -> LiveServer:
    """The `account` fixture's server: on `clock`, holding traces HOLD_S before the sampling decision."""
    return make_server(clock=clock, traces={"hold_seconds": HOLD_S})


def path(account: Account, rest: str = "") -> str:
    return f"/o/{account.org}/p/{account.project}{rest}"


def post_spans(account: Account, spans: list[dict[str, Any]]) -> None:
    with account.keyed() as client:
        r = client.post("/api/traces", json={"spans": spans})
    assert r.status_code == 202 and r.json()["inserted"] == len(spans), r.text


def decide(account: Account, clock: FakeClock) -> dict[str, Any]:
    """Let the hold pass and run the sampling job: errors and slow traces are kept, the rest purged."""
    clock.advance(seconds=HOLD_S)
    return run_job(account.server, "sampling")


def span_id(key: str) -> str:
    return f"{sum(map(ord, key)):04x}{len(key):04x}".ljust(16, "0")


def checkout(start_ms: int, trace_id: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """The CHECKOUT trace starting at start_ms, with attributes, an event, a status message and a resource."""
    tid = trace_id or new_trace_id()
    spans = []
    for key, parent, service, name, offset, duration, status in CHECKOUT:
        extra: dict[str, Any] = {"environment": "prod", "kind": "server" if parent is None else "client"}
        if key == "root":
            extra["attributes"] = {"http.method": "GET", "http.url": "/checkout", "http.status_code": 500,
                                   "cart.items": [1, 2, 3]}
            extra["events"] = [{"name": "cache miss", "timestamp": start_ms + 5, "attributes": {"key": "cart:7"}}]
            extra["resource"] = {"service.version": "1.4.2", "host.name": "web-1"}
        elif key == "charge":
            extra["attributes"] = {"payment.provider": "acme-pay", "retry": 2}
            extra["status_message"] = "card declined"
        elif key == "query":
            extra["attributes"] = {"db.statement": "SELECT * FROM orders WHERE id = ?"}
        spans.append(span(tid, span_id=span_id(key), parent=span_id(parent) if parent else None, service=service,
                          name=name, start_ms=start_ms + offset, duration_ms=duration, status=status, **extra))
    return tid, spans


# -- reading pages -----------------------------------------------------------------------------
def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def listed(page: str) -> list[str]:
    """The trace names of the list, top to bottom."""
    return [html.unescape(n) for n in re.findall(r'class="cell-strong"><bdi>(.*?)</bdi></a>', page)]


def list_rows(page: str) -> list[str]:
    table = re.search(r'data-testid="traces">.*?<tbody>(.*?)</tbody>', page, re.S)
    return re.findall(r"<tr\b.*?</tr>", table.group(1), re.S) if table else []


def filtered(account: Account, query: str, *, status: int = 200) -> str:
    r = account.client.get(path(account, f"/traces?{query}"), headers=HTML)
    assert r.status_code == status, (query, r.status_code, r.text[:300])
    return r.text


def wf_rows(page: str) -> list[dict[str, Any]]:
    """Each waterfall row: span id, depth, classes, service color, bar geometry, service, name, duration."""
    out = []
    for m in re.finditer(r'<li class="wf-row([^"]*)" data-depth="(\d+)" data-span-id="([^"]+)">(.*?)</li>', page,
                         re.S):
        body = m.group(4)
        bar = re.search(r'<rect class="wf-bar svc-fill-(\d+)" x="([\d.]+)" y="0" width="([\d.]+)"', body)
        assert bar, body
        out.append({
            "classes": m.group(1).split(), "depth": int(m.group(2)), "id": m.group(3),
            "indent": re.search(r'class="wf-name wf-d(\d+)"', body).group(1),  # type: ignore[union-attr]
            "dot": re.search(r'<span class="svc-dot svc-(\d+)">', body).group(1),  # type: ignore[union-attr]
            "fill": bar.group(1), "x": float(bar.group(2)), "width": float(bar.group(3)),
            "service": text(re.search(r'class="wf-svc">(.*?)</span>', body).group(1)),  # type: ignore[union-attr]
            "name": text(re.search(r'class="wf-op">(.*?)</span>', body).group(1)),  # type: ignore[union-attr]
            "error_icon": 'class="wf-err"' in body,
            "toggle": "data-wf-toggle" in body,
            "duration": text(re.search(r'class="wf-dur">(.*?)</div>', body).group(1)),  # type: ignore[union-attr]
        })
    return out


def span_panel(page: str) -> list[tuple[str, bool, str]]:
    """The span panel's blocks in waterfall order: (span name, shown, the block's HTML)."""
    out = []
    for m in re.finditer(r'<div class="wf-detail" id="span-\d+" data-span-detail( hidden)?>(.*?)'
                         r'(?=<div class="wf-detail" |</aside>)', page, re.S):
        name = text(re.search(r"<h2>(.*?)</h2>", m.group(2)).group(1))  # type: ignore[union-attr]
        out.append((name, not m.group(1), m.group(2)))
    return out


def span_details(page: str) -> dict[str, tuple[bool, str]]:
    """The span panel's blocks by span name (names unique in the trace): (shown, the block's HTML)."""
    return {name: (shown, block) for name, shown, block in span_panel(page)}


def fields(block: str, testid: str) -> dict[str, str]:
    dl = re.search(rf'data-testid="{testid}">(.*?)</dl>', block, re.S)
    assert dl, testid
    return {text(k): text(v) for k, v in re.findall(r"<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>", dl.group(1), re.S)}


def to_ms(shown: str) -> float:
    """A duration as the pages print it (0.42 ms, 12.5 ms, 1.25 s, 2 min 5 s) in ms."""
    if m := re.fullmatch(r"([\d.]+) ms", shown):
        return float(m.group(1))
    if m := re.fullmatch(r"([\d.]+) s", shown):
        return float(m.group(1)) * 1000
    m = re.fullmatch(r"(\d+) min (\d+) s", shown)
    assert m, shown
    return int(m.group(1)) * 60_000 + int(m.group(2)) * 1000


def service_colors(page: str) -> dict[str, str]:
    """Service name -> color class number, from the list's service cells or the map's stats table."""
    cells = re.findall(r'<span class="svc-dot svc-(\d+)"></span>(?:<a [^>]*>)?<bdi>([^<]*)</bdi>', page)
    return {html.unescape(name): color for color, name in cells}


# -- the list ----------------------------------------------------------------------------------
def test_traces_list_empty_state_filters_and_sampling(account: Account, clock: FakeClock) -> None:
    page = get_page(account.client, path(account, "/traces")).text
    assert "No traces yet" in page and 'data-testid="traces"' not in page
    assert f'href="{path(account, "/start")}"' in page and "/v1/traces" in page  # it teaches how to send them
    assert 'aria-current="page"' in page and ">Traces</a>" in page

    def root(name: str, service: str, env: str, ago_ms: int, duration: float, *, error: bool = False,
             child: str | None = None) -> list[dict[str, Any]]:
        tid = new_trace_id()
        top = span(tid, service=service, name=name, environment=env, start_ms=NOW - ago_ms, duration_ms=duration,
                   attributes={"http.method": "GET", "http.status_code": 500 if error else 200})
        below = [span(tid, parent=top["span_id"], service=child, name="call", start_ms=NOW - ago_ms + 1,
                      duration_ms=duration / 2, status="error" if error else "ok")] if child else []
        return [top, *below]

    post_spans(account, root("GET /checkout", "web", "prod", 60_000, 120, error=True, child="api")
               + root("GET /home", "web", "staging", 30_000, 30)
               + root("POST /sync", "api", "prod", 2 * 3_600_000, 2500)
               + root("GET /health", "web", "prod", 10_000, 5))

    page = get_page(account.client, path(account, "/traces")).text
    assert listed(page) == ["GET /health", "GET /home", "GET /checkout", "POST /sync"]  # newest first
    assert "1–4 of 4 traces" in page
    rows = list_rows(page)
    assert all(">held</span>" in r for r in rows)  # none decided yet
    checkout_row = rows[2]
    assert 'class="is-error"' in checkout_row and ">error</span>" in checkout_row and "GET 500" in checkout_row
    assert "120 ms" in checkout_row and "2.50 s" in rows[3] and ">2</td>" in checkout_row  # duration, span count
    widths = [float(w) for r in rows for w in re.findall(r'width="([\d.]+)" height="6" class="tr-dur-fill', r)]
    assert widths == [pytest.approx(5 / 2500 * 100, abs=1), 1.2, 4.8, 100.0]  # relative to the longest (min 1)
    trace_ids = re.findall(r'href="' + re.escape(path(account, "/traces/")) + r'([0-9a-f]{32})"', page)
    assert len(trace_ids) == 4

    cases = {
        "service=web": ["GET /health", "GET /home", "GET /checkout"],
        "service=api": ["POST /sync"],  # the root's service: the checkout's api child does not count
        "status=error": ["GET /checkout"],
        "status=ok": ["GET /health", "GET /home", "POST /sync"],
        "min_duration=100": ["GET /checkout", "POST /sync"],
        "max_duration=100": ["GET /health", "GET /home"],
        "min_duration=20&max_duration=120": ["GET /home", "GET /checkout"],  # both bounds inclusive
        "environment=staging": ["GET /home"],
        "range=15m": ["GET /health", "GET /home", "GET /checkout"],
        "range=24h": ["GET /health", "GET /home", "GET /checkout", "POST /sync"],
        "service=web&status=ok&environment=prod&range=1h": ["GET /health"],
    }
    for query, names in cases.items():
        assert listed(filtered(account, query)) == names, query

    page = filtered(account, "service=web&status=ok&min_duration=1.5&environment=prod&range=1h")
    assert 'name="service" value="web"' in page and 'name="environment" value="prod"' in page
    assert 'name="min_duration" value="1.5"' in page and '<option value="ok" selected>' in page
    assert '<option value="1h" selected>' in page and f'href="{path(account, "/traces")}">Clear</a>' in page

    none = filtered(account, "service=nowhere")
    assert "No traces match" in none and "No traces yet" not in none and listed(none) == []

    # Refused filters: 400, the message names the field, what was typed stays, the other filters too.
    refused = {
        "min_duration=abc&range=1h": "Min ms: must be a number of milliseconds",
        "max_duration=-1": "Max ms: must not be negative",
        "min_duration=nan": "Min ms: must be a finite number of milliseconds",
        "max_duration=inf": "Max ms: must be a finite number of milliseconds",
        "status=OK": "Status: must be ok or error",
        "offset=-50": "Page offset: must be a whole number from 0 to 1,000,000",
        "offset=99999999999999999999999": "Page offset: must be a whole number from 0 to 1,000,000",
    }
    for query, message in refused.items():
        page = filtered(account, query, status=400)
        error = re.search(r'data-testid="filter-error">(.*?)</p>', page, re.S)
        assert error and text(error.group(1)) == message, (query, error and text(error.group(1)))
        assert listed(page) == [] and "No traces yet" not in page
    page = filtered(account, "min_duration=abc&range=1h", status=400)
    assert 'value="abc" inputmode="decimal" placeholder="0" aria-invalid="true"' in page
    assert '<option value="1h" selected>' in page  # not silently widened or narrowed on the next Apply

    # The sampling decision: errors and slow traces are kept (no longer "held"), fast ok ones purged.
    assert decide(account, clock)["kept"] == 2
    page = get_page(account.client, path(account, "/traces")).text
    assert listed(page) == ["GET /checkout", "POST /sync"] and "1–2 of 2 traces" in page
    assert not any(">held</span>" in r for r in list_rows(page))


def test_traces_list_pages_through_older_traces_keeping_the_filters(account: Account) -> None:
    post_spans(account, [span(new_trace_id(), name=f"job {i:02d}", service="web", start_ms=NOW - 1000 * (i + 1),
                              duration_ms=10) for i in range(52)])
    base = path(account, "/traces")
    page = filtered(account, "service=web&status=ok")
    assert len(list_rows(page)) == 50 and listed(page)[0] == "job 00" and "1–50 of 52 traces" in page
    older = re.search(r'<a class="btn btn-sm" href="([^"]+)">Older</a>', page)
    assert older and ">Newer</a>" not in page
    parts = urlsplit(html.unescape(older.group(1)))
    assert parts.path == base and parse_qs(parts.query) == {"service": ["web"], "status": ["ok"], "offset": ["50"]}

    page = get_page(account.client, html.unescape(older.group(1))).text
    assert listed(page) == ["job 50", "job 51"] and "51–52 of 52 traces" in page and ">Older</a>" not in page
    newer = re.search(r'<a class="btn btn-sm" href="([^"]+)">Newer</a>', page)
    assert newer and html.unescape(newer.group(1)) == f"{base}?service=web&status=ok"

    past = filtered(account, "offset=1000")
    assert "No traces match" in past and "No traces yet" not in past  # a page past the end, not an empty project


# -- one trace ---------------------------------------------------------------------------------
def test_trace_waterfall_nests_spans_on_a_time_axis_with_its_logs(account: Account) -> None:
    start = NOW - 120_000
    tid, spans = checkout(start)
    post_spans(account, spans)
    ingest(account, [
        {"timestamp": start + 25, "level": "error", "service": "api", "message": "card declined by acme-pay",
         "trace_id": tid, "span_id": span_id("charge")},
        {"timestamp": start + 190, "level": "info", "service": "web", "message": "checkout answered",
         "trace_id": tid},
        {"timestamp": start + 40, "level": "warn", "service": "db", "message": "slow query",
         "trace_id": tid, "span_id": span_id("query")},
        {"timestamp": start + 41, "level": "info", "service": "db", "message": "a span we never got",
         "trace_id": tid, "span_id": "feedfacefeedface"},
        {"timestamp": start + 30, "level": "info", "service": "web", "message": "another trace's log",
         "trace_id": new_trace_id()},
    ])
    page = get_page(account.client, path(account, f"/traces/{tid}")).text

    assert "<h1><bdi>GET /checkout</bdi></h1>" in page
    meta = text(re.search(r'data-testid="trace-meta">(.*?)</div>', page, re.S).group(1))  # type: ignore[union-attr]
    assert "web error 200 ms · 5 spans · 1 with errors" in meta and "held" in meta and tid in meta

    rows = wf_rows(page)
    # Depth first, siblings by start; the span whose parent never arrived is a root of its own.
    assert [(r["name"], r["service"], r["depth"]) for r in rows] == [
        ("GET /checkout", "web", 0), ("POST /charge", "api", 1), ("SELECT orders", "db", 2),
        ("GET session", "cache", 1), ("late job", "worker", 0)]
    assert [r["indent"] for r in rows] == ["0", "1", "2", "1", "0"]
    assert [r["toggle"] for r in rows] == [True, True, False, False, False]  # only parents fold
    # Bars on a 0..1000 axis spanning the trace's 200 ms.
    assert [(r["x"], r["width"]) for r in rows] == [(0, 1000), (100, 500), (150, 250), (750, 200), (900, 100)]
    assert [r["duration"] for r in rows] == ["200 ms", "100 ms", "50.0 ms", "40.0 ms", "20.0 ms"]
    axis = re.search(r'<div class="wf-axis">(.*?)</div>', page, re.S)
    assert axis and re.findall(r"<span[^>]*>([^<]+)</span>", axis.group(1)) == [
        "0", "50", "100", "150", "200 ms"]  # the unit once, so that each label fits its quarter
    # A color per service: the dot, the bar and the legend agree, and no two services share one.
    assert all(r["dot"] == r["fill"] for r in rows)
    legend = dict((html.unescape(n), c) for c, n in re.findall(
        r'<span class="wf-legend-item"><span class="svc-dot svc-(\d+)"></span><bdi>(.*?)</bdi>', page))
    assert legend == {r["service"]: r["dot"] for r in rows} and len(set(legend.values())) == 5
    # The error is highlighted on its row only.
    assert [("is-error" in r["classes"], r["error_icon"]) for r in rows] == [
        (False, False), (True, True), (False, False), (False, False), (False, False)]
    assert not any("is-selected" in r["classes"] for r in rows)

    # Every span's details are in the panel (hidden until one is picked; without JS a span is a link).
    details = span_details(page)
    assert list(details) == [r["name"] for r in rows] and not any(shown for shown, _ in details.values())
    assert re.search(r"data-panel-empty>", page)
    link = f'href="{path(account, f"/traces/{tid}")}?span={span_id("charge")}#span-panel"'
    assert link in page

    # The trace's logs beneath, oldest first, each linked to its span when that span is here.
    logs = re.search(r'data-testid="trace-logs">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert logs
    log_rows = re.findall(r'<tr data-log-span="([^"]*)">(.*?)</tr>', logs.group(1), re.S)
    assert [text(re.search(r'class="cell-message">(.*?)</td>', r).group(1))  # type: ignore[union-attr]
            for _, r in log_rows] == ["card declined by acme-pay", "slow query", "a span we never got",
                                      "checkout answered"]
    assert [s for s, _ in log_rows] == [span_id("charge"), span_id("query"), "feedfacefeedface", ""]
    assert f'data-select-span="{span_id("charge")}"><bdi>POST /charge</bdi></a>' in log_rows[0][1]
    assert 'class="faint mono">feedfacefeedface<' in log_rows[2][1]
    assert "4 events with this <code>trace_id</code>, oldest first." in page
    explorer = re.search(r'<a class="btn btn-sm btn-ghost" href="([^"]+)">Open in the Log Explorer', page)
    assert explorer
    target = urlsplit(html.unescape(explorer.group(1)))
    assert target.path == path(account, "/logs") and parse_qs(target.query)["q"] == [f"trace:{tid}"]

    # The waterfall uses the project's service colors, so a service looks the same on the list.
    listing = get_page(account.client, path(account, "/traces")).text
    assert service_colors(listing)["web"] == legend["web"]


def test_a_selected_span_shows_its_attributes_events_and_resource(account: Account) -> None:
    start = NOW - 60_000
    tid, spans = checkout(start)
    post_spans(account, spans)
    ingest(account, [{"timestamp": start + 25, "level": "error", "message": "declined", "trace_id": tid,
                      "span_id": span_id("charge")}])
    base = path(account, f"/traces/{tid}")

    page = get_page(account.client, f"{base}?span={span_id('charge')}").text
    rows = {r["name"]: r for r in wf_rows(page)}
    assert "is-selected" in rows["POST /charge"]["classes"] and "is-selected" not in rows["GET /checkout"]["classes"]
    assert 'data-detail="span-1" aria-current="true"' in page
    details = span_details(page)
    assert [name for name, (shown, _) in details.items() if shown] == ["POST /charge"]
    assert re.search(r"data-panel-empty hidden>", page)
    charge = details["POST /charge"][1]
    assert fields(charge, "span-attributes") == {"payment.provider": "acme-pay", "retry": "2"}
    assert '<p class="wf-status-msg mono"><bdi>card declined</bdi></p>' in charge
    assert ">error</span>" in charge and ">client</span>" in charge
    facts = dict((text(k), text(v)) for k, v in re.findall(r"<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>",
                                                           charge.split("<h3")[0], re.S))
    assert facts["duration"] == "100 ms" and facts["starts at"].startswith("+20.0 ms (2026-01-01T05:29:04.341")
    assert facts["span_id"] == span_id("charge") and facts["parent"] == f"GET /checkout {span_id('root')}"
    assert facts["environment"] == "prod" and facts["logs"] == "1 below"

    root = details["GET /checkout"][1]
    assert fields(root, "span-attributes") == {"cart.items": "[1,2,3]", "http.method": "GET",
                                               "http.status_code": "500", "http.url": "/checkout"}
    assert "<strong><bdi>cache miss</bdi></strong> <span class=\"faint\">at +5.00 ms</span>" in root
    assert "<dt><bdi>key</bdi></dt><dd class=\"mono\"><bdi>cart:7</bdi></dd>" in root
    assert "Resource <span class=\"faint\">2</span>" in root and "<bdi>web-1</bdi>" in root
    late = details["late job"][1]
    assert f"{span_id('missing')} <span class=\"faint\">(not received)</span>" in late
    assert "Attributes <span class=\"faint\">0</span>" in late and "<p class=\"faint\">None.</p>" in late

    # An id that is not one of this trace's spans selects nothing.
    page = get_page(account.client, f"{base}?span=0000000000000000").text
    assert not any(shown for shown, _ in span_details(page).values()) and re.search(r"data-panel-empty>", page)


def test_trace_without_logs_and_traces_that_are_not_there(account: Account) -> None:
    tid, spans = checkout(NOW - 1000)
    post_spans(account, spans)
    page = get_page(account.client, path(account, f"/traces/{tid.upper()}")).text  # hex ids in any case
    assert "Events sent with this trace's <code>trace_id</code> show here." in page
    assert 'data-testid="trace-logs"' not in page

    for missing in (new_trace_id(), "x" * 129, "%20", "not-a-trace<b>"):
        r = account.client.get(path(account, f"/traces/{missing}"), headers=HTML)
        assert r.status_code == 404, (missing, r.status_code)
        assert "Trace not found." in r.text and "<b>" not in r.text

    # Another project of the same org does not see it.
    other = account.client.post(f"/api/orgs/{account.org}/projects", json={"name": "Other"})
    assert other.status_code == 201, other.text
    slug = other.json()["slug"]
    r = account.client.get(f"/o/{account.org}/p/{slug}/traces/{tid}", headers=HTML)
    assert r.status_code == 404
    assert "No traces yet" in get_page(account.client, f"/o/{account.org}/p/{slug}/traces").text


# -- the service map ---------------------------------------------------------------------------
def test_service_map_shows_requests_error_rates_percentiles_and_calls(account: Account, clock: FakeClock) -> None:
    page = get_page(account.client, path(account, "/traces/service-map")).text
    assert "No spans in this window" in page and 'data-testid="service-map"' not in page

    # api latencies: 60 at 10 ms, 36 at 200 ms, 4 at 3 s, so p50, p95 and p99 fall clear of any boundary.
    latencies = [10.0] * 60 + [200.0] * 36 + [3000.0] * 4
    spans = []
    for i, latency in enumerate(latencies):
        tid = new_trace_id()
        at = NOW - 600_000 + i * 1000
        root = span(tid, service="web", name="GET /", start_ms=at, duration_ms=latency + 20)
        api = span(tid, parent=root["span_id"], service="api", name="handle", start_ms=at + 5, duration_ms=latency,
                   status="error" if i % 10 == 0 else "ok")
        spans += [root, api]
        if i % 5 == 0:
            spans.append(span(tid, parent=api["span_id"], service="db", name="query", start_ms=at + 6,
                              duration_ms=2))
        if i % 20 == 0:
            spans.append(span(tid, parent=root["span_id"], service="cache", name="get", start_ms=at + 1,
                              duration_ms=1))
    post_spans(account, spans)

    def stats(page: str) -> dict[str, list[str]]:
        table = re.search(r'data-testid="service-stats">.*?<tbody>(.*?)</tbody>', page, re.S)
        assert table
        return {html.unescape(name): [text(c) for c in re.findall(r'<td class="num">(.*?)</td>', row, re.S)]
                for name, row in re.findall(r'<tr data-service-row="([^"]*)">(.*?)</tr>', table.group(1), re.S)}

    page = get_page(account.client, path(account, "/traces/service-map")).text
    assert "4 services, 0 connections" in page  # calls are counted when the traces are decided
    decide(account, clock)
    page = get_page(account.client, path(account, "/traces/service-map")).text
    assert 'aria-label="Service map: 4 services, 3 connections"' in page

    table = stats(page)
    assert list(table) == ["api", "web", "db", "cache"]  # busiest first (ties by name)
    assert [row[:3] for row in table.values()] == [["100", "10", "10.0%"], ["100", "0", "0.0%"],
                                                   ["20", "0", "0.0%"], ["5", "0", "0.0%"]]
    p50, p95, p99 = (to_ms(v) for v in table["api"][3:])
    assert p50 == pytest.approx(10, rel=0.02) and p95 == pytest.approx(200, rel=0.02)
    assert p99 == pytest.approx(3000, rel=0.02)
    assert 'class="badge sm-rate-bad">10.0%' in page and 'class="badge sm-rate-ok">0.0%' in page

    # The graph: a node per service (busiest first within a column, callers left of callees), an edge per call.
    nodes = {html.unescape(name): (float(x), health, body) for health, name, body, x in re.findall(
        r'<a class="sm-node sm-(\w+)" href="[^"]*" data-service="([^"]*)" data-testid="map-node">'
        r'(.*?<rect class="sm-box" x="([\d.]+)".*?)</a>', page, re.S)}
    assert set(nodes) == {"web", "api", "db", "cache"}
    assert nodes["web"][0] < nodes["api"][0] < nodes["db"][0] and nodes["cache"][0] == nodes["api"][0]
    assert nodes["api"][1] == "bad" and nodes["web"][1] == "ok"
    assert "100 req · <tspan class=\"sm-rate\">10.0% err</tspan>" in nodes["api"][2]
    links = {(s, t): int(c) for s, t, c in re.findall(
        r'<g class="sm-link" data-source="([^"]*)" data-target="([^"]*)">.*?<text class="sm-count"[^>]*>(\d+)</text>',
        page, re.S)}
    assert links == {("web", "api"): 100, ("api", "db"): 20, ("web", "cache"): 5}
    node_link = f'href="{path(account, "/traces")}?service=api&amp;range=1h" data-service="api"'
    assert node_link in page  # a node opens the list on its traces

    # Colors follow the project's palette: the same on the map and on the list.
    assert service_colors(page)["web"] == service_colors(get_page(account.client, path(account, "/traces")).text)["web"]

    # Windows: two hours on, the last hour is empty, the last day is not.
    clock.advance(hours=2)
    page = get_page(account.client, path(account, "/traces/service-map")).text
    assert "No spans in this window" in page and '<option value="1h" selected>' in page
    day = get_page(account.client, path(account, "/traces/service-map?range=24h")).text
    assert list(stats(day)) == ["api", "web", "db", "cache"] and '<option value="24h" selected>' in day
    assert f'href="{path(account, "/traces")}?service=api&amp;range=24h"' in day
    unknown = get_page(account.client, path(account, "/traces/service-map?range=1y")).text
    assert '<option value="1h" selected>' in unknown and "No spans in this window" in unknown


# -- hostile strings ---------------------------------------------------------------------------
def test_hostile_strings_in_spans_and_logs_render_as_text(account: Account, clock: FakeClock) -> None:
    tid = new_trace_id()
    root = span(tid, service=HOSTILE[:100], name=HOSTILE, environment=HOSTILE[:60], start_ms=NOW - 5000,
                duration_ms=50, status="error", status_message=HOSTILE,
                attributes={HOSTILE: HOSTILE, "http.url": HOSTILE, "http.method": HOSTILE[:30], "n": {"x": HOSTILE}},
                events=[{"name": HOSTILE, "timestamp": NOW - 4990, "attributes": {HOSTILE: HOSTILE}}],
                resource={HOSTILE: HOSTILE})
    child = span(tid, parent=root["span_id"], service="ok-service", name=HOSTILE, start_ms=NOW - 4995, duration_ms=5)
    post_spans(account, [root, child])
    ingest(account, [{"timestamp": NOW - 4990, "level": "error", "service": HOSTILE[:100], "message": HOSTILE,
                      "trace_id": tid, "span_id": root["span_id"]}])
    decide(account, clock)  # kept (an error): the map then has the hostile service's call too

    pages = {
        "list": get_page(account.client, path(account, "/traces")).text,
        "echoed filters": filtered(account, urlencode({"service": HOSTILE, "environment": HOSTILE})),
        "trace": get_page(account.client, path(account, f"/traces/{tid}?span={root['span_id']}")).text,
        "map": get_page(account.client, path(account, "/traces/service-map")).text,
    }
    for name, page in pages.items():
        assert "<script>alert" not in page and "<img src=x" not in page, name
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(2)&gt;" in page, name
    assert "No traces match" in pages["echoed filters"]

    trace = pages["trace"]
    assert [r["name"] for r in wf_rows(trace)] == [HOSTILE, HOSTILE]
    (_, shown, block), _child = span_panel(trace)
    assert shown and text(re.search(r'class="wf-status-msg mono">(.*?)</p>', block).group(1)) == HOSTILE  # type: ignore[union-attr]
    attributes = fields(block, "span-attributes")
    assert attributes[HOSTILE] == HOSTILE and attributes["n"] == msgspec.json.encode({"x": HOSTILE}).decode()
    message = re.search(r'class="cell-message"><bdi>(.*?)</bdi>', trace)
    assert message and html.unescape(message.group(1)) == HOSTILE
    labels = {html.unescape(t) for t in re.findall(r'<text class="sm-name"[^>]*>(.*?)</text>', pages["map"])}
    assert labels == {HOSTILE[:23] + "…", "ok-service"}  # long names are cut to fit their box
    links = re.findall(r'<g class="sm-link" data-source="([^"]*)" data-target="([^"]*)">', pages["map"])
    assert [(html.unescape(a), html.unescape(b)) for a, b in links] == [(HOSTILE[:100], "ok-service")]
