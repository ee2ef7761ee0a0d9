"""Bodies real clients (or attackers) send that once crashed the decoder: never a 500."""

from __future__ import annotations

from tests.support import Account


def _post(account: Account, body: bytes) -> tuple[int, dict]:  # type: ignore[type-arg]
    with account.keyed() as c:
        r = c.post("/api/ingest", content=body, headers={"Content-Type": "application/json"})
    return r.status_code, r.json()


def test_deeply_nested_body_is_a_400(account: Account) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    status, body = _post(account, b'{"events":[{"level":"info","message":"x","metadata":' + deep + b"}]}")
    assert status == 400
    assert body["error"]["details"][0]["field"] == "body"


def test_deeply_nested_body_on_a_json_endpoint_is_a_400(account: Account) -> None:
    r = account.client.post("/api/auth/login", content=b'{"email":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                            headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_invalid_utf8_in_a_message_keeps_the_event(account: Account) -> None:
    status, body = _post(account, b'{"events":[{"level":"info","message":"caf\xe9 \xff order"}]}')
    assert status == 202 and body["inserted"] == 1
    with account.keyed() as c:
        found = c.get(account.base + "/logs", params={"q": "order"}).json()["results"]
    assert found and "\ufffd" in found[0]["message"]


def test_lone_surrogate_from_javascript_keeps_the_batch(account: Account) -> None:
    # JSON.stringify("ok 😀".slice(0, 4)) writes a lone high surrogate escape.
    batch = b'{"events":[{"level":"info","message":"cut \\ud83d"},{"level":"warn","message":"whole \\ud83d\\ude00"}]}'
    status, body = _post(account, batch)
    assert status == 202 and body["inserted"] == 2
    with account.keyed() as c:
        messages = {e["message"] for e in c.get(account.base + "/logs").json()["results"]}
    assert messages == {"cut \ufffd", "whole \U0001f600"}
