"""`scrywatch bench`: load generators measured against a running server (logs, traces, tail, archive)."""
