"""Traces: spans (held until their trace is decided, then kept or deleted), one row per trace,
per-service-per-minute latency sketches and caller -> callee edges for the service map."""

DDL = """
-- One row per trace, derived from its root span (the span without a parent) once it arrives; the
-- root's HTTP method, URL and status code are columns of it (no SQL index until a filter needs one:
-- each index on this table costs ingest).
-- state: 0 held (waiting for the sampling decision), 1 kept, 2 purged (spans gone; the row stays
-- until expires_ms so late spans follow the decision). Times are Unix ns, received times Unix ms.
CREATE TABLE traces (
  pk INTEGER PRIMARY KEY,
  project_pk INTEGER NOT NULL,
  trace_id TEXT NOT NULL,
  state INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2)),
  first_received_ms INTEGER NOT NULL,
  decided_ms INTEGER,
  expires_ms INTEGER,
  start_ns INTEGER NOT NULL,
  end_ns INTEGER NOT NULL,
  span_count INTEGER NOT NULL DEFAULT 0,
  error_count INTEGER NOT NULL DEFAULT 0,
  root_span_id TEXT,
  name TEXT NOT NULL,
  service TEXT NOT NULL,
  environment TEXT,
  http_method TEXT,
  http_url TEXT,
  http_status_code INTEGER,
  UNIQUE (project_pk, trace_id)
) STRICT;
CREATE INDEX traces_first_received_ms_idx ON traces(first_received_ms) WHERE state = 0;
CREATE INDEX traces_expires_ms_idx ON traces(expires_ms) WHERE expires_ms IS NOT NULL;
CREATE INDEX traces_project_pk_start_ns_idx ON traces(project_pk, start_ns) WHERE state != 2;
CREATE INDEX traces_project_pk_service_start_ns_idx ON traces(project_pk, service, start_ns) WHERE state != 2;

-- Spans of held and kept traces; id is assigned in arrival order. No foreign key: the writer
-- deletes a trace's spans itself, in bulk, and a per-row check would cost ingest.
CREATE TABLE spans (
  id INTEGER PRIMARY KEY,
  trace_pk INTEGER NOT NULL,
  span_id TEXT NOT NULL,
  parent_span_id TEXT,
  name TEXT NOT NULL,
  service TEXT NOT NULL,
  environment TEXT,
  kind TEXT,
  start_ns INTEGER NOT NULL,
  end_ns INTEGER NOT NULL,
  error INTEGER NOT NULL CHECK (error IN (0, 1)),
  status_message TEXT,
  attributes TEXT NOT NULL,
  events TEXT,
  resource TEXT
) STRICT;
-- Unique: a retried export does not duplicate spans. Also serves "all spans of a trace".
CREATE UNIQUE INDEX spans_trace_pk_span_id_idx ON spans(trace_pk, span_id);

-- Every span, counted when it arrives (before sampling), by service and start minute.
-- sketch: services/sketch.py LatencySketch bytes (log buckets, <= 1 % relative error).
CREATE TABLE service_minutes (
  project_pk INTEGER NOT NULL,
  minute INTEGER NOT NULL,
  service TEXT NOT NULL,
  request_count INTEGER NOT NULL,
  error_count INTEGER NOT NULL,
  sketch BLOB NOT NULL,
  PRIMARY KEY (project_pk, minute, service)
) STRICT, WITHOUT ROWID;

-- Parent span in `source` calling a child span in `target`, counted when the trace is decided
-- (kept or purged alike), by the child's start minute.
CREATE TABLE service_edges (
  project_pk INTEGER NOT NULL,
  minute INTEGER NOT NULL,
  source TEXT NOT NULL,
  target TEXT NOT NULL,
  calls INTEGER NOT NULL,
  PRIMARY KEY (project_pk, minute, source, target)
) STRICT, WITHOUT ROWID;
"""
