"""Alerts: rule CRUD with validation, the periodic checker, delivery of what it fired, the lifecycle.

Who may do what: reading rules and history needs the read scope (any member's session, or an API key
of scope `full` or `read`); creating, changing, deleting and testing rules and acknowledging or
resolving alerts need a signed-in member (any role): a rule sends data to an outside address, so it
is tied to a person, and API keys get 403.

The checker counts each enabled rule's rolling window from the rollups (never a scan), fires when
the count reaches the threshold outside the cooldown (exactly once: see storage schema/alerts.py),
auto-resolves unresolved alerts of rules whose count dropped below the threshold, then sends every
pending notification.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import msgspec

from scrywatch.errors import Conflict, InvalidInput, NotFound
from scrywatch.ids import new_id
from scrywatch.models.accounts import ProjectAccess
from scrywatch.models.alerts import (
    MAX_SAMPLE_EVENTS,
    AlertFiring,
    AlertHistoryPage,
    AlertRule,
    AlertRuleCreate,
    AlertRuleUpdate,
    AlertStateUpdate,
    AlertTestResult,
    PendingDelivery,
)
from scrywatch.models.logs import LogQuery
from scrywatch.runtime import Runtime
from scrywatch.services import notify
from scrywatch.services.accounts import normalize_email, require_role
from scrywatch.services.events import FieldProblem, level_of, type_of
from scrywatch.services.notify_formats import Notice, explorer_link
from scrywatch.services.search import parse_page

MINUTE_MS = 60_000
TRANSITIONS = {"acknowledged": ("open",), "resolved": ("open", "acknowledged")}
STATES = ("open", "acknowledged", "resolved")
PARALLEL_DELIVERIES = 8
CLAIM_BATCH = 100
LEASE_MARGIN_MS = 30_000


# -- rules -------------------------------------------------------------------------------------
def _valid(rule: AlertRule) -> AlertRule:
    """The rule with values normalised; InvalidInput naming the first bad field."""
    name = rule.name.strip()
    if not name:
        raise InvalidInput("must not be blank", field="name")
    value = rule.condition_value.strip()
    if not value:
        raise InvalidInput("must not be blank", field="condition_value")
    try:
        if rule.condition_field == "level":
            value = level_of(value)
        elif rule.condition_field == "type":
            value = type_of(value)
    except FieldProblem as p:
        raise InvalidInput(p.message, field="condition_value") from None
    url = rule.webhook_url.strip() if rule.webhook_url else None
    email = rule.notify_email.strip() if rule.notify_email else None
    if rule.notify_type == "webhook":
        if not url:
            raise InvalidInput("is required when notify_type is webhook", field="webhook_url")
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise InvalidInput("must be an http:// or https:// URL", field="webhook_url")
    if rule.notify_type == "email" and not email:
        raise InvalidInput("is required when notify_type is email", field="notify_email")
    if email:
        email = normalize_email(email, field="notify_email")
    return msgspec.structs.replace(rule, name=name, condition_value=value, webhook_url=url or None,
                                   notify_email=email or None)


def require_manager(access: ProjectAccess) -> None:
    """Managing rules and alerts needs a signed-in member (any role); API keys get 403."""
    require_role(access, "member")


async def list_rules(rt: Runtime, access: ProjectAccess) -> list[AlertRule]:
    return await rt.store.alerts.list_rules(access.project.pk)  # type: ignore[no-any-return]


async def create_rule(rt: Runtime, access: ProjectAccess, body: AlertRuleCreate) -> AlertRule:
    require_manager(access)
    now = rt.clock.now_ms()
    rule = _valid(AlertRule(id=new_id(), created_at=now, updated_at=now, last_fired_at=None,
                            **msgspec.structs.asdict(body)))
    await rt.store.alerts.save_rule(access.project.pk, rule)
    return rule


async def _rule(rt: Runtime, access: ProjectAccess, rule_id: str) -> AlertRule:
    rule = await rt.store.alerts.get_rule(access.project.pk, rule_id)
    if rule is None:
        raise NotFound("alert rule not found")
    return rule  # type: ignore[no-any-return]


async def update_rule(rt: Runtime, access: ProjectAccess, rule_id: str, body: AlertRuleUpdate) -> AlertRule:
    require_manager(access)
    rule = await _rule(rt, access, rule_id)
    changes = {k: v for k, v in msgspec.structs.asdict(body).items() if v is not msgspec.UNSET}
    # updated_at always moves forward: a check that read the old rule then cannot fire with it.
    updated = _valid(msgspec.structs.replace(rule, **changes, updated_at=max(rt.clock.now_ms(), rule.updated_at + 1)))
    if not await rt.store.alerts.save_rule(access.project.pk, updated):
        raise NotFound("alert rule not found")
    return updated


async def delete_rule(rt: Runtime, access: ProjectAccess, rule_id: str) -> None:
    require_manager(access)
    if not await rt.store.alerts.delete_rule(access.project.pk, rule_id):
        raise NotFound("alert rule not found")


def rule_query(rule: AlertRule, now_ms: int) -> LogQuery:
    """The rule's condition over its rolling window [now - window, now]."""
    window = {"from_ms": now_ms - rule.window_minutes * MINUTE_MS, "to_ms": now_ms}
    value = rule.condition_value
    if rule.condition_field == "level":
        return LogQuery(levels=(value,), **window)
    if rule.condition_field == "type":
        return LogQuery(types=(value,), **window)
    return LogQuery(**{rule.condition_field: value}, **window)


# -- the checker (job `alerts`) ------------------------------------------------------------
async def check_alerts(rt: Runtime) -> dict[str, Any]:
    """Evaluate every enabled rule once, then deliver whatever is pending."""
    now = rt.clock.now_ms()
    stats: Counter[str] = Counter()
    for project, rule, unresolved in await rt.store.alerts.enabled_rules():
        stats["rules"] += 1
        cooling = rule.last_fired_at is not None and rule.last_fired_at > now - rule.cooldown_minutes * MINUTE_MS
        count, samples = await rt.store.alerts.measure(project, rule_query(rule, now), rule.threshold,
                                                       0 if cooling else MAX_SAMPLE_EVENTS)
        if count >= rule.threshold:
            if cooling or await rt.store.alerts.fire(rule, now, count, samples) is None:
                stats["cooling_down"] += 1
            else:
                stats["fired"] += 1
        elif unresolved:
            stats["resolved"] += await rt.store.alerts.auto_resolve(
                rule.id, now, notify=rt.config.alerts.notify_on_resolve)
    stats.update(await deliver_pending(rt))
    return {k: stats.get(k, 0) for k in ("rules", "fired", "cooling_down", "resolved", "delivered", "failed")}


def _lease_ms(rt: Runtime) -> int:
    """Longest a delivery can take; after that a crashed sender's claim may be taken over."""
    a = rt.config.alerts
    per_try = max(a.delivery_timeout_seconds * 2 + 1, rt.config.smtp.timeout_seconds * 4 + 1)
    backoff = sum(a.delivery_backoff_seconds * 2**n for n in range(max(0, a.delivery_attempts - 1)))
    return int((per_try * max(1, a.delivery_attempts) + backoff) * 1000) + LEASE_MARGIN_MS


def notice_for(rt: Runtime, p: PendingDelivery) -> Notice:
    """The notice of a claimed delivery, with the numbers as they were when the alert fired."""
    f = p.firing
    rule = msgspec.structs.replace(p.rule, threshold=f.threshold, window_minutes=f.window_minutes,
                                   condition_field=f.condition_field, condition_value=f.condition_value)
    to_ms = f.fired_at if p.kind == "fired" else (f.resolved_at or f.fired_at)
    from_ms = to_ms - f.window_minutes * MINUTE_MS
    return Notice(kind=p.kind, rule=rule, count=f.matched_count if p.kind == "fired" else None,
                  from_ms=from_ms, to_ms=to_ms, project_name=p.project_name, org_slug=p.org_slug,
                  project_slug=p.project_slug, alert_id=f.id,
                  link=explorer_link(rt.config.server.base_url, p.org_slug, p.project_slug, rule, from_ms, to_ms),
                  sample_events=f.sample_events if p.kind == "fired" else [])


async def deliver_pending(rt: Runtime) -> Counter[str]:
    """Claim and send pending notifications (also those a crashed run left behind); record outcomes."""
    done: Counter[str] = Counter()
    gate = asyncio.Semaphore(PARALLEL_DELIVERIES)

    async def one(p: PendingDelivery) -> None:
        async with gate:
            outcome = await notify.deliver(rt, notice_for(rt, p))
        await rt.store.alerts.finish(p.delivery_id, status=outcome.status, attempts=outcome.attempts,
                                     error=outcome.error, response_status=outcome.response_status,
                                     now_ms=rt.clock.now_ms())
        done[outcome.status] += 1

    while True:
        batch = await rt.store.alerts.claim(rt.clock.now_ms(), lease_ms=_lease_ms(rt), limit=CLAIM_BATCH)
        if not batch:
            return done
        await asyncio.gather(*(one(p) for p in batch))


# -- history, lifecycle, test --------------------------------------------------------------
async def history(rt: Runtime, access: ProjectAccess, params: Mapping[str, str]) -> AlertHistoryPage:
    """Recent firings, newest first: `limit`, `offset` or `cursor`, and filters `rule_id`, `state`."""
    page = parse_page(params)
    state = params.get("state") or None
    if state is not None and state not in STATES:
        raise InvalidInput("must be one of " + ", ".join(STATES), field="state")
    return await rt.store.alerts.history(  # type: ignore[no-any-return]
        access.project.pk, limit=page.limit, offset=page.offset, cursor=page.cursor,
        rule_id=params.get("rule_id") or None, state=state)


async def set_state(rt: Runtime, access: ProjectAccess, firing_id: str, body: AlertStateUpdate,
                    user_id: str) -> AlertFiring:
    """open → acknowledged → resolved (or open → resolved); anything else is a 409."""
    require_manager(access)
    before, changed = await rt.store.alerts.set_state(access.project.pk, firing_id, body.state,
                                                      from_states=TRANSITIONS[body.state],
                                                      now_ms=rt.clock.now_ms(), user_id=user_id)
    if before is None:
        raise NotFound("alert not found")
    if not changed:
        raise Conflict(f"an alert that is {before} cannot become {body.state}", field="state")
    firing = await rt.store.alerts.get_firing(access.project.pk, firing_id)
    if firing is None:
        raise NotFound("alert not found")
    return firing  # type: ignore[no-any-return]


async def test_rule(rt: Runtime, access: ProjectAccess, rule_id: str) -> AlertTestResult:
    """Send a test notice (one attempt, so the answer comes quickly) and report the outcome."""
    require_manager(access)
    rule = await _rule(rt, access, rule_id)
    now = rt.clock.now_ms()
    query = rule_query(rule, now)
    count, samples = await rt.store.alerts.measure(access.project.pk, query, 1, MAX_SAMPLE_EVENTS)
    assert query.from_ms is not None
    notice = Notice(kind="test", rule=rule, count=count, from_ms=query.from_ms, to_ms=now,
                    project_name=access.project.name, org_slug=access.org.slug, project_slug=access.project.slug,
                    link=explorer_link(rt.config.server.base_url, access.org.slug, access.project.slug, rule,
                                       query.from_ms, now),
                    sample_events=samples)
    outcome = await notify.deliver(rt, notice, attempts=1)
    return AlertTestResult(**msgspec.structs.asdict(outcome), delivered=outcome.status == "delivered",
                           matched_count=count)
