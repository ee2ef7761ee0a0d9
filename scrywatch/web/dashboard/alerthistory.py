"""Alerts → History: firings newest first with their state, delivery outcome and sample events;
acknowledge and resolve."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.errors import InvalidInput
from scrywatch.models.alerts import AlertFiring, AlertStateUpdate
from scrywatch.models.logs import LogQuery
from scrywatch.services import alerts, orgs
from scrywatch.web.dashboard.forms import submitted_form, to_struct
from scrywatch.web.dashboard.frame import Frame, load_frame, perform, render_page, signed_in
from scrywatch.web.dashboard.logslink import explorer_href

PER_PAGE = 25
MINUTE_MS = 60_000
STATES = (("", "All states"), ("open", "Open"), ("acknowledged", "Acknowledged"), ("resolved", "Resolved"))
DONE = {"acknowledged": "acknowledged", "resolved": "resolved"}


@dataclass(frozen=True)
class AlertItem:
    alert: AlertFiring
    events_href: str  # the rule's condition over the window that fired, in the explorer
    acknowledged_by: str | None  # a member's name
    resolved_by: str | None  # a member's name, or "automatically"


def firing_query(a: AlertFiring) -> LogQuery:
    """The condition of a firing over the window that made it fire."""
    window = {"from_ms": a.fired_at - a.window_minutes * MINUTE_MS, "to_ms": a.fired_at}
    value = a.condition_value
    if a.condition_field == "level":
        return LogQuery(levels=(value,), **window)
    if a.condition_field == "type":
        return LogQuery(types=(value,), **window)
    return LogQuery(**{a.condition_field: value}, **window)


async def _names(frame: Frame) -> dict[str, str]:
    members = await orgs.list_members(frame.rt, frame.principal, frame.org.slug)
    return {m.user_id: m.name or m.email for m in members}


def _who(names: dict[str, str], user_id: str | None) -> str | None:
    if user_id is None:
        return None
    return "automatically" if user_id == "auto" else names.get(user_id, "a former member")


@signed_in
async def history_page(request: Request) -> Response:
    frame = await load_frame(request)
    assert frame.access is not None
    params = request.query_params
    state, rule_id, cursor = (params.get(k) or "" for k in ("state", "rule_id", "cursor"))
    base = frame.url(request, "dash.alerts.history")
    filters = {k: v for k, v in (("state", state), ("rule_id", rule_id)) if v}
    error: InvalidInput | None = None
    try:
        page = await alerts.history(frame.rt, frame.access, {**filters, "limit": str(PER_PAGE),
                                                             **({"cursor": cursor} if cursor else {})})
    except InvalidInput as exc:
        page, error = None, exc
    names = await _names(frame)
    explorer = frame.url(request, "dash.logs")
    items = [AlertItem(a, explorer_href(explorer, firing_query(a)), _who(names, a.acknowledged_by),
                       _who(names, a.resolved_by)) for a in (page.history if page else [])]
    here = f"{base}?{urlencode({**filters, **({'cursor': cursor} if cursor else {})})}" if filters or cursor else base
    ctx: dict[str, Any] = {
        "items": items, "tab": "history", "states": STATES, "state": state, "rule_id": rule_id,
        "rules": await alerts.list_rules(frame.rt, frame.access), "error": error, "here": here,
        "first_href": (f"{base}?{urlencode(filters)}" if filters else base) if cursor else None,
        "next_href": f"{base}?{urlencode({**filters, 'cursor': page.next_cursor})}"
        if page and page.has_more and page.next_cursor else None,
    }
    return render_page(request, "alerts/history.html", ctx, frame=frame, section="alerts", route="dash.alerts",
                       status=400 if error else 200)


@signed_in
async def set_state(request: Request) -> Response:
    """Acknowledge or resolve an alert, then go back to the history page it was on."""
    frame = await load_frame(request)
    form = await submitted_form(request)
    base = frame.url(request, "dash.alerts.history")
    back = form.get("back", "")
    back = back if back == base or back.startswith(base + "?") else base

    async def run() -> str:
        assert frame.access is not None
        body = to_struct(form, AlertStateUpdate, "state")
        alert = await alerts.set_state(frame.rt, frame.access, request.path_params["alert_id"], body, frame.user.id)
        return f"Alert of “{alert.rule_name}” {DONE[body.state]}."

    return await perform(back, run)
