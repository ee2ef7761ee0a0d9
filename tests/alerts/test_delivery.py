"""Delivery to real loopback receivers: retries, timeouts, Slack/Discord shapes, email over SMTP, test sends."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from scrywatch.clock import FakeClock
from scrywatch.services.notify_formats import channel_of
from tests.alerts.conftest import create_rule
from tests.alerts.live import events, ingest, run_job
from tests.alerts.receivers import Receiver, SmtpReceiver
from tests.support import Account, wait_for

MIN = 60_000
BASE_URL = "http://logs.example.com"  # http: an https base_url makes the session cookie Secure


def last_alert(owner: Account) -> dict[str, Any]:
    return owner.client.get(f"{owner.base}/alerts/history").json()["history"][0]  # type: ignore[no-any-return]


def fire(owner: Account, clock: FakeClock, n: int = 4, **fields: Any) -> dict[str, Any]:
    ingest(owner, events(n, at_ms=clock.now_ms(), **fields))
    run_job(owner.server, "alerts")
    return last_alert(owner)


def test_retries_until_delivered(owner: Account, make_receiver: Callable[..., Receiver], clock: FakeClock) -> None:
    flaky = make_receiver(statuses=[500, 500])
    create_rule(owner, flaky.url())
    alert = fire(owner, clock)
    assert alert["delivery_status"] == "delivered" and alert["attempts"] == 3
    assert alert["response_status"] == 200 and alert["error"] is None
    assert len(flaky.hits) == 3 and flaky.hits[0].body == flaky.hits[2].body


def test_a_receiver_that_never_answers_fails_by_timeout(owner: Account, make_receiver: Callable[..., Receiver],
                                                        clock: FakeClock) -> None:
    silent = make_receiver(hang=True)
    create_rule(owner, silent.url())
    ingest(owner, events(4, at_ms=clock.now_ms()))
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        job = pool.submit(run_job, owner.server, "alerts")
        wait_for(lambda: silent.hits, message="the first delivery attempt")
        # While the receiver keeps the job waiting, the server still serves and ingests.
        assert owner.client.get("/api/health").status_code == 200
        ingest(owner, events(1, at_ms=clock.now_ms(), level="info"))
        assert job.result(timeout=30)["failed"] == 1
    alert = last_alert(owner)
    assert alert["delivery_status"] == "failed" and alert["attempts"] == 3
    assert "timed out" in alert["error"] and alert["response_status"] is None
    assert len(silent.hits) == 3


def test_client_errors_are_not_retried(owner: Account, make_receiver: Callable[..., Receiver],
                                       clock: FakeClock) -> None:
    gone = make_receiver(statuses=[404, 404, 404])
    create_rule(owner, gone.url())
    alert = fire(owner, clock)
    assert (alert["delivery_status"], alert["attempts"], alert["response_status"], alert["error"]) == \
        ("failed", 1, 404, "HTTP 404")
    assert len(gone.hits) == 1


def test_unreachable_webhook_is_recorded_as_failed(owner: Account, clock: FakeClock) -> None:
    spare = Receiver()
    url = spare.url()
    spare.close()  # nothing listens there any more
    create_rule(owner, url)
    alert = fire(owner, clock)
    assert alert["delivery_status"] == "failed" and alert["attempts"] == 3 and "connect" in alert["error"]


def test_generic_payload_links_to_the_explorer(alerting: Callable[..., Account], receiver: Receiver,
                                               clock: FakeClock) -> None:
    owner = alerting(server={"base_url": BASE_URL + "/"})
    create_rule(owner, receiver.url(), condition_field="service", condition_value="checkout", threshold=2)
    now = clock.now_ms()
    fire(owner, clock, 2, service="checkout")
    payload = receiver.hits[0].json()
    link = urlsplit(payload["link"])
    assert f"{link.scheme}://{link.netloc}{link.path}" == f"{BASE_URL}/o/{owner.org}/p/{owner.project}/logs"
    assert parse_qs(link.query) == {"service": ["checkout"], "from": [str(now - 5 * MIN)], "to": [str(now)]}
    assert payload["project"] == {"org": owner.org, "project": owner.project, "name": "Default"}
    assert payload["text"].startswith("Errors in api: 2 events with service=checkout in the last 5 min")


def test_slack_urls_get_text_and_blocks(alerting: Callable[..., Account], receiver: Receiver,
                                        clock: FakeClock) -> None:
    owner = alerting(server={"base_url": BASE_URL})
    create_rule(owner, receiver.url("/services/T0001/B0002/secret"), name="Checkout <errors> & co")
    fire(owner, clock, message="card declined for <user> {i}")
    body = receiver.hits[0].json()
    assert set(body) == {"text", "blocks"}
    assert body["text"] == "Checkout <errors> & co: 4 events with level=error in the last 5 min (threshold 3)"
    assert body["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": body["text"]}}
    texts = [b["text"]["text"] for b in body["blocks"][1:]]
    assert "*Matched:* 4" in texts[0] and "*Window:* 5 min" in texts[0]
    assert "card declined for &lt;user&gt; 0" in texts[1]  # mrkdwn-escaped log text
    assert texts[2].startswith(f"<{BASE_URL}/o/{owner.org}/p/{owner.project}/logs?level=error&from=")
    assert last_alert(owner)["delivery_status"] == "delivered"


def test_discord_urls_get_content_and_embeds(owner: Account, receiver: Receiver, clock: FakeClock) -> None:
    create_rule(owner, receiver.url("/api/webhooks/123456789/tok-en_1"))
    fire(owner, clock, message="@everyone look {i}")
    body = receiver.hits[0].json()
    assert set(body) == {"content", "embeds", "allowed_mentions"}
    assert body["allowed_mentions"] == {"parse": []}  # log text never pings a channel
    assert body["content"] == "Errors in api: 4 events with level=error in the last 5 min (threshold 3)"
    [embed] = body["embeds"]
    assert embed["title"] == "Errors in api" and embed["color"] == 0xE5484D and "url" not in embed
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Matched"] == "4" and fields["Condition"] == "level=error" and fields["Threshold"] == "3"
    assert "@everyone look 0" in fields["Recent events"]


@pytest.mark.parametrize(("url", "channel"), [
    ("https://hooks.slack.com/services/T1/B2/xyz", "slack"),
    ("http://127.0.0.1:9/services/T1/B2/xyz", "slack"),
    ("https://discord.com/api/webhooks/1234/abc", "discord"),
    ("https://discordapp.com/api/webhooks/1234/abc", "discord"),
    ("http://relay.local/api/webhooks/1234/abc", "discord"),
    ("https://example.com/services/alerts", "webhook"),
    ("https://example.com/api/webhooks/not-a-number/x", "webhook"),
    ("https://example.com/hook", "webhook"),
])
def test_channel_detection(url: str, channel: str) -> None:
    assert channel_of(url) == channel


def _smtp_owner(alerting: Callable[..., Account], smtp: SmtpReceiver, **extra: Any) -> Account:
    return alerting(smtp={"host": "127.0.0.1", "port": smtp.port, "from": "alerts@scry.example", **extra},
                    server={"base_url": BASE_URL})


def test_email_alert_over_smtp(alerting: Callable[..., Account], smtp: SmtpReceiver, clock: FakeClock) -> None:
    owner = _smtp_owner(alerting, smtp)
    create_rule(owner, notify_type="email", notify_email="oncall@example.com", name="Payment errors")
    alert = fire(owner, clock, 5, message="payment failed {i}")
    assert alert["delivery_status"] == "delivered" and alert["response_status"] == 250
    [mail] = smtp.mails
    assert mail.rcpt_tos == ["oncall@example.com"] and mail.mail_from == "alerts@scry.example"
    msg = mail.message
    assert msg["Subject"] == "[ScryWatch] Payment errors: 5 events with level=error in the last 5 min (threshold 3)"
    assert msg["To"] == "oncall@example.com" and msg.is_multipart()
    plain = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Matched events: 5" in plain and "payment failed 0" in plain
    assert f"Open in Log Explorer: {BASE_URL}/o/{owner.org}/p/{owner.project}/logs?level=error" in plain
    assert "<td>5</td>" in html and "payment failed 0" in html and f'href="{BASE_URL}/o/' in html


def test_email_with_smtp_login(alerting: Callable[..., Account], clock: FakeClock) -> None:
    smtp = SmtpReceiver(username="scry", password="s3cret")
    try:
        owner = _smtp_owner(alerting, smtp, username="scry", password="s3cret")
        create_rule(owner, notify_type="email", notify_email="oncall@example.com")
        assert fire(owner, clock)["delivery_status"] == "delivered"
        assert smtp.logins == ["scry"] and len(smtp.mails) == 1
    finally:
        smtp.close()


def test_email_without_smtp_host_fails_clearly(owner: Account, clock: FakeClock) -> None:
    create_rule(owner, notify_type="email", notify_email="oncall@example.com")
    alert = fire(owner, clock)
    assert alert["delivery_status"] == "failed" and alert["attempts"] == 0
    assert "[smtp] host" in alert["error"]


def test_test_endpoint_sends_through_the_rules_channel(owner: Account, make_receiver: Callable[..., Receiver],
                                                       clock: FakeClock) -> None:
    ok = make_receiver()
    rule = create_rule(owner, ok.url())
    ingest(owner, events(2, at_ms=clock.now_ms()))
    r = owner.client.post(f"{owner.base}/alerts/{rule['id']}/test")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "delivered", "attempts": 1, "error": None, "response_status": 200,
                        "channel": "webhook", "delivered": True, "matched_count": 2}
    sent = ok.hits[0].json()
    assert sent["event"] == "alert.test" and sent["count"] == 2 and len(sent["sample_events"]) == 2
    assert owner.client.get(f"{owner.base}/alerts/history").json()["history"] == []  # a test is not an alert

    broken = make_receiver(statuses=[503])
    owner.client.patch(f"{owner.base}/alerts/{rule['id']}", json={"webhook_url": broken.url()})
    out = owner.client.post(f"{owner.base}/alerts/{rule['id']}/test").json()
    assert (out["status"], out["delivered"], out["response_status"], out["error"], out["attempts"]) == \
        ("failed", False, 503, "HTTP 503", 1)
    assert owner.client.post(f"{owner.base}/alerts/nope/test").status_code == 404


def test_test_endpoint_by_email(alerting: Callable[..., Account], smtp: SmtpReceiver) -> None:
    owner = _smtp_owner(alerting, smtp)
    rule = create_rule(owner, notify_type="email", notify_email="oncall@example.com")
    out = owner.client.post(f"{owner.base}/alerts/{rule['id']}/test").json()
    assert out["status"] == "delivered" and out["channel"] == "email" and out["response_status"] == 250
    assert smtp.mails[0].message["Subject"].startswith("[ScryWatch] Test notification for Errors in api: 0 events")
