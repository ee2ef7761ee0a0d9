"""Schema of the traces feature (filled in by its issue)."""

DDL = ""
