"""Insights page over HTTP against a real server: generate a summary through the form, the latest shown,
the fallback marker, persistent patterns with their filters and explorer links."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from tests.alerts.live import ingest, run_job
from tests.alerts.receivers import Receiver
from tests.dashboard.forms import flash, get_page, post_form
from tests.support import Account, LiveServer, register

HTML = {"Accept": "text/html"}


def insights_path(account: Account, rest: str = "") -> str:
    return f"/o/{account.org}/p/{account.project}/insights{rest}"


def now_ms() -> int:
    return int(time.time() * 1000)


def test_generate_a_summary_then_see_it_as_the_latest(account: Account) -> None:
    page = get_page(account.client, insights_path(account)).text
    assert "No summary yet" in page and "No patterns yet" in page
    at = now_ms()
    ingest(account, [{"timestamp": at - i, "level": "error", "service": "api", "message": f"db timeout {i}"}
                     for i in range(3)] + [{"timestamp": at, "level": "warn", "service": "web", "message": "slow"}])
    r = post_form(account.client, insights_path(account, "/summary"), {"minutes": "30"}, page=insights_path(account))
    assert r.url.path == insights_path(account)
    assert flash(r.text) == ("success", "Summary of the last 30 minutes generated.")
    text = re.search(r'data-testid="summary-text"><bdi>(.*?)</bdi>', r.text, re.S)
    assert text and html.unescape(text.group(1)).startswith("In the last 30 minutes, 4 events were logged")
    assert "<h2>Last 30 minutes</h2>" in r.text and '<option value="30" selected>' in r.text
    assert re.search(r"<dt>Errors</dt><dd>3</dd>", r.text) and re.search(r"<dt>Warnings</dt><dd>1</dd>", r.text)
    assert "Busiest services" in r.text and "db timeout {num}" in r.text
    assert ">builtin<" in r.text and 'data-testid="fallback"' not in r.text
    latest = account.client.get(f"{account.base}/insights/summary").json()["summary"]
    assert latest["time_window_minutes"] == 30 and latest["event_count"] == 4

    r = post_form(account.client, insights_path(account, "/summary"), {"minutes": "7"}, page=insights_path(account))
    assert flash(r.text) == ("error", "Minutes: must be one of 5, 15, 30, 60")
    r = account.client.post(insights_path(account, "/summary"), data={"minutes": "5"}, headers=HTML)
    assert r.status_code == 403  # no CSRF token


def test_a_fallback_summary_is_marked(make_server: Callable[..., LiveServer]) -> None:
    gone = Receiver()
    url = gone.url("/v1")
    gone.close()
    account = register(make_server(ai={"provider": "openai", "base_url": url, "model": "llama3.1",
                                       "timeout_seconds": 2.0}))
    r = post_form(account.client, insights_path(account, "/summary"), {"minutes": "5"}, page=insights_path(account))
    assert flash(r.text) == ("success", "Summary of the last 5 minutes generated (the built-in summarizer stood in "
                                        "for the language model).")
    assert 'data-testid="fallback"' in r.text and "cannot reach the model endpoint" in r.text


def test_patterns_list_new_ones_filter_and_link_to_their_events(account: Account) -> None:
    at = now_ms()
    ingest(account, [{"timestamp": at - i, "level": "error", "service": "checkout",
                      "message": f"Payment <declined> for order {1000 + i}"} for i in range(5)]
           + [{"timestamp": at, "level": "warn", "service": "search", "message": "slow query took 812 ms"}])
    run_job(account.server, "patterns")
    page = get_page(account.client, insights_path(account)).text
    rows = re.findall(r"<tr( class=\"is-new-pattern\")?>\s*<td class=\"in-pattern-cell\">(.*?)</tr>", page, re.S)
    assert len(rows) == 2 and all(new for new, _ in rows)  # both first seen within the hour
    first = rows[0][1]
    assert "Payment &lt;declined&gt; for order {num}" in first and ">5<" in first and "checkout" in first
    assert "2 new" in page
    href = html.unescape(re.search(r'href="([^"]+)">Events', first).group(1))  # type: ignore[union-attr]
    parts = urlsplit(href)
    assert parts.path == f"/o/{account.org}/p/{account.project}/logs"
    params = parse_qs(parts.query)
    assert params["q"] == ['level:error service:checkout "Payment <declined> for order"']
    assert int(params["from"][0]) <= at - 4 and int(params["to"][0]) > at
    explorer = account.client.get(f"{account.base}/logs", params={"level": "error", "service": "checkout",
                                                                  "q": '"Payment <declined> for order"'})
    assert explorer.json()["total"] == 5  # the link's filters find the pattern's events

    warn_only = get_page(account.client, insights_path(account, "?level=warn")).text
    assert "slow query took {num} ms" in warn_only and "Payment" not in warn_only
    by_service = get_page(account.client, insights_path(account, "?service=search")).text
    assert "slow query" in by_service and "Payment" not in by_service
    none = get_page(account.client, insights_path(account, "?service=nowhere")).text
    assert "No stored pattern matches this filter." in none
    bad = account.client.get(insights_path(account, "?level=loud"), headers=HTML)
    assert bad.status_code == 400 and "must be one of error, warn, info, debug" in bad.text
