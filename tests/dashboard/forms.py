"""Posting dashboard forms over plain HTTP, as a browser without JavaScript would."""

from __future__ import annotations

import html
import re

import httpx

_TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
_FLASH_RE = re.compile(r'<div class="flash flash-(\w+)"[^>]*>.*?<p>(.*?)</p>', re.S)
_SECRET_RE = re.compile(r"<code [^>]*data-secret>([^<]+)</code>")


def csrf_token(page_html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _TOKEN_RE.search(page_html)
    assert found, "no csrf_token field on the page"
    return found.group(1)


def get_page(client: httpx.Client, path: str) -> httpx.Response:
    """GET a page as a browser would (Accept: text/html), following redirects."""
    r = client.get(path, headers={"Accept": "text/html"}, follow_redirects=True)
    assert r.status_code == 200, (r.status_code, r.text[:500])
    return r


def post_form(client: httpx.Client, path: str, data: dict[str, str], *, token: str | None = None,
              page: str | None = None, follow: bool = True) -> httpx.Response:
    """POST an urlencoded form with the CSRF token taken from `page` (a path, default: `path`)."""
    if token is None:
        token = csrf_token(get_page(client, page or path).text)
    return client.post(path, data={**data, "csrf_token": token}, headers={"Accept": "text/html"},
                       follow_redirects=follow)


def flash(page_html: str) -> tuple[str, str] | None:
    """(kind, text) of the flash message on a page."""
    found = _FLASH_RE.search(page_html)
    return (found.group(1), html.unescape(found.group(2))) if found else None


def secret(page_html: str) -> str:
    """The secret shown once on a page (new API key, temporary password)."""
    found = _SECRET_RE.search(page_html)
    assert found, "no secret on the page"
    return html.unescape(found.group(1))
