"""POST/GET /insights/summary: exact numbers for crafted windows, validation, session only, retention."""

from __future__ import annotations

from typing import Any

import pytest

from scrywatch.clock import FakeClock
from scrywatch.services.insights import prune_summaries
from tests.alerts.live import ingest, on_loop
from tests.support import Account, login

MIN = 60_000


def summarize(owner: Account, **body: Any) -> dict[str, Any]:
    r = owner.client.post(f"{owner.base}/insights/summary", json=body)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def batch(n: int, *, at: int, level: str, service: str | None, message: str = "m {i}") -> list[dict[str, Any]]:
    return [{"timestamp": at - i, "level": level, "service": service, "message": message.format(i=i)}
            for i in range(n)]


def craft_busy_quarter(owner: Account, now: int) -> None:
    """Now (last 15 min): api 80 (10 errors, 20 warns), worker 40 (2 errors, 14 warns), billing 22.
    Before (the 15 min earlier): api 100 (4 errors, 30 warns), worker 20."""
    cur, prev = now - 5 * MIN, now - 20 * MIN
    ingest(owner, batch(7, at=cur, level="error", service="api", message="Connection timeout after {i} ms")
           + batch(3, at=cur, level="error", service="api", message="Payment declined for card 4242{i}")
           + batch(20, at=cur, level="warn", service="api") + batch(50, at=cur, level="info", service="api")
           + batch(2, at=cur, level="error", service="worker", message="Job {i} failed")
           + batch(14, at=cur, level="warn", service="worker") + batch(24, at=cur, level="debug", service="worker")
           + batch(22, at=cur, level="info", service="billing"))
    ingest(owner, batch(4, at=prev, level="error", service="api", message="Connection timeout after {i} ms")
           + batch(30, at=prev, level="warn", service="api") + batch(66, at=prev, level="info", service="api")
           + batch(20, at=prev, level="info", service="worker"))
    # Outside both windows: must not count anywhere.
    ingest(owner, batch(9, at=now - 31 * MIN, level="error", service="api"))


def test_builtin_summary_states_the_exact_numbers(owner: Account, clock: FakeClock) -> None:
    now = clock.now_ms()
    craft_busy_quarter(owner, now)
    s = summarize(owner, minutes=15)
    assert (s["event_count"], s["error_count"], s["warn_count"]) == (142, 12, 34)
    assert s["time_window_minutes"] == 15 and s["created_at"] == now and s["id"]
    assert s["provider"] == "builtin" and s["fallback"] is False and s["fallback_reason"] is None
    assert s["previous"] == {"from": now - 30 * MIN, "to": now - 15 * MIN - 1, "event_count": 120,
                             "error_count": 4, "warn_count": 30}
    assert s["top_services"] == [{"service": "api", "event_count": 80, "error_count": 10},
                                 {"service": "worker", "event_count": 40, "error_count": 2},
                                 {"service": "billing", "event_count": 22, "error_count": 0}]
    assert [(p["pattern"], p["count"], p["services"], p["is_new"]) for p in s["top_error_patterns"]] == [
        ("Connection timeout after {num} ms", 7, ["api"], False),
        ("Payment declined for card {num}", 3, ["api"], True),
        ("Job {num} failed", 2, ["worker"], True),
    ]
    text = s["summary_text"]
    for fact in ("In the last 15 minutes, 142 events were logged: 12 errors, 34 warnings and 96 info or debug.",
                 "In the previous 15 minutes there were 120 events, 4 errors and 30 warnings.",
                 "Most active services: api (80 events, 10 errors), worker (40 events, 2 errors), "
                 "billing (22 events, 0 errors).",
                 '"Connection timeout after {num} ms" 7 times in api',
                 '"Payment declined for card {num}" 3 times in api',
                 "errors rose from 4 to 12 (+200%)",
                 "service billing started logging"):
        assert fact in text, (fact, text)
    assert "warnings" not in " ".join(s["changes"])  # 30 -> 34 is not notable
    assert s["changes"][0] == "errors rose from 4 to 12 (+200%)"


def test_small_and_empty_windows(owner: Account, clock: FakeClock) -> None:
    now = clock.now_ms()
    empty = summarize(owner, minutes=5)
    assert empty["summary_text"] == "No events were logged in the last 5 minutes."
    assert (empty["event_count"], empty["error_count"], empty["warn_count"]) == (0, 0, 0)
    ingest(owner, batch(1, at=now - MIN, level="error", service=None, message="only one"))
    one = summarize(owner, minutes=5)
    assert one["summary_text"].startswith(
        "In the last 5 minutes, 1 event was logged: 1 error, 0 warnings and 0 info or debug. "
        "In the previous 5 minutes there were 0 events, 0 errors and 0 warnings. "
        "Most active services: (no service) (1 event, 1 error). "
        'Most frequent errors: "only one" 1 time.')
    clock.advance(ms=7 * MIN)  # the event is now in the previous 5-minute window
    later = summarize(owner, minutes=5)
    assert later["summary_text"] == ("No events were logged in the last 5 minutes. In the previous 5 minutes "
                                     "there were 1 event, 1 error and 0 warnings.")


def test_latest_is_returned_and_default_is_15_minutes(owner: Account, clock: FakeClock) -> None:
    assert owner.client.get(f"{owner.base}/insights/summary").json() == {"summary": None}
    first = summarize(owner)
    assert first["time_window_minutes"] == 15
    clock.advance(ms=1000)
    second = summarize(owner, minutes=60)
    latest = owner.client.get(f"{owner.base}/insights/summary").json()["summary"]
    assert latest == second and latest["id"] != first["id"]


@pytest.mark.parametrize("body", [{"minutes": 7}, {"minutes": 0}, {"minutes": "15"}, {"minutes": 15.5}])
def test_other_windows_are_400_naming_minutes(owner: Account, body: dict[str, Any]) -> None:
    r = owner.client.post(f"{owner.base}/insights/summary", json=body)
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "minutes"


def test_unknown_fields_and_api_keys_are_refused(owner: Account) -> None:
    r = owner.client.post(f"{owner.base}/insights/summary", json={"minutes": 5, "model": "x"})
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "model"
    with owner.keyed() as key:
        assert key.post(f"{owner.base}/insights/summary", json={}).status_code == 403
        assert key.get(f"{owner.base}/insights/summary").status_code == 403


def _days_later(owner: Account, clock: FakeClock, days: int) -> None:
    clock.advance(hours=24 * days)
    owner.client.close()
    owner.client = login(owner.server, owner.email, owner.password)  # sessions last a day


def test_summaries_are_pruned_after_summary_days(owner: Account, clock: FakeClock) -> None:
    summarize(owner, minutes=5)
    _days_later(owner, clock, 6)
    summarize(owner, minutes=5)
    _days_later(owner, clock, 2)  # the first is now 8 days old, the second 2
    assert on_loop(owner.server, prune_summaries(owner.server.runtime)) == 1
    assert owner.client.get(f"{owner.base}/insights/summary").json()["summary"] is not None
    _days_later(owner, clock, 6)
    assert on_loop(owner.server, prune_summaries(owner.server.runtime)) == 1
    assert owner.client.get(f"{owner.base}/insights/summary").json() == {"summary": None}
