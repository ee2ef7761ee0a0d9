"""Base Structs: inbound bodies refuse unknown fields; outbound records omit nothing by default."""

from __future__ import annotations

import msgspec


class Inbound(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A request body. Unknown fields are a 400 that names them."""


class Record(msgspec.Struct, kw_only=True):
    """A stored thing or a response body."""
