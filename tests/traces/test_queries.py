"""GET /traces (filters, pagination), /traces/:id (waterfall), /traces/service-map, tenancy, deletion."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import Account
from tests.traces.support import T0_MS, new_trace_id, span, trace_tree


def _post(c: httpx.Client, spans: list[dict[str, Any]]) -> None:
    r = c.post("/api/traces", json={"spans": spans})
    assert r.status_code == 202, r.text


def _ids(c: httpx.Client, account: Account, **params: Any) -> list[str]:
    r = c.get(f"{account.base}/traces", params=params)
    assert r.status_code == 200, r.text
    return [t["id"] for t in r.json()["traces"]]


def test_list_filters_newest_first(account: Account) -> None:
    a, spans_a = trace_tree(services=("web", "api"), start_ms=T0_MS, duration_ms=10)
    b, spans_b = trace_tree(services=("worker", "db"), start_ms=T0_MS + 1000, duration_ms=300, error=True)
    c_id, spans_c = trace_tree(services=("web",), start_ms=T0_MS + 2000, duration_ms=3000)
    spans_c[0]["environment"] = "prod"
    with account.keyed() as c:
        _post(c, spans_a + spans_b + spans_c)
        page = c.get(f"{account.base}/traces").json()
        assert [t["id"] for t in page["traces"]] == [c_id, b, a]
        assert (page["total"], page["has_more"], page["next_cursor"]) == (3, False, None)
        first = page["traces"][1]
        assert (first["service"], first["status"], first["span_count"], first["duration_ms"]) == (
            "worker", "error", 2, 300.0)
        assert set(first) >= {"id", "name", "service", "start_time", "duration_ms", "status", "span_count"}
        assert _ids(c, account, service="web") == [c_id, a]
        assert _ids(c, account, service="api") == []  # the root's service, not any span's
        assert _ids(c, account, status="error") == [b]
        assert _ids(c, account, status="ok") == [c_id, a]
        assert _ids(c, account, environment="prod") == [c_id]
        assert _ids(c, account, min_duration=300) == [c_id, b]
        assert _ids(c, account, max_duration=300) == [b, a]
        assert _ids(c, account, min_duration=11, max_duration=2999.5) == [b]
        assert _ids(c, account, **{"from": T0_MS + 1000}) == [c_id, b]
        assert _ids(c, account, to=T0_MS + 1000) == [b, a]
        assert _ids(c, account, **{"from": T0_MS + 500, "to": T0_MS + 1500}) == [b]
        for bad in ({"status": "maybe"}, {"limit": "many"}, {"cursor": "!!"}, {"offset": -1},
                    {"offset": 10**20}, {"min_duration": "nan"}, {"max_duration": "inf"}, {"min_duration": -1}):
            r = c.get(f"{account.base}/traces", params=bad)
            assert r.status_code == 400, bad
            assert r.json()["error"]["details"][0]["field"] in bad


def test_pagination_by_cursor_and_offset(account: Account) -> None:
    spans = [span(new_trace_id(), start_ms=T0_MS + i * 10) for i in range(230)]
    spans += [span(new_trace_id(), start_ms=T0_MS + 500) for _ in range(3)]  # ties on start time
    with account.keyed() as c:
        _post(c, spans)
        everything = c.get(f"{account.base}/traces", params={"limit": 1000}).json()
        assert len(everything["traces"]) == 200 and everything["total"] == 233  # limit is capped at 200
        assert len(c.get(f"{account.base}/traces").json()["traces"]) == 50  # default page
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 40, **({"cursor": cursor} if cursor else {})}
            page = c.get(f"{account.base}/traces", params=params).json()
            seen += [t["id"] for t in page["traces"]]
            # New traces arriving meanwhile do not disturb a cursor walk.
            _post(c, [span(new_trace_id(), start_ms=T0_MS + 10_000)])
            if not page["has_more"]:
                break
            cursor = page["next_cursor"]
        starts = {s["trace_id"]: s["start_time"] for s in spans}
        assert sorted(seen) == sorted(starts) and len(seen) == len(set(seen))
        assert [starts[t] for t in seen] == sorted(starts.values(), reverse=True)
        by_offset = c.get(f"{account.base}/traces", params={"limit": 40, "offset": 40, "to": T0_MS + 2300}).json()
        assert [t["id"] for t in by_offset["traces"]] == seen[40:80]


def test_trace_detail_is_a_depth_first_waterfall(account: Account) -> None:
    tid = new_trace_id()
    spans = [
        span(tid, span_id="root", name="root", start_ms=T0_MS, duration_ms=100),
        span(tid, span_id="b", parent="root", name="b", start_ms=T0_MS + 50, duration_ms=10),
        span(tid, span_id="a", parent="root", name="a", start_ms=T0_MS + 10, duration_ms=30),
        span(tid, span_id="a2", parent="a", name="a2", start_ms=T0_MS + 20, duration_ms=5),
        span(tid, span_id="a1", parent="a", name="a1", start_ms=T0_MS + 12, duration_ms=5),
        span(tid, span_id="orphan", parent="never-arrived", name="orphan", start_ms=T0_MS + 70, duration_ms=1),
        span(tid, span_id="b1", parent="b", name="b1", start_ms=T0_MS + 51, duration_ms=0.001),
    ]
    with account.keyed() as c:
        _post(c, spans[3:])  # children first, as exporters often send them
        _post(c, spans[:3])
        body = c.get(f"{account.base}/traces/{tid}").json()
        assert c.get(f"{account.base}/traces/{new_trace_id()}").status_code == 404
    assert [(s["id"], s["depth"]) for s in body["spans"]] == [
        ("root", 0), ("a", 1), ("a1", 2), ("a2", 2), ("b", 1), ("b1", 2), ("orphan", 0)]
    assert [s["offset_ms"] for s in body["spans"]] == [0.0, 10.0, 12.0, 20.0, 50.0, 51.0, 70.0]
    assert 0.0009 < body["spans"][5]["duration_ms"] < 0.0011  # sub-ms kept (within a float ms timestamp's precision)
    assert (body["trace"]["root_span_id"], body["trace"]["name"], body["trace"]["span_count"]) == ("root", "root", 7)


def test_service_map_counts_every_span_with_true_percentiles(account: Account) -> None:
    api_durations = [float(d) for d in range(1, 101)]
    spans = []
    for d in api_durations:
        tid = new_trace_id()
        root = span(tid, service="web", start_ms=T0_MS, duration_ms=d + 5)
        spans += [root, span(tid, parent=root["span_id"], service="api", start_ms=T0_MS + 1, duration_ms=d,
                             status="error" if d > 90 else "ok")]
    window = {"from": T0_MS - 60_000, "to": T0_MS + 60_000}
    with account.keyed() as c:
        _post(c, spans)
        smap = c.get(f"{account.base}/traces/service-map", params=window).json()
        assert c.get(f"{account.base}/traces/service-map", params={"from": T0_MS + 120_000,
                                                                    "to": T0_MS + 180_000}).json()["services"] == []
        assert c.get(f"{account.base}/traces/service-map", params={"from": 2, "to": 1}).status_code == 400
    api = next(s for s in smap["services"] if s["service"] == "api")
    assert (api["request_count"], api["error_count"]) == (100, 10)
    # Nearest rank over 1..100 ms: p50 = 50, p95 = 95, p99 = 99 (the original's AVG would give 50.5, MAX 100).
    for key, truth in (("p50_ms", 50), ("p95_ms", 95), ("p99_ms", 99)):
        assert abs(api[key] - truth) <= 0.01 * truth
    assert (smap["from"], smap["to"]) == (window["from"], window["to"])
    assert smap["edges"] == []  # edges are counted when the traces are decided (see test_sampling)


def test_keys_see_only_their_project_and_deleting_a_project_removes_its_traces(account: Account) -> None:
    tid, spans = trace_tree()
    other = account.client.post(f"/api/orgs/{account.org}/projects", json={"name": "Other"}).json()
    other_base = f"/api/orgs/{account.org}/projects/{other['slug']}"
    other_key = account.client.post(f"{other_base}/settings/api-keys", json={"name": "k"}).json()["key"]
    with account.server.key_client(other_key) as oc:
        _post(oc, spans)
        assert oc.get(f"{other_base}/traces/{tid}").status_code == 200
        assert oc.get(f"{account.base}/traces").status_code == 404
    with account.keyed() as c:
        assert c.get(f"{account.base}/traces/{tid}").status_code == 404
        assert c.get(f"{other_base}/traces/{tid}").status_code == 404
    assert account.client.get(f"{other_base}/traces").json()["total"] == 1
    r = account.client.delete(other_base)
    assert r.status_code == 200, r.text
    again = account.client.post(f"/api/orgs/{account.org}/projects", json={"name": "Other"}).json()
    assert again["slug"] == other["slug"]
    assert account.client.get(f"{other_base}/traces").json()["total"] == 0
    assert account.client.get(f"{other_base}/traces/service-map", params={"from": 0}).json()["services"] == []



def test_a_trace_path_that_names_no_trace_is_a_404(account: Account) -> None:
    with account.keyed() as c:
        for bad in (" ", "%20%20", "x" * 200, new_trace_id()):
            r = c.get(f"{account.base}/traces/{bad}")
            assert r.status_code == 404, (bad, r.text)
            assert r.json()["error"]["code"] == "not_found"


def test_logs_find_their_trace_whatever_the_case_of_the_id(account: Account) -> None:
    trace_id, spans = trace_tree(services=("web",), start_ms=T0_MS)
    with account.keyed() as c:
        _post(c, spans)
        r = c.post("/api/ingest", json={"events": [{"level": "info", "message": "upper", "trace_id": trace_id.upper(),
                                                    "span_id": "ABCDEF0123456789"}]})  # logged now
        assert r.status_code == 202, r.text
        for asked in (trace_id, trace_id.upper()):
            found = c.get(f"{account.base}/logs", params={"trace_id": asked}).json()["results"]
            assert [(e["message"], e["trace_id"], e["span_id"]) for e in found] == [
                ("upper", trace_id, "abcdef0123456789")]
