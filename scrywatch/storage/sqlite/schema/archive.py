"""Schema of the archive feature (filled in by its issue)."""

DDL = ""
