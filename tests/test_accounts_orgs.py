"""Members and roles, projects, and the profile settings, over HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.support import PASSWORD, Account, LiveServer, login, register
from tests.test_accounts import MakeServer, assert_error, enable_registration, invite, member_client


def members(account: Account) -> dict[str, dict[str, Any]]:
    r = account.client.get(f"/api/orgs/{account.org}/members")
    assert r.status_code == 200, r.text
    return {m["user_id"]: m for m in r.json()["members"]}


def can_login(server: LiveServer, email: str, password: str) -> bool:
    with server.client() as c:
        r = c.post("/api/auth/login", json={"email": email, "password": password})
    assert r.status_code in (200, 401), r.text
    return r.status_code == 200


def role_path(account: Account, user_id: str) -> str:
    return f"/api/orgs/{account.org}/members/{user_id}"


# -- members -----------------------------------------------------------------------------------
def test_members_are_listed_with_role_and_joined_at(account: Account) -> None:
    _, mid = member_client(account, "m@example.com", "member")
    found = members(account)
    assert set(found) == {account.user_id, mid}
    me = found[account.user_id]
    assert me == {"user_id": account.user_id, "email": account.email, "name": "Olive Owner", "role": "owner",
                  "joined_at": me["joined_at"]}
    assert isinstance(me["joined_at"], int) and me["joined_at"] > 1_600_000_000_000  # Unix ms
    assert found[mid]["role"] == "member" and found[mid]["name"] == "Invited"


def test_inviting_a_new_person_gives_a_working_temp_password(account: Account) -> None:
    r = account.client.post(f"/api/orgs/{account.org}/members/invite",
                            json={"email": "New@Example.com", "name": "Newt", "role": "admin"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"user_id", "temp_password"}
    assert isinstance(body["temp_password"], str) and len(body["temp_password"]) >= 8
    client = login(account.server, "new@example.com", body["temp_password"])
    me = client.get("/api/auth/me").json()
    assert me["user"]["id"] == body["user_id"] and me["user"]["name"] == "Newt"
    assert [(o["slug"], o["role"]) for o in me["orgs"]] == [("acme", "admin")]
    assert members(account)[body["user_id"]]["role"] == "admin"


def test_inviting_an_existing_user_adds_them_without_a_password(make_server: MakeServer) -> None:
    server = enable_registration(make_server)
    a = register(server, email="a@example.com", org="Alpha")
    b = register(server, email="b@example.com", org="Beta")
    user_id, temp = invite(a, "B@example.com")
    assert user_id == b.user_id and temp is None
    assert can_login(server, "b@example.com", PASSWORD)  # their password is unchanged
    orgs = {o["slug"]: o["role"] for o in b.client.get("/api/auth/me").json()["orgs"]}
    assert orgs == {"alpha": "member", "beta": "owner"}
    r = a.client.post("/api/orgs/alpha/members/invite", json={"email": "b@example.com"})
    assert_error(r, 409, "conflict", field="email")
    assert_error(a.client.post("/api/orgs/alpha/members/invite", json={"email": "a@example.com"}), 409, "conflict")


@pytest.mark.parametrize(("body", "field"), [({"email": "nope"}, "email"), ({"email": "x@example.com", "role": "god"},
                                                                           "role"), ({}, "email")])
def test_invite_rejects_bad_bodies(account: Account, body: dict[str, Any], field: str) -> None:
    r = account.client.post(f"/api/orgs/{account.org}/members/invite", json=body)
    assert_error(r, 400, "validation_error", field=field)
    assert set(members(account)) == {account.user_id}


def test_only_owners_grant_owner_or_admin(account: Account) -> None:
    admin, _ = member_client(account, "admin@example.com", "admin")
    _, mid = member_client(account, "m@example.com", "member")
    path = f"/api/orgs/{account.org}/members/invite"
    for role in ("owner", "admin"):
        assert_error(admin.post(path, json={"email": f"{role}2@example.com", "role": role}), 403, "forbidden")
        assert_error(admin.patch(role_path(account, mid), json={"role": role}), 403, "forbidden")
    r = admin.post(path, json={"email": "plain@example.com"})  # admins invite plain members
    assert r.status_code == 201, r.text
    assert members(account)[mid]["role"] == "member"
    for role in ("admin", "owner"):
        r = account.client.patch(role_path(account, mid), json={"role": role})
        assert r.status_code == 200, r.text
        assert members(account)[mid]["role"] == role


def test_admins_cannot_change_or_remove_or_reset_owners_and_admins(account: Account) -> None:
    admin, admin_id = member_client(account, "admin@example.com", "admin")
    _, other_admin = member_client(account, "admin2@example.com", "admin")
    _, mid = member_client(account, "m@example.com", "member")
    for target in (account.user_id, other_admin):
        assert_error(admin.patch(role_path(account, target), json={"role": "member"}), 403, "forbidden")
        assert_error(admin.put(role_path(account, target), json={"role": "member"}), 403, "forbidden")
        assert_error(admin.delete(role_path(account, target)), 403, "forbidden")
        assert_error(admin.post(role_path(account, target) + "/reset-password"), 403, "forbidden")
    assert_error(admin.patch(role_path(account, admin_id), json={"role": "member"}), 403, "forbidden")
    found = members(account)
    assert (found[account.user_id]["role"], found[other_admin]["role"]) == ("owner", "admin")
    assert can_login(account.server, account.email, PASSWORD)
    # ... but they do manage plain members.
    assert admin.patch(role_path(account, mid), json={"role": "member"}).status_code == 200
    r = admin.post(role_path(account, mid) + "/reset-password")
    assert r.status_code == 200, r.text
    assert admin.delete(role_path(account, mid)).status_code == 200
    assert mid not in members(account)


def test_the_last_owner_can_be_neither_demoted_nor_removed(account: Account) -> None:
    r = account.client.patch(role_path(account, account.user_id), json={"role": "admin"})
    assert_error(r, 409, "conflict")
    assert_error(account.client.delete(role_path(account, account.user_id)), 409, "conflict")
    assert members(account)[account.user_id]["role"] == "owner"
    # With a second owner, demotion works (and the other one then stays).
    _, second = member_client(account, "o2@example.com", "owner")
    r = account.client.patch(role_path(account, account.user_id), json={"role": "admin"})
    assert r.status_code == 200, r.text
    assert members(account)[account.user_id]["role"] == "admin"
    assert_error(account.client.patch(role_path(account, second), json={"role": "member"}), 403, "forbidden")


def test_owners_remove_owners_but_never_the_last(account: Account) -> None:
    second, second_id = member_client(account, "o2@example.com", "owner")
    assert second.delete(role_path(account, account.user_id)).status_code == 200
    assert list(members_of(second, account.org)) == [second_id]
    assert_error(account.client.get(f"/api/orgs/{account.org}/members"), 404, "not_found")  # not a member now
    assert_error(second.delete(f"/api/orgs/{account.org}/members/{second_id}"), 409, "conflict")


def members_of(client: httpx.Client, org: str) -> dict[str, dict[str, Any]]:
    r = client.get(f"/api/orgs/{org}/members")
    assert r.status_code == 200, r.text
    return {m["user_id"]: m for m in r.json()["members"]}


def test_nobody_removes_themselves(account: Account) -> None:
    admin, admin_id = member_client(account, "admin@example.com", "admin")
    _, second_owner = member_client(account, "o2@example.com", "owner")
    assert_error(admin.delete(role_path(account, admin_id)), 403, "forbidden")
    assert_error(account.client.delete(role_path(account, account.user_id)), 403, "forbidden")
    assert set(members(account)) == {account.user_id, admin_id, second_owner}


def test_removed_member_loses_access(account: Account) -> None:
    client, mid = member_client(account, "m@example.com", "member")
    assert client.get(f"/api/orgs/{account.org}/projects").status_code == 200
    assert account.client.delete(role_path(account, mid)).status_code == 200
    assert_error(client.get(f"/api/orgs/{account.org}/projects"), 404, "not_found")
    assert_error(account.client.delete(role_path(account, mid)), 404, "not_found")
    assert_error(account.client.patch(role_path(account, "01NOSUCHUSER0000000000000"), json={"role": "member"}),
                 404, "not_found")


def test_reset_password_swaps_the_password_and_ends_sessions(account: Account) -> None:
    mid, first_temp = invite(account, "m@example.com")
    assert first_temp is not None
    member = login(account.server, "m@example.com", first_temp)
    member_password = "member's own password"
    r = member.patch(f"{account.base}/settings/profile", json={"password": member_password,
                                                              "current_password": first_temp})
    assert r.status_code == 200, r.text
    r = account.client.post(role_path(account, mid) + "/reset-password")
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"temp_password"}
    temp = r.json()["temp_password"]
    assert_error(member.get("/api/auth/me"), 401, "unauthorized")  # their session ended
    assert not can_login(account.server, "m@example.com", member_password)
    assert can_login(account.server, "m@example.com", temp)
    assert account.client.get("/api/auth/me").status_code == 200  # the resetter's session is untouched


def test_an_admin_of_one_org_cannot_reset_the_password_of_another_orgs_owner(make_server: MakeServer) -> None:
    # Inviting an existing account needs no consent, so resetting it must not hand over their other orgs.
    server = enable_registration(make_server)
    victim = register(server, email="victim@example.com", org="Victim Co")
    attacker = register(server, email="attacker@example.com", org="Attacker Co")
    user_id, _ = invite(attacker, victim.email)
    r = attacker.client.post(f"/api/orgs/{attacker.org}/members/{user_id}/reset-password")
    assert_error(r, 403, "forbidden")
    assert can_login(server, victim.email, PASSWORD)
    assert victim.client.get("/api/auth/me").status_code == 200


def test_a_member_cannot_administer(account: Account) -> None:
    member, mid = member_client(account, "m@example.com", "member")
    _, other = member_client(account, "m2@example.com", "member")
    o = f"/api/orgs/{account.org}"
    assert member.get(f"{o}/members").status_code == 200  # members may look
    assert member.get(f"{o}/projects").status_code == 200
    for method, path, body in [
        ("POST", f"{o}/members/invite", {"email": "x@example.com"}),
        ("PATCH", f"{o}/members/{other}", {"role": "member"}),
        ("DELETE", f"{o}/members/{other}", None),
        ("POST", f"{o}/members/{other}/reset-password", None),
        ("POST", f"{o}/projects", {"name": "Nope"}),
        ("PATCH", f"{o}/projects/default", {"name": "Nope"}),
        ("DELETE", f"{o}/projects/default", None),
    ]:
        assert_error(member.request(method, path, json=body), 403, "forbidden")
    assert set(members(account)) == {account.user_id, mid, other}


def test_a_non_member_gets_404_for_the_org(make_server: MakeServer) -> None:
    server = enable_registration(make_server)
    a = register(server, email="a@example.com", org="Alpha")
    outsider = register(server, email="o@example.com", org="Elsewhere")
    for method, path in [("GET", "/api/orgs/alpha/members"), ("GET", "/api/orgs/alpha/projects"),
                         ("PATCH", f"/api/orgs/alpha/members/{a.user_id}"),
                         ("POST", f"/api/orgs/alpha/members/{a.user_id}/reset-password"),
                         ("DELETE", f"/api/orgs/alpha/members/{a.user_id}")]:
        body = {"role": "member"} if method == "PATCH" else None
        assert_error(outsider.client.request(method, path, json=body), 404, "not_found")


# -- projects ----------------------------------------------------------------------------------
def projects(account: Account) -> list[dict[str, str]]:
    r = account.client.get(f"/api/orgs/{account.org}/projects")
    assert r.status_code == 200, r.text
    return r.json()["projects"]  # type: ignore[no-any-return]


def test_projects_are_created_with_a_derived_unique_slug(account: Account) -> None:
    r = account.client.post(f"/api/orgs/{account.org}/projects", json={"name": "  Mobile App (iOS) "})
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"id", "name", "slug"}
    assert body["name"] == "Mobile App (iOS)" and body["slug"] == "mobile-app-ios"
    assert [p["slug"] for p in projects(account)] == ["default", "mobile-app-ios"]
    assert projects(account)[1] == body
    clash = account.client.post(f"/api/orgs/{account.org}/projects", json={"name": "mobile app: iOS!"})
    assert_error(clash, 409, "conflict")
    assert_error(account.client.post(f"/api/orgs/{account.org}/projects", json={"name": "DEFAULT"}), 409, "conflict")
    assert len(projects(account)) == 2


def test_concurrent_clashing_creates_give_one_success_and_409s(account: Account) -> None:
    def create_project(_: int) -> int:
        return account.client.post(f"/api/orgs/{account.org}/projects", json={"name": "Race"}).status_code

    def invite_one(_: int) -> int:
        return account.client.post(f"/api/orgs/{account.org}/members/invite",
                                   json={"email": "race@example.com"}).status_code

    for action in (create_project, invite_one):
        with ThreadPoolExecutor(max_workers=6) as pool:
            assert sorted(pool.map(action, range(6))) == [201] + [409] * 5
    assert [p["slug"] for p in projects(account)] == ["default", "race"]
    assert len(members(account)) == 2


@pytest.mark.parametrize("body", [{"name": ""}, {"name": "   "}, {}, {"name": 3}, {"name": "x", "slug": "y"}])
def test_project_create_and_rename_reject_bad_names(account: Account, body: dict[str, Any]) -> None:
    assert_error(account.client.post(f"/api/orgs/{account.org}/projects", json=body), 400, "validation_error")
    assert_error(account.client.patch(account.base, json=body), 400, "validation_error")
    assert projects(account) == [{"id": projects(account)[0]["id"], "name": "Default", "slug": "default"}]


def test_rename_keeps_the_slug(account: Account) -> None:
    r = account.client.patch(account.base, json={"name": "Production"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Production" and r.json()["slug"] == "default"
    r = account.client.put(account.base, json={"name": "Prod"})
    assert r.status_code == 200, r.text
    assert [(p["name"], p["slug"]) for p in projects(account)] == [("Prod", "default")]
    admin, _ = member_client(account, "admin@example.com", "admin")
    assert admin.patch(account.base, json={"name": "By admin"}).status_code == 200
    assert_error(account.client.patch(f"/api/orgs/{account.org}/projects/nope", json={"name": "X"}), 404, "not_found")


def test_delete_project_is_owner_only_removes_its_keys_and_keeps_the_last(account: Account) -> None:
    r = account.client.post(f"/api/orgs/{account.org}/projects", json={"name": "Staging"})
    assert r.status_code == 201, r.text
    staging = f"/api/orgs/{account.org}/projects/staging"
    r = account.client.post(f"{staging}/settings/api-keys", json={"name": "staging key"})
    staging_key = r.json()["key"]
    with account.server.key_client(staging_key) as k:
        assert k.get("/api/auth/me").status_code == 200
    admin, _ = member_client(account, "admin@example.com", "admin")
    assert_error(admin.delete(staging), 403, "forbidden")
    assert account.client.delete(staging).status_code == 200
    assert [p["slug"] for p in projects(account)] == ["default"]
    with account.server.key_client(staging_key) as k:
        assert_error(k.get("/api/auth/me"), 401, "unauthorized")
    assert_error(account.client.get(f"{staging}/settings/api-keys"), 404, "not_found")
    assert_error(account.client.delete(staging), 404, "not_found")
    assert_error(account.client.delete(account.base), 409, "conflict")
    with account.keyed() as k:
        assert k.get("/api/auth/me").status_code == 200
    # A new project may take the freed slug; it starts with no keys.
    assert account.client.post(f"/api/orgs/{account.org}/projects", json={"name": "Staging"}).status_code == 201
    assert account.client.get(f"{staging}/settings/api-keys").json()["keys"] == []


# -- profile -----------------------------------------------------------------------------------
def test_profile_get_and_patch_name(account: Account) -> None:
    path = f"{account.base}/settings/profile"
    r = account.client.get(path)
    assert r.status_code == 200, r.text
    assert r.json() == {"user": {"id": account.user_id, "email": account.email, "name": "Olive Owner"}}
    r = account.client.patch(path, json={"name": "  Olivia  "})
    assert r.status_code == 200, r.text
    assert r.json()["user"]["name"] == "Olivia"
    assert account.client.get(path).json()["user"]["name"] == "Olivia"
    assert account.client.get("/api/auth/me").json()["user"]["name"] == "Olivia"
    r = account.client.put(path, json={"name": "Put Name"})
    assert r.status_code == 200, r.text
    assert account.client.get(path).json()["user"]["name"] == "Put Name"
    assert account.client.patch(path, json={}).json()["user"]["name"] == "Put Name"  # partial: nothing changes


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": "a new password"}, "current_password"),
        ({"password": "a new password", "current_password": "wrong password"}, "current_password"),
        ({"password": "short", "current_password": PASSWORD}, "password"),
        ({"name": "   "}, "name"),
        ({"email": "new@example.com"}, "email"),
    ],
)
def test_profile_rejects_bad_updates(account: Account, body: dict[str, Any], field: str) -> None:
    for method in ("PATCH", "PUT"):
        r = account.client.request(method, f"{account.base}/settings/profile", json=body)
        assert_error(r, 400, "validation_error", field=field)
    assert can_login(account.server, account.email, PASSWORD)
    assert account.client.get("/api/auth/me").json()["user"]["name"] == "Olive Owner"


def test_password_change_needs_current_password_and_ends_other_sessions(account: Account) -> None:
    other = login(account.server, account.email, PASSWORD)
    r = account.client.patch(f"{account.base}/settings/profile",
                             json={"password": "a brand new password", "current_password": PASSWORD})
    assert r.status_code == 200, r.text
    assert account.client.get("/api/auth/me").status_code == 200  # this session stays
    assert_error(other.get("/api/auth/me"), 401, "unauthorized")
    assert not can_login(account.server, account.email, PASSWORD)
    assert can_login(account.server, account.email, "a brand new password")
