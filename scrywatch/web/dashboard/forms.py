"""Reading dashboard form posts: urlencoded bodies, same-origin + CSRF checks, typed values."""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import parse_qsl

from starlette.requests import Request

from scrywatch.errors import InvalidInput, UnsupportedMediaType
from scrywatch.web.auth import check_same_origin
from scrywatch.web.codec import decode_params, read_bytes
from scrywatch.web.dashboard import csrf

T = TypeVar("T")
MAX_FORM_BYTES = 64 * 1024
MAX_FIELDS = 100
FORM_TYPE = "application/x-www-form-urlencoded"


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form as a dict (the last value wins for repeated names)."""
    ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype not in (FORM_TYPE, ""):
        raise UnsupportedMediaType(f"forms must be sent as {FORM_TYPE}", field="Content-Type")
    body = await read_bytes(request, max_bytes=MAX_FORM_BYTES)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS,
                          strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput("the form could not be read", field="body") from exc
    return dict(pairs)


async def submitted_form(request: Request) -> dict[str, str]:
    """The form of a dashboard POST, after the same-origin and CSRF checks (403 otherwise)."""
    check_same_origin(request)
    form = await read_form(request)
    csrf.verify(request, form.pop(csrf.CSRF_FIELD, ""))
    return form


def to_struct(form: dict[str, str], type_: type[T], *fields: str, blank_as_none: bool = False) -> T:
    """The named fields of a form as a typed request Struct (InvalidInput names a bad field)."""
    values: dict[str, Any] = {}
    for name in fields:
        if name in form:
            value = form[name].strip() if name not in ("password", "current_password") else form[name]
            if value == "" and blank_as_none:
                continue
            values[name] = value
    return decode_params(values, type_)
