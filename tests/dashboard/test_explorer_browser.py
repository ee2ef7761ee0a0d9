"""The log pages in Debian's Chromium: facets and the search syntax, the drawer, live tail, lenses,
the command palette, histogram zoom, infinite scroll, and screenshots in light and dark."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.dashboard.conftest import PageErrors, project_path
from tests.support import Account

pytestmark = pytest.mark.browser

Shoot = Callable[[Any, str], None]
HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script> " + "W" * 300 + " مرحبا 🚀 \u202eevil"


def ingest(account: Account, events: list[dict[str, Any]]) -> None:
    with account.keyed() as client:
        r = client.post("/api/ingest", json={"events": events})
        assert r.status_code == 202, r.text


def seed(account: Account, n: int = 40, **extra: Any) -> int:
    """n events over the last n minutes (newest: "event 0"), sent oldest first as they would arrive."""
    now = int(time.time() * 1000)
    ingest(account, [{
        "timestamp": now - 5_000 - i * 60_000, "level": ("error", "warn", "info", "debug")[i % 4],
        "type": ("crash", "navigation", "custom")[i % 3], "service": ("api", "web")[i % 2],
        "environment": "prod", "session_id": f"s{i % 3}", "user_id": f"u{i % 5}",
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "message": f"payment {i} failed for user u{i % 5}" if i % 4 == 0 else f"event {i}",
        "metadata": {"order": i, "items": [{"sku": "A-1", "qty": 2}], "paid": False}, **extra}
        for i in reversed(range(n))])
    return now


def rows(page: Any) -> Any:
    return page.locator("[data-rows] tr[data-event-id]")


def test_filter_with_a_facet_click_alt_click_and_the_search_syntax(page: Any, signed_in: Account,
                                                                   shoot: Shoot) -> None:
    seed(signed_in)
    page.goto(project_path(signed_in, "/logs"))
    expect(rows(page)).to_have_count(40)
    page.locator("[data-facet-group=service] a.facet-link", has_text="api").click()
    expect(page).to_have_url(re.compile(r"q=service%3Aapi"))
    expect(page.get_by_test_id("chips")).to_contain_text("service:api")
    expect(rows(page)).to_have_count(20)
    assert set(rows(page).locator(".x-service").all_inner_texts()) == {"api"}

    page.locator("[data-facet-group=level] a.facet-link", has_text="info").click(modifiers=["Alt"])
    box = page.get_by_role("searchbox", name="Search events")
    expect(box).to_have_value("service:api -level:info")
    expect(rows(page)).to_have_count(10)

    box.fill('level:error "failed for user"')
    box.press("Enter")
    expect(rows(page)).to_have_count(10)
    expect(rows(page).first).to_contain_text("payment 0 failed for user u0")
    expect(page.get_by_test_id("result-count")).to_have_text("10 events")
    page.get_by_role("link", name=re.compile("level:error")).click()  # remove the chip
    expect(box).to_have_value('"failed for user"')
    shoot(page, "logs-filtered")


def test_open_an_event_in_the_drawer_and_follow_its_links(page: Any, signed_in: Account, shoot: Shoot) -> None:
    seed(signed_in)
    page.goto(project_path(signed_in, "/logs"))
    rows(page).nth(1).click()
    drawer = page.locator("dialog[data-drawer]")
    expect(drawer).to_be_visible()
    details = drawer.get_by_test_id("event-details")
    expect(details.locator(".ev-message")).to_have_text("event 1")
    expect(details.locator(".fields")).to_contain_text("s1")
    expect(details.locator(".ev-json")).to_contain_text('"sku": "A-1"')
    details.get_by_role("button", name="Copy message").click()
    expect(page.locator(".toast")).to_contain_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == "event 1"
    expect(details.get_by_role("link", name="View trace")).to_have_attribute(
        "href", project_path(signed_in, "/traces/4bf92f3577b34da6a3ce929d0e0e4736"))
    shoot(page, "logs-drawer")
    page.keyboard.press("j")  # the next row, in the same drawer
    expect(details.locator(".ev-message")).to_have_text("event 2")
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    rows(page).first.click()
    drawer.get_by_role("link", name="Same session").click()
    expect(page.get_by_role("searchbox", name="Search events")).to_have_value("session:s0")
    expect(rows(page)).to_have_count(14)


def test_live_tail_streams_events_ingested_while_watching(page: Any, signed_in: Account) -> None:
    seed(signed_in, 60)
    page.goto(project_path(signed_in, "/logs?q=-level:debug"))
    live = page.get_by_role("button", name="Live")
    live.click()
    expect(live).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-live-state]")).to_have_text("Live: new events appear at the top")
    now = int(time.time() * 1000)
    ingest(signed_in, [{"timestamp": now, "level": "error", "type": "custom", "message": "fresh from the tail",
                        "service": "api"},
                       {"timestamp": now, "level": "debug", "type": "custom", "message": "filtered out"}])
    expect(rows(page).first).to_contain_text("fresh from the tail")
    expect(rows(page).first.locator(".badge")).to_have_text("error")
    expect(page.get_by_text("filtered out")).to_have_count(0)

    # Scrolled down, new events wait behind a pill; back at the top they come in.
    page.evaluate("window.scrollTo(0, 2000)")
    assert page.evaluate("window.scrollY") > 300
    ingest(signed_in, [{"timestamp": now + 1, "level": "warn", "type": "custom", "message": "while reading"}])
    pill = page.locator("[data-new-pill]")
    expect(pill).to_be_visible()
    expect(pill).to_contain_text("1 new events")
    expect(page.get_by_text("while reading")).to_have_count(0)
    pill.click()
    expect(rows(page).first).to_contain_text("while reading")
    expect(pill).to_be_hidden()
    rows(page).first.click()
    expect(page.locator("dialog[data-drawer] .ev-message")).to_have_text("while reading")


def test_save_apply_and_reorder_lenses_and_jump_to_one_with_the_palette(page: Any, signed_in: Account,
                                                                        shoot: Shoot) -> None:
    seed(signed_in)
    page.goto(project_path(signed_in, "/logs?q=level:error&range=1h"))
    page.get_by_test_id("save-lens").click()
    page.get_by_label("Lens name").fill("Checkout errors")
    page.locator(".lens-new .lens-color.lens-red").click()
    page.get_by_role("button", name="Save lens").click()
    expect(page.get_by_role("status")).to_contain_text("Lens “Checkout errors” saved.")
    lens = page.locator(".lens", has_text="Checkout errors")
    expect(lens).to_have_class(re.compile("is-active"))
    expect(lens).to_have_class(re.compile("lens-red"))

    page.goto(project_path(signed_in, "/logs?q=level:warn"))
    page.get_by_test_id("save-lens").click()
    page.get_by_label("Lens name").fill("Warnings")
    page.get_by_role("button", name="Save lens").click()
    page.goto(project_path(signed_in, "/logs"))
    expect(page.locator(".lens.is-active")).to_have_count(0)
    page.get_by_role("link", name="Checkout errors").click()
    expect(page).to_have_url(re.compile(r"level=error&range=1h"))
    expect(page.get_by_role("searchbox", name="Search events")).to_have_value("level:error")
    expect(rows(page)).to_have_count(10)
    expect(page.locator(".lens.is-active .lens-link")).to_have_text("Checkout errors")
    shoot(page, "logs-lens")

    names = page.locator(".lens-link")
    expect(names).to_have_text(["Checkout errors", "Warnings"])
    page.locator(".lens", has_text="Warnings").drag_to(page.locator(".lens", has_text="Checkout errors"),
                                                       target_position={"x": 4, "y": 10})
    expect(page.locator(".toast")).to_contain_text("Lens order saved")
    page.reload()
    expect(names).to_have_text(["Warnings", "Checkout errors"])

    page.goto(project_path(signed_in, "/sessions"))
    page.keyboard.press("Control+k")
    palette = page.locator("dialog[data-palette]")
    expect(palette).to_be_visible()
    expect(palette.locator(".palette-item", has_text="Checkout errors")).to_be_visible()
    shoot(page, "palette")
    palette.get_by_role("combobox").fill("checkout")
    expect(palette.locator('.palette-item[aria-selected="true"]')).to_contain_text("Checkout errors")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/logs\?level=error&range=1h"))
    expect(page.locator(".lens.is-active .lens-link")).to_have_text("Checkout errors")
    # Recent searches and services are there too.
    page.keyboard.press("Control+k")
    palette.get_by_role("combobox").fill("web")
    expect(palette.locator(".palette-item", has_text="web").first).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.get_by_role("searchbox", name="Search events")).to_have_value("service:web")


def test_dragging_across_the_histogram_zooms_in(page: Any, signed_in: Account) -> None:
    seed(signed_in)
    page.goto(project_path(signed_in, "/logs?range=1h"))
    svg = page.locator("[data-hist-svg]")
    box = svg.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + 30, steps=5)
    page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + 30, steps=5)
    page.mouse.up()
    expect(page).to_have_url(re.compile(r"from=\d+&to=\d+"))
    expect(page.get_by_label("Time range")).to_have_value("custom")
    count = int(page.get_by_test_id("result-count").inner_text().split()[0])
    assert 0 < count < 40
    expect(rows(page)).to_have_count(count)


def test_older_events_load_as_you_scroll(page: Any, signed_in: Account) -> None:
    seed(signed_in, 130)
    page.goto(project_path(signed_in, "/logs?range=7d"))
    expect(rows(page)).to_have_count(50)
    for expected in (100, 130):
        page.locator("[data-rows] tr").last.scroll_into_view_if_needed()
        expect(rows(page)).to_have_count(expected)
    expect(page.locator("[data-load-more]")).to_have_count(0)
    expect(rows(page).last).to_contain_text("event 129")


def test_log_pages_in_light_and_dark_with_hostile_data(page: Any, signed_in: Account, shoot: Shoot,
                                                      page_errors: PageErrors) -> None:
    seed(signed_in, 40)
    seed(signed_in, 1, message=HOSTILE, service=HOSTILE[:120], session_id=HOSTILE[:80],
         metadata={"html": HOSTILE})
    lens = signed_in.client.post(f"{signed_in.base}/lenses", json={"name": HOSTILE[:100], "filters": "{}"})
    assert lens.status_code == 201
    pages = [("logs-data", "/logs"), ("logs-7d", "/logs?range=7d&q=-level:debug"), ("patterns-data", "/patterns"),
             ("sessions-data", "/sessions"), ("session-timeline", "/sessions/s1")]
    for name, rest in pages:
        page.goto(project_path(signed_in, rest))
        expect(page.locator("main h1").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), rest
        assert page.locator("img[src=x]").count() == 0
        shoot(page, name)
    page.goto(project_path(signed_in, "/logs"))
    fits = "el => el.scrollWidth <= el.clientWidth + 1"
    for part in (".x-facets", ".lensbar", ".x-results", ".hist"):
        assert page.locator(part).evaluate(fits), part
    page.locator("[data-rows] tr", has_text="WWWW").first.click()
    expect(page.locator("dialog[data-drawer] .ev-message")).to_contain_text("<script>alert(2)</script>")
    for part in ("dialog[data-drawer]", "dialog[data-drawer] .ev-message", "dialog[data-drawer] .ev-json",
                 "dialog[data-drawer] .fields"):
        assert page.locator(part).evaluate(fits), part
    shoot(page, "logs-drawer-hostile")
    page.keyboard.press("Escape")
    page.keyboard.press("Control+k")
    palette = page.locator("dialog[data-palette]")
    expect(palette.locator(".palette-item", has_text="WWWW").first).to_be_visible()  # the lens and the service
    assert palette.evaluate(fits) and page.locator("img[src=x]").count() == 0
    shoot(page, "palette-hostile")
    page.keyboard.press("Escape")
    page.goto(page.locator("[data-drawer-page]").get_attribute("href"))
    expect(page.get_by_test_id("event-details")).to_be_visible()
    shoot(page, "event")
    page_errors.allow_status(400)
    page.goto(project_path(signed_in, "/logs?q=level:loud"))
    expect(page.get_by_test_id("query-error")).to_contain_text("must be one of")
    shoot(page, "logs-bad-query")


def test_live_reads_the_search_text_like_the_search_and_stays_on_in_the_url(page: Any, signed_in: Account) -> None:
    seed(signed_in)
    page.goto(project_path(signed_in, '/logs?q="failed for"'))
    expect(rows(page)).to_have_count(10)
    page.get_by_role("button", name="Live").click()
    expect(page.locator("[data-live-state]")).to_have_text("Live: new events appear at the top")
    expect(page).to_have_url(re.compile(r"live=1"))
    now = int(time.time() * 1000)
    ingest(signed_in, [{"timestamp": now, "level": "error", "type": "custom", "message": "refund failed badly for u9"},
                       {"timestamp": now, "level": "error", "type": "custom", "service": "api",
                        "message": "Refund 7 FAILED, for user u9"}])
    expect(rows(page).first).to_contain_text("Refund 7 FAILED, for user u9")  # words, not a substring with quotes
    expect(page.get_by_text("refund failed badly for u9")).to_have_count(0)
    # Filtering keeps Live on: the facet links were rewritten when it was switched on.
    page.locator("[data-facet-group=service] a.facet-link", has_text="api").click()
    expect(page).to_have_url(re.compile(r"q=service%3Aapi.*live=1"))
    expect(page.get_by_role("button", name="Live")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("l")  # off again, and out of the address bar
    expect(page.get_by_role("button", name="Live")).to_have_attribute("aria-pressed", "false")
    expect(page).not_to_have_url(re.compile(r"live=1"))
    assert "live=1" not in (page.locator("[data-facet-group=level] a.facet-link").first.get_attribute("href") or "")


def test_the_open_event_is_part_of_the_url(page: Any, signed_in: Account) -> None:
    seed(signed_in)
    page.goto(project_path(signed_in, "/logs?q=level:warn"))
    rows(page).nth(2).click()
    drawer = page.locator("dialog[data-drawer]")
    expect(drawer.locator(".ev-message")).to_have_text("event 9")
    expect(page).to_have_url(re.compile(r"q=level%3Awarn&event=\w+"))
    shared = page.url
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(page).not_to_have_url(re.compile(r"event="))
    page.goto(shared)  # a shared link opens the same event, over the same results
    expect(drawer).to_be_visible()
    expect(drawer.locator(".ev-message")).to_have_text("event 9")
    expect(page.get_by_role("searchbox", name="Search events")).to_have_value("level:warn")


def test_a_custom_time_range_in_the_viewers_zone(page: Any, signed_in: Account) -> None:
    now = seed(signed_in)  # event i at now - 5 s - i min
    page.goto(project_path(signed_in, "/logs?range=1h"))
    page.get_by_label("Time range").select_option("custom")
    local = "ms => { const d = new Date(ms); const p = (n) => String(n).padStart(2, '0');" \
            " return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:" \
            "${p(d.getMinutes())}:${p(d.getSeconds())}`; }"
    page.locator("input[name=from]").fill(page.evaluate(local, now - 10 * 60_000 - 30_000))
    page.locator("input[name=to]").fill(page.evaluate(local, now - 2 * 60_000 - 30_000))
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"from=\d+&to=\d+"))
    expect(page.get_by_label("Time range")).to_have_value("custom")
    expect(rows(page)).to_have_count(8)  # events 3 to 10
    expect(rows(page).first).to_contain_text("event 3")
    expect(page.get_by_role("button", name="Live")).to_be_disabled()
    expect(page.get_by_test_id("result-count")).to_have_text("8 events")


def test_the_palette_and_the_shortcuts_list_are_on_every_project_page(page: Any, signed_in: Account,
                                                                       shoot: Shoot) -> None:
    seed(signed_in)
    page.goto(project_path(signed_in, "/logs"))
    box = page.get_by_role("searchbox", name="Search events")
    box.fill("level:warn -service:api")
    box.press("Enter")
    expect(rows(page)).to_have_count(10)
    page.goto(project_path(signed_in, "/settings/keys"))
    page.get_by_role("button", name=re.compile("Jump to")).click()
    palette = page.locator("dialog[data-palette]")
    expect(palette).to_be_visible()
    recent = palette.locator(".palette-item", has_text="level:warn -service:api")
    expect(recent).to_contain_text("Search")
    expect(palette.locator(".palette-group", has_text="Pages")).to_be_visible()
    expect(palette.get_by_role("option", name="api Service")).to_be_visible()  # services, from the API
    shoot(page, "palette-settings")
    palette.get_by_role("combobox").fill("level:warn")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/logs\?q=level%3Awarn\+-service%3Aapi"))
    expect(rows(page)).to_have_count(10)
    page.keyboard.press("?")
    shortcuts = page.locator("dialog[data-shortcuts]")
    expect(shortcuts).to_be_visible()
    expect(shortcuts).to_contain_text("Jump to a lens, page, service or recent search")
    shoot(page, "shortcuts")
    page.keyboard.press("Escape")
    expect(shortcuts).to_be_hidden()
    page.keyboard.press("/")
    expect(box).to_be_focused()


def test_rename_recolor_and_delete_a_lens(page: Any, signed_in: Account) -> None:
    created = signed_in.client.post(f"{signed_in.base}/lenses", json={"name": "Errors", "filters": '{"level":"error"}'})
    assert created.status_code == 201
    page.goto(project_path(signed_in, "/logs"))
    page.get_by_label("Edit lens Errors").click()
    menu = page.locator(".lens-menu[open]")
    menu.get_by_label("Name").fill("API errors")
    menu.locator(".lens-color.lens-green").click()
    menu.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Lens “API errors” updated.")
    lens = page.locator(".lens", has_text="API errors")
    expect(lens).to_have_class(re.compile("lens-green"))
    page.get_by_label("Edit lens API errors").click()
    page.locator(".lens-menu[open]").get_by_role("button", name="Delete").click()
    dialog = page.locator("dialog[data-confirm-dialog]")
    expect(dialog).to_contain_text("Delete this lens?")
    dialog.get_by_role("button", name="Delete lens").click()
    expect(page.get_by_role("status")).to_contain_text("Lens deleted.")
    expect(page.locator(".lens")).to_have_count(0)
