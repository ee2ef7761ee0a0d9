"""The dashboard's Jinja environment: bundled templates, autoescape, StrictUndefined, filters, URL helpers.

Templates live in `scrywatch/web/templates` and static files in `scrywatch/web/static`, both shipped as
package data. `render()` turns a template and a context into an HTMLResponse; `static_url()` adds a
content hash (`?v=`) so browsers may cache static files forever.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from scrywatch import __version__

STATIC_PACKAGE = ("scrywatch", "web/static")
STATIC_PREFIX = "/static"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
LEVEL_CLASSES = {"error": "lvl-error", "warn": "lvl-warn", "info": "lvl-info", "debug": "lvl-debug"}
LEVEL_ALIASES = {"warning": "warn", "fatal": "error", "critical": "error", "trace": "debug"}
_UNITS = ("B", "KB", "MB", "GB", "TB")


# -- filters -------------------------------------------------------------------------------
def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def iso_time(ms: int | None) -> str:
    """Unix ms -> ISO 8601 in UTC with milliseconds (`2025-01-02T03:04:05.678Z`)."""
    if ms is None:
        return ""
    return ms_to_datetime(ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ms) % 1000:03d}Z"


def short_time(ms: int | None) -> str:
    """Unix ms -> `2025-01-02 03:04:05 UTC` (app.js rewrites it to the viewer's local time)."""
    if ms is None:
        return ""
    return ms_to_datetime(ms).strftime("%Y-%m-%d %H:%M:%S UTC")


def relative_time(ms: int | None, now_ms: int) -> str:
    """Unix ms -> `just now`, `5 min ago`, `3 h ago`, `2 d ago` (or `in 5 min`)."""
    if ms is None:
        return "never"
    delta_s = (now_ms - int(ms)) / 1000
    future = delta_s < 0
    delta_s = abs(delta_s)
    if delta_s < 45:
        return "just now"
    for size, unit in ((86_400 * 365, "y"), (86_400 * 30, "mo"), (86_400, "d"), (3_600, "h"), (60, "min")):
        if delta_s >= size * 0.95:
            n = max(1, round(delta_s / size))
            return f"in {n} {unit}" if future else f"{n} {unit} ago"
    return "just now"


@jinja2.pass_context
def ago(ctx: jinja2.runtime.Context, ms: int | None) -> str:
    """Relative to the context's `now_ms` (the server clock), else the wall clock."""
    now = ctx.get("now_ms")
    return relative_time(ms, int(now) if now is not None else int(datetime.now(UTC).timestamp() * 1000))


def level_name(level: str | None) -> str:
    """A level as the API normalises it (`warning` -> `warn`); unknown levels stay as they are."""
    value = (level or "").strip().lower()
    return LEVEL_ALIASES.get(value, value)


def level_class(level: str | None) -> str:
    """CSS classes of a level badge: `badge lvl-error`; unknown levels get a neutral badge."""
    return "badge " + LEVEL_CLASSES.get(level_name(level), "lvl-other")


def filesize(n: int | float | None) -> str:
    """Bytes -> `1.4 KB`, `12 MB` (powers of 1024)."""
    if n is None:
        return ""
    size = float(n)
    for unit in _UNITS:
        if abs(size) < 1024 or unit == _UNITS[-1]:
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}".replace(".0 ", " ")
        size /= 1024
    return f"{size} B"  # unreachable


def number(n: int | float | None) -> str:
    """1234567 -> `1,234,567`."""
    if n is None:
        return ""
    return f"{n:,}" if isinstance(n, int) else f"{n:,.1f}"


# -- URLs ----------------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def static_hash(path: str) -> str:
    """First 10 hex digits of the SHA-256 of a static file (cache buster); the version if missing."""
    resource = files("scrywatch.web").joinpath("static", *path.split("/"))
    try:
        return hashlib.sha256(resource.read_bytes()).hexdigest()[:10]
    except (FileNotFoundError, IsADirectoryError):
        return __version__


def static_url(path: str) -> str:
    """`/static/app.css?v=<hash>`."""
    return f"{STATIC_PREFIX}/{path}?v={static_hash(path)}"


@jinja2.pass_context
def url_for(ctx: jinja2.runtime.Context, name: str, /, **params: Any) -> str:
    """The path of a named route, e.g. `url_for("dash.logs", org=..., project=...)`."""
    request: Request = ctx["request"]
    return str(request.app.url_path_for(name, **{k: quote(str(v), safe="") for k, v in params.items()}))


def build_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("scrywatch", "web/templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(
        iso=iso_time, datetime=short_time, ago=ago, level=level_name, level_class=level_class,
        filesize=filesize, number=number,
    )
    env.globals.update(url_for=url_for, static_url=static_url, version=__version__)
    return env


environment = build_environment()


def render_text(name: str, context: dict[str, Any]) -> str:
    """A template rendered to a string."""
    return environment.get_template(name).render(context)


def render(request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200,
           headers: dict[str, str] | None = None) -> Response:
    """An HTML page; `request` is added to the context (url_for needs it)."""
    body = render_text(name, {**(context or {}), "request": request})
    return HTMLResponse(body, status_code=status, headers=headers)


class CachedStaticFiles(StaticFiles):
    """Package static files; a hashed URL (`?v=`) is cached for a year, anything else revalidates."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            versioned = b"v=" in scope.get("query_string", b"")
            response.headers["Cache-Control"] = IMMUTABLE_CACHE if versioned else "no-cache"
        return response


def static_files() -> CachedStaticFiles:
    return CachedStaticFiles(packages=[STATIC_PACKAGE])
