"""Lenses (saved views): list, create, update, delete, with filters validated as a JSON object."""

from __future__ import annotations

from typing import Any

import msgspec

from scrywatch.errors import InvalidInput, NotFound
from scrywatch.ids import new_id
from scrywatch.models.accounts import ProjectAccess
from scrywatch.models.lenses import MAX_FILTERS_CHARS, Lens, LensCreate, LensUpdate
from scrywatch.runtime import Runtime

_encoder = msgspec.json.Encoder()


def filters_text(value: str | dict[str, Any]) -> str:
    """The filters as stored: a JSON string that must hold a JSON object (an object is encoded)."""
    if isinstance(value, dict):
        text = _encoder.encode(value).decode()
    else:
        try:
            decoded = msgspec.json.decode(value)
        except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
            raise InvalidInput("must be a JSON string holding an object, e.g. '{\"level\":\"error\"}'",
                               field="filters") from None
        if not isinstance(decoded, dict):
            raise InvalidInput("must hold a JSON object, not a JSON " + type(decoded).__name__, field="filters")
        text = value
    if len(text) > MAX_FILTERS_CHARS:
        raise InvalidInput(f"must be at most {MAX_FILTERS_CHARS} characters", field="filters")
    return text


def _name(value: str) -> str:
    name = value.strip()
    if not name:
        raise InvalidInput("must not be blank", field="name")
    return name


async def list_lenses(rt: Runtime, access: ProjectAccess) -> list[Lens]:
    return await rt.store.lenses.list(access.project.pk)


async def create_lens(rt: Runtime, access: ProjectAccess, body: LensCreate) -> Lens:
    return await rt.store.lenses.add(
        access.project.pk, new_id(), name=_name(body.name), filters=filters_text(body.filters), color=body.color,
        sort_order=body.sort_order, now_ms=rt.clock.now_ms())


async def update_lens(rt: Runtime, access: ProjectAccess, lens_id: str, body: LensUpdate) -> Lens:
    """Change the given fields (a partial update: PATCH and PUT alike)."""
    changes: dict[str, object] = {}
    if body.name is not None:
        changes["name"] = _name(body.name)
    if body.filters is not None:
        changes["filters"] = filters_text(body.filters)
    if body.color is not None:
        changes["color"] = body.color
    if body.sort_order is not None:
        changes["sort_order"] = body.sort_order
    lens = await rt.store.lenses.update(access.project.pk, lens_id, changes, now_ms=rt.clock.now_ms())
    if lens is None:
        raise NotFound("lens not found")
    return lens


async def delete_lens(rt: Runtime, access: ProjectAccess, lens_id: str) -> None:
    if not await rt.store.lenses.delete(access.project.pk, lens_id):
        raise NotFound("lens not found")
