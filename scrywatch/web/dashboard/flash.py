"""One-shot messages across a redirect, in a short-lived cookie (Post/Redirect/Get)."""

from __future__ import annotations

import base64
import binascii
import json
import re

import msgspec
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from scrywatch.errors import ScryError

FLASH_COOKIE = "sw_flash"
FLASH_MAX_AGE_S = 60
MAX_MESSAGE_CHARS = 400
KINDS = ("success", "error", "info")
_LENGTH_RE = re.compile(r"^expected `str` of length ([<>]=) (\d+)")


class Flash(msgspec.Struct, frozen=True):
    kind: str
    message: str


def describe(exc: ScryError) -> str:
    """A sentence for a person from an error raised while handling a form."""
    message = exc.message
    m = _LENGTH_RE.match(message)
    if m:
        message = f"must be at {'least' if m.group(1) == '>=' else 'most'} {m.group(2)} characters"
    elif "missing required field" in message:
        message = "is required"
    field = exc.details[0].get("field") if exc.details else None
    if field and field not in ("body", "csrf_token") and message[:1].islower():
        return f"{field.replace('_', ' ').capitalize()}: {message}"
    return message[:1].upper() + message[1:]


def set_flash(response: Response, kind: str, message: str) -> Response:
    payload = json.dumps([kind if kind in KINDS else "info", message[:MAX_MESSAGE_CHARS]])
    value = base64.urlsafe_b64encode(payload.encode("utf-8")).decode("ascii")
    response.set_cookie(FLASH_COOKIE, value, max_age=FLASH_MAX_AGE_S, path="/", httponly=True, samesite="lax")
    return response


def take_flash(request: Request) -> Flash | None:
    """The pending message, if any (the caller clears the cookie with `clear_flash`)."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        kind, message = json.loads(base64.urlsafe_b64decode(raw.encode("ascii")))
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        return None
    if kind not in KINDS or not isinstance(message, str):
        return None
    return Flash(kind=kind, message=message[:MAX_MESSAGE_CHARS])


def clear_flash(request: Request, response: Response) -> None:
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path="/", httponly=True, samesite="lax")


def redirect(url: str, *, flash: tuple[str, str] | None = None) -> RedirectResponse:
    """A 303 See Other (the browser follows with GET), optionally carrying a message."""
    response = RedirectResponse(url, status_code=303)
    if flash is not None:
        set_flash(response, *flash)
    return response
