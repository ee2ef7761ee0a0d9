"""Wire decoding and encoding: size caps, gzip/zstd bodies, msgspec Decoders, JSON responses.

The only caller of msgspec.json.decode on request bodies: decode errors become InvalidInput that
names the field.
"""

from __future__ import annotations

import re
import zlib
from typing import Any, TypeVar

import msgspec
import zstandard
from starlette.requests import Request
from starlette.responses import Response

from scrywatch.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

T = TypeVar("T")
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
# curl -d sends form-urlencoded and sendBeacon sends text/plain: both carry JSON from real clients.
JSON_TYPES = ("application/json", "text/plain", "application/x-ndjson", "application/x-www-form-urlencoded", "")
_PATH_RE = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_MISSING_RE = re.compile(r"missing required field `(?P<name>[^`]+)`")
_UNKNOWN_RE = re.compile(r"unknown field `(?P<name>[^`]+)`")
_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}
_encoder = msgspec.json.Encoder()


def decoder(type_: Any) -> msgspec.json.Decoder[Any]:
    """A cached typed Decoder (building one costs more than decoding a small body)."""
    dec = _decoders.get(type_)
    if dec is None:
        dec = _decoders[type_] = msgspec.json.Decoder(type_)
    return dec


def field_error(exc: msgspec.ValidationError | msgspec.DecodeError, *, prefix: str = "") -> InvalidInput:
    """InvalidInput naming the field msgspec complained about, e.g. `events[3].level`."""
    text = str(exc)
    path = ""
    m = _PATH_RE.search(text)
    if m:
        path = m.group("path").lstrip(".")
        text = text[: m.start()]
    for rx in (_MISSING_RE, _UNKNOWN_RE):
        named = rx.search(text)
        if named:
            path = f"{path}.{named.group('name')}" if path else named.group("name")
    if prefix:
        path = f"{prefix}{'.' if path and not path.startswith('[') else ''}{path}"
    if isinstance(exc, msgspec.DecodeError) and not isinstance(exc, msgspec.ValidationError):
        return InvalidInput("request body is not valid JSON", field=path or "body")
    message = text[:1].lower() + text[1:] if text else "invalid value"
    return InvalidInput(message, field=path or "body")


def _check_content_type(request: Request) -> None:
    ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype not in JSON_TYPES and not ctype.endswith("+json"):
        raise UnsupportedMediaType(f"expected application/json, got {ctype}", field="Content-Type")


def decompress(body: bytes, encoding: str, *, max_bytes: int) -> bytes:
    """Undo gzip/deflate/zstd Content-Encoding, refusing output over max_bytes (zip bombs)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    try:
        if encoding in ("gzip", "x-gzip", "deflate"):
            wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
            d = zlib.decompressobj(wbits)
            out = d.decompress(body, max_bytes + 1)
            if len(out) > max_bytes or d.unconsumed_tail:
                raise PayloadTooLarge(f"decompressed body is larger than {max_bytes} bytes")
            return out
        if encoding == "zstd":
            reader = zstandard.ZstdDecompressor().stream_reader(body)
            out = reader.read(max_bytes + 1)
            if len(out) > max_bytes:
                raise PayloadTooLarge(f"decompressed body is larger than {max_bytes} bytes")
            return out
    except (zlib.error, zstandard.ZstdError) as exc:
        raise InvalidInput(f"body is not valid {encoding}", field="Content-Encoding") from exc
    raise UnsupportedMediaType(f"unsupported Content-Encoding {encoding!r}; use gzip or zstd",
                               field="Content-Encoding")


async def read_bytes(request: Request, *, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> bytes:
    """The raw body, decompressed, refusing anything over max_bytes before reading it all."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"request body is larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"request body is larger than {max_bytes} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    return decompress(body, request.headers.get("content-encoding", ""), max_bytes=max_bytes)


async def read_body(request: Request, type_: type[T], *, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> T:
    """Decode a JSON body into type_; a missing body decodes as `{}`."""
    _check_content_type(request)
    body = await read_bytes(request, max_bytes=max_bytes)
    if not body.strip():
        body = b"{}"
    try:
        return decoder(type_).decode(body)  # type: ignore[no-any-return]
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise field_error(exc) from exc
    except RecursionError as exc:
        raise InvalidInput("request body is nested too deeply", field="body") from exc
    except UnicodeDecodeError as exc:  # msgspec's answer to invalid UTF-8 inside a string
        raise InvalidInput("request body is not valid UTF-8", field="body") from exc


def decode_params(params: dict[str, Any], type_: type[T]) -> T:
    """Query-string parameters (strings) into a typed Struct; errors name the parameter."""
    try:
        return msgspec.convert(params, type_, strict=False)
    except msgspec.ValidationError as exc:
        raise field_error(exc) from exc


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return _encoder.encode(content)


def encode(content: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON response of any msgspec-encodable value."""
    return JSONResponse(content, status_code=status, headers=headers)
