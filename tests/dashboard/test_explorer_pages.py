"""The log pages over HTTP against a real server: Log Explorer (results, syntax, facets, histogram,
fragments, lenses), an event, patterns, sessions, empty states, escaping and the asset budget."""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from scrywatch import querylang
from scrywatch.clock import FakeClock
from tests.dashboard.forms import csrf_token, flash, get_page, post_form
from tests.support import Account, LiveServer, register
from tests.tail.support import SSEStream

HTML = {"Accept": "text/html"}
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
NOW = T0 + 3 * 3_600_000 + 17 * 60_000 + 12_345  # mid-minute, mid-hour: rollup edges get exercised
HOSTILE = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)> {{ 7*7 }} مرحبا 🚀"


@pytest.fixture
def clocked(make_server: Callable[..., LiveServer]) -> Account:
    """An account on a server whose clock stands at NOW."""
    return register(make_server(clock=FakeClock(NOW)))


def path(account: Account, rest: str = "") -> str:
    return f"/o/{account.org}/p/{account.project}{rest}"


def ingest(account: Account, events: list[dict[str, Any]]) -> None:
    with account.keyed() as client:
        for i in range(0, len(events), 500):
            r = client.post("/api/ingest", json={"events": events[i:i + 500]})
            assert r.status_code == 202, r.text


def ev(i: int, **fields: Any) -> dict[str, Any]:
    return {"timestamp": NOW - 1000 - i * 61_000, "level": "info", "type": "custom", "message": f"event number {i}",
            **fields}


def corpus() -> list[dict[str, Any]]:
    out = []
    for i in range(40):
        out.append(ev(i, level=("error", "warn", "info", "debug")[i % 4], service=("api", "web")[i % 2],
                      type=("crash", "navigation", "custom")[i % 3], environment="prod" if i % 5 else "staging",
                      message=f"payment {i} failed for user u{i % 3}" if i % 4 == 0 else f"event number {i}",
                      session_id=f"s{i % 4}", user_id=f"u{i % 3}", trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
                      metadata={"order": i, "ok": i % 2 == 0, "tags": ["a", None]}))
    return out


def messages(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r"data-event-link><bdi>(.*?)</bdi>", page)]


def hrefs(page: str, pattern: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(rf'href="([^"]*{pattern}[^"]*)"', page)]


def hist_total(page: str) -> int:
    found = re.search(r'class="hist-head">\s*<span><strong>([\d,]+)</strong>', page)
    assert found, "no histogram"
    return int(found.group(1).replace(",", ""))


def result_total(page: str) -> int:
    found = re.search(r'data-testid="result-count">\s*([\d,]+)', page)
    assert found
    return int(found.group(1).replace(",", ""))


# -- the explorer ----------------------------------------------------------------------------
def test_results_facets_and_histogram_are_rendered_on_the_server(clocked: Account) -> None:
    ingest(clocked, corpus())
    page = get_page(clocked.client, path(clocked, "/logs")).text
    assert result_total(page) == 40 and hist_total(page) == 40
    shown = messages(page)
    assert shown[0] == "payment 0 failed for user u0" and len(shown) == 40  # newest first, one page
    assert 'data-testid="facets"' in page
    assert re.search(r'<bdi class="facet-value">api</bdi>\s*<span class="facet-count">20<', page)
    assert 'data-testid="empty-state"' not in page
    bars = re.findall(r'<a class="hist-bar" href="([^"]+)"', page)
    assert 12 <= len(bars) <= 60  # 24 h in hour buckets
    zoom = get_page(clocked.client, html.unescape(bars[-1])).text
    assert "Custom range" in zoom and hist_total(zoom) == result_total(zoom) > 0


@pytest.mark.parametrize("url", [
    "/logs?q=level:error%20service:api", "/logs?level=error&service=api",  # search syntax or /logs API parameters
    "/logs?q=level:err%20service:api&range=24h", "/logs?q=service:api&level=error",
])
def test_the_search_syntax_and_api_parameters_filter_alike(clocked: Account, url: str) -> None:
    ingest(clocked, corpus())
    page = get_page(clocked.client, path(clocked, url)).text
    want = [f"payment {i} failed for user u{i % 3}" for i in range(0, 40, 4)]  # error and api: i % 4 == 0
    assert messages(page) == want
    assert 'value="level:error service:api"' in page  # the box shows the canonical text
    chips = re.findall(r'class="chip[^"]*" href="[^"]*" title="Remove this filter"><bdi>(.*?)</bdi>', page)
    assert chips == ["level:error", "service:api"]


def test_exclusions_text_and_ranges(clocked: Account) -> None:
    ingest(clocked, corpus())
    c = clocked.client
    page = get_page(c, path(clocked, "/logs?q=-service:web%20-level:debug,info")).text
    assert result_total(page) == 10 and all("web" not in m for m in messages(page))
    assert '<a class="chip chip-neg"' in page
    page = get_page(c, path(clocked, '/logs?q="failed for user"%20u1')).text
    assert messages(page) == [f"payment {i} failed for user u1" for i in (28, 16, 4)]
    for rng, n in (("15m", 15), ("1h", 40), ("24h", 40)):
        expected = sum(1 for i in range(40) if 1000 + i * 61_000 <= {"15m": 15, "1h": 60, "24h": 1440}[rng] * 60_000)
        page = get_page(c, path(clocked, f"/logs?range={rng}")).text
        assert result_total(page) == hist_total(page) == min(n, expected), rng


def test_histogram_counts_agree_with_results_for_every_kind_of_query(clocked: Account) -> None:
    ingest(clocked, corpus())
    for q in ("", "level:warn", "-type:crash", "payment", "user:u2", "session:s1 level:error", "env:staging"):
        for rng in ("15m", "1h", "24h", "7d"):
            page = get_page(clocked.client, path(clocked, f"/logs?range={rng}&q={q}")).text
            assert hist_total(page) == result_total(page), (q, rng)
    custom = f"/logs?from={NOW - 20 * 60_000 + 777}&to={NOW - 5 * 60_000 - 333}"
    page = get_page(clocked.client, path(clocked, custom)).text
    assert hist_total(page) == result_total(page) == sum(
        1 for i in range(40) if NOW - 20 * 60_000 + 777 <= NOW - 1000 - i * 61_000 <= NOW - 5 * 60_000 - 333)


def test_bad_syntax_is_answered_with_the_message_and_the_text_kept(clocked: Account) -> None:
    r = clocked.client.get(path(clocked, "/logs?q=level:loud%20timeout"), headers=HTML)
    assert r.status_code == 400
    assert 'data-testid="query-error"' in r.text and "must be one of error, warn, info, debug" in r.text
    assert 'value="level:loud timeout"' in r.text


def test_excluding_text_is_refused_with_the_way_to_search_it(clocked: Account) -> None:
    r = clocked.client.get(path(clocked, "/logs?q=level:error%20-timeout"), headers=HTML)
    assert r.status_code == 400 and "text cannot be excluded" in html.unescape(r.text)
    assert '"-timeout"' in html.unescape(r.text)  # the quoted form, to search for the text itself
    ingest(clocked, [ev(0, message="retry -timeout flag given")])
    page = get_page(clocked.client, path(clocked, '/logs?q=%22-timeout%22')).text
    assert messages(page) == ["retry -timeout flag given"]


def test_custom_times_without_scripts_are_utc_date_times(clocked: Account) -> None:
    """The datetime-local inputs post `2026-01-01T03:00:00` when no script turned them into ms."""
    ingest(clocked, corpus())
    page = get_page(clocked.client, path(clocked, "/logs?range=custom&from=2026-01-01T03:00:00"
                                                  "&to=2026-01-01T03:10:00")).text
    lo, hi = T0 + 3 * 3_600_000, T0 + 3 * 3_600_000 + 600_000
    want = sum(1 for i in range(40) if lo <= NOW - 1000 - i * 61_000 <= hi)
    assert 0 < want == result_total(page) == hist_total(page)
    assert 'value="2026-01-01T03:00:00"' in page and "Custom range" in page


def test_facet_links_include_exclude_and_undo(clocked: Account) -> None:
    ingest(clocked, corpus())
    c = clocked.client
    page = get_page(c, path(clocked, "/logs")).text
    include = next(h for h in hrefs(page, "q=service") if "exclude" not in h and "-service" not in h)
    filtered = get_page(c, include).text
    assert 'value="service:api"' in filtered and result_total(filtered) == 20
    # The required value stays listed (checked) and so do the field's other values, to add or swap.
    assert re.search(r'aria-current="true" title="Remove this filter">', filtered)
    assert re.search(r'<bdi class="facet-value">web</bdi>\s*<span class="facet-count">20<', filtered)
    exclude = re.search(r'data-facet="level" data-exclude-href="([^"]+)"', page)
    assert exclude
    without_first_level = get_page(c, html.unescape(exclude.group(1))).text
    assert re.search(r'value="-level:\w+"', without_first_level) and result_total(without_first_level) == 30
    assert 'class="facet-item is-excluded"' in without_first_level


def facet_counts(page: str) -> dict[str, dict[str | None, int]]:
    """Facet group -> value -> count, as the sidebar shows them ((none) as None)."""
    out: dict[str, dict[str | None, int]] = {}
    for group, body in re.findall(r'data-facet-group="(\w+)">(.*?)</details>\s*(?=<details class="facet"|'
                                  r'<p class="hint|</aside>)', page, re.S):
        items = re.findall(r'<(?:bdi class="facet-value"|span class="facet-value faint")>(.*?)</(?:bdi|span)>\s*'
                           r'<span class="facet-count">([\d,]+)</span>', body)
        out[group] = {None if v == "(none)" else html.unescape(v): int(n.replace(",", "")) for v, n in items}
    return out


API_FIELD = {"level": "level", "type": "type", "service": "service", "environment": "environment",
             "device_type": "device_type"}


@pytest.mark.parametrize("text", ["", "level:error", "level:error,warn service:api", "service:web env:prod -type:crash",
                                  "type:crash,navigation level:info -service:api", "env:staging device:mobile",
                                  "payment", "level:error payment -service:web", "user:u1 level:warn,error"])
def test_facets_count_each_field_without_its_own_requirement(clocked: Account, text: str) -> None:
    """Each field's counts are /facets' for the query without that field's requirement (so a chosen
    value's alternatives stay listed) and with every other filter; text and id queries, counted from
    their newest matches, are /facets' own counts."""
    ingest(clocked, [{**e, "device_type": ("mobile", "desktop", None)[i % 3]} for i, e in enumerate(corpus())])
    page = get_page(clocked.client, path(clocked, f"/logs?range=24h&q={text}")).text
    shown = facet_counts(page)
    view_params = querylang.to_params(querylang.parse(text))
    rollup_only = querylang.parse(text).rollup_only
    for field, api_name in API_FIELD.items():
        params = {k: v for k, v in view_params.items() if k != api_name or not rollup_only}
        params.update({"from": str(NOW - 86_400_000), "to": str(NOW)})
        api = clocked.client.get(f"{clocked.base}/facets", params=params).json()["facets"][field]
        want = {f["value"]: f["count"] for f in api}
        excluded = set(view_params.get("exclude_" + api_name, "").split(",")) - {""}
        assert shown[field] == {**want, **{v: 0 for v in excluded}}, (text, field)


def test_load_more_fragments_walk_every_event_once(clocked: Account) -> None:
    ingest(clocked, [ev(i) for i in range(130)])
    c = clocked.client
    page = get_page(c, path(clocked, "/logs?range=7d")).text
    seen = messages(page)
    more = hrefs(page, "cursor=")
    while more:
        r = c.get(more[0], headers={"X-SW-Fragment": "rows"})
        assert r.status_code == 200 and "<html" not in r.text and r.headers["cache-control"] == "no-store"
        seen += messages(r.text)
        more = hrefs(r.text, "cursor=")
    assert seen == [f"event number {i}" for i in range(130)]
    # Without scripts the same link is a page of older events.
    older = get_page(c, hrefs(page, "cursor=")[0]).text
    assert messages(older)[0] == "event number 50" and "Back to the newest" in older


def test_an_event_page_and_its_drawer_fragment(clocked: Account) -> None:
    ingest(clocked, corpus())
    c = clocked.client
    page = get_page(c, path(clocked, "/logs?q=level:error&range=1h")).text
    link = hrefs(page, "/logs/events/")[0]
    assert "q=level%3Aerror" in link and "range=1h" in link  # the drawer's links keep the view
    full = get_page(c, link).text
    assert "<html" in full and 'data-testid="event-details"' in full and "Back to the results" in full
    drawer = c.get(link, headers={"X-SW-Fragment": "event"})
    assert drawer.status_code == 200 and "<html" not in drawer.text
    body = drawer.text
    for field in ("session_id", "user_id", "trace_id", "environment", "received_at"):
        assert f"<dt>{field}</dt>" in body
    assert '<span class="k">&#34;order&#34;</span>' in body and '<span class="b">true</span>' in body
    links = dict(re.findall(r'<a class="btn btn-sm" href="([^"]+)">.*?</svg>(.*?)</a>', body))
    by_label = {v: html.unescape(k) for k, v in links.items()}
    assert by_label["View trace"] == path(clocked, "/traces/4bf92f3577b34da6a3ce929d0e0e4736")
    same_session = get_page(c, by_label["Same session"]).text
    assert 'value="session:s0"' in same_session and result_total(same_session) == 10
    assert 'value="user:u0"' in get_page(c, by_label["Same user"]).text
    assert c.get(path(clocked, "/logs/events/01NOSUCHEVENT0000000000000"), headers=HTML).status_code == 404


def test_no_results_say_what_was_searched_and_offer_a_wider_search(clocked: Account) -> None:
    ingest(clocked, [ev(0, timestamp=NOW - 3 * 86_400_000, level="debug", message="old debug line")])
    page = get_page(clocked.client, path(clocked, "/logs?q=level:debug&range=1h")).text
    assert 'data-testid="no-results"' in page and "Nothing matches “level:debug” in last hour" in page
    assert "-type:navigation" in page  # the syntax, taught where nothing matched
    wider = html.unescape(re.search(r'href="([^"]+)" data-testid="widen"', page).group(1))  # type: ignore[union-attr]
    assert messages(get_page(clocked.client, wider).text) == ["old debug line"]
    clear = re.search(r'href="([^"]+)">Clear all filters<', page)
    assert clear and html.unescape(clear.group(1)) == path(clocked, "/logs?range=1h")
    seven = get_page(clocked.client, path(clocked, "/logs?q=level:error&range=7d")).text
    assert 'data-testid="no-results"' in seven and 'data-testid="widen"' not in seven


def test_live_and_the_open_event_travel_in_the_url(clocked: Account) -> None:
    ingest(clocked, corpus())
    c = clocked.client
    page = get_page(c, path(clocked, "/logs?q=level:error&range=1h&live=1&event=01SOMEEVENT")).text
    links = [html.unescape(h) for h in re.findall(r'(?:href|data-exclude-href)="([^"]*/logs\?[^"]*)"', page)]
    view_links = [h for h in links if "from=" not in h and "cursor=" not in h]
    assert view_links and all("live=1" in h for h in view_links), [h for h in view_links if "live=1" not in h]
    assert not any("event=" in h for h in links)  # the drawer is this page's, not the next one's
    assert all("live=1" not in h for h in hrefs(page, "from="))  # a custom range cannot be live
    assert "live=1" not in get_page(c, path(clocked, "/logs?q=level:error&range=1h")).text


def test_a_project_without_events_teaches_how_to_send_them(clocked: Account) -> None:
    for rest in ("/logs", "/patterns", "/sessions"):
        page = get_page(clocked.client, path(clocked, rest)).text
        assert 'data-testid="empty-state"' in page and "/api/ingest" in page, rest
    ingest(clocked, [ev(1)])
    page = get_page(clocked.client, path(clocked, "/logs?q=level:error")).text
    assert 'data-testid="empty-state"' not in page and 'data-testid="no-results"' in page
    assert 'data-testid="empty-state"' not in get_page(clocked.client, path(clocked, "/logs")).text


def test_live_follows_the_search_as_the_search_reads_it(account: Account) -> None:
    """The explorer's Live parameters select on the tail exactly what the search lists: words and
    "phrases" by token (case and punctuation aside), not as a substring with its quotes."""
    page = get_page(account.client, path(account, '/logs?q=level:error%20"failed%20for"%20pay*')).text
    tail = html.unescape(re.search(r'data-tail="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    params = html.unescape(re.search(r'data-tail-params="([^"]*)"', page).group(1))  # type: ignore[union-attr]
    assert tail == account.base + "/ws/tail"
    with SSEStream(account.client, account.base + "/tail?" + params) as sse:  # the same filters, over SSE
        now = int(time.time() * 1000)
        ingest(account, [ev(0, timestamp=now, level="error", message="payment failed badly for u1"),  # no phrase
                         ev(0, timestamp=now, level="info", message="payment 3 failed for user u1"),  # not the level
                         ev(0, timestamp=now, level="error", message="refund failed for user u1"),  # no pay*
                         ev(0, timestamp=now, level="error", message="Payments: 9 FAILED, for user u1")])
        frame = sse.next_event()
    assert json.loads(frame["data"])["message"] == "Payments: 9 FAILED, for user u1"
    listed = messages(get_page(account.client, path(account, '/logs?q=level:error%20"failed%20for"%20pay*')).text)
    assert listed == ["Payments: 9 FAILED, for user u1"]


# -- lenses ------------------------------------------------------------------------------------
def lens_names(page: str) -> list[str]:
    return [html.unescape(n) for n in re.findall(r'data-lens-name="([^"]*)"', page)]


def test_lenses_save_apply_edit_reorder_and_delete(clocked: Account) -> None:
    ingest(clocked, corpus())
    c = clocked.client
    view = path(clocked, "/logs?q=level:error%20-service:web&range=1h")
    page = get_page(c, view).text
    filters = html.unescape(re.search(r'name="filters" value="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    create = path(clocked, "/logs/lenses")
    r = post_form(c, create, {"name": "Errors <api>", "color": "red", "filters": filters, "back": view}, page=view,
                  follow=False)
    assert r.status_code == 303
    applied = get_page(c, r.headers["location"]).text
    assert flash(applied) == ("success", "Lens “Errors <api>” saved.")
    assert 'value="level:error -service:web"' in applied
    assert 'aria-current="true" data-lens-name="Errors &lt;api&gt;"' in applied
    api = c.get(f"{clocked.base}/lenses").json()["lenses"]
    assert api[0]["color"] == "red"
    assert json.loads(api[0]["filters"]) == {"level": "error", "exclude_service": "web", "range": "1h"}

    # A lens saved through the API with /logs parameters is applied the same way.
    assert c.post(f"{clocked.base}/lenses", json={"name": "Warnings", "filters": '{"level":"warn"}'}).status_code == 201
    page = get_page(c, path(clocked, "/logs?q=level:warn")).text
    assert lens_names(page) == ["Errors <api>", "Warnings"] and 'aria-current="true" data-lens-name="Warnings"' in page

    first, second = (lens["id"] for lens in c.get(f"{clocked.base}/lenses").json()["lenses"])
    here = path(clocked, "/logs")
    r = post_form(c, create + f"/{second}/move", {"direction": "left", "back": here}, page=here)
    assert flash(r.text) == ("success", "Lens moved.") and lens_names(r.text) == ["Warnings", "Errors <api>"]
    token = csrf_token(r.text)
    r = c.post(create + "/order", data={"csrf_token": token, "ids": f"{first},{second}"},
               headers={"X-SW-Fragment": "order"})
    assert r.status_code == 204 and lens_names(get_page(c, here).text) == ["Errors <api>", "Warnings"]
    r = post_form(c, create + f"/{first}", {"name": "API errors", "color": "green", "back": here}, page=here)
    assert flash(r.text) == ("success", "Lens “API errors” updated.") and "lens lens-green" in r.text
    r = post_form(c, create + f"/{first}/delete", {"back": here}, page=here)
    assert flash(r.text) == ("success", "Lens deleted.") and lens_names(r.text) == ["Warnings"]
    r = post_form(c, create + f"/{first}/delete", {"back": here}, page=here)
    assert flash(r.text) == ("error", "Lens not found")
    r = post_form(c, create, {"name": " ", "filters": "{}", "back": here}, page=here)
    assert flash(r.text)[0] == "error"  # type: ignore[index]


def test_lens_forms_need_the_csrf_token(server: LiveServer, account: Account) -> None:
    r = account.client.post(path(account, "/logs/lenses"), data={"name": "x"}, headers=HTML)
    assert r.status_code == 403
    stranger = httpx.Client(base_url=server.url, cookies=dict(account.client.cookies))
    r = stranger.post(path(account, "/logs/lenses/order"), data={"ids": "a"}, headers={"X-SW-Fragment": "order"})
    assert r.status_code == 403


# -- patterns and sessions ---------------------------------------------------------------------
def test_patterns_with_counts_sparklines_and_a_link_to_their_events(clocked: Account) -> None:
    ingest(clocked, corpus())
    page = get_page(clocked.client, path(clocked, "/patterns")).text
    assert 'data-testid="patterns"' in page
    rows = re.findall(r'<tr>\s*<td class="p-cell">\s*<a class="p-link" href="([^"]+)".*?</tr>', page, re.S)
    payments = [r for r in re.findall(r'<tr>\s*<td class="p-cell">.*?</tr>', page, re.S)
                if "payment {num} failed for user {id}" in html.unescape(r)]
    assert len(payments) == 3 and len(rows) >= 3  # one per (level, type): the payments are errors of 3 types
    row = payments[0]
    assert 'class="badge badge-new"' in row  # first seen within the hour (nothing before it)
    count = int(re.search(r'<td class="num p-count">(\d+)</td>', row).group(1))  # type: ignore[union-attr]
    assert sorted(int(re.search(r'<td class="num p-count">(\d+)</td>', r).group(1))  # type: ignore[union-attr]
                  for r in payments) == [3, 3, 4]
    assert re.search(r'<polyline class="p-spark-line" points="[\d., ]+"', row)
    link = re.search(r'<a class="p-link" href="([^"]+)"', row).group(1)  # type: ignore[union-attr]
    events = get_page(clocked.client, html.unescape(link)).text
    assert result_total(events) == count and all(m.startswith("payment ") for m in messages(events))
    narrowed = get_page(clocked.client, path(clocked, "/patterns?q=service:web")).text
    assert "payment {num}" not in narrowed  # payments are all api


def pattern_rows(page: str) -> dict[str, str]:
    """Pattern text -> its table row."""
    out = {}
    for row in re.findall(r'<tr>\s*<td class="p-cell">.*?</tr>', page, re.S):
        text = re.search(r'<code class="p-pattern"><bdi>(.*?)</bdi>', row)
        assert text
        out[html.unescape(text.group(1))] = row
    return out


@pytest.mark.parametrize("rng", ["15m", "1h", "24h"])
def test_new_means_first_seen_in_the_last_hour_and_not_in_the_day_before(clocked: Account, rng: str) -> None:
    old = [ev(0, timestamp=NOW - h * 3_600_000, message=f"disk {h} full on /var", level="warn") for h in (5, 9, 20)]
    fresh = [ev(0, timestamp=NOW - m * 60_000, message=f"disk {m} full on /var", level="warn") for m in (2, 3)]
    brand_new = [ev(0, timestamp=NOW - m * 60_000, message=f"cache warmup {m} finished", level="warn") for m in (2, 4)]
    ingest(clocked, old + fresh + brand_new)
    rows = pattern_rows(get_page(clocked.client, path(clocked, f"/patterns?range={rng}")).text)
    assert set(rows) == {"disk {num} full on /var", "cache warmup {num} finished"}
    assert "badge-new" in rows["cache warmup {num} finished"]
    assert "badge-new" not in rows["disk {num} full on /var"]  # seen 5 h ago: not new, whatever the range


def test_sessions_list_and_a_session_timeline(clocked: Account) -> None:
    ingest(clocked, corpus())
    c = clocked.client
    page = get_page(c, path(clocked, "/sessions")).text
    rows = re.findall(r'<a href="([^"]+/sessions/[^"]+)" class="mono"><bdi>(s\d)</bdi>', page)
    assert sorted(s for _, s in rows) == ["s0", "s1", "s2", "s3"]
    assert 'class="badge sev-crash">crash<' in page
    timeline = get_page(c, html.unescape(dict((s, h) for h, s in rows)["s0"])).text
    shown = messages(timeline)
    assert len(shown) == 10 and shown[0] == "payment 36 failed for user u0"  # oldest first
    assert 'data-testid="timeline"' in timeline and "+0.000s" in timeline
    assert c.get(path(clocked, "/sessions/nope"), headers=HTML).status_code == 404


# -- safety --------------------------------------------------------------------------------
def test_hostile_event_text_stays_text(clocked: Account) -> None:
    ingest(clocked, [ev(1, message=HOSTILE + " " + "W" * 5000, service=HOSTILE[:200], session_id=HOSTILE[:100],
                        user_id=HOSTILE[:100], metadata={"x": HOSTILE, HOSTILE: [HOSTILE]})])
    c = clocked.client
    logs = get_page(c, path(clocked, "/logs")).text
    link = hrefs(logs, "/logs/events/")[0]
    sid = re.search(r'href="([^"]+/sessions/[^"]+)"', get_page(c, path(clocked, "/sessions")).text)
    assert sid
    for page in (logs, get_page(c, link).text, c.get(link, headers={"X-SW-Fragment": "event"}).text,
                 get_page(c, path(clocked, "/patterns")).text, get_page(c, path(clocked, "/sessions")).text,
                 get_page(c, html.unescape(sid.group(1))).text):
        assert "<script>alert" not in page and "<img src=x" not in page and "\"'><" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "{{ 7*7 }}" in page


def test_log_pages_ship_no_inline_script_or_style_and_little_js_css(clocked: Account) -> None:
    ingest(clocked, corpus())
    c = clocked.client
    pages = ["/logs", "/logs?q=level:error", "/patterns", "/sessions", "/sessions/s1"]
    event = hrefs(get_page(c, path(clocked, "/logs")).text, "/logs/events/")[0]
    for url in [path(clocked, p) for p in pages] + [event]:
        r = get_page(c, url)
        assert "unsafe-inline" not in r.headers["content-security-policy"]
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", r.text), url
        assert not re.search(r"\sstyle=", r.text), url
        assert not re.search(r"\son[a-z]+=", r.text), url
        assets = set(re.findall(r'(?:src|href)="(/static/[^"]+\.(?:js|css)\?v=[0-9a-f]+)"', r.text))
        total = sum(len(c.get(a).content) for a in assets)
        assert total < 150 * 1024, (url, total)


def served_assets(client: httpx.Client, page_html: str) -> dict[str, int]:
    """Our JS and CSS a page loads (ES module imports included): URL -> bytes."""
    todo = set(re.findall(r'(?:src|href)="(/static/[^"]+\.(?:js|css)\?v=[0-9a-f]+)"', page_html))
    sizes: dict[str, int] = {}
    while todo:
        url = todo.pop()
        r = client.get(url)
        assert r.status_code == 200, url
        sizes[url] = len(r.content)
        if url.split("?")[0].endswith(".js"):
            base = url.split("?")[0].rsplit("/", 1)[0]
            for imported in re.findall(r"""^\s*import\b[^;]*?["'](\.{1,2}/[^"']+)["']""", r.text, re.M):
                target = f"{base}/{imported.removeprefix('./')}"
                if target not in sizes:
                    todo.add(target)
    return sizes


def test_every_page_ships_at_most_150_kb_of_our_js_and_css(make_server: Callable[..., LiveServer]) -> None:
    """Every GET page of the route table, rendered with data (an event, a session, a kept trace, an
    alert rule), plus an error page: our own JS + CSS under 150 KB each, counted as served."""
    from starlette.applications import Starlette
    from starlette.routing import Route

    from scrywatch.web.routes import all_routes
    from tests.alerts.live import run_job
    from tests.traces.support import trace_tree

    clock = FakeClock(NOW)
    server = make_server(clock=clock, traces={"hold_seconds": 1})
    account = register(server)
    ingest(account, corpus())
    trace_id, spans = trace_tree(start_ms=NOW - 60_000, error=True)
    with account.keyed() as keyed:
        assert keyed.post("/api/traces", json={"spans": spans}).status_code == 202
    clock.advance(seconds=5)
    run_job(server, "sampling")  # an error trace: kept
    made = account.client.post(f"{account.base}/alerts", json={
        "name": "Errors", "condition_field": "level", "condition_value": "error", "threshold": 3, "window_minutes": 5,
        "webhook_url": "https://hooks.example.com/x"})
    assert made.status_code == 201, made.text
    rule = made.json()
    event_id = re.search(r'data-event-id="([^"]+)"', get_page(account.client, path(account, "/logs")).text)
    assert event_id
    params = {"org": account.org, "project": account.project, "event_id": event_id.group(1), "session_id": "s1",
              "trace_id": trace_id, "rule_id": rule["id"]}
    app = Starlette(routes=all_routes())
    pages = {route.name: app.url_path_for(route.name, **{k: v for k, v in params.items()
                                                         if "{" + k in route.path})
             for route in all_routes()
             if isinstance(route, Route) and route.name.startswith("dash.") and "GET" in (route.methods or ())}
    assert {"dash.logs", "dash.logs.event", "dash.patterns", "dash.sessions", "dash.sessions.timeline",
            "dash.traces.trace", "dash.alerts.edit", "dash.settings.danger", "dash.login"} <= set(pages)
    anonymous = server.client()
    seen: dict[str, int] = {}
    for name, url in sorted(pages.items()):
        client = anonymous if name in ("dash.login", "dash.setup") else account.client
        r = get_page(client, url)
        assert r.headers["content-type"].startswith("text/html"), name
        total = sum(served_assets(client, r.text).values())
        assert 0 < total <= 150 * 1024, (name, url, total)
        seen[name] = total
    missing = account.client.get(path(account, "/logs/events/01NOSUCHEVENT0000000000000"), headers=HTML)
    assert missing.status_code == 404 and 0 < sum(served_assets(account.client, missing.text).values()) <= 150 * 1024
    assert seen["dash.logs"] > seen["dash.settings.keys"]  # the explorer's own scripts are counted


def test_the_histogram_counts_archived_hours_like_the_results(make_server: Callable[..., LiveServer]) -> None:
    from tests.alerts.live import run_job

    clock = FakeClock(NOW)
    server = make_server(clock=clock)
    account = register(server)
    old = [ev(i, level=("error", "info")[i % 2], service=("api", "web")[i % 3 == 0],
              message=f"archived {i}" if i % 2 else f"payment {i}") for i in range(80)]
    for e in old:
        e["timestamp"] = NOW - 3 * 86_400_000 + e["timestamp"] % 86_400_000 + (e["timestamp"] % 7) * 3_600_000 * 8
    ingest(account, old + corpus())
    run_job(server, "archive")
    run_job(server, "retention")
    with account.keyed() as keyed:  # /logs without `from` reads the hot store only
        hot = keyed.get(account.base + "/logs", params={"limit": 1}).json()["total"]
    assert hot < len(old) + len(corpus())  # some of the old events live in the archive only
    for q in ("", "level:error", "-service:web", "payment", "user:u1"):
        page = get_page(account.client, path(account, f"/logs?range=7d&q={q}")).text
        assert hist_total(page) == result_total(page), q
    page = get_page(account.client, path(account, "/logs?range=7d")).text
    assert hist_total(page) == 120
