"""The dashboard in Debian's Chromium: sign-in, API keys, members, theme, every page in light and dark."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.dashboard.conftest import PageErrors, project_path, sign_in
from tests.support import PASSWORD, Account, LiveServer, login

pytestmark = pytest.mark.browser

Shoot = Callable[[Any, str], None]
# Every page of the dashboard, for screenshots and console checks: (name, path under the project).
PROJECT_PAGES = [
    ("logs", "/logs"), ("patterns", "/patterns"), ("traces", "/traces"), ("sessions", "/sessions"),
    ("alerts", "/alerts"), ("insights", "/insights"), ("start", "/start"),
    ("settings-keys", "/settings/keys"), ("settings-members", "/settings/members"),
    ("settings-projects", "/settings/projects"), ("settings-profile", "/settings/profile"),
    ("settings-danger", "/settings/danger"),
]


def test_first_user_setup_then_sign_out_and_in(page: Any, server: LiveServer, shoot: Shoot,
                                               page_errors: PageErrors) -> None:
    page_errors.allow_status(401)  # the failed sign-in below answers 401
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/setup$"))
    shoot(page, "setup")
    page.get_by_label("Your name").fill("Ada Lovelace")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Organization").fill("Analytical Engines")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Get started")).to_be_visible()
    key = page.locator("#onboard-key").inner_text()
    assert key.startswith("sw_")
    expect(page.locator("#code-curl")).to_contain_text(f"Bearer {key}")
    shoot(page, "setup-done")

    page.get_by_label("Account menu for Ada Lovelace").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("status")).to_contain_text("You are signed out.")
    shoot(page, "login")

    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("Invalid email or password")
    sign_in(page, "ada@example.com")
    expect(page).to_have_url(re.compile(r"/o/analytical-engines/p/default/logs$"))
    expect(page.get_by_role("link", name="Logs")).to_have_attribute("aria-current", "page")


def test_create_copy_and_revoke_an_api_key(page: Any, server: LiveServer, signed_in: Account, shoot: Shoot) -> None:
    page.get_by_role("link", name="Settings").click()
    expect(page).to_have_url(re.compile(r"/settings/keys$"))
    page.get_by_label("Name").fill("checkout-service")
    page.get_by_text("Ingest only").click()
    page.get_by_role("button", name="Create key").click()

    secret = page.locator("#new-key")
    expect(secret).to_be_visible()
    key = secret.inner_text()
    assert re.fullmatch(r"sw_[0-9A-Za-z]{43}", key)
    page.locator(".secret").get_by_role("button", name="Copy").click()
    expect(page.locator(".toast")).to_contain_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == key
    assert server.key_client(key).post("/api/ingest", json={"events": []}).status_code != 401
    shoot(page, "settings-keys-created")

    row = page.locator("tr", has_text="checkout-service")
    expect(row.locator(".badge")).to_have_text("ingest")
    row.get_by_role("button", name="Revoke").click()
    dialog = page.locator("dialog[data-confirm-dialog]")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Revoke this API key?")
    shoot(page, "settings-keys-confirm")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(row).to_be_visible()

    row.get_by_role("button", name="Revoke").click()
    dialog.get_by_role("button", name="Revoke key").click()
    expect(page.get_by_role("status")).to_contain_text("API key revoked")
    expect(page.locator("tr", has_text="checkout-service")).to_have_count(0)
    assert server.key_client(key).get("/api/auth/me").status_code == 401


def test_invite_a_member_change_their_role_and_reset_their_password(
        page: Any, server: LiveServer, signed_in: Account, shoot: Shoot) -> None:
    page.goto(project_path(signed_in, "/settings/members"))
    page.get_by_label("Email").fill("bea@example.com")
    page.get_by_label("Name (optional)").fill("Bea")
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_role("alert")).to_contain_text("Invited bea@example.com")
    temp = page.locator("#temp-password").inner_text()
    login(server, "bea@example.com", temp)
    shoot(page, "settings-members-invited")

    page.get_by_label("Role of bea@example.com").select_option("admin")  # submits on change
    expect(page.get_by_role("status")).to_contain_text("Bea is now admin.")
    expect(page.get_by_label("Role of bea@example.com")).to_have_value("admin")

    page.locator("tr", has_text="bea@example.com").get_by_role("button", name="Reset password").click()
    page.locator("dialog[data-confirm-dialog]").get_by_role("button", name="Reset password").click()
    expect(page.get_by_role("alert")).to_contain_text("New temporary password for Bea")
    login(server, "bea@example.com", page.locator("#temp-password").inner_text())


def test_theme_toggle_cycles_and_persists(page: Any, signed_in: Account) -> None:
    page.emulate_media(color_scheme="light")
    html = page.locator("html")
    toggle = page.locator("header [data-theme-toggle]")
    light_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    expect(toggle).to_have_attribute("aria-label", "Theme: follow the system")
    toggle.click()
    expect(html).to_have_attribute("data-theme", "light")
    toggle.click()
    expect(html).to_have_attribute("data-theme", "dark")
    dark_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert dark_bg != light_bg
    page.reload()
    expect(html).to_have_attribute("data-theme", "dark")  # applied before paint by theme.js
    expect(toggle).to_have_attribute("aria-label", "Theme: dark")
    toggle.click()
    expect(html).not_to_have_attribute("data-theme", re.compile(".*"))
    assert page.evaluate("localStorage.getItem('sw-theme')") is None
    page.emulate_media(color_scheme="dark")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == dark_bg


def test_project_switcher_and_typed_delete(page: Any, signed_in: Account) -> None:
    page.goto(project_path(signed_in, "/settings/projects"))
    page.get_by_label("Name", exact=True).fill("Mobile App")
    page.get_by_role("button", name="Create project").click()
    expect(page).to_have_url(re.compile(r"/o/acme/p/mobile-app/start$"))
    page.get_by_label("Switch organization or project").click()
    page.get_by_role("menuitem", name="Default").click()
    expect(page).to_have_url(re.compile(r"/o/acme/p/default/start$"))  # same page, other project

    page.goto(project_path(signed_in, "/settings/projects"))
    item = page.locator("[data-project='mobile-app']")
    item.get_by_text("Delete…").click()
    delete = item.get_by_role("button", name="Delete project")
    expect(delete).to_be_disabled()
    item.get_by_label("Type mobile-app to confirm").fill("mobile")
    expect(delete).to_be_disabled()
    item.get_by_label("Type mobile-app to confirm").fill("mobile-app")
    expect(delete).to_be_enabled()
    delete.click()
    expect(page.get_by_role("status")).to_contain_text("Project mobile-app and all its data were deleted.")
    expect(page.locator("[data-project='mobile-app']")).to_have_count(0)


def test_snippet_tabs(page: Any, signed_in: Account) -> None:
    page.goto(project_path(signed_in, "/start"))
    expect(page.locator("#snip-curl")).to_be_visible()
    expect(page.locator("#snip-python")).to_be_hidden()
    page.get_by_role("tab", name="Python logging").click()
    expect(page.locator("#snip-python")).to_be_visible()
    expect(page.locator("#snip-curl")).to_be_hidden()
    page.reload()
    expect(page.locator("#snip-python")).to_be_visible()  # the choice is remembered


def test_hostile_names_stay_text_and_do_not_widen_the_page(page: Any, server: LiveServer, signed_in: Account,
                                                           shoot: Shoot) -> None:
    hostile = "<img src=x onerror=alert(1)><script>alert(2)</script> " + "W" * 120 + " مرحبا 🚀"
    client = signed_in.client
    assert client.patch(f"{signed_in.base}", json={"name": hostile}).status_code == 200
    assert client.post(f"{signed_in.base}/settings/api-keys", json={"name": hostile}).status_code == 201
    assert client.post(f"/api/orgs/{signed_in.org}/members/invite",
                       json={"email": "rtl@example.com", "name": "שלום " + "ש" * 190}).status_code == 201
    for name, rest in (("hostile-keys", "/settings/keys"), ("hostile-members", "/settings/members"),
                       ("hostile-start", "/start")):
        page.goto(project_path(signed_in, rest))
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), rest
        assert page.locator("img[src=x]").count() == 0
        shoot(page, name)
    page.goto(project_path(signed_in, "/settings/keys"))
    expect(page.locator("tr", has_text="WWWW").locator("bdi")).to_contain_text("<script>alert(2)</script>")


def test_every_page_in_light_and_dark(page: Any, signed_in: Account, shoot: Shoot, page_errors: PageErrors) -> None:
    """Screenshots of every page; the `page` fixture fails the test on any console error (CSP included)."""
    page_errors.allow_status(404, 405)
    for name, rest in PROJECT_PAGES:
        page.goto(project_path(signed_in, rest))
        expect(page.locator("main h1").first).to_be_visible()
        shoot(page, name)
    page.goto("/no/such/page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    shoot(page, "404")
    page.goto("/o/acme/p/default/settings/keys/x/revoke")
    expect(page.locator(".error-card")).to_contain_text("405")
    shoot(page, "error")
