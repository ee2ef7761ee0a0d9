"""Lenses CRUD with validation, and POST /settings/purge-logs, through the real server."""

from __future__ import annotations

import httpx
import pytest

from tests.logs.conftest import T0, event, get_ok, ingest
from tests.support import Account, LiveServer, login


def test_lenses_crud_and_order(account: Account, keyed: httpx.Client) -> None:
    base = account.base + "/lenses"
    r = keyed.post(base, json={"name": "Errors", "filters": '{"level":"error"}', "color": "red"})
    assert r.status_code == 201, r.text
    errors = r.json()
    assert errors["name"] == "Errors" and errors["filters"] == '{"level":"error"}' and errors["color"] == "red"
    assert errors["sort_order"] == 0 and errors["id"]
    second = keyed.post(base, json={"name": "Checkout", "filters": '{"service":"web","q":"checkout"}'}).json()
    assert second["color"] == "accent" and second["sort_order"] == 1
    as_object = account.client.post(base, json={"name": "Obj", "filters": {"type": "crash"}, "color": "blue"})
    assert as_object.status_code == 201 and as_object.json()["filters"] == '{"type":"crash"}'
    assert [lens["name"] for lens in get_ok(keyed, base)["lenses"]] == ["Errors", "Checkout", "Obj"]

    r = keyed.patch(f"{base}/{errors['id']}", json={"sort_order": 10, "color": "green"})
    assert r.status_code == 200 and r.json()["sort_order"] == 10 and r.json()["name"] == "Errors"
    r = keyed.put(f"{base}/{second['id']}", json={"name": "Checkout errors", "filters": "{}"})
    assert r.status_code == 200 and r.json()["filters"] == "{}" and r.json()["color"] == "accent"
    assert [lens["name"] for lens in get_ok(keyed, base)["lenses"]] == ["Checkout errors", "Obj", "Errors"]

    assert keyed.delete(f"{base}/{second['id']}").json() == {"success": True}
    assert keyed.delete(f"{base}/{second['id']}").status_code == 404
    assert keyed.patch(f"{base}/nope", json={"name": "x"}).status_code == 404
    assert [lens["name"] for lens in get_ok(keyed, base)["lenses"]] == ["Obj", "Errors"]


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x", "filters": "not json"}, "filters"),
    ({"name": "x", "filters": "[1, 2]"}, "filters"),
    ({"name": "x", "filters": '"a string"'}, "filters"),
    ({"name": "x", "filters": "null"}, "filters"),
    ({"name": "x", "filters": 42}, "filters"),
    ({"name": "x", "color": "purple"}, "color"),
    ({"filters": "{}"}, "name"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x", "shared": True}, "shared"),
    ({"name": "x", "sort_order": "first"}, "sort_order"),
])
def test_lens_validation_names_the_field(account: Account, keyed: httpx.Client, body: dict[str, object],
                                         field: str) -> None:
    r = keyed.post(account.base + "/lenses", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["details"][0]["field"] == field
    # The same bad value in an update (name is optional there, so a body without it is fine).
    patch = body if field == "name" else {k: v for k, v in body.items() if k != "name"}
    if patch.get("name", "") is not None and (field != "name" or "name" in patch):
        lens = keyed.post(account.base + "/lenses", json={"name": "ok"}).json()
        r = keyed.patch(f"{account.base}/lenses/{lens['id']}", json=patch)
        assert r.status_code == 400, (patch, r.text)
        assert r.json()["error"]["details"][0]["field"] == field


def test_purge_deletes_hot_events_of_the_project_only(server: LiveServer, account: Account) -> None:
    r = account.client.post(f"/api/orgs/{account.org}/projects", json={"name": "Keep"})
    base_b = f"/api/orgs/{account.org}/projects/{r.json()['slug']}"
    key_b = account.client.post(base_b + "/settings/api-keys", json={"name": "b"}).json()["key"]
    with account.keyed() as a, server.key_client(key_b) as b:
        ingest(a, [event(i, service="api", session_id="s1") for i in range(120)])
        ingest(b, [event(i, service="kept") for i in range(5)])
        lens = a.post(account.base + "/lenses", json={"name": "stays"}).json()
        r = a.post(account.base + "/settings/purge-logs")
        assert r.status_code == 200 and r.json() == {"deleted": 120}
        assert get_ok(a, account.base + "/logs")["total"] == 0
        assert get_ok(a, account.base + "/logs", {"q": "event"})["total"] == 0
        assert get_ok(a, account.base + "/facets")["facets"]["level"] == []
        assert get_ok(a, account.base + "/stats", {"from": T0, "to": T0 + 3_600_000})["stats"] == []
        assert get_ok(a, account.base + "/services") == {"services": []}
        assert get_ok(a, account.base + "/sessions")["sessions"] == []
        assert [x["id"] for x in get_ok(a, account.base + "/lenses")["lenses"]] == [lens["id"]]
        assert get_ok(b, base_b + "/logs", {"q": "event"})["total"] == 5
        assert get_ok(b, base_b + "/facets")["facets"]["service"] == [{"value": "kept", "count": 5}]
        # Ingest keeps working after a purge, and a second purge finds nothing.
        ingest(a, [event(1)])
        assert get_ok(a, account.base + "/logs")["total"] == 1
        assert a.post(account.base + "/settings/purge-logs").json() == {"deleted": 1}
        assert a.post(account.base + "/settings/purge-logs").json() == {"deleted": 0}


def test_purge_needs_an_admin_session_or_a_full_key(server: LiveServer, account: Account) -> None:
    with account.keyed() as a:
        ingest(a, [event(i) for i in range(3)])
    keys = {scope: account.client.post(account.base + "/settings/api-keys",
                                       json={"name": scope, "scope": scope}).json()["key"]
            for scope in ("read", "ingest")}
    for key in keys.values():
        with server.key_client(key) as c:
            assert c.post(account.base + "/settings/purge-logs").status_code == 403
    invited = account.client.post(f"/api/orgs/{account.org}/members/invite",
                                  json={"email": "m@example.com", "name": "M", "role": "member"}).json()
    member = login(server, "m@example.com", invited["temp_password"])
    try:
        assert member.post(account.base + "/settings/purge-logs").status_code == 403
    finally:
        member.close()
    with httpx.Client(base_url=server.url, cookies=account.client.cookies) as no_origin:
        assert no_origin.post(account.base + "/settings/purge-logs").status_code == 403  # cookie writes need Origin
    with account.keyed() as a:
        assert get_ok(a, account.base + "/logs")["total"] == 3
    r = account.client.post(account.base + "/settings/purge-logs")  # the owner's session
    assert r.status_code == 200 and r.json() == {"deleted": 3}
