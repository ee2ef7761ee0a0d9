"""Alert rules CRUD: validation naming fields, defaults, partial updates, who may do what."""

from __future__ import annotations

from typing import Any

import pytest

from tests.alerts.conftest import create_rule, rule_body
from tests.support import Account, login


def _field(r: Any) -> str:
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"]["code"] == "validation_error"
    return body["error"]["details"][0]["field"]  # type: ignore[no-any-return]


def test_create_list_update_delete(owner: Account) -> None:
    rule = create_rule(owner, "https://example.com/hook")
    assert rule["cooldown_minutes"] == 15 and rule["notify_type"] == "webhook" and rule["enabled"] is True
    assert rule["notify_email"] is None and rule["id"]
    listed = owner.client.get(f"{owner.base}/alerts").json()["rules"]
    assert [r["id"] for r in listed] == [rule["id"]]

    r = owner.client.patch(f"{owner.base}/alerts/{rule['id']}", json={"enabled": False, "threshold": 10})
    assert r.status_code == 200, r.text
    assert r.json()["enabled"] is False and r.json()["threshold"] == 10 and r.json()["name"] == rule["name"]
    r = owner.client.put(f"{owner.base}/alerts/{rule['id']}", json={"notify_type": "email",
                                                                    "notify_email": "Ops@Example.com"})
    assert r.status_code == 200, r.text
    assert r.json()["notify_email"] == "ops@example.com"

    assert owner.client.delete(f"{owner.base}/alerts/{rule['id']}").status_code == 200
    assert owner.client.get(f"{owner.base}/alerts").json()["rules"] == []
    assert owner.client.delete(f"{owner.base}/alerts/{rule['id']}").status_code == 404
    assert owner.client.patch(f"{owner.base}/alerts/nope", json={"enabled": True}).status_code == 404


def test_level_and_type_values_are_normalised(owner: Account) -> None:
    assert create_rule(owner, "http://h/x", condition_value="WARNING")["condition_value"] == "warn"
    assert create_rule(owner, "http://h/x", condition_field="type", condition_value="http")["condition_value"] \
        == "api_call"
    assert create_rule(owner, "http://h/x", condition_field="service", condition_value=" Billing ")[
        "condition_value"] == "Billing"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"condition_field": "message"}, "condition_field"),
    ({"condition_value": "loud"}, "condition_value"),
    ({"condition_value": "   "}, "condition_value"),
    ({"threshold": 0}, "threshold"),
    ({"threshold": -3}, "threshold"),
    ({"threshold": 2.5}, "threshold"),
    ({"window_minutes": 0}, "window_minutes"),
    ({"cooldown_minutes": 0}, "cooldown_minutes"),
    ({"webhook_url": "ftp://example.com/x"}, "webhook_url"),
    ({"webhook_url": "not a url"}, "webhook_url"),
    ({"webhook_url": None}, "webhook_url"),
    ({"notify_type": "email"}, "notify_email"),
    ({"notify_type": "email", "notify_email": "nobody"}, "notify_email"),
    ({"notify_type": "pager"}, "notify_type"),
    ({"name": ""}, "name"),
    ({"colour": "red"}, "colour"),
])
def test_invalid_rules_are_400_naming_the_field(owner: Account, overrides: dict[str, Any], field: str) -> None:
    r = owner.client.post(f"{owner.base}/alerts", json=rule_body("https://example.com/h", **overrides))
    assert _field(r) == field


def test_missing_required_fields_are_named(owner: Account) -> None:
    for name in ("name", "condition_field", "condition_value", "threshold", "window_minutes"):
        body = rule_body("https://example.com/h")
        del body[name]
        assert _field(owner.client.post(f"{owner.base}/alerts", json=body)) == name


def test_update_validates_the_merged_rule(owner: Account) -> None:
    rule = create_rule(owner, "https://example.com/h")
    url = f"{owner.base}/alerts/{rule['id']}"
    assert _field(owner.client.patch(url, json={"notify_type": "email"})) == "notify_email"
    assert _field(owner.client.patch(url, json={"webhook_url": "javascript:alert(1)"})) == "webhook_url"
    assert _field(owner.client.patch(url, json={"threshold": 0})) == "threshold"
    assert _field(owner.client.patch(url, json={"project": 2})) == "project"
    assert owner.client.get(f"{owner.base}/alerts").json()["rules"][0]["threshold"] == 3  # unchanged


def test_api_keys_read_but_only_members_manage(owner: Account) -> None:
    rule = create_rule(owner, "https://example.com/h")
    with owner.keyed() as key:
        assert key.get(f"{owner.base}/alerts").json()["rules"][0]["id"] == rule["id"]
        assert key.get(f"{owner.base}/alerts/history").status_code == 200
        assert key.post(f"{owner.base}/alerts", json=rule_body("https://e.com/h")).status_code == 403
        assert key.patch(f"{owner.base}/alerts/{rule['id']}", json={"enabled": False}).status_code == 403
        assert key.delete(f"{owner.base}/alerts/{rule['id']}").status_code == 403
        assert key.post(f"{owner.base}/alerts/{rule['id']}/test").status_code == 403
    ingest_only = owner.client.post(f"{owner.base}/settings/api-keys", json={"name": "sdk", "scope": "ingest"})
    with owner.server.key_client(ingest_only.json()["key"]) as key:
        assert key.get(f"{owner.base}/alerts").status_code == 403
    # A member (the lowest role) may manage rules.
    invite = owner.client.post(f"/api/orgs/{owner.org}/members/invite",
                               json={"email": "mo@example.com", "name": "Mo", "role": "member"})
    assert invite.status_code == 201, invite.text
    member = login(owner.server, "mo@example.com", invite.json()["temp_password"])
    r = member.patch(f"{owner.base}/alerts/{rule['id']}", json={"name": "Renamed"})
    assert r.status_code == 200 and r.json()["name"] == "Renamed"
    member.close()


def test_rules_of_another_project_are_invisible(owner: Account) -> None:
    rule = create_rule(owner, "https://example.com/h")
    other = owner.client.post(f"/api/orgs/{owner.org}/projects", json={"name": "Other"}).json()
    base = f"/api/orgs/{owner.org}/projects/{other['slug']}"
    assert owner.client.get(f"{base}/alerts").json()["rules"] == []
    assert owner.client.patch(f"{base}/alerts/{rule['id']}", json={"enabled": False}).status_code == 404
    assert owner.client.delete(f"{base}/alerts/{rule['id']}").status_code == 404
