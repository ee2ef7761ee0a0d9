"""Archive test helpers: jobs run as `scrywatch jobs run` does beside a running server (own
connections, the server's clock), ingest through the API, and reading every page of a query."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from scrywatch import jobs
from scrywatch.clock import FakeClock
from scrywatch.runtime import build_runtime
from tests.support import Account, LiveServer

HOUR = 3_600_000
DAY0 = 1_760_054_400_000  # 2025-10-10 00:00 UTC


def run_job(server: LiveServer, name: str) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        rt = build_runtime(server.config, clock=server.runtime.clock)
        await rt.store.start()
        try:
            return await jobs.run_job(rt, name)
        finally:
            await rt.store.close()

    return asyncio.run(go())


def ingest(account: Account, events: list[dict[str, Any]]) -> None:
    with account.keyed() as client:
        for start in range(0, len(events), 1000):
            r = client.post("/api/ingest", json={"events": events[start:start + 1000]})
            assert r.status_code == 202, r.text
            assert r.json()["inserted"] == len(events[start:start + 1000]), r.text


def ingest_as_they_happen(account: Account, clock: FakeClock, events: list[dict[str, Any]]) -> None:
    """Ingest each hour's events at the end of that hour, while they are inside the hot window
    (older events would go straight to the archive), then put the clock back."""
    now = clock.now_ms()
    by_hour: dict[int, list[dict[str, Any]]] = {}
    for e in events:
        by_hour.setdefault(int(e["timestamp"]) // HOUR, []).append(e)
    for hour in sorted(by_hour):
        clock.set((hour + 1) * HOUR - 1)
        ingest(account, by_hour[hour])
    clock.set(now)


def day_and_hour(ms: int) -> dict[str, str]:
    when = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return {"date": f"{when:%Y-%m-%d}", "hour": str(when.hour)}


def read_all(account: Account, path: str, params: dict[str, Any], *, limit: int = 200) -> tuple[list[dict[str, Any]],
                                                                                                   list[int]]:
    """Every result of a paged query, following cursors; also the `total` each page reported."""
    results: list[dict[str, Any]] = []
    totals: list[int] = []
    cursor = None
    with account.keyed() as client:
        while True:
            r = client.get(account.base + path, params={**params, "limit": limit, **({"cursor": cursor} if cursor
                                                                                    else {})})
            assert r.status_code == 200, r.text
            body = r.json()
            results += body["results"]
            totals.append(body["total"])
            assert body["has_more"] == (body["next_cursor"] is not None)
            if not body["has_more"]:
                return results, totals
            cursor = body["next_cursor"]
