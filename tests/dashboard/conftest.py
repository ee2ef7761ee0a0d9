"""Dashboard fixtures: Debian's Chromium through Playwright, a fresh context per test, screenshots.

- `browser`: Chromium, launched once per session (skipped when it is missing, except under CI).
- `page`: a new context and page per test; console errors and CSP violations fail the test.
- `signed_in`: registers the first user on the `server` fixture and signs in through the login form.
- `shoot(page, name)`: full-page screenshots in light and dark to SCREENSHOT_DIR (printed at the end).

Playwright's sync API keeps an event loop running in the main thread, which would break any
`asyncio.run` in tests that follow, so browser tests are moved to the end of the run.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support import PASSWORD, Account, LiveServer, register

CHROMIUM = os.environ.get("SCRYWATCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
TIMEOUT_MS = 10_000
_shots: list[Path] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run browser tests last (stable order otherwise)."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _shots:
        terminalreporter.write_sep("-", "dashboard screenshots")
        terminalreporter.write_line(f"{len(_shots)} screenshots in {SCREENSHOT_DIR}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; browser tests must run under CI")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class PageErrors:
    """Console errors (CSP violations among them) and uncaught exceptions seen by a page."""

    messages: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow_status(self, *statuses: int) -> None:
        """Accept the console error Chromium logs when a page itself answers with one of these statuses."""
        codes = "|".join(str(s) for s in statuses)
        self.allowed.append(re.compile(rf"Failed to load resource: the server responded with a status of ({codes})"))

    def assert_none(self) -> None:
        unexpected = [m for m in self.messages if not any(p.search(m) for p in self.allowed)]
        assert not unexpected, unexpected


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
def page(browser: Any, server: LiveServer, page_errors: PageErrors) -> Iterator[Any]:
    """A page in a fresh context whose base URL is the test's server."""
    context = browser.new_context(base_url=server.url, viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    pg = context.new_page()
    pg.on("console", lambda msg: page_errors.messages.append(msg.text) if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: page_errors.messages.append(str(exc)))
    pg.on("dialog", lambda dialog: (page_errors.messages.append(f"unexpected dialog: {dialog.message}"),
                                    dialog.dismiss()))
    yield pg
    context.close()
    page_errors.assert_none()


def sign_in(page: Any, email: str, password: str = PASSWORD) -> None:
    """Sign in through the login form and wait for the dashboard."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/o/[^/]+/p/[^/]+/"))


@pytest.fixture
def signed_in(page: Any, server: LiveServer) -> Account:
    """The first user of `server`, signed in on `page` (now at the Log Explorer)."""
    account = register(server)
    sign_in(page, account.email)
    return account


def project_path(account: Account, rest: str = "") -> str:
    """`/o/{org}/p/{project}` + rest, the dashboard URL of the account's project."""
    return f"/o/{account.org}/p/{account.project}{rest}"


@pytest.fixture
def shoot() -> Callable[[Any, str], None]:
    """shoot(page, name): full-page screenshots of the current page, light and dark."""

    def take(page: Any, name: str) -> None:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            path = SCREENSHOT_DIR / f"{name}-{scheme}.png"
            page.screenshot(path=str(path), full_page=True, animations="disabled")
            _shots.append(path)
        page.emulate_media(color_scheme="null")

    return take
