"""What every dashboard page shares: the signed-in user, the org and project in the URL, the
navigation, and one way to render a page or answer a form."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited, Unauthorized, Unavailable
from scrywatch.models.accounts import Org, OrgWithRole, Principal, Project, ProjectAccess, Scope, User
from scrywatch.runtime import Runtime
from scrywatch.services import accounts
from scrywatch.web.auth import SESSION_COOKIE, principal, runtime
from scrywatch.web.dashboard import csrf
from scrywatch.web.dashboard.flash import clear_flash, describe, redirect, take_flash
from scrywatch.web.templating import render

Handler = Callable[[Request], Awaitable[Response]]

# (section, label, route name, icon): the sidebar, in order. Part 2 turns the placeholders into pages.
NAV: tuple[tuple[str, str, str, str], ...] = (
    ("logs", "Logs", "dash.logs", "logs"),
    ("patterns", "Patterns", "dash.patterns", "patterns"),
    ("traces", "Traces", "dash.traces", "traces"),
    ("sessions", "Sessions", "dash.sessions", "sessions"),
    ("alerts", "Alerts", "dash.alerts", "alerts"),
    ("insights", "Insights", "dash.insights", "insights"),
    ("settings", "Settings", "dash.settings.keys", "settings"),
)
# Errors a person can fix by changing what they typed: answered with a message on the same page.
USER_ERRORS = (InvalidInput, Conflict, Forbidden, NotFound, RateLimited, Unavailable)


@dataclass(frozen=True)
class Frame:
    """The signed-in user and, on project pages, the project they are looking at."""

    rt: Runtime
    principal: Principal
    user: User
    orgs: list[tuple[OrgWithRole, list[Project]]]
    access: ProjectAccess | None = None
    session_token: str | None = None  # set when the cookie is being issued by this very response

    @property
    def org(self) -> Org:
        assert self.access is not None
        return self.access.org

    @property
    def project(self) -> Project:
        assert self.access is not None
        return self.access.project

    @property
    def role(self) -> str | None:
        return self.access.role if self.access is not None else None

    def url(self, request: Request, name: str, **params: str) -> str:
        """A project-scoped route's path for this frame's org and project."""
        return url(request, name, org=self.org.slug, project=self.project.slug, **params)


def url(request: Request, name: str, **params: str) -> str:
    """The path of a named route, with its parameters percent-encoded."""
    return str(request.app.url_path_for(name, **{k: quote(v, safe="") for k, v in params.items()}))


async def load_frame(request: Request, *, with_project: bool = True) -> Frame:
    """Resolve the session user (401 without one) and the `{org}/{project}` of the URL (404 if not theirs)."""
    rt = runtime(request)
    who = await principal(request)
    user = accounts.require_user(who)
    access = None
    if with_project:
        p = request.path_params
        access = await accounts.project_access(rt, who, p["org"], p["project"], scope=Scope.READ)
    return Frame(rt=rt, principal=who, user=user, orgs=await accounts.memberships(rt, who), access=access)


def frame_context(frame: Frame | None) -> dict[str, Any]:
    if frame is None:
        return {"user": None, "orgs": [], "org": None, "project": None, "role": None}
    return {
        "user": frame.user,
        "orgs": [{"org": org, "projects": projects} for org, projects in frame.orgs],
        "org": frame.access.org if frame.access else None,
        "project": frame.access.project if frame.access else None,
        "role": frame.role,
    }


def render_page(request: Request, template: str, context: dict[str, Any] | None = None, *,
                frame: Frame | None = None, status: int = 200, section: str = "",
                route: str = "dash.logs") -> Response:
    """A dashboard page: the frame, a pending flash message and the CSRF token, plus `context`.

    `section` marks the active sidebar entry; `route` is where the project switcher takes you
    (the same page in another project, when that page takes only org and project)."""
    rt = runtime(request)
    ctx: dict[str, Any] = {
        **frame_context(frame),
        "nav": NAV,
        "section": section,
        "switch_route": route,
        "flash": take_flash(request),
        "csrf_token": csrf.token_for(request, session_token=frame.session_token if frame else None),
        "now_ms": rt.clock.now_ms(),
        **(context or {}),
    }
    response = render(request, template, ctx, status=status, headers={"Cache-Control": "no-store"})
    clear_flash(request, response)
    csrf.set_seed_cookie(request, response)
    return response


def login_url(request: Request, next_path: str | None = None) -> str:
    base = url(request, "dash.login")
    return f"{base}?next={quote(next_path, safe='/')}" if next_path else base


def safe_next(value: str | None) -> str | None:
    """A local path to return to after sign-in; anything that could leave the site is dropped."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or "\\" in value:
        return None
    return value


def signed_in(handler: Handler) -> Handler:
    """Send visitors without a (valid) session to the sign-in page instead of a 401."""

    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except Unauthorized:
            next_path = None
            if request.method == "GET":
                next_path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            expired = bool(request.cookies.get(SESSION_COOKIE))
            return redirect(login_url(request, next_path),
                            flash=("info", "Your session ended; sign in again.") if expired else None)

    return wrapper


async def perform(back: str, action: Callable[[], Awaitable[str | Response]]) -> Response:
    """Run a form's action: a message string redirects back with it; a fixable error redirects back
    with the error; a Response (e.g. a page showing a secret once) is returned as is."""
    try:
        result = await action()
    except USER_ERRORS as exc:
        return redirect(back, flash=("error", describe(exc)))
    if isinstance(result, str):
        return redirect(back, flash=("success", result))
    return result
