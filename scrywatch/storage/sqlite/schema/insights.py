"""Schema of the insights feature (filled in by its issue)."""

DDL = ""
