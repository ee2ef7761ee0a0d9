"""Alert rules, their firings (alerts with a lifecycle), and delivery outcomes."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from scrywatch.models._base import Inbound, Record
from scrywatch.models.logs import LogEvent

CONDITION_FIELDS = ("level", "type", "service", "environment", "device_type")
ConditionField = Literal["level", "type", "service", "environment", "device_type"]
NotifyType = Literal["webhook", "email"]
AlertState = Literal["open", "acknowledged", "resolved"]
DeliveryStatus = Literal["pending", "sending", "delivered", "failed"]
DEFAULT_COOLDOWN_MINUTES = 15
MAX_WINDOW_MINUTES = 7 * 24 * 60
MAX_SAMPLE_EVENTS = 5

RuleName = Annotated[str, Meta(min_length=1, max_length=200)]
ConditionValue = Annotated[str, Meta(min_length=1, max_length=256)]
Threshold = Annotated[int, Meta(ge=1, le=1_000_000_000)]
Minutes = Annotated[int, Meta(ge=1, le=MAX_WINDOW_MINUTES)]
Url = Annotated[str, Meta(max_length=2048)]
EmailAddress = Annotated[str, Meta(max_length=254)]


class AlertRuleCreate(Inbound):
    name: RuleName
    condition_field: ConditionField
    condition_value: ConditionValue
    threshold: Threshold
    window_minutes: Minutes
    notify_type: NotifyType = "webhook"
    webhook_url: Url | None = None
    notify_email: EmailAddress | None = None
    cooldown_minutes: Minutes = DEFAULT_COOLDOWN_MINUTES
    enabled: bool = True


class AlertRuleUpdate(Inbound):
    """PATCH/PUT body: every field optional; the merged rule is validated as a whole."""

    name: RuleName | UnsetType = UNSET
    condition_field: ConditionField | UnsetType = UNSET
    condition_value: ConditionValue | UnsetType = UNSET
    threshold: Threshold | UnsetType = UNSET
    window_minutes: Minutes | UnsetType = UNSET
    notify_type: NotifyType | UnsetType = UNSET
    webhook_url: Url | None | UnsetType = UNSET
    notify_email: EmailAddress | None | UnsetType = UNSET
    cooldown_minutes: Minutes | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET


class AlertStateUpdate(Inbound):
    state: Literal["acknowledged", "resolved"]


class AlertRule(Record):
    id: str
    name: str
    condition_field: str
    condition_value: str
    threshold: int
    window_minutes: int
    cooldown_minutes: int
    notify_type: str
    webhook_url: str | None
    notify_email: str | None
    enabled: bool
    created_at: int
    updated_at: int
    last_fired_at: int | None = None


class DeliveryOutcome(Record):
    """How one notification went: `delivered`, or `failed` with the last error."""

    status: DeliveryStatus
    attempts: int
    error: str | None = None
    response_status: int | None = None
    channel: str = "webhook"  # webhook | slack | discord | email


class ResolveNotice(Record):
    status: DeliveryStatus
    attempts: int
    error: str | None
    response_status: int | None


class AlertFiring(Record):
    """One firing of a rule: an alert with a state, its numbers, samples and delivery outcome."""

    id: str
    rule_id: str
    rule_name: str
    fired_at: int
    matched_count: int
    threshold: int
    window_minutes: int
    condition_field: str
    condition_value: str
    state: AlertState
    acknowledged_at: int | None
    acknowledged_by: str | None
    resolved_at: int | None
    resolved_by: str | None  # "auto" or the user id
    delivery_status: DeliveryStatus
    error: str | None
    attempts: int
    response_status: int | None
    delivery_finished_at: int | None
    sample_events: list[LogEvent] = msgspec.field(default_factory=list)
    resolve_notification: ResolveNotice | None = None


class AlertHistoryPage(Record):
    history: list[AlertFiring]
    next_cursor: str | None = None
    has_more: bool = False


class PendingDelivery(Record):
    """A claimed notification to send: the firing, its rule, and where the project lives."""

    delivery_id: str
    kind: Literal["fired", "resolved"]
    firing: AlertFiring
    rule: AlertRule
    org_slug: str
    project_slug: str
    project_name: str


class AlertTestResult(DeliveryOutcome):
    """What POST /alerts/:id/test answers: the outcome plus the rule's current count."""

    delivered: bool = False
    matched_count: int = 0
