"""Traces, service map, alerts and insights in Debian's Chromium: click a span of a waterfall to see its
attributes, fold and walk spans with the keyboard, light a service on the map, create an alert rule through
the form, generate an insights summary; and screenshots of each page in light and dark.

The server runs on a FakeClock (started at the real time, so session cookies stay valid) so that the
tail-sampling hold passes without waiting."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from scrywatch.clock import FakeClock
from tests.alerts.live import ingest, run_job
from tests.alerts.receivers import Receiver
from tests.dashboard.conftest import PageErrors, project_path
from tests.dashboard.test_traces_pages import HOLD_S, HOSTILE, checkout, decide, post_spans, span_id
from tests.support import Account, LiveServer
from tests.traces.support import new_trace_id, span

pytestmark = pytest.mark.browser

Shoot = Callable[[Any, str], None]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(make_server: Callable[..., LiveServer], clock: FakeClock) -> LiveServer:
    """The server of `page` and `signed_in`: on `clock`, holding traces HOLD_S before sampling them."""
    return make_server(clock=clock, traces={"hold_seconds": HOLD_S})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def fits(page: Any) -> bool:
    """No horizontal scrolling: long names wrap or are cut instead of widening the page."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def clipped(locator: Any) -> bool:
    """The element's content is wider than its box (cut off, or behind a horizontal scrollbar)."""
    return bool(locator.evaluate("el => el.scrollWidth > el.clientWidth + 1"))


def lines(locator: Any) -> int:
    """How many line boxes the element's text takes."""
    return int(locator.evaluate("el => { const r = document.createRange(); r.selectNodeContents(el);"
                                " return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }"))


def check_waterfall_layout(page: Any) -> None:
    """Bars in their service's color, axis labels apart, the header on one line, nothing cut in the panel."""
    colors = page.locator(".wf-row").evaluate_all(
        "rows => rows.map(r => [getComputedStyle(r.querySelector('.wf-bar')).fill,"
        " getComputedStyle(r.querySelector('.wf-link .svc-dot')).backgroundColor])")
    assert all(bar == dot for bar, dot in colors), colors
    boxes = page.locator(".wf-axis span").evaluate_all(
        "spans => spans.map(s => { const r = document.createRange(); r.selectNodeContents(s);"
        " const b = r.getBoundingClientRect(); return [b.left, b.right]; })")
    assert all(a[1] <= b[0] for a, b in zip(boxes, boxes[1:], strict=False)), boxes  # no label runs into the next
    assert lines(page.locator(".wf-head-dur")) == 1
    head, first = page.locator(".wf-head").bounding_box(), page.locator(".wf-row").first.bounding_box()
    assert head["y"] + head["height"] <= first["y"] + 0.5, (head, first)  # the sticky axis covers no span
    assert not clipped(page.locator("#span-panel")) and fits(page)
    for cell in page.locator(".tr-log-table tbody td:first-child").all():
        assert not clipped(cell)


def seed_traces(account: Account, clock: FakeClock) -> str:
    """The checkout trace with its logs, decided (kept: it has an error) with a few others for the list and
    the map, then two traces still held; returns the checkout's trace id."""
    now = clock.now_ms()
    tid, spans = checkout(now - 120_000)
    for i in range(12):
        other = new_trace_id()
        root = span(other, service="web", name=f"GET /products/{i}", environment="prod",
                    start_ms=now - 90_000 + i * 500, duration_ms=2400 if i % 4 == 0 else 40 + i,
                    attributes={"http.method": "GET", "http.status_code": 200})
        spans += [root, span(other, parent=root["span_id"], service="api", name="list products",
                             start_ms=now - 90_000 + i * 500 + 3, duration_ms=20 + i,
                             status="error" if i % 5 == 0 else "ok")]
    hostile = new_trace_id()
    spans.append(span(hostile, service=HOSTILE[:100], name=HOSTILE, start_ms=now - 80_000, duration_ms=15,
                      status="error", status_message=HOSTILE, attributes={HOSTILE: HOSTILE}))
    post_spans(account, spans)
    ingest(account, [
        {"timestamp": now - 120_000 + 25, "level": "error", "service": "api", "message": "card declined by acme-pay",
         "trace_id": tid, "span_id": span_id("charge")},
        {"timestamp": now - 120_000 + 40, "level": "warn", "service": "db", "message": "slow query",
         "trace_id": tid, "span_id": span_id("query")},
        {"timestamp": now - 120_000 + 190, "level": "info", "service": "web", "message": "checkout answered",
         "trace_id": tid},
    ])
    decide(account, clock)
    now = clock.now_ms()
    post_spans(account, [span(new_trace_id(), service="web", name="GET /cart", start_ms=now - 2000 + i,
                              duration_ms=12, environment="prod") for i in range(2)])
    return tid


def test_open_a_trace_waterfall_click_spans_and_light_up_the_service_map(
        page: Any, signed_in: Account, clock: FakeClock, shoot: Shoot) -> None:
    tid = seed_traces(signed_in, clock)
    page.goto(project_path(signed_in, "/traces"))
    table = page.get_by_test_id("traces")
    # Two held, then the kept ones: the checkout, five products (slow or failed) and the hostile one.
    expect(table.locator("tbody tr")).to_have_count(2 + 1 + 5 + 1)
    expect(table.locator("tbody tr").first.locator(".badge")).to_have_text(["ok", "held"])
    assert fits(page)
    shoot(page, "traces-list")

    page.get_by_label("Status").select_option("error")
    page.get_by_label("Min ms").fill("100")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"status=error&min_duration=100"))
    expect(table.locator("tbody tr")).to_have_count(2)  # the checkout and a slow product page that failed
    table.get_by_role("link", name="GET /checkout").click()
    expect(page).to_have_url(re.compile(rf"/traces/{tid}$"))

    waterfall = page.get_by_test_id("waterfall")
    panel = page.get_by_test_id("span-panel")
    expect(waterfall.locator(".wf-row")).to_have_count(5)
    expect(panel.locator("[data-panel-empty]")).to_contain_text("Click a span to see its attributes")
    expect(panel.locator("[data-panel-empty]")).to_be_visible()
    expect(panel.locator("[data-span-detail]:visible")).to_have_count(0)

    charge = page.locator(f".wf-row[data-span-id='{span_id('charge')}']")
    charge.get_by_role("link").click()
    detail = panel.locator("[data-span-detail]:visible")
    expect(detail).to_have_count(1)
    expect(detail.get_by_role("heading", level=2)).to_have_text("POST /charge")
    attributes = detail.get_by_test_id("span-attributes")
    expect(attributes).to_contain_text("payment.provider")
    expect(attributes).to_contain_text("acme-pay")
    expect(detail).to_contain_text("card declined")
    expect(panel.locator("[data-panel-empty]")).to_be_hidden()
    expect(page).to_have_url(re.compile(rf"\?span={span_id('charge')}$"))  # shareable, without a reload
    expect(charge).to_have_class(re.compile(r"\bis-selected\b"))
    expect(page.locator(f"[data-log-span='{span_id('charge')}']")).to_have_class(re.compile(r"\bis-selected\b"))
    expect(page.locator(f"[data-log-span='{span_id('query')}']")).not_to_have_class(re.compile(r"\bis-selected\b"))

    page.keyboard.press("ArrowDown")  # the next span, from the focused link
    expect(detail.get_by_role("heading", level=2)).to_have_text("SELECT orders")
    expect(detail.get_by_test_id("span-attributes")).to_contain_text("SELECT * FROM orders WHERE id = ?")
    colors = page.locator(".wf-row .wf-bar").evaluate_all("bars => bars.map(b => getComputedStyle(b).fill)")
    assert len(set(colors)) == 5  # a color per service
    check_waterfall_layout(page)
    page.evaluate("window.scrollTo(0, 0)")  # the sticky axis would cover the first span in the shot
    shoot(page, "trace-waterfall")

    root = page.locator(f".wf-row[data-span-id='{span_id('root')}']")
    root.get_by_role("button", name="Hide the spans under GET /checkout").click()
    expect(waterfall.locator(".wf-row:visible")).to_have_count(2)  # the root and the span whose parent is missing
    expect(root.locator("[data-wf-toggle]")).to_have_attribute("aria-expanded", "false")
    root.get_by_role("button", name="Show the spans under GET /checkout").click()
    expect(waterfall.locator(".wf-row:visible")).to_have_count(5)

    page.locator("[data-select-span]", has_text="POST /charge").click()  # a log's span link
    expect(detail.get_by_role("heading", level=2)).to_have_text("POST /charge")
    page.reload()
    expect(page.locator("[data-span-detail]:visible").get_by_role("heading", level=2)).to_have_text("POST /charge")

    page.goto(project_path(signed_in, "/traces/service-map"))
    graph = page.get_by_test_id("service-map")
    expect(graph.locator(".sm-link")).to_have_count(3)  # web→api, api→db, web→cache
    api = graph.locator(".sm-node[data-service='api']")
    api.hover()
    expect(graph).to_have_class(re.compile(r"\bis-focused\b"))
    expect(api).to_have_class(re.compile(r"\bis-lit\b"))
    expect(graph.locator(".sm-node[data-service='db']")).to_have_class(re.compile(r"\bis-lit\b"))
    expect(graph.locator(".sm-node[data-service='cache']")).not_to_have_class(re.compile(r"\bis-lit\b"))
    expect(page.locator("[data-service-row='api']")).to_have_class(re.compile(r"\bis-selected\b"))
    expect(page.locator("[data-service-row='api'] td.num").nth(0)).to_have_text("13")
    page.mouse.move(2, 2)
    expect(graph).not_to_have_class(re.compile(r"\bis-focused\b"))
    assert fits(page)
    shoot(page, "service-map")
    graph.locator(".sm-node[data-service='web']").click()  # a node opens the list on its traces
    expect(page).to_have_url(re.compile(r"/traces\?service=web&range=1h$"))
    expect(page.get_by_test_id("traces").locator("tbody tr")).to_have_count(2 + 1 + 5)

    page.goto(project_path(signed_in, "/traces"))
    page.get_by_role("link", name=re.compile("^<script>alert")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("<script>alert(1)</script>")
    page.locator(".wf-link").first.click()
    expect(page.locator("[data-span-detail]:visible")).to_contain_text("<img src=x onerror=alert(2)>")
    assert page.locator("img[src=x]").count() == 0
    check_waterfall_layout(page)
    shoot(page, "trace-waterfall-hostile")


def test_create_an_alert_rule_through_the_form_then_see_it_fire(
        page: Any, signed_in: Account, receiver: Receiver, shoot: Shoot, page_errors: PageErrors) -> None:
    page_errors.allow_status(400)  # the refused form below answers 400, as it should
    ingest(signed_in, [{"timestamp": signed_in.server.runtime.clock.now_ms() - 60_000, "level": "error",
                        "service": "checkout", "message": "seen before"}])  # so the form can suggest it
    page.goto(project_path(signed_in, "/alerts"))
    expect(page.get_by_text("No alert rules yet")).to_be_visible()
    page.get_by_role("link", name="New rule").click()
    expect(page.get_by_role("heading", name="New alert rule")).to_be_visible()
    form = page.locator("form[data-mount='alert-form']")
    webhook, email = form.locator("[data-channel='webhook']"), form.locator("[data-channel='email']")
    expect(webhook).to_be_visible()
    expect(email).to_be_hidden()  # only the chosen channel's address field shows
    shoot(page, "alerts-new-rule")

    form.get_by_label("Name").fill("Checkout errors")
    form.locator("[data-condition-field]").select_option("service")
    value = form.locator("[data-condition-value]")
    expect(value).to_have_attribute("list", "cv-service")  # offers the services seen
    expect(page.locator("#cv-service option[value='checkout']")).to_have_count(1)
    value.fill("checkout")
    form.get_by_label("Threshold (events)").fill("0")
    form.get_by_text("Email", exact=True).click()
    expect(email).to_be_visible()
    expect(webhook).to_be_hidden()
    form.get_by_text("Webhook", exact=True).click()
    expect(webhook).to_be_visible()
    form.get_by_label("Webhook URL").fill(receiver.url())
    form.get_by_role("button", name="Create rule").click()

    expect(page.get_by_test_id("error-threshold")).to_have_text("must be at least 1")
    expect(page.get_by_test_id("form-errors")).to_contain_text("Threshold must be at least 1")
    expect(form.get_by_label("Name")).to_have_value("Checkout errors")  # what was typed stays
    expect(form.locator("[data-condition-field]")).to_have_value("service")
    form.get_by_label("Threshold (events)").fill("3")
    form.get_by_role("button", name="Create rule").click()

    expect(page.get_by_role("status")).to_contain_text("Rule “Checkout errors” created.")
    row = page.get_by_test_id("alert-rules").locator("tr", has_text="Checkout errors")
    expect(row).to_contain_text("Service = checkout")
    expect(row).to_contain_text("≥ 3 in 5 min")
    expect(row.locator(".al-channel .badge")).to_have_text("Webhook")
    expect(row.locator(".al-channel .faint")).to_have_text("127.0.0.1")  # the host only: a path may hold a token
    (rule,) = signed_in.client.get(f"{signed_in.base}/alerts").json()["rules"]
    assert (rule["condition_field"], rule["condition_value"], rule["threshold"], rule["notify_type"],
            rule["webhook_url"], rule["enabled"]) == ("service", "checkout", 3, "webhook", receiver.url(), True)

    now = signed_in.server.runtime.clock.now_ms()
    ingest(signed_in, [{"timestamp": now - i, "level": "error", "service": "checkout",
                        "message": f"payment <b>failed</b> #{i}"} for i in range(4)])
    assert run_job(signed_in.server, "alerts")["fired"] == 1
    page.reload()
    expect(row.get_by_role("link", name="1 open")).to_be_visible()
    expect(row).to_contain_text("fired just now")
    assert not clipped(page.locator(".table-wrap").first)  # every action in sight, no sideways scrolling
    expect(row.get_by_role("button", name="Delete")).to_be_in_viewport()
    shoot(page, "alerts-rules")
    row.get_by_role("link", name="1 open").click()
    expect(page.get_by_test_id("alert-state")).to_have_text("open")
    expect(page.get_by_test_id("delivery")).to_contain_text("delivered")
    expect(page.get_by_text("payment <b>failed</b> #0")).to_be_attached()
    assert len(receiver.hits) == 1
    shoot(page, "alerts-history")


def test_generate_an_insights_summary_and_filter_the_patterns(page: Any, signed_in: Account,
                                                              shoot: Shoot) -> None:
    now = signed_in.server.runtime.clock.now_ms()
    ingest(signed_in, [{"timestamp": now - 1000 - i, "level": "error", "service": "checkout",
                        "message": f"Payment declined for order {1000 + i}"} for i in range(6)]
           + [{"timestamp": now - 2000 - i, "level": "warn", "service": "search",
               "message": f"slow query took {800 + i} ms"} for i in range(3)]
           + [{"timestamp": now - 3000, "level": "info", "service": "web", "message": "home served"}])
    run_job(signed_in.server, "patterns")
    page.goto(project_path(signed_in, "/insights"))
    summary = page.get_by_test_id("summary")
    expect(summary).to_contain_text("No summary yet")

    form = page.get_by_test_id("summary-form")
    form.get_by_label("Window").select_option("30")
    form.get_by_role("button", name="Generate summary").click()
    expect(page.get_by_role("status")).to_contain_text("Summary of the last 30 minutes generated.")
    expect(summary.get_by_role("heading", name="Last 30 minutes")).to_be_visible()
    expect(summary.get_by_test_id("summary-text")).to_contain_text("In the last 30 minutes, 10 events were logged")
    expect(summary).to_contain_text("Busiest services")
    expect(form.get_by_label("Window")).to_have_value("30")  # the latest summary's window stays chosen

    patterns = page.get_by_test_id("patterns")
    expect(patterns.locator("tbody tr")).to_have_count(3)
    expect(patterns.locator("tbody tr", has_text="Payment declined for order {num}")).to_contain_text("new")
    shoot(page, "insights-summary")
    page.get_by_label("Level").select_option("warn")  # filters on change
    expect(page).to_have_url(re.compile(r"level=warn"))
    expect(patterns.locator("tbody tr")).to_have_count(1)
    expect(patterns).to_contain_text("slow query took {num} ms")
    patterns.get_by_role("link", name="Events").click()
    expect(page).to_have_url(re.compile(r"/logs\?"))
    expect(page.locator("[data-rows] tr[data-event-id]")).to_have_count(3)
