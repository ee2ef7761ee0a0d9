"""The one exception family of ScryWatch. No HTTP here: web/errors.py maps classes to statuses.

ScryError
 ├── InvalidInput          bad value in a request, names the field
 ├── Unauthorized          no or bad credentials
 ├── Forbidden             authenticated but not allowed
 ├── NotFound              absent, or not visible to this principal
 ├── Conflict              clashes with existing state
 ├── PayloadTooLarge       body over the configured limit
 ├── UnsupportedMediaType  a content type or encoding we do not read
 ├── RateLimited           too many attempts; carries retry_after_s
 ├── Unavailable           temporarily unable (overload, storage busy); carries retry_after_s
 └── ConfigError           scrywatch.toml or environment is wrong (CLI exits 2)
"""

from __future__ import annotations

from typing import ClassVar


class ScryError(Exception):
    """Base of every error ScryWatch raises on purpose."""

    code: ClassVar[str] = "internal"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        details: list[dict[str, str]] | None = None,
        retry_after_s: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = list(details or [])
        if field is not None and not self.details:
            self.details.append({"field": field, "message": message})
        self.retry_after_s = retry_after_s


class InvalidInput(ScryError):
    code = "validation_error"


class Unauthorized(ScryError):
    code = "unauthorized"


class Forbidden(ScryError):
    code = "forbidden"


class NotFound(ScryError):
    code = "not_found"


class Conflict(ScryError):
    code = "conflict"


class PayloadTooLarge(ScryError):
    code = "payload_too_large"


class UnsupportedMediaType(ScryError):
    code = "unsupported_media_type"


class RateLimited(ScryError):
    code = "rate_limited"


class Unavailable(ScryError):
    code = "unavailable"


class ConfigError(ScryError):
    code = "config_error"
