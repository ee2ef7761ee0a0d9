"""Sign-in, first-user set-up, sign-out and the home redirect."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.errors import Conflict, Forbidden, InvalidInput, RateLimited, Unauthorized
from scrywatch.models.accounts import LoginIn, Principal, RegisterIn, Scope
from scrywatch.services import accounts
from scrywatch.web.api.auth import set_session_cookie
from scrywatch.web.auth import SESSION_COOKIE, client_ip, runtime, session_token
from scrywatch.web.dashboard import onboarding
from scrywatch.web.dashboard.flash import describe, redirect
from scrywatch.web.dashboard.forms import submitted_form, to_struct
from scrywatch.web.dashboard.frame import Frame, load_frame, login_url, render_page, safe_next, signed_in, url

SETUP_FIELDS = ("name", "email", "orgName", "password")


async def home_page(request: Request) -> Response:
    """`/`: a signed-in user goes to their first project's Log Explorer; others sign in (or set up)."""
    rt = runtime(request)
    if await accounts.needs_setup(rt):
        return redirect(url(request, "dash.setup"))
    try:
        frame = await load_frame(request, with_project=False)
    except Unauthorized:
        return redirect(login_url(request))
    for org, projects in frame.orgs:
        if projects:
            return redirect(url(request, "dash.logs", org=org.slug, project=projects[0].slug))
    return render_page(request, "auth/no_org.html", frame=frame)


async def login_page(request: Request) -> Response:
    if await accounts.needs_setup(runtime(request)):
        return redirect(url(request, "dash.setup"))
    next_path = safe_next(request.query_params.get("next"))
    if request.cookies.get(SESSION_COOKIE):
        try:
            await load_frame(request, with_project=False)
            return redirect(next_path or url(request, "dash.home"))  # already signed in
        except Unauthorized:
            pass
    return render_page(request, "auth/login.html", {"email": "", "error": None, "next": next_path or ""})


async def post_login(request: Request) -> Response:
    form = await submitted_form(request)
    next_path = safe_next(form.get("next"))
    email = form.get("email", "").strip()
    try:
        body = to_struct(form, LoginIn, "email", "password")
        result = await accounts.login(runtime(request), body, client_ip=client_ip(request))
    except (Unauthorized, RateLimited, InvalidInput) as exc:
        status = 429 if isinstance(exc, RateLimited) else 401
        context = {"email": email, "error": describe(exc), "next": next_path or ""}
        return render_page(request, "auth/login.html", context, status=status)
    response = redirect(next_path or url(request, "dash.home"))
    set_session_cookie(request, response, result.session_token)
    return response


async def setup_page(request: Request) -> Response:
    if not await accounts.needs_setup(runtime(request)):
        return redirect(url(request, "dash.login"))
    return render_page(request, "auth/setup.html", {"values": {}, "error": None})


async def post_setup(request: Request) -> Response:
    rt = runtime(request)
    if not await accounts.needs_setup(rt):
        return redirect(url(request, "dash.login"))
    form = await submitted_form(request)
    values = {k: form.get(k, "") for k in ("name", "email", "orgName")}
    try:
        if form.get("password", "") != form.get("password_confirm", ""):
            raise InvalidInput("the two passwords differ", field="password_confirm")
        body = to_struct(form, RegisterIn, *SETUP_FIELDS, blank_as_none=True)
        result = await accounts.register(rt, body)
    except (InvalidInput, Conflict, Forbidden) as exc:
        return render_page(request, "auth/setup.html", {"values": values, "error": describe(exc)}, status=400)
    who = Principal(user=result.user)
    access = await accounts.project_access(rt, who, result.org.slug, result.project.slug, scope=Scope.READ)
    frame = Frame(rt=rt, principal=who, user=result.user, orgs=await accounts.memberships(rt, who),
                  access=access, session_token=result.session_token)
    context = await onboarding.context(request, frame, new_key=result.api_key)
    response = render_page(request, "onboarding/start.html", context, frame=frame, section="start",
                           route="dash.start", status=201)
    set_session_cookie(request, response, result.session_token)
    return response


@signed_in
async def post_logout(request: Request) -> Response:
    await load_frame(request, with_project=False)
    await submitted_form(request)
    token = session_token(request)
    if token:
        await accounts.logout(runtime(request), token)
    response = redirect(url(request, "dash.login"), flash=("info", "You are signed out."))
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response
