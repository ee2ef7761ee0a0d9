"""The `alerts` job: rolling-window counts, firing with samples, cooldown, pause, exactly-once, recovery."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from scrywatch.clock import FakeClock
from scrywatch.models.logs import LogQuery
from scrywatch.services.alerts import check_alerts, rule_query
from tests.alerts.conftest import create_rule
from tests.alerts.live import events, ingest, on_loop, run_job
from tests.alerts.receivers import Receiver
from tests.support import Account

MIN = 60_000


def history(account: Account, **params: Any) -> list[dict[str, Any]]:
    r = account.client.get(f"{account.base}/alerts/history", params=params)
    assert r.status_code == 200, r.text
    return r.json()["history"]  # type: ignore[no-any-return]


def test_fires_with_count_and_samples_then_respects_cooldown(owner: Account, receiver: Receiver,
                                                             clock: FakeClock) -> None:
    rule = create_rule(owner, receiver.url(), threshold=3, window_minutes=5)
    now = clock.now_ms()
    ingest(owner, events(7, at_ms=now) + events(5, at_ms=now, level="info")
           + events(4, at_ms=now - 6 * MIN))  # outside the 5-minute window
    summary = run_job(owner.server, "alerts")
    assert summary["fired"] == 1 and summary["delivered"] == 1, summary

    [hit] = receiver.hits
    payload = hit.json()
    assert hit.headers["content-type"] == "application/json"
    assert payload["event"] == "alert.fired" and payload["count"] == 7 and payload["threshold"] == 3
    assert payload["window_minutes"] == 5 and payload["window"] == {"from": now - 5 * MIN, "to": now}
    assert payload["rule"]["id"] == rule["id"] and payload["link"] is None
    assert [e["message"] for e in payload["sample_events"]] == [f"boom {i}" for i in range(5)]  # newest 5

    [alert] = history(owner)
    assert alert["rule_id"] == rule["id"] and alert["fired_at"] == now and alert["matched_count"] == 7
    assert alert["state"] == "open" and alert["delivery_status"] == "delivered"
    assert alert["attempts"] == 1 and alert["response_status"] == 200 and alert["error"] is None
    assert len(alert["sample_events"]) == 5 and alert["sample_events"][0]["level"] == "error"

    assert run_job(owner.server, "alerts")["fired"] == 0  # same moment: cooling down
    clock.advance(ms=10 * MIN)
    ingest(owner, events(3, at_ms=clock.now_ms()))
    assert run_job(owner.server, "alerts")["cooling_down"] == 1  # over threshold, but 10 < 15 minutes
    clock.advance(ms=6 * MIN)
    ingest(owner, events(3, at_ms=clock.now_ms()))
    assert run_job(owner.server, "alerts")["fired"] == 1
    assert len(receiver.hits) == 2 and [a["matched_count"] for a in history(owner)] == [3, 7]


def test_below_threshold_and_other_values_do_not_fire(owner: Account, receiver: Receiver, clock: FakeClock) -> None:
    create_rule(owner, receiver.url(), condition_field="service", condition_value="billing", threshold=5)
    ingest(owner, events(4, at_ms=clock.now_ms(), service="billing") + events(9, at_ms=clock.now_ms()))
    assert run_job(owner.server, "alerts")["fired"] == 0
    assert receiver.hits == [] and history(owner) == []


def test_disabled_rule_does_not_fire_until_enabled(owner: Account, receiver: Receiver, clock: FakeClock) -> None:
    rule = create_rule(owner, receiver.url(), enabled=False)
    ingest(owner, events(5, at_ms=clock.now_ms()))
    assert run_job(owner.server, "alerts") == {"rules": 0, "fired": 0, "cooling_down": 0, "resolved": 0,
                                                "delivered": 0, "failed": 0}
    assert receiver.hits == []
    owner.client.patch(f"{owner.base}/alerts/{rule['id']}", json={"enabled": True})
    assert run_job(owner.server, "alerts")["fired"] == 1 and len(receiver.hits) == 1


def test_two_overlapping_checks_fire_exactly_once(owner: Account, receiver: Receiver, clock: FakeClock) -> None:
    create_rule(owner, receiver.url())
    ingest(owner, events(5, at_ms=clock.now_ms()))
    rt = owner.server.runtime

    async def overlapping() -> list[dict[str, Any]]:
        # check_alerts directly, without the job's file lock: the database alone must keep it exactly-once.
        return list(await asyncio.gather(check_alerts(rt), check_alerts(rt), check_alerts(rt)))

    results = on_loop(owner.server, overlapping())
    assert sum(r["fired"] for r in results) == 1 and sum(r["delivered"] for r in results) == 1
    assert len(receiver.hits) == 1 and len(history(owner)) == 1


def test_delivery_left_pending_by_a_crash_is_sent_by_the_next_run(owner: Account, receiver: Receiver,
                                                                  clock: FakeClock) -> None:
    rule_id = create_rule(owner, receiver.url())["id"]
    ingest(owner, events(4, at_ms=clock.now_ms()))
    rt = owner.server.runtime

    async def fire_then_crash() -> None:
        # The checker's first step (record the firing) without its second (deliver), as a crash would leave it.
        [(project, rule, _)] = await rt.store.alerts.enabled_rules()
        assert rule.id == rule_id
        count, samples = await rt.store.alerts.measure(project, rule_query(rule, clock.now_ms()), 3, 5)
        assert await rt.store.alerts.fire(rule, clock.now_ms(), count, samples) is not None

    on_loop(owner.server, fire_then_crash())
    assert history(owner)[0]["delivery_status"] == "pending" and receiver.hits == []
    summary = run_job(owner.server, "alerts")
    assert summary["fired"] == 0 and summary["delivered"] == 1  # no second firing: still in cooldown
    assert len(receiver.hits) == 1 and receiver.hits[0].json()["count"] == 4
    assert [a["delivery_status"] for a in history(owner)] == ["delivered"]


def test_a_crashed_senders_claim_is_taken_over_after_its_lease(owner: Account, receiver: Receiver,
                                                               clock: FakeClock) -> None:
    create_rule(owner, receiver.url())
    ingest(owner, events(4, at_ms=clock.now_ms()))
    rt = owner.server.runtime

    async def fire_claim_crash() -> int:
        [(project, rule, _)] = await rt.store.alerts.enabled_rules()
        count, samples = await rt.store.alerts.measure(project, rule_query(rule, clock.now_ms()), 3, 5)
        await rt.store.alerts.fire(rule, clock.now_ms(), count, samples)
        return len(await rt.store.alerts.claim(clock.now_ms(), lease_ms=2 * MIN))  # claimed, never finished

    assert on_loop(owner.server, fire_claim_crash()) == 1
    assert run_job(owner.server, "alerts")["delivered"] == 0  # another sender may still be at work
    assert history(owner)[0]["delivery_status"] == "sending" and receiver.hits == []
    clock.advance(ms=3 * MIN)
    assert run_job(owner.server, "alerts")["delivered"] == 1
    assert len(receiver.hits) == 1 and history(owner)[0]["delivery_status"] == "delivered"


def test_counts_come_from_the_rollups_exactly(owner: Account, clock: FakeClock) -> None:
    now = clock.now_ms()
    # Spread over minute and hour edges: the rollup path must agree with a plain count.
    ingest(owner, [{"timestamp": now - i * 7_919, "level": "error", "message": "x"} for i in range(300)])
    rt = owner.server.runtime
    query = LogQuery(levels=("error",), from_ms=now - 30 * MIN, to_ms=now)
    pk = on_loop(owner.server, rt.store.accounts.all_projects())[0][1].pk
    count, _ = on_loop(owner.server, rt.store.alerts.measure(pk, query, 10**9, 0))
    assert count == sum(1 for i in range(300) if i * 7_919 <= 30 * MIN)


def test_auto_resolve_with_a_resolve_notification(alerting: Callable[..., Account], receiver: Receiver,
                                                  clock: FakeClock) -> None:
    owner = alerting(alerts={"notify_on_resolve": True})
    create_rule(owner, receiver.url(), window_minutes=5)
    ingest(owner, events(4, at_ms=clock.now_ms()))
    run_job(owner.server, "alerts")
    alert = history(owner)[0]
    owner.client.patch(f"{owner.base}/alerts/history/{alert['id']}", json={"state": "acknowledged"})
    clock.advance(ms=2 * MIN)
    assert run_job(owner.server, "alerts")["resolved"] == 0  # the 4 events are still in the window
    clock.advance(ms=4 * MIN)
    summary = run_job(owner.server, "alerts")
    assert summary["resolved"] == 1 and summary["delivered"] == 1, summary
    [resolved] = history(owner)
    assert resolved["state"] == "resolved" and resolved["resolved_by"] == "auto"
    assert resolved["resolved_at"] == clock.now_ms()
    assert resolved["resolve_notification"]["status"] == "delivered"
    notice = receiver.hits[-1].json()
    assert notice["event"] == "alert.resolved" and notice["alert_id"] == alert["id"] and notice["count"] is None
    assert run_job(owner.server, "alerts")["resolved"] == 0 and len(receiver.hits) == 2


def test_auto_resolve_is_silent_by_default(owner: Account, receiver: Receiver, clock: FakeClock) -> None:
    create_rule(owner, receiver.url())
    ingest(owner, events(4, at_ms=clock.now_ms()))
    run_job(owner.server, "alerts")
    clock.advance(ms=6 * MIN)
    assert run_job(owner.server, "alerts")["resolved"] == 1
    assert len(receiver.hits) == 1 and history(owner)[0]["resolve_notification"] is None
