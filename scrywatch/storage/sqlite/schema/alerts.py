"""Alert rules, their firings (alerts with a lifecycle) and notification deliveries.

Exactly-once firing: a firing is inserted by one statement in the single writer's transaction,
`INSERT ... SELECT ... WHERE NOT EXISTS (a firing of this rule within its cooldown)`, so two
overlapping checks (or a CLI run beside the server: SQLite serialises writers) cannot both insert.
Delivery is a separate row, written `pending` in the same statement group as the firing and claimed
with a lease before sending: a crash mid-delivery leaves it pending/leased and a later run sends it.
"""

DDL = """
CREATE TABLE alert_rules (
  id TEXT PRIMARY KEY,
  project INTEGER NOT NULL REFERENCES projects(pk) ON DELETE CASCADE,
  name TEXT NOT NULL,
  condition_field TEXT NOT NULL,
  condition_value TEXT NOT NULL,
  threshold INTEGER NOT NULL CHECK (threshold > 0),
  window_minutes INTEGER NOT NULL CHECK (window_minutes > 0),
  cooldown_minutes INTEGER NOT NULL CHECK (cooldown_minutes > 0),
  notify_type TEXT NOT NULL CHECK (notify_type IN ('webhook', 'email')),
  webhook_url TEXT,
  notify_email TEXT,
  enabled INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_fired_at INTEGER
) STRICT;
CREATE INDEX alert_rules_project_created_at_idx ON alert_rules(project, created_at);
CREATE INDEX alert_rules_enabled_idx ON alert_rules(enabled);

CREATE TABLE alert_firings (
  id TEXT PRIMARY KEY,
  project INTEGER NOT NULL REFERENCES projects(pk) ON DELETE CASCADE,
  rule_id TEXT NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
  fired_at INTEGER NOT NULL,
  matched_count INTEGER NOT NULL,
  threshold INTEGER NOT NULL,
  window_minutes INTEGER NOT NULL,
  condition_field TEXT NOT NULL,
  condition_value TEXT NOT NULL,
  sample_events TEXT NOT NULL DEFAULT '[]',
  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acknowledged', 'resolved')),
  acknowledged_at INTEGER,
  acknowledged_by TEXT,
  resolved_at INTEGER,
  resolved_by TEXT
) STRICT;
CREATE INDEX alert_firings_rule_id_fired_at_idx ON alert_firings(rule_id, fired_at);
CREATE INDEX alert_firings_project_fired_at_idx ON alert_firings(project, fired_at);

-- One notification per firing per kind ('fired', 'resolved').
CREATE TABLE alert_deliveries (
  id TEXT PRIMARY KEY,
  firing_id TEXT NOT NULL REFERENCES alert_firings(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('fired', 'resolved')),
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
  lease_until INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  response_status INTEGER,
  created_at INTEGER NOT NULL,
  finished_at INTEGER,
  UNIQUE (firing_id, kind)
) STRICT;
CREATE INDEX alert_deliveries_status_idx ON alert_deliveries(status);
"""
