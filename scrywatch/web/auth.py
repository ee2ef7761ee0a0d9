"""Who is calling: Bearer API keys and session cookies, with the same-origin check on cookie writes."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import HTTPConnection, Request

from scrywatch.errors import Forbidden, Unauthorized
from scrywatch.models.accounts import Principal, ProjectAccess, Scope
from scrywatch.runtime import Runtime
from scrywatch.services import accounts

SESSION_COOKIE = "sw_session"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def runtime(conn: HTTPConnection) -> Runtime:
    return conn.app.state.runtime  # type: ignore[no-any-return]


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def server_origins(conn: HTTPConnection) -> set[str]:
    """Origins this server answers as: the configured base_url and the request's own Host."""
    origins = set()
    base = runtime(conn).config.server.base_url
    if base:
        origins.add(_origin_of(base))
    host = conn.headers.get("host")
    if host:
        scheme = "https" if conn.url.scheme in ("https", "wss") else "http"
        origins.add(f"{scheme}://{host}".lower())
    return origins


def check_same_origin(conn: HTTPConnection) -> None:
    """A cookie-authenticated write must come from our own pages (Origin, else Referer)."""
    origin = conn.headers.get("origin")
    source = _origin_of(origin) if origin and origin != "null" else ""
    if not source:
        referer = conn.headers.get("referer")
        source = _origin_of(referer) if referer else ""
    if not source:
        raise Forbidden("cross-site request refused: an Origin or Referer header from this site is required")
    if source not in server_origins(conn):
        raise Forbidden("cross-site request refused: the request did not come from this site")


def bearer_token(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("Authorization must be 'Bearer <API key>'")
    return value.strip()


async def principal(conn: HTTPConnection, *, allow_query_token: bool = False) -> Principal:
    """Resolve the caller once per request: API key (Bearer, or ?token= where allowed) or session."""
    cached = conn.scope.get("state", {}).get("principal")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    rt = runtime(conn)
    token = bearer_token(conn)
    if token is None and allow_query_token:
        token = conn.query_params.get("token") or None
    if token is not None:
        ident = await accounts.identity_for_key(rt, token)
        if ident is None:
            raise Unauthorized("invalid or revoked API key")
        result = Principal(key=ident)
    else:
        cookie = conn.cookies.get(SESSION_COOKIE)
        user = await accounts.user_for_session(rt, cookie) if cookie else None
        if user is None:
            raise Unauthorized("sign in or send 'Authorization: Bearer <API key>'")
        method = conn.scope.get("method", "GET")
        if method in UNSAFE_METHODS or conn.scope["type"] == "websocket":
            check_same_origin(conn)
        result = Principal(user=user, via_cookie=True)
    conn.scope.setdefault("state", {})["principal"] = result
    return result


async def project(request: HTTPConnection, scope: Scope = Scope.READ, *,
                  allow_query_token: bool = False) -> ProjectAccess:
    """The project named by the path (`org`, `project` params) as this caller may access it."""
    who = await principal(request, allow_query_token=allow_query_token)
    return await accounts.project_access(
        runtime(request), who, request.path_params["org"], request.path_params["project"], scope=scope
    )


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE)


def client_ip(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else "unknown"
