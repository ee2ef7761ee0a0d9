"""The alert rule form: what it shows, reading a post into a rule body, and errors per field.

Every field is checked at once so a person sees all problems together; the service then applies
its own rules (URL scheme, email syntax, level and type names) and its error lands on its field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from scrywatch.models.alerts import (
    CONDITION_FIELDS,
    DEFAULT_COOLDOWN_MINUTES,
    MAX_WINDOW_MINUTES,
    AlertRule,
    AlertRuleCreate,
    AlertRuleUpdate,
)
from scrywatch.models.logs import LEVELS, TYPES

FIELD_LABELS = {"level": "Level", "type": "Type", "service": "Service", "environment": "Environment",
                "device_type": "Device type"}
NOTIFY_TYPES = (("webhook", "Webhook", "POST JSON to a URL. Slack and Discord URLs get their own message shape."),
                ("email", "Email", "Send a message through the SMTP server configured for ScryWatch."))
# name -> (lowest, highest)
NUMBERS = {"threshold": (1, 1_000_000_000), "window_minutes": (1, MAX_WINDOW_MINUTES),
           "cooldown_minutes": (1, MAX_WINDOW_MINUTES)}
TEXT_LIMITS = {"name": 200, "condition_value": 256, "webhook_url": 2048, "notify_email": 254}
FIELDS = ("name", "condition_field", "condition_value", "threshold", "window_minutes", "cooldown_minutes",
          "notify_type", "webhook_url", "notify_email")
DEFAULTS = {"name": "", "condition_field": "level", "condition_value": "error", "threshold": "10",
            "window_minutes": "5", "cooldown_minutes": str(DEFAULT_COOLDOWN_MINUTES), "notify_type": "webhook",
            "webhook_url": "", "notify_email": ""}


@dataclass
class RuleForm:
    """The values to show in the form and the message for each field that needs fixing."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    enabled: bool = True

    @classmethod
    def blank(cls) -> RuleForm:
        return cls(values=dict(DEFAULTS))

    @classmethod
    def of(cls, rule: AlertRule) -> RuleForm:
        values = {name: "" if getattr(rule, name) is None else str(getattr(rule, name)) for name in FIELDS}
        return cls(values=values, enabled=rule.enabled)


def suggestions(known: dict[str, list[str]]) -> dict[str, list[str]]:
    """Values to offer for each condition field: the fixed levels and types, seen values for the rest."""
    return {"level": list(LEVELS), "type": list(TYPES), **{k: v[:100] for k, v in known.items()}}


def _number(raw: str, name: str, errors: dict[str, str]) -> int | None:
    low, high = NUMBERS[name]
    if not raw:
        errors[name] = "is required"
        return None
    try:
        n = int(raw)
    except ValueError:
        errors[name] = "must be a whole number"
        return None
    if n < low:
        errors[name] = f"must be at least {low}"
    elif n > high:
        errors[name] = f"must be at most {high:,}" + (" (7 days)" if high == MAX_WINDOW_MINUTES else "")
    return n


def read(form: dict[str, str]) -> tuple[RuleForm, dict[str, Any] | None]:
    """The form as submitted and, when every field is acceptable, the rule body it describes."""
    values = {name: form.get(name, "").strip() for name in FIELDS}
    errors: dict[str, str] = {}
    for name in ("name", "condition_value"):
        if not values[name]:
            errors[name] = "is required"
    for name, limit in TEXT_LIMITS.items():
        if len(values[name]) > limit:
            errors[name] = f"must be at most {limit} characters"
    if values["condition_field"] not in CONDITION_FIELDS:
        errors["condition_field"] = "must be one of " + ", ".join(CONDITION_FIELDS)
    numbers = {name: _number(values[name], name, errors) for name in NUMBERS}
    notify = values["notify_type"]
    if notify not in ("webhook", "email"):
        errors["notify_type"] = "must be webhook or email"
    elif notify == "webhook" and not values["webhook_url"]:
        errors["webhook_url"] = "is required for a webhook"
    elif notify == "email" and not values["notify_email"]:
        errors["notify_email"] = "is required for email"
    result = RuleForm(values=values, errors=errors)
    if errors:
        return result, None
    body: dict[str, Any] = {**{k: values[k] for k in ("name", "condition_field", "condition_value", "notify_type")},
                            **numbers}
    # Only the chosen channel's address is kept: a stale one would confuse the next edit.
    body["webhook_url"] = values["webhook_url"] if notify == "webhook" else None
    body["notify_email"] = values["notify_email"] if notify == "email" else None
    return result, body


def create_body(body: dict[str, Any], *, enabled: bool) -> AlertRuleCreate:
    return msgspec.convert({**body, "enabled": enabled}, AlertRuleCreate)


def update_body(body: dict[str, Any]) -> AlertRuleUpdate:
    return msgspec.convert(body, AlertRuleUpdate)


def field_message(name: str, message: str) -> str:
    """`Threshold must be at least 1` for the summary above the form."""
    label = {"condition_field": "Condition field", "condition_value": "Condition value",
             "window_minutes": "Window", "cooldown_minutes": "Cooldown", "notify_type": "Channel",
             "webhook_url": "Webhook URL", "notify_email": "Email address"}.get(name, name.capitalize())
    return f"{label} {message}"
