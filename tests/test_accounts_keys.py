"""API keys (shown once, masked, last use, revocation, scopes) and tenant isolation, over HTTP."""

from __future__ import annotations

import httpx
import pytest

from tests.support import Account, register, wait_for
from tests.test_accounts import KEY_RE, MakeServer, add_probe_routes, assert_error, enable_registration


def create_key(account: Account, *, project: str | None = None, name: str = "ci", scope: str | None = None) -> str:
    base = f"/api/orgs/{account.org}/projects/{project or account.project}"
    body = {"name": name} if scope is None else {"name": name, "scope": scope}
    r = account.client.post(f"{base}/settings/api-keys", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


def list_keys(account: Account, *, project: str | None = None) -> httpx.Response:
    r = account.client.get(f"/api/orgs/{account.org}/projects/{project or account.project}/settings/api-keys")
    assert r.status_code == 200, r.text
    return r


def add_project(account: Account, name: str) -> str:
    r = account.client.post(f"/api/orgs/{account.org}/projects", json={"name": name})
    assert r.status_code == 201, r.text
    return str(r.json()["slug"])


def test_a_new_key_is_shown_once_and_listed_masked(account: Account) -> None:
    r = account.client.post(f"{account.base}/settings/api-keys", json={"name": "deploy bot", "scope": "read"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert {"id", "key", "name", "scope"} <= set(created)
    assert created["name"] == "deploy bot" and created["scope"] == "read"
    assert KEY_RE.match(created["key"])
    listing = list_keys(account)
    for secret in (created["key"], account.api_key):
        assert secret not in listing.text
        assert secret[3:] not in listing.text
    by_id = {k["id"]: k for k in listing.json()["keys"]}
    entry = by_id[created["id"]]
    assert entry["prefix"] == created["key"][:7] and entry["prefix"].startswith("sw_")
    assert entry["name"] == "deploy bot" and entry["scope"] == "read"
    assert isinstance(entry["created_at"], int) and entry["last_used_at"] is None
    assert "key" not in entry and "key_hash" not in entry
    assert len(by_id) == 2  # the first key from registration and this one
    with account.server.key_client(created["key"]) as k:
        assert k.get("/api/auth/me").status_code == 200


def test_key_defaults_to_full_scope(account: Account) -> None:
    r = account.client.post(f"{account.base}/settings/api-keys", json={})
    assert r.status_code == 201, r.text
    assert r.json()["scope"] == "full"


@pytest.mark.parametrize(("body", "field"), [({"scope": "admin"}, "scope"), ({"name": "k", "extra": 1}, "extra"),
                                             ({"name": ""}, "name")])
def test_key_create_rejects_bad_bodies(account: Account, body: dict[str, object], field: str) -> None:
    assert_error(account.client.post(f"{account.base}/settings/api-keys", json=body), 400, "validation_error",
                 field=field)


def test_last_used_at_is_recorded_after_use(account: Account) -> None:
    secret = create_key(account, name="used")
    with account.server.key_client(secret) as k:
        assert k.get("/api/auth/me").status_code == 200

    def used() -> int | None:
        keys = {k["prefix"]: k for k in list_keys(account).json()["keys"]}
        return keys[secret[:7]]["last_used_at"]  # type: ignore[no-any-return]

    assert wait_for(used, message="last_used_at") > 0


def test_a_revoked_key_is_refused_at_once(account: Account) -> None:
    secret = create_key(account, name="short-lived")
    key_id = next(k["id"] for k in list_keys(account).json()["keys"] if k["prefix"] == secret[:7])
    with account.server.key_client(secret) as k:
        assert k.get("/api/auth/me").status_code == 200  # now cached in the server
        r = account.client.delete(f"{account.base}/settings/api-keys/{key_id}")
        assert r.status_code == 200, r.text
        assert_error(k.get("/api/auth/me"), 401, "unauthorized")
    assert key_id not in [k["id"] for k in list_keys(account).json()["keys"]]
    assert_error(account.client.delete(f"{account.base}/settings/api-keys/{key_id}"), 404, "not_found")
    with account.keyed() as k:  # the other key still works
        assert k.get("/api/auth/me").status_code == 200


def test_key_of_another_project_cannot_be_revoked_through_this_one(account: Account) -> None:
    other = add_project(account, "Other")
    secret = create_key(account, project=other)
    key_id = next(k["id"] for k in list_keys(account, project=other).json()["keys"] if k["prefix"] == secret[:7])
    assert_error(account.client.delete(f"{account.base}/settings/api-keys/{key_id}"), 404, "not_found")
    with account.server.key_client(secret) as k:
        assert k.get("/api/auth/me").status_code == 200


@pytest.mark.parametrize(("scope", "can_read", "can_ingest"),
                         [("full", True, True), ("read", True, False), ("ingest", False, True)])
def test_key_scopes(account: Account, scope: str, can_read: bool, can_ingest: bool) -> None:
    add_probe_routes(account.server)
    secret = create_key(account, scope=scope)
    path = f"/api/test-probe/{account.org}/{account.project}"
    with account.server.key_client(secret) as k:
        read, ingest = k.get(f"{path}/read"), k.post(f"{path}/ingest")
    if can_read:
        assert read.status_code == 200, read.text
    else:
        assert_error(read, 403, "forbidden")
    if can_ingest:
        assert ingest.status_code == 200, ingest.text
    else:
        assert_error(ingest, 403, "forbidden")


def test_a_key_on_another_projects_path_gets_404(make_server: MakeServer) -> None:
    server = enable_registration(make_server)
    add_probe_routes(server)
    a = register(server, email="a@example.com", org="Alpha")
    b = register(server, email="b@example.com", org="Beta")
    second = add_project(a, "Second")
    second_key = create_key(a, project=second)
    cases = [
        (a.api_key, f"/api/test-probe/alpha/{second}/read"),  # same org, other project
        (second_key, "/api/test-probe/alpha/default/read"),
        (a.api_key, "/api/test-probe/beta/default/read"),  # other org
        (b.api_key, "/api/test-probe/alpha/default/read"),
        (a.api_key, "/api/test-probe/alpha/nope/read"),  # no such project: same answer
        (a.api_key, f"/api/orgs/alpha/projects/{second}/settings/profile"),
        (a.api_key, "/api/orgs/beta/projects/default/settings/api-keys"),
    ]
    for secret, path in cases:
        with server.key_client(secret) as k:
            assert_error(k.get(path), 404, "not_found")
    with server.key_client(second_key) as k:
        assert k.get(f"/api/test-probe/alpha/{second}/read").status_code == 200


def test_a_session_cannot_see_another_orgs_project(make_server: MakeServer) -> None:
    server = enable_registration(make_server)
    a = register(server, email="a@example.com", org="Alpha")
    register(server, email="b@example.com", org="Beta")
    for path in ("/api/orgs/beta/members", "/api/orgs/beta/projects",
                 "/api/orgs/beta/projects/default/settings/profile",
                 "/api/orgs/beta/projects/default/settings/api-keys"):
        assert_error(a.client.get(path), 404, "not_found")
    assert_error(a.client.post("/api/orgs/beta/projects", json={"name": "Mine"}), 404, "not_found")
    assert_error(a.client.post("/api/orgs/beta/members/invite", json={"email": "x@example.com"}), 404, "not_found")
    assert_error(a.client.delete("/api/orgs/beta/projects/default"), 404, "not_found")
    assert_error(a.client.post("/api/orgs/beta/projects/default/settings/api-keys", json={}), 404, "not_found")
    assert_error(a.client.get("/api/orgs/nope/projects"), 404, "not_found")


def test_session_only_endpoints_refuse_api_keys(account: Account) -> None:
    o, b = f"/api/orgs/{account.org}", account.base
    calls = [
        ("GET", f"{o}/members", None),
        ("POST", f"{o}/members/invite", {"email": "x@example.com"}),
        ("PATCH", f"{o}/members/{account.user_id}", {"role": "member"}),
        ("DELETE", f"{o}/members/{account.user_id}", None),
        ("POST", f"{o}/members/{account.user_id}/reset-password", None),
        ("GET", f"{o}/projects", None),
        ("POST", f"{o}/projects", {"name": "Via key"}),
        ("PATCH", b, {"name": "Via key"}),
        ("DELETE", b, None),
        ("GET", f"{b}/settings/profile", None),
        ("PATCH", f"{b}/settings/profile", {"name": "Via key"}),
        ("GET", f"{b}/settings/api-keys", None),
        ("POST", f"{b}/settings/api-keys", {"name": "Via key"}),
        ("DELETE", f"{b}/settings/api-keys/whatever", None),
        ("POST", "/api/auth/logout", None),
    ]
    for scope in ("full", "read", "ingest"):
        secret = account.api_key if scope == "full" else create_key(account, scope=scope)
        with account.server.key_client(secret) as k:
            for method, path, body in calls:
                r = k.request(method, path, json=body)
                assert r.status_code == 403, (scope, method, path, r.text)
                assert_error(r, 403, "forbidden")
    # Nothing changed.
    assert [p["slug"] for p in account.client.get(f"{o}/projects").json()["projects"]] == ["default"]
    assert len(list_keys(account).json()["keys"]) == 3
