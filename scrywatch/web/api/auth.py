"""/api/auth: register, login, logout, me."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.models.accounts import LoginIn, RegisterIn
from scrywatch.services import accounts
from scrywatch.web.auth import SESSION_COOKIE, check_same_origin, client_ip, principal, runtime, session_token
from scrywatch.web.codec import encode, read_body


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    rt = runtime(request)
    secure = request.url.scheme == "https" or rt.config.server.base_url.startswith("https://")
    response.set_cookie(SESSION_COOKIE, token, max_age=int(rt.config.auth.session_hours * 3600),
                        path="/", httponly=True, samesite="lax", secure=secure)


def _browser_origin_check(request: Request) -> None:
    # Login/register carry no cookie yet, but a browser form on another site must not sign a
    # visitor in to an attacker's account (login CSRF): refuse a foreign Origin when one is sent.
    if request.headers.get("origin"):
        check_same_origin(request)


async def post_register(request: Request) -> Response:
    _browser_origin_check(request)
    body = await read_body(request, RegisterIn)
    result = await accounts.register(runtime(request), body)
    response = encode({"success": True, "user": result.user, "org": result.org,
                       "project": {"id": result.project.id, "name": result.project.name,
                                   "slug": result.project.slug},
                       "apiKey": result.api_key}, status=201)
    set_session_cookie(request, response, result.session_token)
    return response


async def post_login(request: Request) -> Response:
    _browser_origin_check(request)
    body = await read_body(request, LoginIn)
    result = await accounts.login(runtime(request), body, client_ip=client_ip(request))
    response = encode({"success": True, "user": result.user})
    set_session_cookie(request, response, result.session_token)
    return response


async def post_logout(request: Request) -> Response:
    who = await principal(request)
    accounts.require_user(who)
    token = session_token(request)
    if token:
        await accounts.logout(runtime(request), token)
    response = encode({"success": True})
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


async def get_me(request: Request) -> Response:
    who = await principal(request)
    return encode(await accounts.me(runtime(request), who))
