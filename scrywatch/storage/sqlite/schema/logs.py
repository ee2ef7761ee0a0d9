"""Log events, their full-text index, hourly and per-minute rollups, and lenses.

`id` is assigned by the single writer in arrival order, so walking the FTS index by rowid descending
is walking newest-first (no sort of every match). The public event id is a ULID built from
`received` and `id` unless the client sent its own (`client_id`, unique per project).
"""

DDL = """
CREATE TABLE logs (
  id INTEGER PRIMARY KEY,
  project INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  received INTEGER NOT NULL,
  level TEXT NOT NULL,
  type TEXT NOT NULL,
  message TEXT NOT NULL,
  service TEXT,
  environment TEXT,
  user_id TEXT,
  session_id TEXT,
  device_type TEXT,
  trace_id TEXT,
  span_id TEXT,
  metadata TEXT,
  client_id TEXT
) STRICT;
CREATE INDEX logs_project_ts_idx ON logs(project, ts);
CREATE INDEX logs_project_level_ts_idx ON logs(project, level, ts);
CREATE INDEX logs_project_service_level_ts_idx ON logs(project, service, level, ts);
CREATE INDEX logs_project_session_id_ts_idx ON logs(project, session_id, ts) WHERE session_id IS NOT NULL;
CREATE INDEX logs_project_trace_id_idx ON logs(project, trace_id) WHERE trace_id IS NOT NULL;
CREATE INDEX logs_project_user_id_ts_idx ON logs(project, user_id, ts) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX logs_project_client_id_idx ON logs(project, client_id) WHERE client_id IS NOT NULL;

-- Rows up to last_id are in logs_fts and the rollups (the writer indexes once per transaction).
CREATE TABLE logs_index_state (last_id INTEGER NOT NULL) STRICT;
INSERT INTO logs_index_state(last_id) VALUES (0);

CREATE VIRTUAL TABLE logs_fts USING fts5(
  message, content='logs', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);

-- Counts by the facet dimensions ('' stands for null: WITHOUT ROWID keys cannot be null).
CREATE TABLE log_counts_hourly (
  project INTEGER NOT NULL,
  hour INTEGER NOT NULL,
  level TEXT NOT NULL,
  type TEXT NOT NULL,
  service TEXT NOT NULL,
  environment TEXT NOT NULL,
  device_type TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (project, hour, level, type, service, environment, device_type)
) STRICT, WITHOUT ROWID;

CREATE TABLE log_counts_minute (
  project INTEGER NOT NULL,
  minute INTEGER NOT NULL,
  level TEXT NOT NULL,
  type TEXT NOT NULL,
  service TEXT NOT NULL,
  environment TEXT NOT NULL,
  device_type TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (project, minute, level, type, service, environment, device_type)
) STRICT, WITHOUT ROWID;

CREATE TABLE lenses (
  id TEXT PRIMARY KEY,
  project INTEGER NOT NULL REFERENCES projects(pk) ON DELETE CASCADE,
  name TEXT NOT NULL,
  filters TEXT NOT NULL,
  color TEXT NOT NULL,
  sort_order INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX lenses_project_sort_order_idx ON lenses(project, sort_order);
"""

# 0007: smaller events on disk (issue 3's disk target).
# - Metadata compressed with a zstd dictionary trained on the file's own metadata (metacodec.py):
#   `meta_z` holds it once a dictionary exists; `metadata` stays for plain rows.
# - The FTS index without its per-row size table (columnsize=0): we never rank by bm25, results
#   come in arrival order. Rebuilt from the rows, so the index state moves to the newest row.
COMPACT_DDL = """
ALTER TABLE logs ADD COLUMN meta_z BLOB;
CREATE TABLE meta_dicts (
  id INTEGER PRIMARY KEY,
  created_at INTEGER NOT NULL,
  dict BLOB NOT NULL
) STRICT;
DROP TABLE logs_fts;
CREATE VIRTUAL TABLE logs_fts USING fts5(
  message, content='logs', content_rowid='id', tokenize='unicode61 remove_diacritics 2', columnsize=0
);
INSERT INTO logs_fts(logs_fts) VALUES ('rebuild');
UPDATE logs_index_state SET last_id = max(last_id, (SELECT coalesce(max(id), 0) FROM logs));
"""

# 0008: a counter bumped by every transaction that changes a closed hour's counts (late events,
# deletes), so readers in any process can cache results over closed hours (rollups.HourCache).
EPOCH_DDL = """
CREATE TABLE log_rollup_epoch (n INTEGER NOT NULL) STRICT;
INSERT INTO log_rollup_epoch(n) VALUES (0);
"""

# 0010: user, session and trace ids leave per-row B-tree indexes. Ids are random keys: each new row
# dirtied a page in each of three indexes, which halved the write rate and made every commit's WAL
# (and its checkpoints) large. An external-content FTS5 index over the three columns is written
# as one sorted segment per transaction instead, merged in the background; a lookup takes its
# candidates and checks equality on the row (logsql.where). '-_.:/@' keep UUIDs and most ids in
# one token.
IDS_DDL = """
DROP INDEX logs_project_session_id_ts_idx;
DROP INDEX logs_project_trace_id_idx;
DROP INDEX logs_project_user_id_ts_idx;
CREATE VIRTUAL TABLE logs_ids USING fts5(
  user_id, session_id, trace_id, content='logs', content_rowid='id',
  tokenize="unicode61 remove_diacritics 0 tokenchars '-_.:/@'", columnsize=0
);
INSERT INTO logs_ids(logs_ids) VALUES ('rebuild');
UPDATE logs_index_state SET last_id = max(last_id, (SELECT coalesce(max(id), 0) FROM logs));
"""

# FTS5 merges its segments itself ("automerge") in bursts: every 64 leaf pages written, up to
# 64 pages per level at once, inside whichever small commit crossed the mark (40-50 ms of a
# 50-event transaction, the tail of ingest latency). The writer merges instead: a little in every
# transaction and more whenever no request is waiting (logs.merge_fts).
FTS_MERGE_DDL = """
INSERT INTO logs_fts(logs_fts, rank) VALUES ('automerge', 0);
INSERT INTO logs_ids(logs_ids, rank) VALUES ('automerge', 0);
"""
