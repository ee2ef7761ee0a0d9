"""Arbitrary JSON to the account endpoints: always a success or a 4xx of the spec's shape, never a 500,
and a refused request changes nothing. One server per test function (not per example) keeps it fast."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support import PASSWORD, Account, register
from tests.test_accounts import MakeServer, member_client

JSON_SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-(2**80), max_value=2**80)
                | st.floats() | st.text(max_size=40))
JSON_VALUES = st.recursive(JSON_SCALARS, lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=12), children, max_size=4), max_leaves=12)
# Values that get past type checks often enough to reach the services' own rules.
PLAUSIBLE = (st.text(max_size=60) | st.emails() | st.sampled_from(["owner", "admin", "member", "", "   ", PASSWORD,
                                                                   "owner@example.com", "Default", "x" * 300])
             | st.text(alphabet=st.characters(codec="utf-8"), min_size=8, max_size=20))
ANY_VALUE = JSON_VALUES | PLAUSIBLE


def bodies(keys: list[str]) -> st.SearchStrategy[Any]:
    """Arbitrary JSON, or an object with some of the right keys (plus, sometimes, a stray one)."""
    shaped = st.fixed_dictionaries({}, optional={k: ANY_VALUE for k in [*keys, "unexpected"]})
    return JSON_VALUES | shaped | shaped.filter(lambda d: set(d) >= set(keys))


def encoded(body: Any) -> bytes:
    # allow_nan: NaN/Infinity are not JSON, which the server must refuse like any other bad body.
    return json.dumps(body, allow_nan=True).encode()


def check(r: httpx.Response) -> bool:
    """Assert success or a well-formed 4xx; True when the request was refused."""
    assert r.status_code < 500, r.text
    if r.status_code < 400:
        return False
    body = r.json()
    assert set(body) == {"error", "request_id"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["request_id"] == r.headers["x-request-id"]
    for detail in body["error"]["details"]:
        assert set(detail) == {"field", "message"}, body
    return True


def snapshot(owner: Account) -> tuple[Any, Any]:
    members = owner.client.get(f"/api/orgs/{owner.org}/members")
    projects = owner.client.get(f"/api/orgs/{owner.org}/projects")
    assert members.status_code == 200 and projects.status_code == 200
    return members.json(), projects.json()


def fuzz(owner: Account, send: Callable[[bytes], httpx.Response], body: Any) -> None:
    before = snapshot(owner)
    if check(send(encoded(body))):
        assert snapshot(owner) == before, body


def post(client: httpx.Client, path: str) -> Callable[[bytes], httpx.Response]:
    return lambda data: client.post(path, content=data, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("open_registration", [False, True])
def test_register_never_500s(make_server: MakeServer, open_registration: bool) -> None:
    # With open registration, valid-looking bodies go all the way to the database.
    server = make_server(auth={"open_registration": open_registration})
    owner = register(server)
    client = server.client()

    @given(bodies(["email", "password", "name", "orgName"]))
    def run(body: Any) -> None:
        fuzz(owner, post(client, "/api/auth/register"), body)

    run()


def test_login_never_500s(make_server: MakeServer) -> None:
    server = make_server(auth={"login_max_failures": 1_000_000})
    owner = register(server)
    client = server.client()

    @given(bodies(["email", "password"]))
    def run(body: Any) -> None:
        fuzz(owner, post(client, "/api/auth/login"), body)

    run()


def test_invite_never_500s(make_server: MakeServer) -> None:
    owner = register(make_server())

    @given(bodies(["email", "name", "role"]))
    def run(body: Any) -> None:
        fuzz(owner, post(owner.client, f"/api/orgs/{owner.org}/members/invite"), body)

    run()


def test_project_create_never_500s(make_server: MakeServer) -> None:
    owner = register(make_server())

    @given(bodies(["name"]))
    def run(body: Any) -> None:
        fuzz(owner, post(owner.client, f"/api/orgs/{owner.org}/projects"), body)

    run()


def test_project_rename_never_500s(make_server: MakeServer) -> None:
    owner = register(make_server())

    @given(bodies(["name"]), st.sampled_from(["PATCH", "PUT"]))
    def run(body: Any, method: str) -> None:
        fuzz(owner, lambda data: owner.client.request(method, owner.base, content=data,
                                                      headers={"Content-Type": "application/json"}), body)

    run()


def test_member_update_never_500s(make_server: MakeServer) -> None:
    owner = register(make_server())
    _, member_id = member_client(owner, "member@example.com", "member")

    @given(bodies(["role"]), st.sampled_from([member_id, owner.user_id, "no-such-user"]))
    def run(body: Any, user_id: str) -> None:
        path = f"/api/orgs/{owner.org}/members/{user_id}"
        fuzz(owner, lambda data: owner.client.patch(path, content=data,
                                                    headers={"Content-Type": "application/json"}), body)

    run()
