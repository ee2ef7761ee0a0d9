"""Server-side identifiers: ULID text, request ids."""

from __future__ import annotations

from ulid import ULID


def new_id() -> str:
    """A new 26-character ULID string."""
    return str(ULID())


def new_request_id() -> str:
    """A request id as the API shows it: `req_` + ULID."""
    return "req_" + str(ULID())
