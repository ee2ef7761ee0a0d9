"""Schema of the alerts feature (filled in by its issue)."""

DDL = ""
