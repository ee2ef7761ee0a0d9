"""Helpers for the log pipeline tests: a keyed client, ingest that asserts the 202, paging helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.support import Account, LiveServer

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, an hour boundary
HOUR = 3_600_000


# T0 is far older than the default 24 h hot window, and events older than the hot window go straight
# to the archive (tests/archive/test_coldlane.py). These tests are about the hot store: widen it.
HOT_HOURS = 20 * 365 * 24


@pytest.fixture
def make_server(make_server: Callable[..., LiveServer]) -> Callable[..., LiveServer]:
    def factory(**overrides: Any) -> LiveServer:
        overrides["storage"] = {"hot_hours": HOT_HOURS, **overrides.get("storage", {})}
        return make_server(**overrides)

    return factory


@pytest.fixture
def keyed(account: Account) -> Iterator[httpx.Client]:
    with account.keyed() as client:
        yield client


def ingest(client: httpx.Client, events: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    """POST events and require the exact 202 body the SDKs read."""
    r = client.post("/api/ingest", json={"events": events}, **kwargs)
    assert r.status_code == 202, r.text
    body: dict[str, Any] = r.json()
    assert body["status"] == 202
    return body


def get_ok(client: httpx.Client, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    r = client.get(path, params=params)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def event(i: int, **fields: Any) -> dict[str, Any]:
    """A plain valid event; `i` makes the message and timestamp distinct."""
    return {"timestamp": T0 + i * 1000, "level": "info", "type": "custom", "message": f"event number {i}", **fields}
