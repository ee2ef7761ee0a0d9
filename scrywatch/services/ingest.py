"""Log ingest: decode a batch, normalise each event, store the valid ones, publish to the tail."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from scrywatch.errors import Forbidden, InvalidInput, PayloadTooLarge
from scrywatch.models.accounts import KeyIdentity, Principal
from scrywatch.models.logs import BatchIn, IngestError, IngestResult, NewEvent
from scrywatch.runtime import Runtime
from scrywatch.services import coldlane
from scrywatch.services.events import FieldProblem, normalize
from scrywatch.services.useragent import device_type

_batch_decoder = msgspec.json.Decoder(BatchIn)
_encoder = msgspec.json.Encoder()


def ingest_key(principal: Principal) -> KeyIdentity:
    """The API key a write comes with; ingest needs a key with the ingest scope."""
    key = principal.key
    if key is None:
        raise Forbidden("ingest needs an API key: send 'Authorization: Bearer sw_...'")
    if key.scope == "read":
        raise Forbidden("this API key has the 'read' scope and cannot ingest")
    return key


# A lone UTF-16 surrogate escape: JavaScript's JSON.stringify writes one for a string cut in the
# middle of an emoji. msgspec refuses it; we keep the event with U+FFFD in its place.
_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def repair_surrogates(body: bytes) -> bytes:
    """Replace lone surrogate escapes (invalid in JSON text) by \\ufffd; other bytes unchanged."""
    if b"\\u" not in body and b"\\U" not in body:
        return body
    return _LONE_SURROGATE.sub(rb"\\ufffd", body)


def decode_batch(body: bytes, *, max_events: int) -> list[msgspec.Raw]:
    try:
        batch = _batch_decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise InvalidInput("body must be a JSON object with an `events` list", field="events") from exc
    except msgspec.DecodeError as exc:
        repaired = repair_surrogates(body)
        if repaired != body:
            return decode_batch(repaired, max_events=max_events)
        raise InvalidInput("request body is not valid JSON", field="body") from exc
    except RecursionError as exc:
        raise InvalidInput("request body is nested too deeply", field="body") from exc
    except UnicodeDecodeError:
        # Invalid UTF-8 inside some string: each event is re-read (with U+FFFD) by the normaliser.
        return decode_batch(body.decode("utf-8", "replace").encode(), max_events=max_events)
    if len(batch.events) > max_events:
        raise PayloadTooLarge(f"at most {max_events} events per request (got {len(batch.events)})", field="events")
    if not batch.events:
        raise InvalidInput("must contain at least one event", field="events")
    return batch.events


async def ingest_raw(rt: Runtime, project_pk: int, raw_events: list[msgspec.Raw] | list[bytes], *,
                     user_agent: str | None) -> IngestResult:
    """Normalise and store events; per-event problems are reported, not fatal (unless all fail)."""
    cfg = rt.config.ingest
    now = rt.clock.now_ms()
    ua_device = device_type(user_agent)
    good: list[NewEvent] = []
    errors: list[IngestError] = []
    for i, raw in enumerate(raw_events):
        try:
            good.append(normalize(bytes(raw), now_ms=now, ua_device=ua_device,
                                  max_message_bytes=cfg.max_message_bytes,
                                  max_metadata_bytes=cfg.max_metadata_bytes))
        except FieldProblem as p:
            errors.append(IngestError(index=i, field=p.field, message=p.message))
    if not good:
        raise InvalidInput("no valid events in the batch",
                           details=[{"field": f"events[{e.index}].{e.field}", "message": e.message}
                                    for e in errors[:100]])
    stored, duplicates = await coldlane.store(rt, project_pk, good, now)
    if rt.hub is not None and stored:
        rt.hub.publish_soon(project_pk, stored)
    return IngestResult(status=202, inserted=len(stored), duplicates=duplicates, rejected=len(errors), errors=errors)


async def ingest_body(rt: Runtime, principal: Principal, body: bytes, *, user_agent: str | None) -> IngestResult:
    """POST /api/ingest: a body of {"events": [...]} from an API key."""
    key = ingest_key(principal)
    events = decode_batch(body, max_events=rt.config.ingest.max_batch_events)
    return await ingest_raw(rt, key.project_pk, events, user_agent=user_agent)


async def ingest_events(rt: Runtime, project_pk: int, events: list[dict[str, Any]], *,
                        user_agent: str | None = None) -> IngestResult:
    """Ingest events given as dicts in the event schema (OTLP logs and other adapters)."""
    return await ingest_raw(rt, project_pk, [_encoder.encode(e) for e in events], user_agent=user_agent)
