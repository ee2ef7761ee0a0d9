"""Register, login, logout, me, session expiry, same-origin checks and login throttling, over HTTP.

Helpers shared with the other test_accounts_*.py files live here too (invite, member_client, ...).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from scrywatch.clock import FakeClock
from scrywatch.models.accounts import Scope
from scrywatch.web import auth as web_auth
from tests.support import PASSWORD, Account, LiveServer, login, register

KEY_RE = re.compile(r"^sw_[0-9A-Za-z]{43}$")
MakeServer = Callable[..., LiveServer]


# -- helpers shared by the account tests -------------------------------------------------------
def assert_error(r: httpx.Response, status: int, code: str, *, field: str | None = None) -> dict[str, Any]:
    """The response is the spec's error shape with this status/code (and names `field`, if given)."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error", "request_id"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["request_id"] == r.headers["x-request-id"]
    if field is not None:
        assert field in [d["field"] for d in body["error"]["details"]], body
    return body  # type: ignore[no-any-return]


def invite(owner: Account, email: str, *, role: str = "member", name: str = "Invited") -> tuple[str, str | None]:
    """Invite someone into the owner's org; (user_id, temp_password)."""
    r = owner.client.post(f"/api/orgs/{owner.org}/members/invite", json={"email": email, "name": name, "role": role})
    assert r.status_code == 201, r.text
    return r.json()["user_id"], r.json()["temp_password"]


def member_client(owner: Account, email: str, role: str) -> tuple[httpx.Client, str]:
    """A signed-in client of a new member of the owner's org with `role`; (client, user_id)."""
    user_id, temp = invite(owner, email, role=role)
    assert temp is not None
    return login(owner.server, email, temp), user_id


def without_origin(server: LiveServer, client: httpx.Client, **headers: str) -> httpx.Client:
    """A client with the same cookies but no Origin header (plus any headers given)."""
    return httpx.Client(base_url=server.url, cookies=client.cookies, headers=headers, timeout=30)


def add_probe_routes(server: LiveServer) -> None:
    """Routes inside this test only, guarded by the real `web.auth.project` check for each scope.

    No project-scoped endpoint that accepts API keys exists yet in the core platform, so the key scopes
    and the same-origin rule are exercised through the same dependency the data endpoints will use.
    """

    async def read(request: Request) -> JSONResponse:
        access = await web_auth.project(request, Scope.READ)
        return JSONResponse({"project": access.project.slug})

    async def ingest(request: Request) -> JSONResponse:
        access = await web_auth.project(request, Scope.INGEST)
        return JSONResponse({"project": access.project.slug})

    server.app.router.routes.extend([
        Route("/api/test-probe/{org}/{project}/read", read, methods=["GET"]),
        Route("/api/test-probe/{org}/{project}/ingest", ingest, methods=["POST"]),
    ])


def enable_registration(make_server: MakeServer, **kwargs: Any) -> LiveServer:
    return make_server(auth={"open_registration": True}, **kwargs)


# -- register ----------------------------------------------------------------------------------
def test_first_user_registers_with_the_spec_shape(server: LiveServer) -> None:
    with server.client() as c:
        r = c.post("/api/auth/register", json={"email": "Owner@Example.com", "password": PASSWORD,
                                               "name": "Olive", "orgName": "Acme Corp"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"success", "user", "org", "project", "apiKey"}
    assert body["success"] is True
    assert set(body["user"]) == {"id", "email", "name"}
    assert body["user"]["email"] == "owner@example.com" and body["user"]["name"] == "Olive"
    assert set(body["org"]) == {"id", "name", "slug"}
    assert body["org"]["name"] == "Acme Corp" and body["org"]["slug"] == "acme-corp"
    assert body["project"] == {"id": body["project"]["id"], "name": "Default", "slug": "default"}
    assert KEY_RE.match(body["apiKey"])
    assert r.headers["x-request-id"].startswith("req_")


def test_register_sets_an_httponly_lax_session_cookie(server: LiveServer) -> None:
    with server.client() as c:
        r = c.post("/api/auth/register", json={"email": "a@example.com", "password": PASSWORD, "name": "A"})
        assert r.status_code == 201, r.text
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("sw_session=")
        attrs = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")[1:]}
        assert "httponly" in attrs
        assert attrs["samesite"].strip().lower() == "samesite=lax"
        assert attrs["path"].strip() == "Path=/"
        assert c.get("/api/auth/me").json()["user"]["email"] == "a@example.com"  # signed in already


def test_registration_closes_after_the_first_user(server: LiveServer, account: Account) -> None:
    with server.client() as c:
        r = c.post("/api/auth/register", json={"email": "second@example.com", "password": PASSWORD,
                                               "name": "Second", "orgName": "Other"})
    assert_error(r, 403, "forbidden")
    assert "sw_session" not in r.headers.get("set-cookie", "")
    # Nothing was created: the second person cannot sign in.
    with server.client() as c:
        r = c.post("/api/auth/login", json={"email": "second@example.com", "password": PASSWORD})
    assert_error(r, 401, "unauthorized")


def test_open_registration_lets_more_people_register(make_server: MakeServer) -> None:
    server = enable_registration(make_server)
    first = register(server, email="one@example.com", org="Acme")
    second = register(server, email="two@example.com", org="Acme")
    assert first.org == "acme" and second.org == "acme-2"  # org slugs stay unique
    with server.client() as c:
        r = c.post("/api/auth/register", json={"email": "TWO@example.com", "password": PASSWORD, "name": "Dup"})
    assert_error(r, 409, "conflict", field="email")


def test_concurrent_first_registrations_make_exactly_one_first_user(server: LiveServer) -> None:
    def attempt(i: int) -> int:
        with server.client() as c:
            return c.post("/api/auth/register", json={"email": f"u{i}@example.com", "password": PASSWORD,
                                                      "name": f"U{i}", "orgName": f"Org {i}"}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(attempt, range(8)))
    assert statuses == [201] + [403] * 7


def test_concurrent_open_registrations_of_one_org_name_all_succeed(make_server: MakeServer) -> None:
    server = enable_registration(make_server)

    def attempt(i: int) -> httpx.Response:
        with server.client() as c:
            return c.post("/api/auth/register", json={"email": f"u{i}@example.com", "password": PASSWORD,
                                                      "name": f"U{i}", "orgName": "Acme"})

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(attempt, range(6)))
    assert [r.status_code for r in results] == [201] * 6, [r.text for r in results]
    slugs = sorted(r.json()["org"]["slug"] for r in results)
    assert slugs == sorted(["acme", "acme-2", "acme-3", "acme-4", "acme-5", "acme-6"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@example.com", "password": "short", "name": "A"}, "password"),
        ({"email": "a@example.com", "password": PASSWORD, "name": "A", "colour": "red"}, "colour"),
        ({"email": "not-an-email", "password": PASSWORD, "name": "A"}, "email"),
        ({"email": "a@example.com", "password": PASSWORD}, "name"),
        ({"email": "a@example.com", "password": PASSWORD, "name": "   "}, "name"),
        ({"email": "a@example.com", "password": PASSWORD, "name": 5}, "name"),
    ],
)
def test_register_rejects_bad_bodies_naming_the_field(server: LiveServer, body: dict[str, Any], field: str) -> None:
    with server.client() as c:
        r = c.post("/api/auth/register", json=body)
        assert_error(r, 400, "validation_error", field=field)
        # A refused first registration leaves the bootstrap open.
        ok = c.post("/api/auth/register", json={"email": "a@example.com", "password": PASSWORD, "name": "A"})
    assert ok.status_code == 201, ok.text


# -- login, logout, me -------------------------------------------------------------------------
def test_login_sets_cookie_and_me_lists_orgs_with_role_and_projects(server: LiveServer, account: Account) -> None:
    with server.client() as c:
        r = c.post("/api/auth/login", json={"email": " OWNER@example.com ", "password": PASSWORD})
        assert r.status_code == 200, r.text
        assert r.json() == {"success": True, "user": {"id": account.user_id, "email": "owner@example.com",
                                                      "name": "Olive Owner"}}
        assert "httponly" in r.headers["set-cookie"].lower()
        me = c.get("/api/auth/me")
    assert me.status_code == 200
    body = me.json()
    assert body["user"] == {"id": account.user_id, "email": "owner@example.com", "name": "Olive Owner"}
    [org] = body["orgs"]
    assert org["slug"] == "acme" and org["name"] == "Acme" and org["role"] == "owner"
    assert [p["slug"] for p in org["projects"]] == ["default"]
    assert set(org["projects"][0]) == {"id", "name", "slug"}


def test_wrong_password_and_unknown_email_get_the_same_401(server: LiveServer, account: Account) -> None:
    with server.client() as c:
        wrong = c.post("/api/auth/login", json={"email": account.email, "password": "not the password"})
        unknown = c.post("/api/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})
    a = assert_error(wrong, 401, "unauthorized")
    b = assert_error(unknown, 401, "unauthorized")
    assert a["error"]["message"] == b["error"]["message"]
    assert a["error"]["details"] == b["error"]["details"]
    assert "set-cookie" not in wrong.headers


def test_me_with_an_api_key_names_its_org_and_project(account: Account) -> None:
    with account.keyed() as k:
        r = k.get("/api/auth/me")
    assert r.status_code == 200, r.text
    body = r.json()
    [org] = body["orgs"]
    assert org["slug"] == "acme"
    assert [p["slug"] for p in org["projects"]] == ["default"]


def test_me_without_credentials_or_with_a_bad_key_is_401(server: LiveServer) -> None:
    with server.client() as c:
        assert_error(c.get("/api/auth/me"), 401, "unauthorized")
    with server.key_client("sw_" + "A" * 43) as k:
        assert_error(k.get("/api/auth/me"), 401, "unauthorized")
    with server.client(headers={"Authorization": "Basic Zm9vOmJhcg=="}) as c:
        assert_error(c.get("/api/auth/me"), 401, "unauthorized")


def test_logout_ends_the_session_server_side(server: LiveServer, account: Account) -> None:
    token = account.client.cookies["sw_session"]
    r = account.client.post("/api/auth/logout")
    assert r.status_code == 200, r.text
    assert "sw_session=" in r.headers["set-cookie"]  # cleared in the browser ...
    with server.client(cookies={"sw_session": token}) as c:  # ... and refused if replayed
        assert_error(c.get("/api/auth/me"), 401, "unauthorized")
    assert_error(account.client.get("/api/auth/me"), 401, "unauthorized")
    # Other sessions and API keys are unaffected.
    with account.keyed() as k:
        assert k.get("/api/auth/me").status_code == 200


def test_logout_without_a_session_is_401(server: LiveServer) -> None:
    with server.client() as c:
        assert_error(c.post("/api/auth/logout"), 401, "unauthorized")


def test_session_expires_after_session_hours(make_server: MakeServer) -> None:
    clock = FakeClock()
    server = make_server(clock=clock)
    account = register(server)
    clock.advance(hours=23)
    assert account.client.get("/api/auth/me").status_code == 200
    clock.advance(hours=2)
    assert_error(account.client.get("/api/auth/me"), 401, "unauthorized")
    with account.keyed() as k:  # keys do not expire
        assert k.get("/api/auth/me").status_code == 200
    fresh = login(server, account.email, PASSWORD)
    assert fresh.get("/api/auth/me").status_code == 200


def test_session_lifetime_follows_the_config(make_server: MakeServer) -> None:
    clock = FakeClock()
    server = make_server(clock=clock, auth={"session_hours": 1})
    account = register(server)
    assert "max-age=3600" in account.client.post(
        "/api/auth/login", json={"email": account.email, "password": PASSWORD}).headers["set-cookie"].lower()
    clock.advance(hours=1.01)
    assert_error(account.client.get("/api/auth/me"), 401, "unauthorized")


# -- secrets at rest and in logs ---------------------------------------------------------------
def test_keys_sessions_and_passwords_are_stored_only_as_digests(server: LiveServer, account: Account) -> None:
    token = account.client.cookies["sw_session"]
    with account.keyed() as k:
        assert k.get("/api/auth/me").status_code == 200
    stored = b"".join(p.read_bytes() for p in server.data_dir.glob("scrywatch.db*"))
    for secret in (account.api_key, token, PASSWORD):
        assert secret.encode() not in stored, secret
    for secret in (account.api_key, token):
        assert hashlib.sha256(secret.encode()).hexdigest().encode() in stored


def test_no_password_key_or_cookie_is_logged(server: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    account = register(server)
    token = account.client.cookies["sw_session"]
    with server.client() as c:
        c.post("/api/auth/login", json={"email": account.email, "password": "the wrong password"})
        c.post("/api/auth/login", json={"email": account.email, "password": PASSWORD})
    with account.keyed() as k:
        k.get("/api/auth/me")
        k.get(f"/api/auth/me?token={account.api_key}")
    account.client.post("/api/auth/logout")
    # The server's records only: the test's own HTTP client logs its URLs.
    server_log = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records
                           if r.name.startswith(("scrywatch", "uvicorn", "starlette")))
    assert "/api/auth/me" in server_log  # the access log did see these requests
    for secret in (account.api_key, token, PASSWORD, "the wrong password"):
        assert secret not in server_log


# -- same-origin check on cookie-authenticated writes ------------------------------------------
def test_cookie_writes_without_origin_or_referer_are_refused(server: LiveServer, account: Account) -> None:
    with without_origin(server, account.client) as bare:
        assert bare.get("/api/auth/me").status_code == 200  # reads need no Origin
        assert_error(bare.post(f"/api/orgs/{account.org}/projects", json={"name": "Evil"}), 403, "forbidden")
        assert_error(bare.patch(f"{account.base}/settings/profile", json={"name": "Evil"}), 403, "forbidden")
        assert_error(bare.put(f"{account.base}/settings/profile", json={"name": "Evil"}), 403, "forbidden")
        assert_error(bare.delete(f"/api/orgs/{account.org}/projects/default"), 403, "forbidden")
        assert_error(bare.post("/api/auth/logout"), 403, "forbidden")
    projects = account.client.get(f"/api/orgs/{account.org}/projects").json()["projects"]
    assert [p["slug"] for p in projects] == ["default"]
    assert account.client.get("/api/auth/me").json()["user"]["name"] == "Olive Owner"


def test_cookie_writes_from_a_foreign_origin_are_refused(server: LiveServer, account: Account) -> None:
    with without_origin(server, account.client, Origin="https://evil.example") as evil:
        assert_error(evil.post(f"/api/orgs/{account.org}/projects", json={"name": "Evil"}), 403, "forbidden")
    with without_origin(server, account.client, Referer="https://evil.example/page") as evil:
        assert_error(evil.post(f"/api/orgs/{account.org}/projects", json={"name": "Evil"}), 403, "forbidden")
    # A foreign Origin wins over a same-origin Referer.
    with without_origin(server, account.client, Origin="https://evil.example", Referer=server.url + "/") as evil:
        assert_error(evil.post(f"/api/orgs/{account.org}/projects", json={"name": "Evil"}), 403, "forbidden")
    # Login CSRF: a foreign page cannot sign a visitor in.
    with server.client(headers={"Origin": "https://evil.example"}) as evil:
        r = evil.post("/api/auth/login", json={"email": account.email, "password": PASSWORD})
    assert_error(r, 403, "forbidden")


def test_cookie_write_with_same_origin_referer_only_is_allowed(server: LiveServer, account: Account) -> None:
    with without_origin(server, account.client, Referer=f"{server.url}/settings?tab=projects") as same:
        r = same.post(f"/api/orgs/{account.org}/projects", json={"name": "From Referer"})
    assert r.status_code == 201, r.text


def test_api_key_requests_need_no_origin(server: LiveServer, account: Account) -> None:
    add_probe_routes(server)
    with account.keyed() as k:
        r = k.post(f"/api/test-probe/{account.org}/{account.project}/ingest")
        assert r.status_code == 200, r.text
    with server.key_client(account.api_key, headers={"Origin": "https://sdk-in-a-browser.example"}) as k:
        assert k.post(f"/api/test-probe/{account.org}/{account.project}/ingest").status_code == 200
    # The same write with only the cookie and no Origin is refused.
    with without_origin(server, account.client) as bare:
        assert_error(bare.post(f"/api/test-probe/{account.org}/{account.project}/ingest"), 403, "forbidden")


# -- login throttling --------------------------------------------------------------------------
def test_ten_failures_for_one_email_throttle_it_until_the_window_passes(make_server: MakeServer) -> None:
    clock = FakeClock()
    server = make_server(clock=clock)
    account = register(server)
    with server.client() as c:
        for _ in range(10):
            assert_error(c.post("/api/auth/login", json={"email": account.email, "password": "wrong pass"}),
                         401, "unauthorized")
        r = c.post("/api/auth/login", json={"email": account.email, "password": PASSWORD})
        assert_error(r, 429, "rate_limited")  # even the right password waits
        assert 0 < int(r.headers["retry-after"]) <= 15 * 60
        clock.advance(seconds=14 * 60)
        assert_error(c.post("/api/auth/login", json={"email": account.email, "password": PASSWORD}),
                     429, "rate_limited")
        clock.advance(seconds=61)
        r = c.post("/api/auth/login", json={"email": account.email, "password": PASSWORD})
    assert r.status_code == 200, r.text


def test_ten_failures_from_one_address_throttle_every_email(make_server: MakeServer) -> None:
    clock = FakeClock()
    server = make_server(clock=clock)
    account = register(server)
    with server.client() as c:
        for i in range(10):
            assert_error(c.post("/api/auth/login", json={"email": f"guess{i}@example.com", "password": "x"}),
                         401, "unauthorized")
        r = c.post("/api/auth/login", json={"email": account.email, "password": PASSWORD})
        assert_error(r, 429, "rate_limited")
        assert int(r.headers["retry-after"]) > 0
        clock.advance(seconds=15 * 60 + 1)
        assert c.post("/api/auth/login", json={"email": account.email, "password": PASSWORD}).status_code == 200


def test_a_successful_login_resets_the_email_count(make_server: MakeServer) -> None:
    server = make_server(auth={"login_max_failures": 3})
    account = register(server)
    with server.client() as c:
        for _ in range(2):
            c.post("/api/auth/login", json={"email": account.email, "password": "wrong pass"})
        assert c.post("/api/auth/login", json={"email": account.email, "password": PASSWORD}).status_code == 200
        r = c.post("/api/auth/login", json={"email": account.email, "password": "wrong pass"})
        assert_error(r, 401, "unauthorized")
