"""Alert lifecycle: open -> acknowledged -> resolved through PATCH /alerts/history/:id; history pages."""

from __future__ import annotations

from scrywatch.clock import FakeClock
from tests.alerts.conftest import create_rule
from tests.alerts.live import events, ingest, run_job
from tests.alerts.receivers import Receiver
from tests.support import Account

MIN = 60_000


def _fire(owner: Account, clock: FakeClock, n: int = 4) -> str:
    ingest(owner, events(n, at_ms=clock.now_ms()))
    assert run_job(owner.server, "alerts")["fired"] == 1
    return owner.client.get(f"{owner.base}/alerts/history").json()["history"][0]["id"]  # type: ignore[no-any-return]


def test_valid_transitions_and_409_for_the_rest(owner: Account, receiver: Receiver, clock: FakeClock) -> None:
    create_rule(owner, receiver.url())
    alert_id = _fire(owner, clock)
    url = f"{owner.base}/alerts/history/{alert_id}"

    clock.advance(ms=1000)
    r = owner.client.patch(url, json={"state": "acknowledged"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "acknowledged" and body["acknowledged_at"] == clock.now_ms()
    assert body["acknowledged_by"] == owner.user_id and body["resolved_at"] is None

    again = owner.client.patch(url, json={"state": "acknowledged"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"

    r = owner.client.put(url, json={"state": "resolved"})
    assert r.status_code == 200 and r.json()["state"] == "resolved" and r.json()["resolved_by"] == owner.user_id
    for state in ("resolved", "acknowledged"):
        assert owner.client.patch(url, json={"state": state}).status_code == 409


def test_open_can_be_resolved_directly(owner: Account, receiver: Receiver, clock: FakeClock) -> None:
    create_rule(owner, receiver.url())
    url = f"{owner.base}/alerts/history/{_fire(owner, clock)}"
    assert owner.client.patch(url, json={"state": "resolved"}).json()["state"] == "resolved"


def test_bad_requests(owner: Account, receiver: Receiver, clock: FakeClock) -> None:
    create_rule(owner, receiver.url())
    url = f"{owner.base}/alerts/history/{_fire(owner, clock)}"
    r = owner.client.patch(url, json={"state": "open"})
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "state"
    r = owner.client.patch(url, json={"state": "resolved", "note": "x"})
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "note"
    assert owner.client.patch(f"{owner.base}/alerts/history/01NOPE", json={"state": "resolved"}).status_code == 404
    with owner.keyed() as key:
        assert key.patch(url, json={"state": "resolved"}).status_code == 403
    r = owner.client.get(f"{owner.base}/alerts/history", params={"state": "sleeping"})
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "state"
    r = owner.client.get(f"{owner.base}/alerts/history", params={"cursor": "!!"})
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "cursor"


def test_history_pages_and_filters(owner: Account, receiver: Receiver, clock: FakeClock) -> None:
    rule = create_rule(owner, receiver.url(), cooldown_minutes=1, window_minutes=1)
    ids = []
    for _ in range(3):
        ids.append(_fire(owner, clock))
        clock.advance(ms=2 * MIN)
    ids.reverse()  # newest first
    page1 = owner.client.get(f"{owner.base}/alerts/history", params={"limit": 2}).json()
    assert [a["id"] for a in page1["history"]] == ids[:2] and page1["has_more"] is True
    page2 = owner.client.get(f"{owner.base}/alerts/history", params={"limit": 2, "cursor": page1["next_cursor"]})
    assert [a["id"] for a in page2.json()["history"]] == ids[2:] and page2.json()["has_more"] is False
    by_offset = owner.client.get(f"{owner.base}/alerts/history", params={"limit": 1, "offset": 1}).json()
    assert [a["id"] for a in by_offset["history"]] == ids[1:2]
    # Each check found the count over the threshold, so nothing resolved itself yet.
    owner.client.patch(f"{owner.base}/alerts/history/{ids[1]}", json={"state": "resolved"})
    open_ = owner.client.get(f"{owner.base}/alerts/history", params={"state": "open"}).json()["history"]
    assert [a["id"] for a in open_] == [ids[0], ids[2]]
    assert run_job(owner.server, "alerts")["resolved"] == 2  # the window is empty now
    mine = owner.client.get(f"{owner.base}/alerts/history", params={"rule_id": rule["id"]}).json()["history"]
    assert len(mine) == 3
