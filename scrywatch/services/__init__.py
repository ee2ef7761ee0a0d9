"""Use cases as plain async functions taking a Runtime. No HTTP, no SQL."""
