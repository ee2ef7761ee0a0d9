"""Persistent message patterns (refreshed by the `patterns` job) and stored insight summaries.

`insight_pattern_marks` holds, per project, the highest logs.id already counted, so each event is
counted once; the job advances it in the same transaction as the counts it adds.
"""

DDL = """
CREATE TABLE insight_patterns (
  id TEXT PRIMARY KEY,
  project INTEGER NOT NULL REFERENCES projects(pk) ON DELETE CASCADE,
  hash TEXT NOT NULL,
  normalized_message TEXT NOT NULL,
  level TEXT NOT NULL,
  service TEXT,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  occurrence_count INTEGER NOT NULL,
  UNIQUE (project, hash)
) STRICT;
CREATE INDEX insight_patterns_project_occurrence_count_idx ON insight_patterns(project, occurrence_count);

CREATE TABLE insight_pattern_marks (
  project INTEGER PRIMARY KEY REFERENCES projects(pk) ON DELETE CASCADE,
  last_log_id INTEGER NOT NULL
) STRICT;

CREATE TABLE insight_summaries (
  id TEXT PRIMARY KEY,
  project INTEGER NOT NULL REFERENCES projects(pk) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  time_window_minutes INTEGER NOT NULL,
  event_count INTEGER NOT NULL,
  error_count INTEGER NOT NULL,
  warn_count INTEGER NOT NULL,
  summary_text TEXT NOT NULL,
  body TEXT NOT NULL
) STRICT;
CREATE INDEX insight_summaries_project_created_at_idx ON insight_summaries(project, created_at);
CREATE INDEX insight_summaries_created_at_idx ON insight_summaries(created_at);
"""
