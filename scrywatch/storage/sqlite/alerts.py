"""Alerts SQL: rules, firings (exactly-once per cooldown), deliveries with a lease, history pages."""

from __future__ import annotations

import base64
import sqlite3
from typing import Any

import msgspec

from scrywatch.errors import InvalidInput
from scrywatch.ids import new_id
from scrywatch.models.alerts import AlertFiring, AlertHistoryPage, AlertRule, PendingDelivery, ResolveNotice
from scrywatch.models.logs import LogEvent, LogQuery
from scrywatch.storage.sqlite import logs, rollups
from scrywatch.storage.sqlite.accounts import PROJECT_DATA_DELETERS
from scrywatch.storage.sqlite.db import Database

RULE_COLS = ("id, name, condition_field, condition_value, threshold, window_minutes, cooldown_minutes, notify_type,"
             " webhook_url, notify_email, enabled, created_at, updated_at, last_fired_at")
R_RULE_COLS = ", ".join(f"r.{c.strip()}" for c in RULE_COLS.split(","))
FIRING_COLS = """
f.id, f.rule_id, r.name, f.fired_at, f.matched_count, f.threshold, f.window_minutes, f.condition_field,
f.condition_value, f.state, f.acknowledged_at, f.acknowledged_by, f.resolved_at, f.resolved_by,
coalesce(d.status, 'pending'), d.error, coalesce(d.attempts, 0), d.response_status, d.finished_at,
f.sample_events, x.status, x.attempts, x.error, x.response_status"""
FIRING_FROM = """
FROM alert_firings f
JOIN alert_rules r ON r.id = f.rule_id
LEFT JOIN alert_deliveries d ON d.firing_id = f.id AND d.kind = 'fired'
LEFT JOIN alert_deliveries x ON x.firing_id = f.id AND x.kind = 'resolved'"""
FIRING_SELECT = f"SELECT {FIRING_COLS} {FIRING_FROM}"
FIRE_SQL = """
INSERT INTO alert_firings(id, project, rule_id, fired_at, matched_count, threshold, window_minutes,
                          condition_field, condition_value, sample_events)
SELECT ?, r.project, r.id, ?, ?, r.threshold, r.window_minutes, r.condition_field, r.condition_value, ?
FROM alert_rules r
WHERE r.id = ? AND r.enabled = 1 AND r.updated_at = ?
  AND NOT EXISTS (SELECT 1 FROM alert_firings f
                  WHERE f.rule_id = r.id AND f.fired_at > ? - r.cooldown_minutes * 60000)
"""
_samples_enc = msgspec.json.Encoder()
_samples_dec = msgspec.json.Decoder(list[LogEvent])


def _rule(row: tuple[Any, ...]) -> AlertRule:
    (id_, name, field, value, threshold, window, cooldown, notify_type, url, email, enabled, created, updated,
     last_fired) = row
    return AlertRule(id=id_, name=name, condition_field=field, condition_value=value, threshold=threshold,
                     window_minutes=window, cooldown_minutes=cooldown, notify_type=notify_type, webhook_url=url,
                     notify_email=email, enabled=bool(enabled), created_at=created, updated_at=updated,
                     last_fired_at=last_fired)


def _firing(row: tuple[Any, ...]) -> AlertFiring:
    *head, samples, r_status, r_attempts, r_error, r_response = row
    (id_, rule_id, rule_name, fired_at, matched, threshold, window, field, value, state, ack_at, ack_by,
     resolved_at, resolved_by, status, error, attempts, response, finished) = head
    notice = (ResolveNotice(status=r_status, attempts=r_attempts, error=r_error, response_status=r_response)
              if r_status is not None else None)
    return AlertFiring(
        id=id_, rule_id=rule_id, rule_name=rule_name, fired_at=fired_at, matched_count=matched, threshold=threshold,
        window_minutes=window, condition_field=field, condition_value=value, state=state, acknowledged_at=ack_at,
        acknowledged_by=ack_by, resolved_at=resolved_at, resolved_by=resolved_by, delivery_status=status,
        error=error, attempts=attempts, response_status=response, delivery_finished_at=finished,
        sample_events=_samples_dec.decode(samples), resolve_notification=notice,
    )


def _rule_params(project: int, rule: AlertRule) -> tuple[Any, ...]:
    return (project, rule.id, rule.name, rule.condition_field, rule.condition_value, rule.threshold,
            rule.window_minutes, rule.cooldown_minutes, rule.notify_type, rule.webhook_url, rule.notify_email,
            int(rule.enabled), rule.created_at, rule.updated_at, rule.last_fired_at)


def encode_cursor(fired_at: int, firing_id: str) -> str:
    return base64.urlsafe_b64encode(f"{fired_at}:{firing_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        fired_at, firing_id = text.split(":", 1)
        return int(fired_at), firing_id
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("is not a cursor this endpoint returned", field="cursor") from None


# -- writer functions ----------------------------------------------------------------------
def fire(conn: sqlite3.Connection, rule_id: str, rule_updated_at: int, now_ms: int, count: int,
         samples: list[LogEvent]) -> str | None:
    """Insert a firing and its pending delivery unless the rule is in cooldown (or changed, or paused)."""
    firing_id = new_id()
    cur = conn.execute(FIRE_SQL, (firing_id, now_ms, count, _samples_enc.encode(samples).decode(), rule_id,
                                  rule_updated_at, now_ms))
    if cur.rowcount != 1:
        return None
    conn.execute("UPDATE alert_rules SET last_fired_at = ? WHERE id = ?", (now_ms, rule_id))
    conn.execute("INSERT INTO alert_deliveries(id, firing_id, kind, created_at) VALUES (?, ?, 'fired', ?)",
                 (new_id(), firing_id, now_ms))
    return firing_id


def auto_resolve(conn: sqlite3.Connection, rule_id: str, now_ms: int, notify: bool) -> int:
    """Resolve the rule's open/acknowledged alerts; with notify, queue one resolve notice (newest alert)."""
    rows = conn.execute(
        "UPDATE alert_firings SET state = 'resolved', resolved_at = ?, resolved_by = 'auto'"
        " WHERE rule_id = ? AND state IN ('open', 'acknowledged') AND fired_at <= ? RETURNING id, fired_at",
        (now_ms, rule_id, now_ms)).fetchall()
    if rows and notify:
        newest = max(rows, key=lambda r: (r[1], r[0]))[0]
        conn.execute("INSERT OR IGNORE INTO alert_deliveries(id, firing_id, kind, created_at)"
                     " VALUES (?, ?, 'resolved', ?)", (new_id(), newest, now_ms))
    return len(rows)


def claim(conn: sqlite3.Connection, now_ms: int, lease_ms: int, limit: int) -> list[PendingDelivery]:
    """Take pending deliveries (and ones whose sender's lease ran out) for this run to send."""
    ids = [r[0] for r in conn.execute(
        "SELECT id FROM alert_deliveries WHERE status = 'pending' OR (status = 'sending' AND lease_until < ?)"
        " ORDER BY created_at LIMIT ?", (now_ms, limit))]
    if not ids:
        return []
    conn.executemany("UPDATE alert_deliveries SET status = 'sending', lease_until = ? WHERE id = ?",
                     [(now_ms + lease_ms, i) for i in ids])
    marks = ", ".join("?" * len(ids))
    rows = conn.execute(
        f"SELECT dd.id, dd.kind, {R_RULE_COLS}, o.slug, p.slug, p.name, {FIRING_COLS} {FIRING_FROM}"
        " JOIN alert_deliveries dd ON dd.firing_id = f.id JOIN projects p ON p.pk = f.project"
        f" JOIN orgs o ON o.id = p.org_id WHERE dd.id IN ({marks}) ORDER BY dd.created_at", ids).fetchall()
    n = len(RULE_COLS.split(","))
    return [PendingDelivery(delivery_id=row[0], kind=row[1], rule=_rule(row[2:2 + n]), org_slug=row[2 + n],
                            project_slug=row[3 + n], project_name=row[4 + n], firing=_firing(row[5 + n:]))
            for row in rows]


def finish(conn: sqlite3.Connection, delivery_id: str, status: str, attempts: int, error: str | None,
           response_status: int | None, now_ms: int) -> None:
    conn.execute("UPDATE alert_deliveries SET status = ?, attempts = ?, error = ?, response_status = ?,"
                 " finished_at = ?, lease_until = NULL WHERE id = ? AND status = 'sending'",
                 (status, attempts, error, response_status, now_ms, delivery_id))


def set_state(conn: sqlite3.Connection, project: int, firing_id: str, state: str, from_states: tuple[str, ...],
              now_ms: int, user_id: str) -> tuple[str | None, bool]:
    """(state before, changed?) — changed only when the current state is one of from_states."""
    row = conn.execute("SELECT state FROM alert_firings WHERE id = ? AND project = ?", (firing_id, project)).fetchone()
    if row is None or row[0] not in from_states:
        return (row[0] if row else None), False
    col = "acknowledged" if state == "acknowledged" else "resolved"
    conn.execute(f"UPDATE alert_firings SET state = ?, {col}_at = ?, {col}_by = ? WHERE id = ?",
                 (state, now_ms, user_id, firing_id))
    return row[0], True


def _delete_project_rows(conn: sqlite3.Connection, project: int) -> None:
    conn.execute("DELETE FROM alert_deliveries WHERE firing_id IN (SELECT id FROM alert_firings WHERE project = ?)",
                 (project,))
    conn.execute("DELETE FROM alert_firings WHERE project = ?", (project,))
    conn.execute("DELETE FROM alert_rules WHERE project = ?", (project,))


PROJECT_DATA_DELETERS.append(_delete_project_rows)


# -- reads -----------------------------------------------------------------------------------
def measure(conn: sqlite3.Connection, project: int, query: LogQuery, threshold: int,
            sample_limit: int) -> tuple[int, list[LogEvent]]:
    """Exact count in the window from the rollups; newest samples only when it reaches the threshold."""
    n = rollups.count(conn, project, query)
    if n < threshold or sample_limit <= 0:
        return n, []
    page = logs.search(conn, project, query, limit=sample_limit, offset=0, cursor=None, with_total=False)
    return n, page.results


def history(conn: sqlite3.Connection, project: int, *, limit: int, offset: int, cursor: str | None,
            rule_id: str | None, state: str | None) -> AlertHistoryPage:
    terms, params = ["f.project = ?"], [project]
    if cursor is not None:
        terms.append("(f.fired_at, f.id) < (?, ?)")
        params.extend(decode_cursor(cursor))
        offset = 0
    for col, value in (("f.rule_id", rule_id), ("f.state", state)):
        if value is not None:
            terms.append(f"{col} = ?")
            params.append(value)
    rows = conn.execute(f"{FIRING_SELECT} WHERE {' AND '.join(terms)} ORDER BY f.fired_at DESC, f.id DESC"
                        " LIMIT ? OFFSET ?", [*params, limit + 1, offset]).fetchall()
    items = [_firing(r) for r in rows[:limit]]
    more = len(rows) > limit
    return AlertHistoryPage(history=items, has_more=more,
                            next_cursor=encode_cursor(items[-1].fired_at, items[-1].id) if more else None)


class SqliteAlertStore:
    """Async face of the functions above."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def list_rules(self, project: int) -> list[AlertRule]:
        return await self.db.read(lambda c: [_rule(r) for r in c.execute(
            f"SELECT {RULE_COLS} FROM alert_rules WHERE project = ? ORDER BY created_at, id", (project,))])

    async def get_rule(self, project: int, rule_id: str) -> AlertRule | None:
        row = await self.db.read(lambda c: c.execute(
            f"SELECT {RULE_COLS} FROM alert_rules WHERE project = ? AND id = ?", (project, rule_id)).fetchone())
        return _rule(row) if row else None

    async def save_rule(self, project: int, rule: AlertRule) -> bool:
        """Insert or replace a rule of this project; False when the id belongs to another project."""
        def w(c: sqlite3.Connection) -> bool:
            cur = c.execute(f"INSERT INTO alert_rules(project, {RULE_COLS}) VALUES ({', '.join('?' * 15)})"
                            " ON CONFLICT(id) DO UPDATE SET name = excluded.name,"
                            " condition_field = excluded.condition_field, condition_value = excluded.condition_value,"
                            " threshold = excluded.threshold, window_minutes = excluded.window_minutes,"
                            " cooldown_minutes = excluded.cooldown_minutes, notify_type = excluded.notify_type,"
                            " webhook_url = excluded.webhook_url, notify_email = excluded.notify_email,"
                            " enabled = excluded.enabled, updated_at = excluded.updated_at"
                            " WHERE alert_rules.project = excluded.project",
                            _rule_params(project, rule))
            return cur.rowcount == 1
        return await self.db.write(w)

    async def delete_rule(self, project: int, rule_id: str) -> bool:
        def w(c: sqlite3.Connection) -> bool:
            c.execute("DELETE FROM alert_deliveries WHERE firing_id IN (SELECT id FROM alert_firings WHERE rule_id = ?"
                      " AND project = ?)", (rule_id, project))
            c.execute("DELETE FROM alert_firings WHERE rule_id = ? AND project = ?", (rule_id, project))
            return c.execute("DELETE FROM alert_rules WHERE id = ? AND project = ?", (rule_id, project)).rowcount == 1
        return await self.db.write(w)

    async def enabled_rules(self) -> list[tuple[int, AlertRule, bool]]:
        """(project, rule, has unresolved alerts) for every enabled rule."""
        sql = (f"SELECT r.project, {R_RULE_COLS}, EXISTS (SELECT 1 FROM alert_firings f WHERE f.rule_id = r.id"
               " AND f.state IN ('open', 'acknowledged')) FROM alert_rules r WHERE r.enabled = 1 ORDER BY r.id")
        rows = await self.db.read(lambda c: c.execute(sql).fetchall())
        return [(r[0], _rule(r[1:-1]), bool(r[-1])) for r in rows]

    async def measure(self, project: int, query: LogQuery, threshold: int, sample_limit: int
                      ) -> tuple[int, list[LogEvent]]:
        return await self.db.read(measure, project, query, threshold, sample_limit)

    async def fire(self, rule: AlertRule, now_ms: int, count: int, samples: list[LogEvent]) -> str | None:
        return await self.db.write(fire, rule.id, rule.updated_at, now_ms, count, samples)

    async def auto_resolve(self, rule_id: str, now_ms: int, *, notify: bool) -> int:
        return await self.db.write(auto_resolve, rule_id, now_ms, notify)

    async def claim(self, now_ms: int, *, lease_ms: int, limit: int = 100) -> list[PendingDelivery]:
        return await self.db.write(claim, now_ms, lease_ms, limit)

    async def finish(self, delivery_id: str, *, status: str, attempts: int, error: str | None,
                     response_status: int | None, now_ms: int) -> None:
        await self.db.write(finish, delivery_id, status, attempts, error, response_status, now_ms)

    async def history(self, project: int, *, limit: int, offset: int = 0, cursor: str | None = None,
                      rule_id: str | None = None, state: str | None = None) -> AlertHistoryPage:
        return await self.db.read(lambda c: history(c, project, limit=limit, offset=offset, cursor=cursor,
                                                    rule_id=rule_id, state=state))

    async def get_firing(self, project: int, firing_id: str) -> AlertFiring | None:
        row = await self.db.read(lambda c: c.execute(f"{FIRING_SELECT} WHERE f.project = ? AND f.id = ?",
                                                     (project, firing_id)).fetchone())
        return _firing(row) if row else None

    async def set_state(self, project: int, firing_id: str, state: str, *, from_states: tuple[str, ...],
                        now_ms: int, user_id: str) -> tuple[str | None, bool]:
        return await self.db.write(set_state, project, firing_id, state, from_states, now_ms, user_id)
