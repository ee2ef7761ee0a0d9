"""Schema of the logs feature (filled in by its issue)."""

DDL = ""
