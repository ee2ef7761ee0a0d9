"""GET {P}/ws/tail: each auth method, filters, batches per commit, refusals."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.support import Account, LiveServer, register, wait_for
from tests.tail.support import events, ingest, ws_url


def recv_events(ws: ClientConnection) -> list[dict[str, object]]:
    message = json.loads(ws.recv(timeout=10))
    assert isinstance(message, list), message
    return message


def test_bearer_header_receives_each_commit_as_one_array(account: Account) -> None:
    with connect(ws_url(account), additional_headers={"Authorization": f"Bearer {account.api_key}"}) as ws:
        ingest(account, events(3))
        ingest(account, events(2, start=3))
        first, second = recv_events(ws), recv_events(ws)
    assert [e["message"] for e in first] == ["event 0", "event 1", "event 2"]
    assert [e["message"] for e in second] == ["event 3", "event 4"]
    assert set(first[0]) >= {"id", "timestamp", "level", "type", "message", "service", "metadata"}


def test_query_token(account: Account) -> None:
    with connect(ws_url(account, token=account.api_key)) as ws:
        ingest(account, events(1))
        assert recv_events(ws)[0]["message"] == "event 0"


def test_session_cookie_with_our_origin(account: Account) -> None:
    cookie = f"sw_session={account.client.cookies['sw_session']}"
    with connect(ws_url(account), additional_headers={"Cookie": cookie, "Origin": account.server.url}) as ws:
        ingest(account, events(1))
        assert recv_events(ws)[0]["message"] == "event 0"


def test_cookie_from_another_site_is_refused(account: Account) -> None:
    cookie = f"sw_session={account.client.cookies['sw_session']}"
    for headers in ({"Cookie": cookie, "Origin": "https://evil.example"}, {"Cookie": cookie}):
        with pytest.raises(InvalidStatus) as info, connect(ws_url(account), additional_headers=headers):
            pass
        assert info.value.response.status_code == 403
        assert json.loads(info.value.response.body)["error"]["code"] == "forbidden"


def test_missing_bad_and_foreign_credentials(account: Account) -> None:
    with pytest.raises(InvalidStatus) as info, connect(ws_url(account)):
        pass
    assert info.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as info, connect(ws_url(account, token="sw_nope")):
        pass
    assert info.value.response.status_code == 401
    other = account.client.post(f"/api/orgs/{account.org}/projects", json={"name": "Other"}).json()["slug"]
    url = ws_url(account, token=account.api_key).replace(f"/projects/{account.project}/", f"/projects/{other}/")
    with pytest.raises(InvalidStatus) as info, connect(url):
        pass
    assert info.value.response.status_code == 404


def test_invalid_filter_is_a_400(account: Account) -> None:
    with pytest.raises(InvalidStatus) as info, connect(ws_url(account, token=account.api_key, level="loud")):
        pass
    assert info.value.response.status_code == 400
    assert json.loads(info.value.response.body)["error"]["details"][0]["field"] == "level"


def test_filters(account: Account) -> None:
    mixed = [
        {"level": "error", "message": "Payment FAILED for order 7", "service": "billing", "environment": "prod"},
        {"level": "error", "message": "payment failed again", "service": "billing", "environment": "staging"},
        {"level": "info", "message": "payment failed (info)", "service": "billing", "environment": "prod",
         "type": "api_call"},
        {"level": "error", "message": "disk full", "service": "storage", "environment": "prod"},
    ]
    cases = {
        "level": ({"level": "error,warn"}, [0, 1, 3]),
        "service": ({"service": "billing"}, [0, 1, 2]),
        "environment": ({"environment": "prod"}, [0, 2, 3]),
        "type": ({"type": "api_call"}, [2]),
        "q": ({"q": "PAYMENT failed"}, [0, 1, 2]),
        "all": ({"level": "error", "service": "billing", "environment": "prod", "q": "failed"}, [0]),
    }
    with contextlib.ExitStack() as stack:
        sockets = {name: stack.enter_context(connect(ws_url(account, token=account.api_key, **params)))
                   for name, (params, _) in cases.items()}
        ingest(account, mixed)
        for name, (_, expected) in cases.items():
            got = recv_events(sockets[name])
            assert [e["message"] for e in got] == [mixed[i]["message"] for i in expected], name


def test_two_projects_do_not_mix(server: LiveServer, account: Account) -> None:
    c = account.client
    slug = c.post(f"/api/orgs/{account.org}/projects", json={"name": "Second"}).json()["slug"]
    key = c.post(f"/api/orgs/{account.org}/projects/{slug}/settings/api-keys", json={"name": "k"}).json()["key"]
    with connect(ws_url(account, token=account.api_key)) as ws:
        with server.key_client(key) as k2:
            assert k2.post("/api/ingest", json={"events": events(1, service="second")}).status_code == 202
        ingest(account, events(1, service="first"))
        assert [e["service"] for e in recv_events(ws)] == ["first"]


def test_an_ingest_only_key_is_refused(account: Account) -> None:
    key = account.client.post(account.base + "/settings/api-keys", json={"name": "app", "scope": "ingest"}).json()
    with pytest.raises(InvalidStatus) as info, connect(ws_url(account, token=key["key"])):
        pass
    assert info.value.response.status_code == 403


def test_a_closed_socket_releases_its_subscription(account: Account) -> None:
    hub = account.server.runtime.hub
    with connect(ws_url(account, token=account.api_key)):
        wait_for(lambda: hub.subscriber_count() == 1, message="subscribed")
    wait_for(lambda: hub.subscriber_count() == 0, message="the subscription to end")


def test_revoking_the_key_closes_the_socket(make_server: Callable[..., LiveServer]) -> None:
    server = make_server(tail={"heartbeat_seconds": 0.2})
    account = register(server)
    key = account.client.post(account.base + "/settings/api-keys", json={"name": "tv", "scope": "read"}).json()
    with connect(ws_url(account, token=key["key"])) as ws:
        ingest(account, events(1))
        assert recv_events(ws)[0]["message"] == "event 0"
        assert account.client.delete(account.base + f"/settings/api-keys/{key['id']}").status_code in (200, 204)
        ingest(account, events(1, start=1))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
