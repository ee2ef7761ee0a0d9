"""Driving a live test server from the test thread: run coroutines (jobs) on its loop, ingest events."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from scrywatch import jobs
from tests.support import Account, LiveServer

JOB_TIMEOUT_S = 60


def on_loop(server: LiveServer, coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine on the server's own event loop (where its store lives) and return its result."""
    loop = server.runtime.store.db._loop  # the loop the store was started on: the server's
    assert loop is not None, "server not started"
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=JOB_TIMEOUT_S)


def run_job(server: LiveServer, name: str) -> dict[str, Any]:
    """Run one job once, exactly as the scheduler and `scrywatch jobs run` do (with its lock)."""
    return on_loop(server, jobs.run_job(server.runtime, name))  # type: ignore[no-any-return]


def ingest(account: Account, events: list[dict[str, Any]]) -> None:
    """Store events through the public ingest endpoint (202 means committed)."""
    with account.keyed() as client:
        r = client.post("/api/ingest", json={"events": events})
    assert r.status_code == 202, r.text
    assert r.json()["inserted"] == len(events), r.text


def events(n: int, *, at_ms: int, level: str = "error", service: str = "api", message: str = "boom {i}",
           **fields: Any) -> list[dict[str, Any]]:
    """n events at at_ms - i ms (so all inside a window that ends at at_ms)."""
    return [{"timestamp": at_ms - i, "level": level, "type": "custom", "service": service,
             "message": message.format(i=i), **fields} for i in range(n)]
