"""Alerts → Rules: the list, create and edit (errors shown beside their fields), pause and resume,
delete, and "send test" with its outcome on the page."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.errors import InvalidInput, NotFound
from scrywatch.models.alerts import AlertRule, AlertTestResult
from scrywatch.services import alerts, logs
from scrywatch.services.notify_formats import channel_of
from scrywatch.web.dashboard import alertform
from scrywatch.web.dashboard.flash import redirect
from scrywatch.web.dashboard.forms import submitted_form
from scrywatch.web.dashboard.frame import Frame, load_frame, perform, render_page, signed_in
from scrywatch.web.dashboard.logslink import explorer_href

CHANNEL_LABELS = {"slack": "Slack", "discord": "Discord", "webhook": "Webhook", "email": "Email"}
OPEN_SCAN = 200  # open alerts counted per rule on the rules page


@dataclass(frozen=True)
class RuleItem:
    rule: AlertRule
    channel: str  # Slack, Discord, Webhook, Email
    target: str  # the webhook's host (its path may hold a token) or the email address
    open_count: int
    events_href: str


def channel(rule: AlertRule) -> tuple[str, str]:
    """(label, target) of where a rule sends, without secrets."""
    if rule.notify_type == "email":
        return CHANNEL_LABELS["email"], rule.notify_email or ""
    url = rule.webhook_url or ""
    return CHANNEL_LABELS[channel_of(url)], urlsplit(url).hostname or url[:40]


async def _rules_page(request: Request, frame: Frame, *, tested: tuple[AlertRule, AlertTestResult] | None = None
                      ) -> Response:
    assert frame.access is not None
    rt, now = frame.rt, frame.rt.clock.now_ms()
    rules = await alerts.list_rules(rt, frame.access)
    open_alerts = await alerts.history(rt, frame.access, {"state": "open", "limit": str(OPEN_SCAN)})
    per_rule = Counter(a.rule_id for a in open_alerts.history)
    explorer = frame.url(request, "dash.logs")
    items = [RuleItem(r, *channel(r), per_rule[r.id], explorer_href(explorer, alerts.rule_query(r, now)))
             for r in rules]
    ctx: dict[str, Any] = {"items": items, "tab": "rules", "open_total": len(open_alerts.history),
                           "open_more": open_alerts.has_more, "tested": tested,
                           "field_labels": alertform.FIELD_LABELS}
    return render_page(request, "alerts/rules.html", ctx, frame=frame, section="alerts", route="dash.alerts")


async def _form_page(request: Request, frame: Frame, form: alertform.RuleForm, *,
                     rule: AlertRule | None = None) -> Response:
    assert frame.access is not None
    known = {name: (await logs.distinct_values(frame.rt, frame.access, name))[name]
             for name in ("services", "environments", "device_types")}
    ctx = {"form": form, "rule": rule, "field_labels": alertform.FIELD_LABELS, "notify_types": alertform.NOTIFY_TYPES,
           "suggestions": alertform.suggestions({"service": known["services"], "environment": known["environments"],
                                                 "device_type": known["device_types"]}),
           "summary": [alertform.field_message(k, v) for k, v in form.errors.items()], "tab": "rules"}
    return render_page(request, "alerts/form.html", ctx, frame=frame, section="alerts", route="dash.alerts",
                       status=400 if form.errors else 200)


async def find_rule(frame: Frame, rule_id: str) -> AlertRule:
    """A rule of the frame's project (404 otherwise)."""
    assert frame.access is not None
    for rule in await alerts.list_rules(frame.rt, frame.access):
        if rule.id == rule_id:
            return rule
    raise NotFound("alert rule not found")


def _back(request: Request, frame: Frame) -> str:
    return frame.url(request, "dash.alerts")


@signed_in
async def rules_page(request: Request) -> Response:
    return await _rules_page(request, await load_frame(request))


@signed_in
async def new_rule_page(request: Request) -> Response:
    return await _form_page(request, await load_frame(request), alertform.RuleForm.blank())


@signed_in
async def edit_rule_page(request: Request) -> Response:
    frame = await load_frame(request)
    assert frame.access is not None
    rule = await find_rule(frame, request.path_params["rule_id"])
    return await _form_page(request, frame, alertform.RuleForm.of(rule), rule=rule)


async def _save(request: Request, *, rule_id: str | None) -> Response:
    """Create (rule_id None) or update a rule from the form; the form again, with errors, on bad input."""
    frame = await load_frame(request)
    assert frame.access is not None
    access = frame.access
    form, body = alertform.read(await submitted_form(request))
    rule = await find_rule(frame, rule_id) if rule_id else None
    if rule is not None:
        form.enabled = rule.enabled

    async def run() -> Response:
        if body is None:
            return await _form_page(request, frame, form, rule=rule)
        try:
            if rule is None:
                saved = await alerts.create_rule(frame.rt, access, alertform.create_body(body, enabled=True))
            else:
                saved = await alerts.update_rule(frame.rt, access, rule.id, alertform.update_body(body))
        except InvalidInput as exc:
            name = exc.field if exc.field in alertform.FIELDS else "name"
            form.errors[name] = exc.message
            return await _form_page(request, frame, form, rule=rule)
        verb = "created" if rule is None else "saved"
        return redirect(_back(request, frame), flash=("success", f"Rule “{saved.name}” {verb}."))

    return await perform(_back(request, frame), run)


@signed_in
async def create_rule(request: Request) -> Response:
    return await _save(request, rule_id=None)


@signed_in
async def update_rule(request: Request) -> Response:
    return await _save(request, rule_id=request.path_params["rule_id"])


@signed_in
async def set_enabled(request: Request) -> Response:
    """Pause (enabled=0) or resume (enabled=1) a rule."""
    frame = await load_frame(request)
    form = await submitted_form(request)

    async def run() -> str:
        assert frame.access is not None
        on = form.get("enabled") == "1"
        rule = await alerts.update_rule(frame.rt, frame.access, request.path_params["rule_id"],
                                        alertform.update_body({"enabled": on}))
        return f"Rule “{rule.name}” resumed." if on else f"Rule “{rule.name}” paused: it will not fire until resumed."

    return await perform(_back(request, frame), run)


@signed_in
async def delete_rule(request: Request) -> Response:
    frame = await load_frame(request)
    await submitted_form(request)

    async def run() -> str:
        assert frame.access is not None
        rule = await find_rule(frame, request.path_params["rule_id"])
        await alerts.delete_rule(frame.rt, frame.access, rule.id)
        return f"Rule “{rule.name}” deleted."

    return await perform(_back(request, frame), run)


@signed_in
async def test_rule(request: Request) -> Response:
    """Send a test notification now and show how it went."""
    frame = await load_frame(request)
    await submitted_form(request)

    async def run() -> Response:
        assert frame.access is not None
        rule = await find_rule(frame, request.path_params["rule_id"])
        result = await alerts.test_rule(frame.rt, frame.access, rule.id)
        return await _rules_page(request, frame, tested=(rule, result))

    return await perform(_back(request, frame), run)
