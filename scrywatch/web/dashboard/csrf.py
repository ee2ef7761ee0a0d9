"""CSRF tokens for dashboard forms: an HMAC of the session token (or of a pre-session cookie).

Every dashboard form carries `csrf_token`; POST handlers check it beside the same-origin check.
Signed-in pages derive the token from the HttpOnly session cookie, which another site can neither
read nor choose. Before sign-in (login, set-up) a random `sw_csrf` cookie stands in (double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.errors import Forbidden
from scrywatch.web.auth import SESSION_COOKIE

CSRF_FIELD = "csrf_token"
SEED_COOKIE = "sw_csrf"
SEED_MAX_AGE_S = 7 * 86_400
_PURPOSE = b"scrywatch dashboard csrf v1"


def derive(basis: str) -> str:
    """The token for a session token or seed."""
    return hmac.new(basis.encode("utf-8"), _PURPOSE, hashlib.sha256).hexdigest()


def _basis(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or request.cookies.get(SEED_COOKIE) or None


def token_for(request: Request, *, session_token: str | None = None) -> str:
    """The CSRF token to put in this page's forms; mints a seed cookie for anonymous visitors."""
    basis = session_token or _basis(request)
    if basis is None:
        state = request.scope.setdefault("state", {})
        basis = state.get("csrf_seed")
        if basis is None:
            basis = state["csrf_seed"] = secrets.token_urlsafe(24)
    return derive(basis)


def set_seed_cookie(request: Request, response: Response) -> None:
    """Send the seed minted while rendering (if any) as a cookie."""
    seed = request.scope.get("state", {}).get("csrf_seed")
    if seed:
        response.set_cookie(SEED_COOKIE, seed, max_age=SEED_MAX_AGE_S, path="/", httponly=True,
                            samesite="lax", secure=request.url.scheme == "https")


def verify(request: Request, submitted: str) -> None:
    """Forbidden unless the submitted token matches this browser's session (or seed)."""
    basis = _basis(request)
    if basis is None or not submitted or not hmac.compare_digest(derive(basis), submitted):
        raise Forbidden("the form expired or did not come from this site; reload the page and try again",
                        field=CSRF_FIELD)
