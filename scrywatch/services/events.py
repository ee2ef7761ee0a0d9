"""Normalising what SDKs send into events we store. Pure: no I/O.

Tolerant by design (what real SDKs send must be accepted unchanged): ISO-8601 or numeric
timestamps in s/ms/µs/ns (detected by magnitude; missing or 0 means now), level aliases, a missing
type means `custom`, metadata of any JSON type, oversize message/metadata truncated with a marker.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import msgspec

from scrywatch.models.logs import LEVELS, MAX_FIELD_CHARS, TYPES, EventIn, NewEvent

LEVEL_ALIASES = {
    "error": "error", "err": "error", "fatal": "error", "critical": "error", "crit": "error", "panic": "error",
    "emergency": "error", "emerg": "error", "alert": "error", "severe": "error", "exception": "error",
    "warn": "warn", "warning": "warn",
    "info": "info", "information": "info", "informational": "info", "notice": "info", "log": "info",
    "debug": "debug", "dbg": "debug", "trace": "debug", "verbose": "debug", "fine": "debug", "finer": "debug",
    "finest": "debug", "silly": "debug",
}
# Numeric levels as pino/bunyan (10..60) and syslog severities (0..7) use them.
NUMERIC_LEVELS = {10: "debug", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "error",
                  0: "error", 1: "error", 2: "error", 3: "error", 4: "warn", 5: "info", 6: "info", 7: "debug"}
TYPE_ALIASES = {t: t for t in TYPES} | {"api": "api_call", "apicall": "api_call", "http": "api_call",
                                        "nav": "navigation", "log": "custom", "event": "custom", "job": "cron"}
TRUNCATION_MARKER = "…[truncated {n} bytes]"
MAX_ID_CHARS = 128
_HEX_ID_RE = re.compile(r"[0-9a-fA-F]+")
_decoder = msgspec.json.Decoder(EventIn)
_any_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()


class FieldProblem(Exception):
    """One event's problem: which field and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def timestamp_ms(value: int | float | str | None, *, now_ms: int) -> int:
    """Unix ms from ms/s/µs/ns numbers (by magnitude), numeric strings or ISO-8601; 0/None -> now."""
    if value is None or value == 0 or value == "":
        return now_ms
    if isinstance(value, bool):
        raise FieldProblem("timestamp", "must be a number of milliseconds or an ISO-8601 string")
    if isinstance(value, str):
        text = value.strip()
        try:
            number: float = float(text)
        except ValueError:
            return _iso_ms(text)
        if not math.isfinite(number):
            raise FieldProblem("timestamp", "must be a finite number")
        value = number
    if not math.isfinite(value) or value < 0:
        raise FieldProblem("timestamp", "must be a positive number of milliseconds")
    magnitude = abs(value)
    if magnitude < 1e11:  # seconds (1e11 ms would be 1973; 1e11 s is the year 5138)
        ms = value * 1000
    elif magnitude < 1e14:
        ms = value
    elif magnitude < 1e17:
        ms = value / 1000
    else:
        ms = value / 1_000_000
    result = int(round(ms))
    if result > 253_402_300_799_999:  # past 9999-12-31
        raise FieldProblem("timestamp", "is too far in the future")
    return result


def _iso_ms(text: str) -> int:
    candidate = text.replace(" ", "T", 1) if "T" not in text and len(text) > 10 else text
    try:
        parsed = dt.datetime.fromisoformat(candidate)
    except ValueError:
        raise FieldProblem("timestamp", "must be Unix milliseconds or an ISO-8601 date-time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp() * 1000)


def level_of(value: str | int | None) -> str:
    if value is None:
        raise FieldProblem("level", "is required (one of error, warn, info, debug)")
    if isinstance(value, int) and not isinstance(value, bool) and value in NUMERIC_LEVELS:
        return NUMERIC_LEVELS[value]
    level = LEVEL_ALIASES.get(str(value).strip().lower())
    if level is None:
        raise FieldProblem("level", "must be one of " + ", ".join(LEVELS))
    return level


def type_of(value: str | None) -> str:
    if value is None or not value.strip():
        return "custom"
    t = TYPE_ALIASES.get(value.strip().lower())
    if t is None:
        raise FieldProblem("type", "must be one of " + ", ".join(TYPES))
    return t


def _text(field: str, value: str | int | None, *, limit: int = MAX_FIELD_CHARS) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    if not text:
        return None
    if len(text) > limit:
        raise FieldProblem(field, f"must be at most {limit} characters")
    return text


def hex_lower(value: str | None) -> str | None:
    """Hex ids lower-cased, as span ingest stores them, so a log finds its trace whatever the SDK's case."""
    return value.lower() if value is not None and _HEX_ID_RE.fullmatch(value) else value


def truncate_message(message: str, max_bytes: int) -> str:
    encoded = message.encode("utf-8")
    if len(encoded) <= max_bytes:
        return message
    kept = encoded[:max_bytes].decode("utf-8", errors="ignore")
    return kept + TRUNCATION_MARKER.format(n=len(encoded) - len(kept.encode("utf-8")))


def compact_metadata(raw: msgspec.Raw, max_bytes: int) -> bytes | None:
    """Metadata as compact JSON (None for null); oversize metadata becomes a marker object."""
    data = bytes(raw)
    if not data or data == b"null":
        return None
    value: Any = _any_decoder.decode(data)
    if value is None:
        return None
    compact = _encoder.encode(value)
    if len(compact) <= max_bytes:
        return compact
    preview = compact[: min(1024, max_bytes // 2)].decode("utf-8", errors="ignore")
    return _encoder.encode({"_truncated": True, "_original_bytes": len(compact), "_preview": preview})


def normalize(raw: bytes, *, now_ms: int, ua_device: str | None, max_message_bytes: int,
              max_metadata_bytes: int) -> NewEvent:
    """One raw JSON event -> NewEvent, or FieldProblem naming the field."""
    if not raw.isascii():
        # msgspec raises UnicodeDecodeError (a 500) on invalid UTF-8 in a string, here or in the
        # metadata: keep the event, with U+FFFD for the bad bytes.
        raw = raw.decode("utf-8", "replace").encode()
    try:
        e = _decoder.decode(raw)
    except msgspec.ValidationError as exc:
        text = str(exc)
        field = text.rsplit("`$.", 1)[-1].rstrip("`") if "`$." in text else "event"
        raise FieldProblem(field.split(".")[0].split("[")[0], text.split(" - at ")[0]) from None
    except msgspec.DecodeError:
        raise FieldProblem("event", "must be a JSON object") from None
    except RecursionError:
        raise FieldProblem("metadata", "is nested too deeply") from None
    if e.message is None:
        raise FieldProblem("message", "is required")
    client_id = _text("id", e.id, limit=MAX_ID_CHARS)
    device = _text("device_type", e.device_type)
    return NewEvent(
        timestamp=timestamp_ms(e.timestamp, now_ms=now_ms),
        level=level_of(e.level),
        type=type_of(e.type),
        message=truncate_message(e.message, max_message_bytes),
        client_id=client_id,
        service=_text("service", e.service),
        environment=_text("environment", e.environment),
        user_id=_text("user_id", e.user_id),
        session_id=_text("session_id", e.session_id),
        device_type=device.lower() if device else ua_device,
        trace_id=hex_lower(_text("trace_id", e.trace_id)),
        span_id=hex_lower(_text("span_id", e.span_id)),
        metadata=compact_metadata(e.metadata, max_metadata_bytes),
    )
