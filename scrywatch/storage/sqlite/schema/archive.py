"""Bookkeeping of the hourly archive: what was written per project-hour, and the job's progress.

`archive_hours.max_id`: every hot row of that project-hour with `id <= max_id` is in the archive
(rows above it arrived late and wait for the next segment). `archive_state` is one row: the archive
job's row-id high-water and hour cutoff, and the hot/cold `boundary` that retention advances before
deleting anything below it (queries: hot answers ts >= boundary; below it the archive plus any hot
row above its hour's max_id).
"""

DDL = """
CREATE TABLE archive_hours (
  project INTEGER NOT NULL,
  hour INTEGER NOT NULL,
  segments INTEGER NOT NULL,
  max_id INTEGER NOT NULL,
  events INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (project, hour)
) STRICT, WITHOUT ROWID;
CREATE INDEX archive_hours_hour_idx ON archive_hours(hour);

CREATE TABLE archive_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  high_water INTEGER NOT NULL,
  cutoff INTEGER NOT NULL,
  boundary INTEGER NOT NULL
) STRICT;
INSERT INTO archive_state(id, high_water, cutoff, boundary) VALUES (1, 0, 0, 0);
"""

# 0009: events older than the hot/cold boundary skip the hot store and are written straight into a
# segment at ingest (storage/sqlite/coldlane.py). They still take a row id, so the id sequence
# moves past them (`reserved_id`) and no later row reuses it; their client ids are remembered in
# `cold_client_ids` (until their archive hour is removed) so a retried batch is not stored twice.
COLD_LANE_DDL = """
ALTER TABLE logs_index_state ADD COLUMN reserved_id INTEGER NOT NULL DEFAULT 0;
CREATE TABLE cold_client_ids (
  project INTEGER NOT NULL,
  client_id TEXT NOT NULL,
  hour INTEGER NOT NULL,
  PRIMARY KEY (project, client_id)
) STRICT, WITHOUT ROWID;
"""
