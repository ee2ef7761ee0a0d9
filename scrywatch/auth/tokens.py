"""API keys and session tokens: minted at random, stored only as SHA-256 digests."""

from __future__ import annotations

import hashlib
import hmac
import secrets

KEY_PREFIX = "sw_"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
KEY_RANDOM_BYTES = 32
KEY_BODY_CHARS = 43  # 62**43 > 2**256, so 32 random bytes always fit
SHOWN_PREFIX_CHARS = 7  # "sw_" + 4 characters, as the spec's "sw_a1b2…"


def _base62(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = []
    for _ in range(KEY_BODY_CHARS):
        n, rem = divmod(n, 62)
        out.append(BASE62[rem])
    return "".join(reversed(out))


def new_api_key() -> str:
    """`sw_` + 32 random bytes in base62."""
    return KEY_PREFIX + _base62(secrets.token_bytes(KEY_RANDOM_BYTES))


def looks_like_api_key(value: str) -> bool:
    return value.startswith(KEY_PREFIX) and len(value) == len(KEY_PREFIX) + KEY_BODY_CHARS


def shown_prefix(key: str) -> str:
    """The part of a key that lists may show."""
    return key[:SHOWN_PREFIX_CHARS]


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """SHA-256 hex digest: what is stored for keys and session tokens."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time string comparison."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
