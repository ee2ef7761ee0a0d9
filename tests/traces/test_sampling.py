"""Tail sampling on a fake clock: what is kept, what is purged, late spans, retention, the baseline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from scrywatch.clock import FakeClock
from scrywatch.services.sampling import SamplingPolicy, in_baseline, keep_trace, trace_fraction
from tests.support import Account, LiveServer, register
from tests.traces.support import T0_MS, new_trace_id, run_job, span, trace_tree

HOLD_S = 5


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0_MS + 1000)  # just after the spans the factories make


@pytest.fixture
def sampled(make_server: Callable[..., LiveServer], clock: FakeClock) -> Account:
    server = make_server(clock=clock, traces={"hold_seconds": HOLD_S, "slow_ms": 2000, "retention_hours": 2})
    return register(server)


def _post(c: httpx.Client, spans: list[dict[str, Any]]) -> None:
    r = c.post("/api/traces", json={"spans": spans})
    assert r.status_code == 202, r.text


def _sampling(account: Account, c: httpx.Client, trace_id: str) -> str | None:
    r = c.get(f"{account.base}/traces/{trace_id}")
    return r.json()["trace"]["sampling"] if r.status_code == 200 else None


def test_errors_and_slow_traces_are_kept_fast_ok_ones_purged(sampled: Account, clock: FakeClock) -> None:
    error_id, error_spans = trace_tree(error=True)
    slow_id, slow_spans = trace_tree(duration_ms=2000.5)
    edge_id, edge_spans = trace_tree(duration_ms=2000)  # exactly slow_ms is not "more than"
    fast_id, fast_spans = trace_tree(duration_ms=30)
    with sampled.keyed() as c:
        _post(c, error_spans + slow_spans + edge_spans + fast_spans)
        clock.advance(seconds=HOLD_S - 1)
        assert run_job(sampled.server, "sampling")["kept"] == 0  # still held
        assert {_sampling(sampled, c, t) for t in (error_id, slow_id, edge_id, fast_id)} == {"held"}
        clock.advance(seconds=1)
        summary = run_job(sampled.server, "sampling")
        assert (summary["kept"], summary["purged"], summary["spans_deleted"]) == (2, 2, 4)
        assert _sampling(sampled, c, error_id) == "kept" and _sampling(sampled, c, slow_id) == "kept"
        assert _sampling(sampled, c, fast_id) is None and _sampling(sampled, c, edge_id) is None
        listed = c.get(f"{sampled.base}/traces").json()
        assert {t["id"] for t in listed["traces"]} == {error_id, slow_id} and listed["total"] == 2
        # Decided once: running again changes nothing.
        assert run_job(sampled.server, "sampling")["kept"] == 0


def test_late_spans_follow_the_decision(sampled: Account, clock: FakeClock) -> None:
    kept_id, kept_spans = trace_tree(error=True)
    purged_id, purged_spans = trace_tree()
    with sampled.keyed() as c:
        _post(c, kept_spans + purged_spans)
        clock.advance(seconds=HOLD_S)
        run_job(sampled.server, "sampling")
        late_kept = span(kept_id, parent=kept_spans[0]["span_id"], service="late", duration_ms=1)
        late_purged = span(purged_id, parent=purged_spans[0]["span_id"], service="late", status="error")
        _post(c, [late_kept, late_purged])
        detail = c.get(f"{sampled.base}/traces/{kept_id}").json()
        assert detail["trace"]["span_count"] == 3 and late_kept["span_id"] in {s["id"] for s in detail["spans"]}
        # The purged trace stays purged even though its late span is an error.
        assert c.get(f"{sampled.base}/traces/{purged_id}").status_code == 404
        clock.advance(seconds=HOLD_S)
        assert run_job(sampled.server, "sampling")["kept"] == 0
        assert c.get(f"{sampled.base}/traces/{purged_id}").status_code == 404
        # Both late spans still count in the service map: it measures before sampling.
        late = [s for s in c.get(f"{sampled.base}/traces/service-map", params={"from": 0}).json()["services"]
                if s["service"] == "late"]
        assert late[0]["request_count"] == 2 and late[0]["error_count"] == 1


def test_kept_traces_expire_after_retention(sampled: Account, clock: FakeClock) -> None:
    tid, spans = trace_tree(error=True)
    with sampled.keyed() as c:
        _post(c, spans)
        clock.advance(seconds=HOLD_S)
        run_job(sampled.server, "sampling")
        clock.advance(hours=2, seconds=-HOLD_S - 1)
        assert run_job(sampled.server, "sampling")["expired_traces"] == 0
        assert _sampling(sampled, c, tid) == "kept"
        clock.advance(seconds=2)
        summary = run_job(sampled.server, "sampling")
        assert (summary["expired_traces"], summary["expired_spans"]) == (1, 2)
        assert c.get(f"{sampled.base}/traces/{tid}").status_code == 404
        assert c.get(f"{sampled.base}/traces").json()["total"] == 0
        # The service map keeps the same horizon, to the minute.
        clock.advance(seconds=60)
        run_job(sampled.server, "sampling")
        assert c.get(f"{sampled.base}/traces/service-map", params={"from": 0}).json()["services"] == []


def test_baseline_keeps_ordinary_traces_when_configured(make_server: Callable[..., LiveServer]) -> None:
    clock = FakeClock(T0_MS)
    account = register(make_server(clock=clock, traces={"hold_seconds": 1, "baseline_ratio": 1.0}))
    tid, spans = trace_tree()
    with account.keyed() as c:
        _post(c, spans)
        clock.advance(seconds=2)
        assert run_job(account.server, "sampling")["kept"] == 1
        assert _sampling(account, c, tid) == "kept"


def test_baseline_is_deterministic_and_proportional() -> None:
    ids = [new_trace_id() for _ in range(4000)]
    first = [in_baseline(t, 0.25) for t in ids]
    assert first == [in_baseline(t, 0.25) for t in ids]
    assert 0.21 < sum(first) / len(ids) < 0.29
    # Nested: a trace in the 10 % baseline is also in the 25 % one.
    assert all(in_baseline(t, 0.25) for t in ids if in_baseline(t, 0.10))
    assert not any(in_baseline(t, 0.0) for t in ids) and all(in_baseline(t, 1.0) for t in ids)
    # Stable across processes and versions: a fixed id has a fixed place in [0, 1).
    assert trace_fraction("0af7651916cd43dd8448eb211c80319c") == trace_fraction("0af7651916cd43dd8448eb211c80319c")
    assert 0.0 <= trace_fraction("arbitrary string id") < 1.0


def test_keep_rule() -> None:
    policy = SamplingPolicy(slow_ms=2000, baseline_ratio=0.0)
    assert keep_trace(policy, trace_id="a", error_count=1, duration_ms=1)
    assert keep_trace(policy, trace_id="a", error_count=0, duration_ms=2000.001)
    assert not keep_trace(policy, trace_id="a", error_count=0, duration_ms=2000)
