"""GET /logs through the real server: every filter alone and combined, text search, pages, tenancy."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.logs.conftest import HOUR, T0, event, get_ok, ingest
from tests.logs.corpus import build_corpus, expected_ids
from tests.support import Account, LiveServer

CASES: list[dict[str, str]] = [
    {},
    {"level": "error"}, {"level": "error,warn"}, {"type": "crash"}, {"type": "api_call,cron,session"},
    {"service": "api"}, {"environment": "prod"}, {"device_type": "mobile"}, {"user_id": "u1"},
    {"session_id": "s2"}, {"trace_id": "t1"},
    {"exclude_level": "debug,info"}, {"exclude_type": "custom"}, {"exclude_service": "api,web"},
    {"exclude_environment": "prod"}, {"exclude_device_type": "server"},
    {"from": str(T0 + HOUR)}, {"to": str(T0 + HOUR)}, {"from": str(T0 + HOUR // 2), "to": str(T0 + 2 * HOUR)},
    {"q": "payment"}, {"q": "payment failed"}, {"q": "PAYMENT"}, {"q": "pay*"},
    {"level": "error,warn", "service": "api", "environment": "prod"},
    {"type": "api_call,crash", "exclude_level": "debug", "q": "order"},
    {"user_id": "u2", "session_id": "s1", "from": str(T0 + HOUR)},
    {"level": "info", "device_type": "desktop", "exclude_service": "worker", "to": str(T0 + 2 * HOUR)},
    {"trace_id": "t2", "exclude_environment": "staging", "q": "retry"},
    {"service": "web", "exclude_type": "crash,cron", "exclude_device_type": "mobile,tablet"},
]


@pytest.fixture
def corpus(account: Account, keyed: httpx.Client) -> list[dict[str, Any]]:
    events = build_corpus(150)
    assert ingest(keyed, events)["inserted"] == 150
    return events


def test_each_filter_alone_and_combined(account: Account, keyed: httpx.Client,
                                        corpus: list[dict[str, Any]]) -> None:
    for params in CASES:
        want = expected_ids(corpus, params)
        page = get_ok(keyed, account.base + "/logs", {**params, "limit": 200})
        assert [e["id"] for e in page["results"]] == want, params
        assert page["total"] == len(want) and page["total_exact"] is True, params
        assert want or params  # the corpus makes most cases non-empty
    assert sum(bool(expected_ids(corpus, p)) for p in CASES) >= len(CASES) - 2


def test_level_and_type_aliases_in_filters_and_bad_values(account: Account, keyed: httpx.Client,
                                                          corpus: list[dict[str, Any]]) -> None:
    warn = get_ok(keyed, account.base + "/logs", {"level": "WARNING", "limit": 200})
    assert [e["id"] for e in warn["results"]] == expected_ids(corpus, {"level": "warn"})
    for params, field in (({"level": "loud"}, "level"), ({"type": "banana"}, "type"), ({"limit": "x"}, "limit"),
                          ({"from": "soon"}, "from"), ({"from": str(T0 + 1), "to": str(T0)}, "from"),
                          ({"cursor": "garbage"}, "cursor"), ({"offset": "-1"}, "offset")):
        r = keyed.get(account.base + "/logs", params=params)
        assert r.status_code == 400, (params, r.text)
        assert r.json()["error"]["details"][0]["field"] == field


NASTY_Q = ['"', '""', '"unbalanced', 'a"b', "*", "**", "pay*", "-", "-payment", "^", "^payment", ":",
           "message:payment", "AND", "OR", "NOT", "NEAR", "NEAR(payment failed, 2)", "payment AND", "OR payment",
           "NOT payment", "(", ")", "(payment", "payment)", "{a b}", "a + b", "café", "日本語", "🙂", "\\", "'",
           "%", "_", "NULL", "\x00", "a\x00b", "payment*failed", '"payment" OR "failed"', "x" * 1000,
           "AND OR NOT", "*payment", "p*a*y", "\u200b", "ｐａｙｍｅｎｔ"]


def test_q_never_raises(account: Account, keyed: httpx.Client, corpus: list[dict[str, Any]]) -> None:
    ingest(keyed, [event(1, message="NOT OR AND NEAR are words here"), event(2, message="Ünïcödé café 日本語 ok")])
    for q in NASTY_Q:
        r = keyed.get(account.base + "/logs", params={"q": q})
        assert r.status_code == 200, (q, r.text)
        for path in ("/facets", "/patterns", "/stats"):
            assert keyed.get(account.base + path, params={"q": q}).status_code == 200, (path, q)
    found = get_ok(keyed, account.base + "/logs", {"q": "NEAR"})["results"]
    assert [e["message"] for e in found] == ["NOT OR AND NEAR are words here"]
    assert get_ok(keyed, account.base + "/logs", {"q": "cafe"})["total"] >= 1  # diacritics folded
    assert get_ok(keyed, account.base + "/logs", {"q": "Ünïcödé"})["total"] == 1


def test_phrases_and_prefixes(account: Account, keyed: httpx.Client) -> None:
    ingest(keyed, [event(1, message="payment failed for order 7"), event(2, message="failed payment retried"),
                   event(3, message="paymentgateway is down")])

    def hits(q: str) -> list[str]:
        return [e["message"] for e in get_ok(keyed, account.base + "/logs", {"q": q})["results"]]

    assert hits('"payment failed"') == ["payment failed for order 7"]
    assert hits("payment failed") == ["failed payment retried", "payment failed for order 7"]
    assert hits("pay*") == ["paymentgateway is down", "failed payment retried", "payment failed for order 7"]
    assert hits('"payment failed') == ["payment failed for order 7"]  # an unbalanced quote closes at the end
    assert hits("order") == ["payment failed for order 7"]


def _walk(client: httpx.Client, account: Account, params: dict[str, Any], *, mode: str,
          between: list[list[dict[str, Any]]]) -> list[str]:
    """Fetch every page, ingesting the next batch of `between` after each fetch."""
    seen: list[str] = []
    cursor: str | None = None
    offset = 0
    while True:
        extra = {"cursor": cursor} if mode == "cursor" and cursor else {"offset": offset}
        page = get_ok(client, account.base + "/logs", {**params, **extra, "limit": 17})
        seen += [e["id"] for e in page["results"]]
        offset += len(page["results"])
        cursor = page["next_cursor"]
        if between:
            ingest(client, between.pop(0))
        if not page["has_more"]:
            assert cursor is None
            return seen


@pytest.mark.parametrize("mode", ["cursor", "offset"])
@pytest.mark.parametrize("q", [None, "payment"])
def test_pages_neither_overlap_nor_skip_while_events_arrive(account: Account, keyed: httpx.Client,
                                                            corpus: list[dict[str, Any]], mode: str,
                                                            q: str | None) -> None:
    params: dict[str, Any] = {"q": q} if q else {}
    if mode == "offset":
        params["to"] = T0 + 3 * HOUR  # offset pages are stable once `to` is pinned (cursor pages always are)
    # Newer events (also matching q) keep arriving between page fetches.
    late = [[event(10_000 + 10 * b + k, id=f"n{b}-{k}", message=f"payment new {b} {k}", timestamp=T0 + 4 * HOUR + b)
             for k in range(5)] for b in range(20)]
    got = _walk(keyed, account, params, mode=mode, between=late)
    want = expected_ids(corpus, {k: str(v) for k, v in params.items()})
    assert len(got) == len(set(got))
    assert got == want


def test_a_cursor_from_a_time_query_is_refused_by_a_text_query(account: Account, keyed: httpx.Client,
                                                                corpus: list[dict[str, Any]]) -> None:
    cursor = get_ok(keyed, account.base + "/logs", {"limit": 5})["next_cursor"]
    r = keyed.get(account.base + "/logs", params={"q": "payment", "cursor": cursor})
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "cursor"


def test_a_key_of_project_a_cannot_read_project_b(server: LiveServer, account: Account) -> None:
    r = account.client.post(f"/api/orgs/{account.org}/projects", json={"name": "Other"})
    assert r.status_code == 201
    base_b = f"/api/orgs/{account.org}/projects/{r.json()['slug']}"
    key_b = account.client.post(base_b + "/settings/api-keys", json={"name": "b"}).json()["key"]
    with server.key_client(key_b) as b, account.keyed() as a:
        ingest(b, [event(1, id="secret-b", message="only in b")])
        ingest(a, [event(2, message="only in a")])
        for path in ("/logs", "/logs/secret-b", "/facets", "/patterns", "/stats", "/sessions", "/services",
                     "/device-types", "/environments", "/lenses"):
            r = a.get(base_b + path)
            assert r.status_code == 404, (path, r.text)
            assert r.json()["error"]["code"] == "not_found"
        assert a.post(base_b + "/lenses", json={"name": "x"}).status_code == 404
        assert a.post(base_b + "/settings/purge-logs").status_code == 404
        assert a.get(account.base + "/logs/secret-b").status_code == 404
        assert [e["message"] for e in get_ok(a, account.base + "/logs")["results"]] == ["only in a"]
        assert get_ok(b, base_b + "/logs")["total"] == 1
