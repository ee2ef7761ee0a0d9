"""Alerts pages over HTTP against a real server: rules through forms (CSRF included), inline field errors,
pause/resume/delete, "send test" to a loopback receiver, history with the lifecycle and samples."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.alerts.live import events, ingest, run_job
from tests.alerts.receivers import Receiver
from tests.dashboard.forms import csrf_token, flash, get_page, post_form
from tests.support import Account

HTML = {"Accept": "text/html"}
HOSTILE = "<script>alert(1)</script> \"'><img src=x onerror=alert(2)> مرحبا 🚀 " + "W" * 120


def alerts_path(account: Account, rest: str = "") -> str:
    return f"/o/{account.org}/p/{account.project}/alerts{rest}"


def rule_form(**overrides: str) -> dict[str, str]:
    form = {"name": "Errors in api", "condition_field": "level", "condition_value": "error", "threshold": "3",
            "window_minutes": "5", "cooldown_minutes": "15", "notify_type": "webhook",
            "webhook_url": "https://hooks.example.com/x", "notify_email": ""}
    return {**form, **overrides}


def rules(account: Account) -> list[dict[str, Any]]:
    return account.client.get(f"{account.base}/alerts").json()["rules"]  # type: ignore[no-any-return]


def field_errors(page_html: str) -> dict[str, str]:
    found = re.findall(r'data-testid="error-(\w+)">([^<]*)<', page_html)
    return {name: html.unescape(text) for name, text in found}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def create(account: Account, **overrides: str) -> dict[str, Any]:
    r = post_form(account.client, alerts_path(account, "/new"), rule_form(**overrides))
    assert r.status_code == 200 and r.url.path == alerts_path(account), (r.status_code, r.text[:300])
    return next(x for x in rules(account) if x["name"] == overrides.get("name", "Errors in api"))


def test_rules_empty_then_create_edit_pause_resume_delete(account: Account) -> None:
    page = get_page(account.client, alerts_path(account)).text
    assert "No alert rules yet" in page and 'aria-current="page"' in page

    r = post_form(account.client, alerts_path(account, "/new"), rule_form(), page=alerts_path(account, "/new"))
    assert r.url.path == alerts_path(account)
    assert flash(r.text) == ("success", "Rule “Errors in api” created.")
    (rule,) = rules(account)
    assert (rule["condition_field"], rule["condition_value"], rule["threshold"], rule["window_minutes"],
            rule["webhook_url"], rule["notify_email"], rule["enabled"]) == (
        "level", "error", 3, 5, "https://hooks.example.com/x", None, True)
    assert "hooks.example.com" in r.text and "https://hooks.example.com/x" not in r.text  # host only in the list

    edit = alerts_path(account, f"/{rule['id']}/edit")
    form_page = get_page(account.client, edit).text
    assert 'value="Errors in api"' in form_page and 'value="https://hooks.example.com/x"' in form_page
    r = post_form(account.client, edit, rule_form(threshold="7", notify_type="email", notify_email="Ops@Example.com"))
    assert flash(r.text) == ("success", "Rule “Errors in api” saved.")
    (rule,) = rules(account)
    assert (rule["threshold"], rule["notify_type"], rule["notify_email"], rule["webhook_url"]) == (
        7, "email", "ops@example.com", None)  # the address of the channel not chosen is dropped

    toggle = alerts_path(account, f"/{rule['id']}/enabled")
    r = post_form(account.client, toggle, {"enabled": "0"}, page=alerts_path(account))
    assert flash(r.text) == ("success", "Rule “Errors in api” paused: it will not fire until resumed.")
    assert rules(account)[0]["enabled"] is False and ">Resume<" in r.text and "paused" in r.text
    r = post_form(account.client, toggle, {"enabled": "1"}, page=alerts_path(account))
    assert flash(r.text) == ("success", "Rule “Errors in api” resumed.") and rules(account)[0]["enabled"] is True

    delete = alerts_path(account, f"/{rule['id']}/delete")
    assert 'data-confirm-title="Delete this rule?"' in r.text
    r = post_form(account.client, delete, {}, page=alerts_path(account))
    assert flash(r.text) == ("success", "Rule “Errors in api” deleted.") and rules(account) == []
    again = post_form(account.client, delete, {}, page=alerts_path(account))
    assert flash(again.text) == ("error", "Alert rule not found")
    assert account.client.get(edit, headers=HTML).status_code == 404


def test_every_bad_field_is_shown_beside_it_and_nothing_is_saved(account: Account) -> None:
    path = alerts_path(account, "/new")
    r = post_form(account.client, path, rule_form(name=" ", condition_value="", threshold="lots", window_minutes="0",
                                                  cooldown_minutes="999999", webhook_url=""))
    assert r.status_code == 400
    assert field_errors(r.text) == {
        "name": "is required", "condition_value": "is required", "threshold": "must be a whole number",
        "window_minutes": "must be at least 1", "cooldown_minutes": "must be at most 10,080 (7 days)",
        "webhook_url": "is required for a webhook"}
    assert 'data-testid="form-errors"' in r.text and "Threshold must be a whole number" in r.text
    assert 'value="lots"' in r.text and 'aria-invalid="true"' in r.text  # what was typed stays

    # The service's own checks land on their fields too.
    cases = [({"webhook_url": "ftp://example.com/x"}, "webhook_url", "must be an http:// or https:// URL"),
             ({"condition_value": "loud"}, "condition_value", "must be one of error, warn, info, debug"),
             ({"notify_type": "email", "notify_email": "not-an-email"}, "notify_email", None),
             ({"notify_type": "pigeon"}, "notify_type", "must be webhook or email"),
             ({"condition_field": "user_id"}, "condition_field", None)]
    for overrides, name, message in cases:
        r = post_form(account.client, path, rule_form(**overrides))
        assert r.status_code == 400, overrides
        errors = field_errors(r.text)
        assert list(errors) == [name], (overrides, errors)
        if message:
            assert errors[name] == message
    assert rules(account) == []


def test_rule_forms_need_the_csrf_token(account: Account) -> None:
    r = account.client.post(alerts_path(account, "/new"), data=rule_form(), headers=HTML)
    assert r.status_code == 403 and rules(account) == []
    token = csrf_token(get_page(account.client, alerts_path(account)).text)
    ok = account.client.post(alerts_path(account, "/new"), data={**rule_form(), "csrf_token": token}, headers=HTML)
    assert ok.status_code == 303 and len(rules(account)) == 1


def test_send_test_shows_the_delivery_outcome(account: Account, receiver: Receiver) -> None:
    rule = create(account, webhook_url=receiver.url())
    ingest(account, events(2, at_ms=int(time.time() * 1000)))
    r = post_form(account.client, alerts_path(account, f"/{rule['id']}/test"), {}, page=alerts_path(account))
    assert r.status_code == 200
    result = re.search(r'data-testid="test-result">(.*?)</div>\s*</div>', r.text, re.S)
    assert result and "Test notification delivered" in result.group(1)
    text = " ".join(html.unescape(result.group(1)).split())
    assert "via Webhook · HTTP 200 · 1 attempt · 2 matching events in the last 5 min" in text
    assert len(receiver.hits) == 1 and receiver.hits[0].json()["event"] == "alert.test"

    failing = Receiver(statuses=[503])
    try:
        bad = create(account, name="Broken hook", webhook_url=failing.url())
        r = post_form(account.client, alerts_path(account, f"/{bad['id']}/test"), {}, page=alerts_path(account))
        assert "Test notification failed" in r.text and "HTTP 503" in r.text and 'role="alert"' in r.text
    finally:
        failing.close()


def test_history_shows_state_delivery_and_samples_and_moves_through_the_lifecycle(
        account: Account, receiver: Receiver) -> None:
    rule = create(account, webhook_url=receiver.url())
    ingest(account, events(4, at_ms=int(time.time() * 1000), message="payment <b>failed</b> #{i}"))
    assert run_job(account.server, "alerts")["fired"] == 1

    rules_page = get_page(account.client, alerts_path(account)).text
    assert "1 open</a>" in rules_page and "1 open</span>" in rules_page  # the rule's badge and the tab's
    history = alerts_path(account, "/history")
    page = get_page(account.client, history).text
    assert 'data-testid="alert-state">open<' in page
    delivery = re.search(r'data-testid="delivery">(.*?)</dd>', page, re.S)
    assert delivery and "delivered" in delivery.group(1) and "HTTP 200" in delivery.group(1)
    assert "Sample events (4)" in page and "payment &lt;b&gt;failed&lt;/b&gt; #0" in page
    assert "level%3Aerror" in page  # "All events of the window" opens the explorer on the condition

    (alert,) = account.client.get(f"{account.base}/alerts/history").json()["history"]
    state = alerts_path(account, f"/history/{alert['id']}/state")
    back = f"{history}?state=open"
    r = post_form(account.client, state, {"state": "acknowledged", "back": back}, page=history)
    assert r.url.path == history and r.url.query == b"state=open"
    assert flash(r.text) == ("success", "Alert of “Errors in api” acknowledged.")
    assert "Nothing has fired yet" not in r.text and "No alerts match these filters." in r.text
    page = get_page(account.client, history).text
    assert 'data-testid="alert-state">acknowledged<' in page and "by <bdi>Olive Owner</bdi>" in page
    assert ">Acknowledge<" not in page and ">Resolve<" in page

    r = post_form(account.client, state, {"state": "resolved", "back": "https://evil.example/"}, page=history)
    assert r.url.path == history  # an off-site `back` is ignored
    assert flash(r.text) == ("success", "Alert of “Errors in api” resolved.")
    r = post_form(account.client, state, {"state": "acknowledged"}, page=history)
    assert flash(r.text) == ("error", "State: an alert that is resolved cannot become acknowledged")
    r = post_form(account.client, state, {"state": "snoozed"}, page=history)
    assert flash(r.text)[0] == "error"  # type: ignore[index]

    filtered = get_page(account.client, f"{history}?state=resolved&rule_id={rule['id']}").text
    assert 'data-testid="alert-state">resolved<' in filtered
    assert account.client.get(f"{history}?state=bogus", headers=HTML).status_code == 400


def test_hostile_rule_names_and_values_stay_text(account: Account) -> None:
    create(account, name=HOSTILE, condition_field="service", condition_value=HOSTILE[:200])
    for path in (alerts_path(account), alerts_path(account, "/history"),
                 alerts_path(account, f"/{rules(account)[0]['id']}/edit")):
        page = get_page(account.client, path).text
        assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in get_page(account.client, alerts_path(account)).text
