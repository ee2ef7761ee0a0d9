"""Lenses: saved log-explorer views (a name, a JSON string of filters, a color, a place in the list)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta

from scrywatch.models._base import Inbound, Record

LENS_COLORS = ("accent", "red", "orange", "yellow", "green", "blue")
LensColor = Literal["accent", "red", "orange", "yellow", "green", "blue"]
LensName = Annotated[str, Meta(min_length=1, max_length=100)]
MAX_FILTERS_CHARS = 8192
# `filters` is a JSON string per the spec; an object is accepted too and stored as its JSON text.
Filters = Annotated[str, Meta(max_length=MAX_FILTERS_CHARS)] | dict[str, Any]
SortOrder = Annotated[int, Meta(ge=-1_000_000, le=1_000_000)]


class Lens(Record):
    id: str
    name: str
    filters: str
    color: str
    sort_order: int
    created_at: int
    updated_at: int


class LensCreate(Inbound):
    name: LensName
    filters: Filters = "{}"
    color: LensColor = "accent"
    sort_order: SortOrder | None = None  # default: after the last lens


class LensUpdate(Inbound):
    name: LensName | None = None
    filters: Filters | None = None
    color: LensColor | None = None
    sort_order: SortOrder | None = None
