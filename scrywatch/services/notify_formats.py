"""What an alert notification says: one `Notice`, rendered as generic JSON, Slack or Discord messages.

Channel detection is by URL: Slack incoming webhooks are `https://hooks.slack.com/services/T/B/X`
and Discord's are `https://discord.com/api/webhooks/<id>/<token>`. Any host whose path has the same
shape (`/services/<a>/<b>/<c>`, `/api/webhooks/<digits>/<token>`) gets the same format, so relays,
self-hosted proxies and loopback test receivers work too. Everything else gets the generic JSON.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

from scrywatch.models.alerts import AlertRule
from scrywatch.models.logs import LogEvent

NoticeKind = Literal["fired", "resolved", "test"]
SLACK_HOSTS = ("hooks.slack.com", "hooks.slack-gov.com")
DISCORD_HOSTS = ("discord.com", "discordapp.com", "canary.discord.com", "ptb.discord.com")
_SLACK_PATH = re.compile(r"^/services/[^/]+/[^/]+/[^/]+/?$")
_DISCORD_PATH = re.compile(r"^/api(/v\d+)?/webhooks/\d+/[^/]+/?$")
COLORS = {"fired": 0xE5484D, "resolved": 0x30A46C, "test": 0x3E63DD}
SAMPLE_CHARS = 200


@dataclass(frozen=True)
class Attempt:
    """One try at sending: ok, or the error (permanent errors are not retried)."""

    ok: bool
    status: int | None = None
    error: str | None = None
    permanent: bool = False


@dataclass
class Notice:
    """One notification about a rule: it fired, it resolved, or a test."""

    kind: NoticeKind
    rule: AlertRule
    count: int | None  # events in the window (None for a resolve notice: the alert is no longer counting)
    from_ms: int
    to_ms: int
    project_name: str
    org_slug: str
    project_slug: str
    link: str | None = None
    alert_id: str | None = None
    sample_events: list[LogEvent] = field(default_factory=list)


def channel_of(url: str) -> Literal["slack", "discord", "webhook"]:
    """Which message shape a webhook URL expects (see the module docstring)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in SLACK_HOSTS or _SLACK_PATH.match(parts.path):
        return "slack"
    if host in DISCORD_HOSTS or _DISCORD_PATH.match(parts.path):
        return "discord"
    return "webhook"


def explorer_link(base_url: str, org: str, project: str, rule: AlertRule, from_ms: int, to_ms: int) -> str | None:
    """The Log Explorer filtered to the rule and window, when the public base URL is configured."""
    if not base_url:
        return None
    query = urlencode({rule.condition_field: rule.condition_value, "from": from_ms, "to": to_ms})
    return f"{base_url.rstrip('/')}/o/{org}/p/{project}/logs?{query}"


def iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def condition(rule: AlertRule) -> str:
    return f"{rule.condition_field}={rule.condition_value}"


def title(n: Notice) -> str:
    """The one-line summary used as Slack text, Discord content, email subject and generic `text`."""
    r = n.rule
    window = f"{r.window_minutes} min"
    if n.kind == "fired":
        return f"{r.name}: {n.count} events with {condition(r)} in the last {window} (threshold {r.threshold})"
    if n.kind == "resolved":
        return f"Resolved: {r.name}: fewer than {r.threshold} events with {condition(r)} in the last {window}"
    return (f"Test notification for {r.name}: {n.count} events with {condition(r)} in the last {window} "
            f"(fires at {r.threshold})")


def sample_line(e: LogEvent) -> str:
    msg = " ".join(e.message.split())
    if len(msg) > SAMPLE_CHARS:
        msg = msg[: SAMPLE_CHARS - 1] + "…"
    service = f" [{e.service}]" if e.service else ""
    return f"{iso(e.timestamp)} {e.level}{service} {msg}"


def generic_payload(n: Notice, *, sent_at: int) -> dict[str, Any]:
    r = n.rule
    return {
        "event": f"alert.{n.kind}",
        "text": title(n),
        "alert_id": n.alert_id,
        "rule": {"id": r.id, "name": r.name, "condition_field": r.condition_field,
                 "condition_value": r.condition_value, "threshold": r.threshold,
                 "window_minutes": r.window_minutes, "cooldown_minutes": r.cooldown_minutes},
        "count": n.count,
        "threshold": r.threshold,
        "window_minutes": r.window_minutes,
        "window": {"from": n.from_ms, "to": n.to_ms},
        "project": {"org": n.org_slug, "project": n.project_slug, "name": n.project_name},
        "sample_events": n.sample_events,
        "link": n.link,
        "sent_at": sent_at,
    }


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(n: Notice) -> dict[str, Any]:
    """Slack's incoming-webhook shape: `text` (notification fallback) plus Block Kit `blocks`."""
    r = n.rule
    text = title(n)
    facts = [f"*Condition:* `{_slack_escape(condition(r))}`", f"*Window:* {r.window_minutes} min",
             f"*Threshold:* {r.threshold}", f"*Project:* {_slack_escape(n.project_name)}"]
    if n.count is not None:
        facts.insert(0, f"*Matched:* {n.count}")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": text[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(facts)}},
    ]
    if n.sample_events:
        lines = "\n".join(f"• {_slack_escape(sample_line(e))}" for e in n.sample_events)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": ("*Recent events*\n" + lines)[:3000]}})
    if n.link:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"<{n.link}|Open in Log Explorer>"}})
    return {"text": text, "blocks": blocks}


def discord_payload(n: Notice) -> dict[str, Any]:
    """Discord's webhook shape: `content` plus one embed; mentions in log text never ping anyone."""
    r = n.rule
    fields = [{"name": "Condition", "value": condition(r)[:1024], "inline": True},
              {"name": "Window", "value": f"{r.window_minutes} min", "inline": True},
              {"name": "Threshold", "value": str(r.threshold), "inline": True}]
    if n.count is not None:
        fields.insert(0, {"name": "Matched", "value": str(n.count), "inline": True})
    if n.sample_events:
        lines = "\n".join(sample_line(e) for e in n.sample_events)
        fields.append({"name": "Recent events", "value": lines[:1024], "inline": False})
    embed: dict[str, Any] = {"title": r.name[:256], "description": title(n)[:4096], "color": COLORS[n.kind],
                             "timestamp": iso(n.to_ms), "fields": fields,
                             "footer": {"text": f"ScryWatch · {n.project_name}"[:2048]}}
    if n.link:
        embed["url"] = n.link
    return {"content": title(n)[:2000], "embeds": [embed], "allowed_mentions": {"parse": []}}
